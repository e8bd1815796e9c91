// Counting: the one call a service makes on its hot path.
//
//   telemetry_shm::increment_counter(
//       telemetry::TelemetryCounter::SUCCESSFUL_REQUESTS, 1);
//
// increment_counter() is safe from any number of threads at once. It takes
// no lock, makes no system call and allocates nothing (except to report bad
// input, below). Each thread counts into a stripe of its own, so threads do
// not contend on a cache line; a reader adds the stripes up.
//
// Before TelemetryManager::start(), counts are kept in process memory and
// are published into the segment when start() runs (increments that race
// with start() are published at the next heartbeat). After stop(), counts
// are kept in process memory again and published by the next start().
//
// Bad input is refused, never silently dropped: a key that is not a
// TelemetryCounter value, or a negative amount, throws std::invalid_argument
// whose message names the key and the amount.
#ifndef TELEMETRY_SHM_COUNTERS_H_
#define TELEMETRY_SHM_COUNTERS_H_

#include <atomic>
#include <cstdint>

#include "telemetry_shm/segment_layout.h"
#include "telemetry_types.h"

namespace telemetry_shm {

void increment_counter(telemetry::TelemetryCounter::type key, int64_t amount);

namespace detail {

// Where every thread counts. Aligned so that nothing written often shares
// its cache line.
struct alignas(128) CountingState {
  // The stripes in use: process memory before start() and after stop(),
  // the segment's in between.
  std::atomic<layout::Stripe*> stripes{nullptr};
  // Keys 1..known_counters are valid. Zero until the first increment has
  // set things up, which sends that increment down the slow path.
  std::atomic<uint32_t> known_counters{0};
};
extern CountingState g_counting;

// The stripe this thread owns, or 0 (the shared stripe) when it owns none
// yet or found none free. A plain __thread variable: no constructor, so
// reading it is one load.
extern __thread uint32_t t_stripe;

// Counts for a thread without a stripe of its own: claims one on the
// thread's first increment, else adds to the shared stripe.
void increment_unowned(uint32_t slot, uint64_t delta);

// The path for anything unusual: learns the valid keys on first use, then
// either counts or throws std::invalid_argument for bad input.
void increment_slow(int32_t key, int64_t amount);

}  // namespace detail

inline void increment_counter(telemetry::TelemetryCounter::type key,
                              int64_t amount) {
  const uint32_t slot = layout::slot_of(key);
  const uint32_t known =
      detail::g_counting.known_counters.load(std::memory_order_relaxed);
  if (__builtin_expect(slot >= known || amount < 0, 0)) {
    detail::increment_slow(key, amount);
    return;
  }

  const auto delta = static_cast<uint64_t>(amount);
  const uint32_t stripe = detail::t_stripe;
  if (__builtin_expect(stripe == layout::kSharedStripe, 0)) {
    detail::increment_unowned(slot, delta);
    return;
  }
  // Only this thread writes this cell: a load and a store suffice, and a
  // reader sees either the old or the new value, never a torn one.
  std::atomic<uint64_t>& cell =
      detail::g_counting.stripes.load(std::memory_order_acquire)[stripe]
          .cells[slot];
  cell.store(cell.load(std::memory_order_relaxed) + delta,
             std::memory_order_relaxed);
}

}  // namespace telemetry_shm

#endif  // TELEMETRY_SHM_COUNTERS_H_
