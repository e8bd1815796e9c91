#include "telemetry_shm/snapshot.h"

namespace telemetry_shm {

const char* to_string(Liveness liveness) {
  switch (liveness) {
    case Liveness::kAlive:
      return "alive";
    case Liveness::kStale:
      return "stale";
    case Liveness::kStopped:
      return "stopped";
    case Liveness::kDead:
      return "dead";
  }
  return "unknown";
}

uint64_t Snapshot::value(int32_t key) const {
  for (const CounterReading& counter : counters) {
    if (counter.key == key) return counter.value;
  }
  return 0;
}

}  // namespace telemetry_shm
