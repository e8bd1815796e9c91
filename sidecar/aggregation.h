// Adding counters up: the total of a service over its instances and the
// counts retired from removed segments.
//
// Counters are matched by key. A sum that would pass 2^64-1 stays at
// 2^64-1 instead of wrapping, so a total never goes backwards.
//
// Thread safety: plain functions over values; safe from any thread.
#ifndef SIDECAR_AGGREGATION_H_
#define SIDECAR_AGGREGATION_H_

#include <string>
#include <vector>

#include "telemetry_shm/snapshot.h"

namespace sidecar {

using Counters = std::vector<telemetry_shm::CounterReading>;

// Adds every counter of `from` into `into`, keeping `into` sorted by key.
// A key that `into` lacks is added with the name `from` gives it.
void add_counters(Counters& into, const Counters& from);

// True when both hold the same counters: keys, names and values.
bool same_counters(const Counters& a, const Counters& b);

// Takes every counter of `what` out of `into`, matched by key, stopping at
// 0. For counts that were added to `into` and now belong elsewhere.
void subtract_counters(Counters& into, const Counters& what);

// The total over `instances` of one service plus `retired`: counters
// summed, generation summed, the latest start time and heartbeat, liveness
// the best of the instances (alive before stale, stopped, dead; dead when
// there is none), empty instance id, and taken_ms the latest reading.
telemetry_shm::Snapshot service_total(
    const std::string& service_name,
    const std::vector<telemetry_shm::Snapshot>& instances,
    const Counters& retired);

// Lower case of a stored counter name, with anything outside [a-z0-9_]
// turned into '_', for names built from it ("BYTES_SENT" -> "bytes_sent").
std::string metric_word(const std::string& counter_name);

}  // namespace sidecar

#endif  // SIDECAR_AGGREGATION_H_
