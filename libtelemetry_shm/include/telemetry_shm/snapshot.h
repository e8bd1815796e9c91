// A point-in-time reading of one counter segment.
//
// A Snapshot is a plain value: it owns its strings and vector and may be
// copied and passed between threads freely. It is produced by
// SegmentReader::snapshot() and TelemetryManager::snapshot().
#ifndef TELEMETRY_SHM_SNAPSHOT_H_
#define TELEMETRY_SHM_SNAPSHOT_H_

#include <cstdint>
#include <string>
#include <vector>

namespace telemetry_shm {

// What a reader can tell about the process behind a segment.
enum class Liveness {
  kAlive,    // the writer holds the segment's lock and its heartbeat is fresh
  kStale,    // the writer holds the lock but its heartbeat stopped: hung
  kStopped,  // no writer; the last one stopped cleanly
  kDead,     // no writer; the last one died without stopping
};

// Returns "alive", "stale", "stopped" or "dead".
const char* to_string(Liveness liveness);

// True for kAlive only.
inline bool is_alive(Liveness liveness) { return liveness == Liveness::kAlive; }

struct CounterReading {
  int32_t key = 0;   // the TelemetryCounter number
  std::string name;  // as stored in the segment, such as "BYTES_SENT"
  uint64_t value = 0;
};

struct Snapshot {
  std::string service_name;
  std::string instance_id;
  uint64_t writer_pid = 0;    // informational only: pids are reused
  int64_t start_time_ms = 0;  // when the current (or last) writer started
  int64_t created_ms = 0;     // when the segment was first built
  int64_t heartbeat_ms = 0;   // the writer's last heartbeat
  uint64_t generation = 0;    // writers so far: 1, then +1 per restart
  Liveness liveness = Liveness::kDead;
  int64_t taken_ms = 0;                  // when this snapshot was read
  std::vector<CounterReading> counters;  // every named counter, by key

  // The value of counter `key`, or 0 when the segment has no such counter.
  uint64_t value(int32_t key) const;
};

}  // namespace telemetry_shm

#endif  // TELEMETRY_SHM_SNAPSHOT_H_
