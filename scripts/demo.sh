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
# sidecar's, which telemetry_stat asks. The request driver uses the same.
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

# Plays a little game against the three services: valid calls, and calls
# that each service refuses with a declared exception, so that both
# successful and error requests show up in the counters.
drive_requests() {
  step "Sending requests to every service (valid and invalid)"
  work_dir=$(mktemp -d)
  thrift --gen py -out "$work_dir" -I idl idl/telemetry.thrift
  thrift --gen py -out "$work_dir" -I idl idl/game.thrift
  "$PYTHON" - "$work_dir" "$REQUESTS_PER_SERVICE" <<'PY'
import sys

sys.path.insert(0, sys.argv[1])
from game import InventoryService, ItemService, PlayerService
from game.ttypes import (InventoryChange, InventoryFull, InvalidInput,
                         NewItem, NewPlayer, NotFound, Rarity)
from thrift.protocol import TBinaryProtocol
from thrift.transport import TSocket, TTransport

rounds = int(sys.argv[2])


def connect(service, port):
    transport = TTransport.TBufferedTransport(
        TSocket.TSocket("127.0.0.1", port))
    transport.open()
    return service.Client(TBinaryProtocol.TBinaryProtocol(transport))


def refused(call, *args):
    try:
        call(*args)
    except (InvalidInput, NotFound, InventoryFull):
        return 1
    return 0


items = connect(ItemService, 9091)
inventories = connect(InventoryService, 9092)
players = connect(PlayerService, 9093)
errors = 0
for n in range(rounds):
    item = items.create_item(
        NewItem(name=f"sword {n}", rarity=Rarity.RARE, price=10 + n))
    items.get_item(item.item_id)
    player = players.create_player(NewPlayer(name=f"demo-{n}-{id(item)}"))
    inventories.add_item(InventoryChange(
        player_id=player.player_id, item_id=item.item_id, quantity=1))
    errors += refused(items.get_item, "item-999999999")
    errors += refused(items.create_item, NewItem(rarity=Rarity.COMMON))
    errors += refused(players.get_player, "not-a-player-id")
    errors += refused(inventories.add_item, InventoryChange(
        player_id=player.player_id, item_id=item.item_id, quantity=-1))
print(f"{rounds} rounds of 4 valid calls and 4 refused ones "
      f"({errors} refused as expected)")
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
