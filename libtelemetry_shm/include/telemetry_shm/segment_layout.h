// The byte layout of a counter segment: the one contract between a writer
// (a service linking this library) and its readers (the sidecar, the tools).
//
// This header is for the library and its tests; services and readers use the
// TelemetryManager and SegmentReader interfaces instead.
//
// A segment is one file on memory-backed storage, written by exactly one
// process at a time (the one holding an exclusive flock on it) and read by
// any number of others. It holds only plain data and lock-free 64-bit
// atomics, so a process that dies anywhere leaves nothing locked.
//
//   [ SegmentHeader              ]  4096 bytes
//   [ CounterDescriptor x 64     ]  64 bytes each: key and name of a counter
//   [ Stripe x 64                ]  512 bytes each: one value per counter
//
// A counter's value is the sum of its cell over all stripes. Stripe 0 is
// shared by threads that found no stripe of their own and is only ever
// changed with fetch_add; stripe 1 belongs to the writer's background
// thread; every other stripe belongs to at most one thread at a time, which
// updates it with a plain load and store. Cells only grow, so a sum read
// later is never smaller than one read earlier.
//
// Changing anything here means raising kLayoutVersion.
#ifndef TELEMETRY_SHM_SEGMENT_LAYOUT_H_
#define TELEMETRY_SHM_SEGMENT_LAYOUT_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace telemetry_shm::layout {

// "TLMSEGv1" read as a little-endian 64-bit number.
inline constexpr uint64_t kMagic = 0x31764745534d4c54ULL;
inline constexpr uint32_t kLayoutVersion = 1;

inline constexpr uint32_t kMaxCounters = 64;
inline constexpr uint32_t kStripeCount = 64;
inline constexpr uint32_t kSharedStripe = 0;
inline constexpr uint32_t kHousekeepingStripe = 1;
inline constexpr uint32_t kFirstThreadStripe = 2;

inline constexpr size_t kNameCapacity = 64;  // service and instance, with NUL
inline constexpr size_t kCounterNameCapacity = 56;  // with NUL

// The state word is stored last when a segment is built, with release order,
// so a reader that sees kReady (acquire) sees every field before it.
enum class SegmentState : uint32_t {
  kInitializing = 0,  // being built; readers must not trust it yet
  kReady = 1,         // a writer counts into it
  kStopped = 2,       // the last writer stopped cleanly
};

struct SegmentHeader {
  uint64_t magic;
  uint32_t layout_version;
  uint32_t header_size;         // sizeof(SegmentHeader)
  uint64_t total_size;          // the whole segment, equal to the file size
  uint32_t max_counters;        // kMaxCounters
  uint32_t stripe_count;        // kStripeCount
  uint32_t descriptor_size;     // sizeof(CounterDescriptor)
  uint32_t stripe_size;         // sizeof(Stripe)
  std::atomic<uint32_t> state;  // a SegmentState
  uint32_t reserved0;
  char service_name[kNameCapacity];  // NUL-terminated
  char instance_id[kNameCapacity];   // NUL-terminated
  // Writer identity, rewritten by each process that takes the segment over.
  std::atomic<uint64_t> writer_pid;
  std::atomic<int64_t> start_time_ms;  // when that process started counting
  std::atomic<uint64_t> generation;    // 1 for the first writer, then +1
  std::atomic<int64_t> heartbeat_ms;   // refreshed by the writer's thread
  std::atomic<int64_t> created_ms;     // when the segment was first built
  uint8_t padding[4096 - 216];
};

// A counter slot in use has key != 0; its name is written before its key.
struct CounterDescriptor {
  std::atomic<int32_t> key;  // the TelemetryCounter number, 0 when unused
  uint32_t reserved;
  char name[kCounterNameCapacity];  // NUL-terminated
};

// 512 bytes: a multiple of the 128-byte prefetch pair, so two stripes never
// share a cache line.
struct Stripe {
  std::atomic<uint64_t> cells[kMaxCounters];
};

struct Segment {
  SegmentHeader header;
  CounterDescriptor descriptors[kMaxCounters];
  Stripe stripes[kStripeCount];
};

inline constexpr size_t kSegmentSize = sizeof(Segment);

// The cell of counter `key` lives at index key - 1 of every stripe.
inline constexpr uint32_t slot_of(int32_t key) {
  return static_cast<uint32_t>(key) - 1u;
}

static_assert(std::atomic<uint64_t>::is_always_lock_free);
static_assert(std::atomic<int64_t>::is_always_lock_free);
static_assert(std::atomic<uint32_t>::is_always_lock_free);
static_assert(std::atomic<int32_t>::is_always_lock_free);
static_assert(sizeof(std::atomic<uint64_t>) == 8);
static_assert(sizeof(SegmentHeader) == 4096);
static_assert(offsetof(SegmentHeader, state) == 40);
static_assert(offsetof(SegmentHeader, service_name) == 48);
static_assert(offsetof(SegmentHeader, instance_id) == 112);
static_assert(offsetof(SegmentHeader, writer_pid) == 176);
static_assert(offsetof(SegmentHeader, heartbeat_ms) == 200);
static_assert(offsetof(SegmentHeader, created_ms) == 208);
static_assert(sizeof(CounterDescriptor) == 64);
static_assert(sizeof(Stripe) == 512);
static_assert(offsetof(Segment, descriptors) == 4096);
static_assert(offsetof(Segment, stripes) == 4096 + 64 * 64);
static_assert(kSegmentSize == 4096 + 64 * 64 + 64 * 512);

}  // namespace telemetry_shm::layout

#endif  // TELEMETRY_SHM_SEGMENT_LAYOUT_H_
