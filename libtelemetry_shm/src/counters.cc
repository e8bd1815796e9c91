#include "telemetry_shm/counters.h"

#include <mutex>
#include <stdexcept>
#include <string>

#include "counting_internal.h"

namespace telemetry_shm {
namespace detail {

CountingState g_counting;

__thread std::atomic<uint64_t>* t_cells = nullptr;
__thread uint64_t t_epoch = 0;
__thread bool t_exclusive = false;

}  // namespace detail

namespace {

using layout::kFirstThreadStripe;
using layout::kSharedStripe;
using layout::kStripeCount;

layout::Stripe g_local_stripes[kStripeCount];
std::atomic<layout::Stripe*> g_stripes{g_local_stripes};
std::atomic<bool> g_claimed[kStripeCount];

// The stripe this thread owns, kSharedStripe when it found none, or -1
// before its first increment.
__thread int t_stripe = -1;

// Gives the thread's stripe back when the thread exits. Later increments of
// this thread (from other thread-local destructors) use the shared stripe.
struct StripeReleaser {
  ~StripeReleaser() {
    if (t_stripe > static_cast<int>(kSharedStripe)) {
      const int stripe = t_stripe;
      t_stripe = kSharedStripe;
      detail::t_epoch = 0;
      g_claimed[stripe].store(false, std::memory_order_release);
    }
  }
};
thread_local StripeReleaser t_releaser;

int claim_stripe() {
  for (uint32_t i = kFirstThreadStripe; i < kStripeCount; ++i) {
    if (!g_claimed[i].load(std::memory_order_relaxed) &&
        !g_claimed[i].exchange(true, std::memory_order_acq_rel)) {
      (void)&t_releaser;  // constructs the releaser for this thread
      return static_cast<int>(i);
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

std::atomic<uint64_t>* attach_thread() {
  const uint64_t epoch = g_counting.epoch.load(std::memory_order_acquire);
  if (t_stripe < 0) t_stripe = claim_stripe();

  layout::Stripe* stripes = g_stripes.load(std::memory_order_acquire);
  t_cells = stripes[t_stripe].cells;
  t_exclusive = t_stripe != static_cast<int>(kSharedStripe);
  t_epoch = epoch;
  return t_cells;
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
  g_stripes.store(stripes, std::memory_order_release);
  detail::g_counting.epoch.fetch_add(1, std::memory_order_acq_rel);
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

}  // namespace internal
}  // namespace telemetry_shm
