// Reading counter segments from another process: the sidecar and the tools.
//
//   for (const auto& entry : telemetry_shm::list_segments(dir)) {
//     auto reader = telemetry_shm::SegmentReader::open(entry.path);
//     telemetry_shm::Snapshot snap = reader.snapshot();
//   }
//
// A reader maps a segment read-only and trusts nothing in it: every field is
// checked against the mapped size and the layout before use, so a truncated,
// corrupt or hostile segment is refused with a reason instead of crashing
// the reader. Liveness comes from the writer's flock (a reader that could
// take it knows the writer is gone) and its heartbeat, never from its pid.
//
// Thread safety: a SegmentReader may be used from several threads at once;
// its methods do not modify it. Moving one is not thread-safe.
#ifndef TELEMETRY_SHM_SEGMENT_READER_H_
#define TELEMETRY_SHM_SEGMENT_READER_H_

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "telemetry_shm/snapshot.h"

namespace telemetry_shm {

// $TELEMETRY_DIR when set and not empty, else "/dev/shm/telemetry".
std::string default_directory();

// True when `name` is 1 to 63 characters of [A-Za-z0-9_-].
bool is_valid_name(std::string_view name);

// "<service>.<instance>.seg". Throws TelemetryError(kInvalidArgument) when
// either name is not valid.
std::string segment_file_name(std::string_view service_name,
                              std::string_view instance_id);

// True when `directory` is on tmpfs or ramfs. Throws TelemetryError
// (kSystem, kNotFound) when it cannot be examined.
bool is_memory_backed(const std::string& directory);

struct SegmentEntry {
  std::string path;
  std::string service_name;
  std::string instance_id;
};

// The segment files of `directory`, sorted by service then instance. Files
// whose names do not have the segment form are not listed. Throws
// TelemetryError: kNotFound when the directory does not exist, kSystem when
// it cannot be read.
std::vector<SegmentEntry> list_segments(const std::string& directory);

struct ReaderOptions {
  // Accept segments owned by another user (they are refused by default).
  bool allow_foreign_owner = false;
  // A heartbeat older than this makes a writer that holds the lock kStale.
  std::chrono::milliseconds stale_after{3000};
};

class SegmentReader {
 public:
  // Opens and validates the segment at `path`. Throws TelemetryError:
  // kNotFound; kUnsafeFile for a symlink, a non-regular file or a file of
  // another user; kNotReady while the writer is still building it; kCorrupt
  // (the message names the field) for anything else that is wrong.
  static SegmentReader open(const std::string& path,
                            const ReaderOptions& options = {});

  SegmentReader(SegmentReader&&) noexcept;
  SegmentReader& operator=(SegmentReader&&) noexcept;
  ~SegmentReader();

  // Reads every counter. Re-checks the file's size and header first
  // (including that the stored names still match the file name), and throws
  // TelemetryError(kCorrupt) when they no longer hold.
  Snapshot snapshot() const;

  // Liveness alone, without reading counters.
  Liveness liveness() const;

  const std::string& path() const;

  // True when `path` now names a different file than the one opened (the
  // segment was removed or replaced).
  bool replaced() const;

 private:
  class Impl;
  explicit SegmentReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace telemetry_shm

#endif  // TELEMETRY_SHM_SEGMENT_READER_H_
