#!/usr/bin/env bash
# A short tour of the system: builds the project, starts the three game
# services and the sidecar, sends every service a few requests and shows
# the counters they left in shared memory, then stops everything.
#
# Counter segments go to $TELEMETRY_DIR (default /dev/shm/telemetry).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Debian's interpreter, which has python3-thrift; another python3 earlier on
# PATH (pyenv, a virtualenv) may not.
readonly PYTHON=/usr/bin/python3
# The game services' default ports (item, inventory, player), and the
# sidecar's, which telemetry_stat asks.
readonly SERVICE_PORTS=(9091 9092 9093)
readonly SIDECAR_PORT=9090
readonly REQUESTS_PER_SERVICE=${REQUESTS_PER_SERVICE:-20}

servers_pid=""
work_dir=""

step() {
  echo
  echo "== $*"
}

stop_system() {
  if [[ -n "$servers_pid" ]] && kill -0 "$servers_pid" 2>/dev/null; then
    step "Stopping the services and the sidecar"
    kill -TERM "$servers_pid" 2>/dev/null || true
    wait "$servers_pid" 2>/dev/null || true
  fi
  if [[ -n "$work_dir" ]]; then
    rm -rf "$work_dir"
  fi
}

# True when something accepts connections on 127.0.0.1:$1.
port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start_system() {
  step "Starting the services and the sidecar"
  if [[ ! -f scripts/run_servers.sh ]]; then
    echo "demo: scripts/run_servers.sh is missing" >&2
    exit 1
  fi
  bash scripts/run_servers.sh &
  servers_pid=$!

  local port waited
  for port in "${SERVICE_PORTS[@]}" "$SIDECAR_PORT"; do
    waited=0
    until port_open "$port"; do
      if ((waited >= 300)) || ! kill -0 "$servers_pid" 2>/dev/null; then
        echo "demo: nothing listens on port $port" >&2
        exit 1
      fi
      sleep 0.1
      waited=$((waited + 1))
    done
    echo "port $port is up"
  done
}

# Calls describe() on every service, then get_telemetry(), through the
# BaseService interface they all share.
drive_requests() {
  step "Sending $REQUESTS_PER_SERVICE requests to every service"
  work_dir=$(mktemp -d)
  thrift --gen py -out "$work_dir" idl/telemetry.thrift
  "$PYTHON" - "$work_dir" "$REQUESTS_PER_SERVICE" "${SERVICE_PORTS[@]}" <<'PY'
import sys

sys.path.insert(0, sys.argv[1])
from telemetry import BaseService
from thrift.protocol import TBinaryProtocol
from thrift.transport import TSocket, TTransport

requests = int(sys.argv[2])
for port in map(int, sys.argv[3:]):
    socket = TSocket.TSocket("127.0.0.1", port)
    transport = TTransport.TBufferedTransport(socket)
    client = BaseService.Client(TBinaryProtocol.TBinaryProtocol(transport))
    transport.open()
    for _ in range(requests):
        meta = client.describe()
    snapshot = client.get_telemetry()
    transport.close()
    counters = ", ".join(
        f"{c.name}={c.value}" for c in snapshot.all_counters)
    print(f"{meta.service_name} ({meta.instance_id}) on port {port}: "
          f"{counters}")
PY
}

show_counters() {
  step "Instances and counters as telemetry_stat shows them"
  if [[ ! -x build/bin/telemetry_stat ]]; then
    echo "demo: build/bin/telemetry_stat was not built" >&2
    return 1
  fi
  build/bin/telemetry_stat --list
  build/bin/telemetry_stat
}

main() {
  step "Installing packages and building"
  bash scripts/setup.sh
  trap stop_system EXIT
  start_system
  drive_requests
  show_counters
}

main "$@"
