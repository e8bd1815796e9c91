#include "aggregation.h"

#include <algorithm>
#include <cstdint>
#include <limits>

namespace sidecar {
namespace {

using telemetry_shm::Liveness;

uint64_t saturating_add(uint64_t a, uint64_t b) {
  uint64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) {
    return std::numeric_limits<uint64_t>::max();
  }
  return sum;
}

// Lower is better: an alive instance makes the whole service alive.
int liveness_rank(Liveness liveness) {
  switch (liveness) {
    case Liveness::kAlive:
      return 0;
    case Liveness::kStale:
      return 1;
    case Liveness::kStopped:
      return 2;
    case Liveness::kDead:
      return 3;
  }
  return 3;
}

}  // namespace

void add_counters(Counters& into, const Counters& from) {
  // Readings come sorted by key, so one walk over `into` usually finds
  // them all; a key out of order, or repeated, starts the walk again.
  auto it = into.begin();
  int32_t last_key = 0;
  for (const auto& reading : from) {
    if (reading.key <= last_key) it = into.begin();
    last_key = reading.key;
    while (it != into.end() && it->key < reading.key) ++it;
    if (it != into.end() && it->key == reading.key) {
      it->value = saturating_add(it->value, reading.value);
    } else {
      it = into.insert(it, reading);
    }
    ++it;
  }
}

bool same_counters(const Counters& a, const Counters& b) {
  return std::equal(
      a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
        return x.key == y.key && x.name == y.name && x.value == y.value;
      });
}

void subtract_counters(Counters& into, const Counters& what) {
  for (const auto& reading : what) {
    auto it = std::find_if(into.begin(), into.end(), [&](const auto& have) {
      return have.key == reading.key;
    });
    if (it != into.end()) {
      it->value -= std::min(it->value, reading.value);
    }
  }
}

telemetry_shm::Snapshot service_total(
    const std::string& service_name,
    const std::vector<telemetry_shm::Snapshot>& instances,
    const Counters& retired) {
  telemetry_shm::Snapshot total;
  total.service_name = service_name;
  total.liveness = Liveness::kDead;
  add_counters(total.counters, retired);
  for (const auto& one : instances) {
    add_counters(total.counters, one.counters);
    total.generation = saturating_add(total.generation, one.generation);
    total.start_time_ms = std::max(total.start_time_ms, one.start_time_ms);
    total.heartbeat_ms = std::max(total.heartbeat_ms, one.heartbeat_ms);
    total.taken_ms = std::max(total.taken_ms, one.taken_ms);
    if (total.created_ms == 0 || one.created_ms < total.created_ms) {
      total.created_ms = one.created_ms;
    }
    if (liveness_rank(one.liveness) < liveness_rank(total.liveness)) {
      total.liveness = one.liveness;
    }
  }
  return total;
}

std::string metric_word(const std::string& counter_name) {
  std::string word;
  word.reserve(counter_name.size());
  for (char c : counter_name) {
    if (c >= 'A' && c <= 'Z') {
      word.push_back(static_cast<char>(c - 'A' + 'a'));
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') {
      word.push_back(c);
    } else {
      word.push_back('_');
    }
  }
  return word;
}

}  // namespace sidecar
