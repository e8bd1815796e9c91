#include "telemetry_shm/counters.h"

#include <algorithm>
#include <mutex>
#include <stdexcept>
#include <string>

#include "counting_internal.h"

namespace telemetry_shm {
namespace {

using layout::kFirstThreadStripe;
using layout::kSharedStripe;
using layout::kStripeCount;

layout::Stripe g_local_stripes[kStripeCount];
std::atomic<bool> g_claimed[kStripeCount];

// Set once this thread has looked for a stripe of its own.
__thread bool t_attached = false;

// Gives the thread's stripe back when the thread exits. Later increments of
// this thread (from other thread-local destructors) use the shared stripe.
struct StripeReleaser {
  ~StripeReleaser() {
    const uint32_t stripe = detail::t_stripe;
    detail::t_stripe = kSharedStripe;
    if (stripe != kSharedStripe) {
      g_claimed[stripe].store(false, std::memory_order_release);
    }
  }
};
thread_local StripeReleaser t_releaser;

uint32_t claim_stripe() {
  for (uint32_t i = kFirstThreadStripe; i < kStripeCount; ++i) {
    if (!g_claimed[i].load(std::memory_order_relaxed) &&
        !g_claimed[i].exchange(true, std::memory_order_acq_rel)) {
      (void)&t_releaser;  // constructs the releaser for this thread
      return i;
    }
  }
  return kSharedStripe;
}

std::vector<std::string> read_known_counter_names() {
  std::vector<std::string> names;
  for (const auto& [key, name] : telemetry::_TelemetryCounter_VALUES_TO_NAMES) {
    if (key != static_cast<int>(names.size()) + 1 ||
        names.size() == layout::kMaxCounters) {
      throw std::logic_error(
          "TelemetryCounter keys must run from 1 without gaps and number at "
          "most " +
          std::to_string(layout::kMaxCounters) + "; key " +
          std::to_string(key) + " (" + name + ") breaks that");
    }
    names.emplace_back(name);
  }
  return names;
}

}  // namespace

namespace detail {

// Constant-initialized, so counting works even during static construction.
CountingState g_counting{{g_local_stripes}, {0}};
__thread uint32_t t_stripe = layout::kSharedStripe;

void increment_unowned(uint32_t slot, uint64_t delta) {
  if (!t_attached) {
    t_attached = true;
    t_stripe = claim_stripe();
    if (t_stripe != kSharedStripe) {
      increment_counter(
          static_cast<telemetry::TelemetryCounter::type>(slot + 1),
          static_cast<int64_t>(delta));
      return;
    }
  }
  g_counting.stripes.load(std::memory_order_acquire)[kSharedStripe]
      .cells[slot]
      .fetch_add(delta, std::memory_order_relaxed);
}

void increment_slow(int32_t key, int64_t amount) {
  const auto& names = internal::known_counter_names();
  g_counting.known_counters.store(static_cast<uint32_t>(names.size()),
                                  std::memory_order_relaxed);

  if (key < 1 || static_cast<size_t>(key) > names.size()) {
    throw std::invalid_argument(
        "increment_counter: key " + std::to_string(key) + " (amount " +
        std::to_string(amount) +
        ") is not a TelemetryCounter value; valid keys are 1 to " +
        std::to_string(names.size()));
  }
  if (amount < 0) {
    throw std::invalid_argument("increment_counter: amount " +
                                std::to_string(amount) + " for key " +
                                std::to_string(key) + " (" + names[key - 1] +
                                ") is negative; counters only grow");
  }
  increment_counter(static_cast<telemetry::TelemetryCounter::type>(key),
                    amount);
}

}  // namespace detail

namespace internal {

layout::Stripe* local_stripes() { return g_local_stripes; }

void switch_stripes(layout::Stripe* stripes) {
  detail::g_counting.stripes.store(stripes, std::memory_order_release);
}

const std::vector<std::string>& known_counter_names() {
  static const std::vector<std::string> names = read_known_counter_names();
  return names;
}

uint64_t sum_cells(const layout::Stripe* stripes, uint32_t slot) {
  uint64_t total = 0;
  for (uint32_t i = 0; i < kStripeCount; ++i) {
    total += stripes[i].cells[slot].load(std::memory_order_relaxed);
  }
  return total;
}

void sum_slots(const layout::Stripe* stripes, uint32_t slot_count,
               uint64_t* sums) {
  std::fill(sums, sums + slot_count, 0);
  for (uint32_t i = 0; i < kStripeCount; ++i) {
    const auto* cells = stripes[i].cells;
    for (uint32_t slot = 0; slot < slot_count; ++slot) {
      sums[slot] += cells[slot].load(std::memory_order_relaxed);
    }
  }
}

}  // namespace internal
}  // namespace telemetry_shm
