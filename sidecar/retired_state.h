// The counts of removed segments, kept in a state file so that a service's
// total never goes backwards, also across restarts of the sidecar.
//
// The file is text, one record a line, written whole to a temporary file
// that is then renamed over the old one, so a crash leaves either the old
// or the new state, never a mix:
//
//   telemetry-sidecar-retired 2
//   counter <service> <key> <counter name> <value>
//   removing <service> <instance> <created ms> <N, or - when not noted>
//   removed <key> <counter name> <value>      (N of them)
//   end
//
// A "removing" line names a segment whose counts are already included but
// whose file may still exist (the sidecar stopped between the two steps);
// the N "removed" lines after it are the counts it added. Version 1 files,
// whose removing lines have no last word and note no counts, are read too.
//
// Thread safety: plain functions; callers serialize access to one file.
#ifndef SIDECAR_RETIRED_STATE_H_
#define SIDECAR_RETIRED_STATE_H_

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>

#include "aggregation.h"

namespace sidecar {

// A bad or unreadable state file. The message names the file, the line
// and what was expected there.
class StateFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One segment's identity: a segment built again at the same path has a
// different creation time.
struct SegmentId {
  std::string service_name;
  std::string instance_id;
  int64_t created_ms = 0;

  auto operator<=>(const SegmentId&) const = default;
};

struct RetiredState {
  std::map<std::string, Counters> counts;  // by service name
  // Segments whose counts are in `counts` while their files may still
  // exist, each with the counts it added; nullopt when a version 1 file
  // did not note them.
  std::map<SegmentId, std::optional<Counters>> removing;

  // Equal counts (key, name and value) and equal removals.
  bool operator==(const RetiredState& other) const;
};

// Reads the state at `path`; a missing file is an empty state. Throws
// StateFileError when the file cannot be read or is not in the form above.
RetiredState load_retired_state(const std::string& path);

// Replaces the state at `path` atomically (temporary file, fsync, rename).
// Throws StateFileError naming the step that failed.
void save_retired_state(const std::string& path, const RetiredState& state);

}  // namespace sidecar

#endif  // SIDECAR_RETIRED_STATE_H_
