#!/usr/bin/env bash
# Runs the game services on their default ports (item 9091, inventory 9092,
# player 9093), and the telemetry sidecar (9090) when it has been built,
# until Ctrl-C. Each program logs to <log-dir>/<program>.log. When the
# script ends, for whatever reason, every program it started gets SIGTERM
# and the script waits for it to exit.
#
# Usage: scripts/run_servers.sh [--telemetry-dir DIR] [--build-dir DIR]
#                               [--log-dir DIR]
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly repo_root
build_dir="${repo_root}/build"
log_dir=""
telemetry_args=()

# How long to wait for a port to open, and for a program to exit after
# SIGTERM, in tenths of a second.
readonly port_wait_ticks=300
readonly stop_wait_ticks=100

pids=()
names=()

usage() {
  sed -n '2,10s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

fail() {
  echo "run_servers.sh: $*" >&2
  exit 1
}

parse_flags() {
  while (($# > 0)); do
    case "$1" in
      --telemetry-dir)
        (($# >= 2)) || fail "--telemetry-dir needs a directory"
        telemetry_args=(--telemetry-dir "$2")
        shift 2
        ;;
      --build-dir)
        (($# >= 2)) || fail "--build-dir needs a directory"
        build_dir="$2"
        shift 2
        ;;
      --log-dir)
        (($# >= 2)) || fail "--log-dir needs a directory"
        log_dir="$2"
        shift 2
        ;;
      -h | --help)
        usage
        exit 0
        ;;
      *)
        fail "unknown argument '$1' (try --help)"
        ;;
    esac
  done
}

# Sends SIGTERM to every program still running and waits for each to exit,
# killing one that outlives the wait.
stop_all() {
  local i pid ticks
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for i in "${!pids[@]}"; do
    pid="${pids[$i]}"
    ticks=0
    while kill -0 "$pid" 2>/dev/null && ((ticks < stop_wait_ticks)); do
      sleep 0.1
      ticks=$((ticks + 1))
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "${names[$i]} did not stop after SIGTERM; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
  pids=()
}

# start <program> <port>: starts build/bin/<program> in the background.
start() {
  local program="$1" port="$2"
  local binary="${build_dir}/bin/${program}"
  [[ -x "$binary" ]] || fail "${binary} is missing: build the project first"
  "$binary" --port "$port" "${telemetry_args[@]}" \
    >"${log_dir}/${program}.log" 2>&1 &
  pids+=("$!")
  names+=("$program")
  echo "started ${program} (pid $!) on port ${port}"
}

# wait_for_port <program> <port>: returns once the port accepts
# connections; fails when the program exits first or the wait runs out.
wait_for_port() {
  local program="$1" port="$2" pid="${pids[-1]}" ticks=0
  while ! (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 5 "${log_dir}/${program}.log" >&2 || true
      fail "${program} exited before listening on port ${port}"
    fi
    ((ticks < port_wait_ticks)) ||
      fail "${program} did not listen on port ${port} in time"
    sleep 0.1
    ticks=$((ticks + 1))
  done
}

main() {
  parse_flags "$@"
  if [[ -z "$log_dir" ]]; then
    log_dir="$(mktemp -d /tmp/run_servers.XXXXXX)"
  fi
  mkdir -p "$log_dir"
  trap stop_all EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  start item_service 9091
  wait_for_port item_service 9091
  start inventory_service 9092
  wait_for_port inventory_service 9092
  start player_service 9093
  wait_for_port player_service 9093
  if [[ -x "${build_dir}/bin/telemetry_sidecar" ]]; then
    start telemetry_sidecar 9090
    wait_for_port telemetry_sidecar 9090
  fi

  echo "all listening; logs in ${log_dir}; Ctrl-C stops them"
  # Returns when any program exits; the EXIT trap then stops the others.
  wait -n "${pids[@]}" || true
  echo "a program exited on its own; stopping the others" >&2
}

main "$@"
