// Helpers shared by the segment's writer and its readers: descriptors,
// mapping, validation and reading. Private to the library.
#ifndef TELEMETRY_SHM_SRC_SEGMENT_FILE_H_
#define TELEMETRY_SHM_SRC_SEGMENT_FILE_H_

#include <sys/stat.h>

#include <boost/interprocess/mapped_region.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "telemetry_shm/segment_layout.h"
#include "telemetry_shm/snapshot.h"

namespace telemetry_shm::internal {

// Owns a file descriptor and closes it once.
class FileDescriptor {
 public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(FileDescriptor&& other) noexcept;
  FileDescriptor& operator=(FileDescriptor&& other) noexcept;
  ~FileDescriptor();

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void reset();

 private:
  int fd_ = -1;
};

// Milliseconds since the Unix epoch.
int64_t now_ms();

// fstat() that throws a system error naming `path`.
struct stat stat_descriptor(int fd, const std::string& path);

// Maps `size` bytes of the open file `fd` with Boost.Interprocess, shared,
// read-only or read-write. Throws TelemetryError(kSystem) on failure.
boost::interprocess::mapped_region map_file(int fd, size_t size, bool writable);

// Checks everything a reader relies on: identity fields, sizes against the
// layout and `file_size`, the state word, names, counter descriptors. When
// `expected_service` or `expected_instance` are not empty, the stored names
// must equal them. Throws TelemetryError: kCorrupt naming the field that is
// wrong, or kNotReady while the state is initializing.
void validate_segment(const layout::Segment& segment, uint64_t file_size,
                      const std::string& path,
                      std::string_view expected_service,
                      std::string_view expected_instance);

// validate_segment() without the counter descriptors, for a reader that
// goes on to read_checked_segment().
void validate_header(const layout::Segment& segment, uint64_t file_size,
                     const std::string& path, std::string_view expected_service,
                     std::string_view expected_instance);

// Writers' side. build_segment() fills a zeroed or stale mapping from
// nothing and stores the state word last, so readers refuse it until then.
// claim_identity() records the calling process as the segment's writer and
// counts one more generation. publish_descriptors() names every counter of
// `names` (index i names key i + 1) that the segment does not name yet,
// writing the name before the key, which publishes it.
void build_segment(layout::Segment& segment, const std::string& service_name,
                   const std::string& instance_id,
                   const std::vector<std::string>& names);
void claim_identity(layout::Segment& segment);
void publish_descriptors(layout::Segment& segment,
                         const std::vector<std::string>& names);

// Copies the `capacity` bytes of a name field out of shared memory into
// `buffer`, which must hold `capacity` bytes, and returns the
// NUL-terminated name in it, or nullopt when the field holds no terminator.
std::optional<std::string_view> stored_name(const char* field, size_t capacity,
                                            char* buffer);

// Copies a NUL-terminated name out of shared memory into `out`. Returns
// false when the field holds no terminator within `capacity`, which is at
// most layout::kNameCapacity.
bool copy_name(const char* field, size_t capacity, std::string* out);

// Reads the identity fields and every named counter of a segment this
// process writes; a descriptor that is not usable is skipped.
Snapshot read_segment(const layout::Segment& segment, Liveness liveness);

// The same for another process's segment whose header the caller has
// validated: each published descriptor is checked as it is read, and a
// corrupt one throws TelemetryError(kCorrupt) naming `path` and the field.
Snapshot read_checked_segment(const layout::Segment& segment, Liveness liveness,
                              const std::string& path);

// The flock-based part of liveness: true when some process holds an
// exclusive lock on the file behind `fd`.
bool writer_holds_lock(int fd, const std::string& path);

// Combines the lock, the state word and the heartbeat into a Liveness.
Liveness judge_liveness(bool locked, const layout::Segment& segment,
                        int64_t stale_after_ms, int64_t now);

}  // namespace telemetry_shm::internal

#endif  // TELEMETRY_SHM_SRC_SEGMENT_FILE_H_
