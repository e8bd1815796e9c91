#include "segment_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <boost/interprocess/detail/os_file_functions.hpp>
#include <boost/interprocess/exceptions.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string_view>

#include "counting_internal.h"
#include "telemetry_shm/error.h"
#include "telemetry_shm/segment_reader.h"

namespace telemetry_shm::internal {
namespace {

namespace bip = boost::interprocess;
using layout::CounterDescriptor;
using layout::Segment;
using layout::SegmentHeader;
using layout::SegmentState;

// Lets Boost.Interprocess map a descriptor that we opened ourselves (with
// O_NOFOLLOW and ownership checks that its own objects do not offer).
class DescriptorMappable {
 public:
  DescriptorMappable(int fd, bip::mode_t mode) : fd_(fd), mode_(mode) {}
  bip::mapping_handle_t get_mapping_handle() const {
    return bip::ipcdetail::mapping_handle_from_file_handle(fd_);
  }
  bip::mode_t get_mode() const { return mode_; }

 private:
  int fd_;
  bip::mode_t mode_;
};

[[noreturn]] void corrupt(const std::string& path, const std::string& what) {
  throw TelemetryError(ErrorCode::kCorrupt, "segment " + path + ": " + what);
}

template <typename T>
void expect_field(const std::string& path, const char* field, T actual,
                  T expected) {
  if (actual != expected) {
    corrupt(path, std::string(field) + " is " + std::to_string(actual) +
                      ", expected " + std::to_string(expected));
  }
}

void validate_sizes(const SegmentHeader& header, uint64_t file_size,
                    const std::string& path) {
  expect_field<uint32_t>(path, "header_size", header.header_size,
                         sizeof(SegmentHeader));
  expect_field<uint64_t>(path, "total_size", header.total_size,
                         layout::kSegmentSize);
  expect_field<uint64_t>(path, "file size", file_size, layout::kSegmentSize);
  expect_field<uint32_t>(path, "max_counters", header.max_counters,
                         layout::kMaxCounters);
  expect_field<uint32_t>(path, "stripe_count", header.stripe_count,
                         layout::kStripeCount);
  expect_field<uint32_t>(path, "descriptor_size", header.descriptor_size,
                         sizeof(CounterDescriptor));
  expect_field<uint32_t>(path, "stripe_size", header.stripe_size,
                         sizeof(layout::Stripe));
}

void validate_state(const SegmentHeader& header, const std::string& path) {
  const uint32_t state = header.state.load(std::memory_order_acquire);
  if (state == static_cast<uint32_t>(SegmentState::kInitializing)) {
    throw TelemetryError(ErrorCode::kNotReady,
                         "segment " + path +
                             ": still being built by its writer (state is "
                             "initializing)");
  }
  if (state != static_cast<uint32_t>(SegmentState::kReady) &&
      state != static_cast<uint32_t>(SegmentState::kStopped)) {
    corrupt(path, "state is " + std::to_string(state) +
                      ", expected 1 (ready) or 2 (stopped)");
  }
}

void validate_name(const char* field, const char* what,
                   std::string_view expected, const std::string& path) {
  char buffer[layout::kNameCapacity];
  const auto name = stored_name(field, layout::kNameCapacity, buffer);
  if (!name) {
    corrupt(path, std::string(what) + " has no terminating NUL");
  }
  if (!is_valid_name(*name)) {
    corrupt(path, std::string(what) + " '" + std::string(*name) +
                      "' is not 1 to 63 characters of [A-Za-z0-9_-]");
  }
  if (!expected.empty() && *name != expected) {
    corrupt(path, std::string(what) + " is '" + std::string(*name) +
                      "', but the file name says '" + std::string(expected) +
                      "'");
  }
}

bool is_counter_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                    (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

// The name of descriptor `i` copied into `buffer`, or nullopt while the
// descriptor is not published. Throws kCorrupt for a wrong key or name.
// Allocates nothing unless the descriptor is corrupt: it runs for every
// counter of every snapshot.
std::optional<std::string_view> published_name(const Segment& segment,
                                               uint32_t i,
                                               const std::string& path,
                                               char* buffer) {
  const CounterDescriptor& d = segment.descriptors[i];
  const int32_t key = d.key.load(std::memory_order_acquire);
  if (key == 0) return std::nullopt;

  const auto where = [i] { return "counter descriptor " + std::to_string(i); };
  if (key != static_cast<int32_t>(i) + 1) {
    corrupt(path, where() + " has key " + std::to_string(key) + ", expected " +
                      std::to_string(i + 1));
  }
  const auto name = stored_name(d.name, layout::kCounterNameCapacity, buffer);
  if (!name) {
    corrupt(path, where() + " name has no terminating NUL");
  }
  if (!is_counter_name(*name)) {
    corrupt(path, where() + " name '" + std::string(*name) +
                      "' is not 1 to 55 characters of [A-Za-z0-9_]");
  }
  return name;
}

void validate_descriptors(const Segment& segment, const std::string& path) {
  char buffer[layout::kCounterNameCapacity];
  for (uint32_t i = 0; i < layout::kMaxCounters; ++i) {
    published_name(segment, i, path, buffer);
  }
}

// The name of descriptor `i` of a segment this process wrote, or nullopt
// when it is not published (or not usable).
std::optional<std::string_view> own_name(const Segment& segment, uint32_t i,
                                         char* buffer) {
  const CounterDescriptor& d = segment.descriptors[i];
  const int32_t key = d.key.load(std::memory_order_acquire);
  if (key != static_cast<int32_t>(i) + 1) return std::nullopt;
  return stored_name(d.name, layout::kCounterNameCapacity, buffer);
}

Snapshot read_identity(const Segment& segment, Liveness liveness) {
  const SegmentHeader& header = segment.header;
  Snapshot snap;
  copy_name(header.service_name, layout::kNameCapacity, &snap.service_name);
  copy_name(header.instance_id, layout::kNameCapacity, &snap.instance_id);
  snap.writer_pid = header.writer_pid.load(std::memory_order_relaxed);
  snap.start_time_ms = header.start_time_ms.load(std::memory_order_relaxed);
  snap.created_ms = header.created_ms.load(std::memory_order_relaxed);
  snap.heartbeat_ms = header.heartbeat_ms.load(std::memory_order_relaxed);
  snap.generation = header.generation.load(std::memory_order_relaxed);
  snap.liveness = liveness;
  snap.taken_ms = now_ms();
  return snap;
}

// Reads every named counter; `name_of(i, buffer)` gives the name of slot
// i, or nullopt to leave the slot out.
template <typename NameOf>
Snapshot read_counters(const Segment& segment, Liveness liveness,
                       NameOf name_of) {
  Snapshot snap = read_identity(segment, liveness);
  snap.counters.reserve(layout::kMaxCounters);
  char buffer[layout::kCounterNameCapacity];
  for (uint32_t i = 0; i < layout::kMaxCounters; ++i) {
    const std::optional<std::string_view> name = name_of(i, buffer);
    if (name) {
      snap.counters.push_back(
          {static_cast<int32_t>(i) + 1, std::string(*name), 0});
    }
  }
  if (snap.counters.empty()) return snap;

  // One pass over the stripes sums every named slot; keys are ascending.
  uint64_t sums[layout::kMaxCounters];
  const auto slot_count = static_cast<uint32_t>(snap.counters.back().key);
  sum_slots(segment.stripes, slot_count, sums);
  for (CounterReading& reading : snap.counters) {
    reading.value = sums[reading.key - 1];
  }
  return snap;
}

void copy_into(char* field, size_t capacity, const std::string& value) {
  std::memset(field, 0, capacity);
  std::memcpy(field, value.data(), std::min(value.size(), capacity - 1));
}

}  // namespace

void build_segment(Segment& segment, const std::string& service_name,
                   const std::string& instance_id,
                   const std::vector<std::string>& names) {
  std::memset(static_cast<void*>(&segment), 0, sizeof(Segment));
  SegmentHeader& h = segment.header;
  h.magic = layout::kMagic;
  h.layout_version = layout::kLayoutVersion;
  h.header_size = sizeof(SegmentHeader);
  h.total_size = layout::kSegmentSize;
  h.max_counters = layout::kMaxCounters;
  h.stripe_count = layout::kStripeCount;
  h.descriptor_size = sizeof(CounterDescriptor);
  h.stripe_size = sizeof(layout::Stripe);
  copy_into(h.service_name, layout::kNameCapacity, service_name);
  copy_into(h.instance_id, layout::kNameCapacity, instance_id);
  h.created_ms.store(now_ms(), std::memory_order_relaxed);
  claim_identity(segment);
  publish_descriptors(segment, names);
  h.state.store(static_cast<uint32_t>(SegmentState::kReady),
                std::memory_order_release);
}

void claim_identity(Segment& segment) {
  SegmentHeader& h = segment.header;
  const int64_t now = now_ms();
  h.writer_pid.store(static_cast<uint64_t>(::getpid()),
                     std::memory_order_relaxed);
  h.start_time_ms.store(now, std::memory_order_relaxed);
  h.heartbeat_ms.store(now, std::memory_order_relaxed);
  h.generation.fetch_add(1, std::memory_order_relaxed);
}

void publish_descriptors(Segment& segment,
                         const std::vector<std::string>& names) {
  const size_t count = std::min<size_t>(names.size(), layout::kMaxCounters);
  for (size_t i = 0; i < count; ++i) {
    CounterDescriptor& d = segment.descriptors[i];
    if (d.key.load(std::memory_order_acquire) != 0) continue;
    copy_into(d.name, layout::kCounterNameCapacity, names[i]);
    d.key.store(static_cast<int32_t>(i) + 1, std::memory_order_release);
  }
}

FileDescriptor::FileDescriptor(FileDescriptor&& other) noexcept
    : fd_(other.fd_) {
  other.fd_ = -1;
}

FileDescriptor& FileDescriptor::operator=(FileDescriptor&& other) noexcept {
  if (this != &other) {
    reset();
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

FileDescriptor::~FileDescriptor() { reset(); }

void FileDescriptor::reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
      .count();
}

struct stat stat_descriptor(int fd, const std::string& path) {
  struct stat st;
  if (::fstat(fd, &st) != 0) throw system_error("fstat " + path, errno);
  return st;
}

bip::mapped_region map_file(int fd, size_t size, bool writable) {
  const bip::mode_t mode = writable ? bip::read_write : bip::read_only;
  try {
    return bip::mapped_region(DescriptorMappable(fd, mode), mode, 0, size);
  } catch (const bip::interprocess_exception& e) {
    throw TelemetryError(ErrorCode::kSystem,
                         std::string("mapping a segment failed: ") + e.what());
  }
}

std::optional<std::string_view> stored_name(const char* field, size_t capacity,
                                            char* buffer) {
  std::memcpy(buffer, field, capacity);
  const void* end = std::memchr(buffer, '\0', capacity);
  if (end == nullptr) return std::nullopt;
  return std::string_view(buffer, static_cast<const char*>(end) - buffer);
}

bool copy_name(const char* field, size_t capacity, std::string* out) {
  char buffer[layout::kNameCapacity];
  if (capacity > sizeof(buffer)) {
    throw std::logic_error("copy_name: a name field has at most " +
                           std::to_string(sizeof(buffer)) + " bytes, not " +
                           std::to_string(capacity));
  }
  const auto name = stored_name(field, capacity, buffer);
  if (!name) return false;
  out->assign(*name);
  return true;
}

void validate_header(const Segment& segment, uint64_t file_size,
                     const std::string& path, std::string_view expected_service,
                     std::string_view expected_instance) {
  const SegmentHeader& header = segment.header;
  if (header.magic != layout::kMagic) {
    corrupt(path, "magic number is wrong: not a telemetry segment");
  }
  if (header.layout_version != layout::kLayoutVersion) {
    corrupt(path, "layout_version is " + std::to_string(header.layout_version) +
                      ", this program understands " +
                      std::to_string(layout::kLayoutVersion));
  }
  validate_sizes(header, file_size, path);
  validate_state(header, path);
  validate_name(header.service_name, "service_name", expected_service, path);
  validate_name(header.instance_id, "instance_id", expected_instance, path);
  if (header.generation.load(std::memory_order_relaxed) == 0) {
    corrupt(path, "generation is 0, expected at least 1");
  }
}

void validate_segment(const Segment& segment, uint64_t file_size,
                      const std::string& path,
                      std::string_view expected_service,
                      std::string_view expected_instance) {
  validate_header(segment, file_size, path, expected_service,
                  expected_instance);
  validate_descriptors(segment, path);
}

Snapshot read_segment(const Segment& segment, Liveness liveness) {
  return read_counters(segment, liveness, [&](uint32_t i, char* buffer) {
    return own_name(segment, i, buffer);
  });
}

Snapshot read_checked_segment(const Segment& segment, Liveness liveness,
                              const std::string& path) {
  return read_counters(segment, liveness, [&](uint32_t i, char* buffer) {
    return published_name(segment, i, path, buffer);
  });
}

bool writer_holds_lock(int fd, const std::string& path) {
  if (::flock(fd, LOCK_SH | LOCK_NB) == 0) {
    ::flock(fd, LOCK_UN);
    return false;
  }
  if (errno == EWOULDBLOCK) return true;
  throw system_error("flock " + path, errno);
}

Liveness judge_liveness(bool locked, const Segment& segment,
                        int64_t stale_after_ms, int64_t now) {
  const SegmentHeader& header = segment.header;
  if (locked) {
    const int64_t beat = header.heartbeat_ms.load(std::memory_order_relaxed);
    return now - beat > stale_after_ms ? Liveness::kStale : Liveness::kAlive;
  }
  const uint32_t state = header.state.load(std::memory_order_acquire);
  return state == static_cast<uint32_t>(SegmentState::kStopped)
             ? Liveness::kStopped
             : Liveness::kDead;
}

}  // namespace telemetry_shm::internal
