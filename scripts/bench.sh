#!/usr/bin/env bash
# Runs every benchmark in one go and prints their figures:
#   counter_bench   increment and snapshot costs, side by side
#   request_bench   item_service with counting on and off
#   sidecar_bench   full polls of 1, 16 and 128 instances
# Usage: scripts/bench.sh [build-dir]   (default: build)
# Benchmarks assert nothing; run them on a machine that is otherwise idle.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-"$root/build"}

if [[ ! -d "$build" ]]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
cmake --build "$build" -j"$(nproc)" \
  --target counter_bench request_bench sidecar_bench item_service \
  telemetry_sidecar

echo "== counter_bench"
"$build/bin/counter_bench"
echo
echo "== request_bench"
"$build/bin/request_bench" --clients 4 --seconds 3 --rounds 5 2>/dev/null
echo
echo "== sidecar_bench"
"$build/bin/sidecar_bench" --polls 200
