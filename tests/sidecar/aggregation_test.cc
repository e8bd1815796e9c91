#include "aggregation.h"

#include <gtest/gtest.h>

#include <limits>

namespace sidecar_test {
namespace {

using telemetry_shm::Liveness;
using telemetry_shm::Snapshot;

Snapshot instance(const std::string& id, Liveness liveness, int64_t start,
                  uint64_t generation, sidecar::Counters counters) {
  Snapshot s;
  s.service_name = "ItemService";
  s.instance_id = id;
  s.liveness = liveness;
  s.start_time_ms = start;
  s.generation = generation;
  s.counters = std::move(counters);
  return s;
}

TEST(AggregationTest, TotalSumsCountersAndRetired) {
  auto total = sidecar::service_total(
      "ItemService",
      {instance("1", Liveness::kDead, 100, 2, {{1, "BYTES_RECEIVED", 10}}),
       instance("2", Liveness::kAlive, 300, 1,
                {{1, "BYTES_RECEIVED", 5}, {3, "SUCCESSFUL_REQUESTS", 2}})},
      {{3, "SUCCESSFUL_REQUESTS", 40}, {4, "ERROR_REQUESTS", 1}});
  EXPECT_EQ(total.value(1), 15u);
  EXPECT_EQ(total.value(3), 42u);
  EXPECT_EQ(total.value(4), 1u);
  EXPECT_EQ(total.generation, 3u);
  EXPECT_EQ(total.start_time_ms, 300);
  EXPECT_EQ(total.liveness, Liveness::kAlive);
  EXPECT_EQ(total.instance_id, "");
  ASSERT_EQ(total.counters.size(), 3u);
  EXPECT_EQ(total.counters[0].key, 1);
  EXPECT_EQ(total.counters[2].key, 4);
}

TEST(AggregationTest, TotalOfNoInstancesIsDeadWithRetiredCounts) {
  auto total =
      sidecar::service_total("ItemService", {}, {{2, "BYTES_SENT", 7}});
  EXPECT_EQ(total.liveness, Liveness::kDead);
  EXPECT_EQ(total.value(2), 7u);
  EXPECT_EQ(total.generation, 0u);
}

TEST(AggregationTest, StaleWinsOverStoppedWhenNoneIsAlive) {
  auto total =
      sidecar::service_total("S",
                             {instance("1", Liveness::kStopped, 1, 1, {}),
                              instance("2", Liveness::kStale, 1, 1, {})},
                             {});
  EXPECT_EQ(total.liveness, Liveness::kStale);
}

TEST(AggregationTest, SumSaturatesInsteadOfWrapping) {
  const uint64_t big = std::numeric_limits<uint64_t>::max() - 1;
  sidecar::Counters into = {{1, "BYTES_SENT", big}};
  sidecar::add_counters(into, {{1, "BYTES_SENT", 5}});
  EXPECT_EQ(into[0].value, std::numeric_limits<uint64_t>::max());
}

TEST(AggregationTest, AddKeepsKeysSortedAndUniqueWhateverTheirOrder) {
  sidecar::Counters into = {{2, "B", 20}, {5, "E", 50}};
  sidecar::add_counters(
      into, {{5, "E", 1}, {1, "A", 2}, {3, "C", 3}, {2, "B", 4}, {7, "G", 5}});
  std::vector<std::pair<int32_t, uint64_t>> got;
  for (const auto& c : into) got.emplace_back(c.key, c.value);
  const std::vector<std::pair<int32_t, uint64_t>> expected = {
      {1, 2}, {2, 24}, {3, 3}, {5, 51}, {7, 5}};
  EXPECT_EQ(got, expected);
}

TEST(AggregationTest, SubtractMatchesByKeyAndStopsAtZero) {
  sidecar::Counters into = {{1, "BYTES_RECEIVED", 10},
                            {3, "SUCCESSFUL_REQUESTS", 4}};
  sidecar::subtract_counters(into, {{1, "BYTES_RECEIVED", 3},
                                    {3, "SUCCESSFUL_REQUESTS", 9},
                                    {4, "ERROR_REQUESTS", 2}});
  ASSERT_EQ(into.size(), 2u);
  EXPECT_EQ(into[0].value, 7u);
  EXPECT_EQ(into[1].value, 0u);
}

TEST(AggregationTest, MetricWordIsLowerCaseWithSafeCharacters) {
  EXPECT_EQ(sidecar::metric_word("BYTES_SENT"), "bytes_sent");
  EXPECT_EQ(sidecar::metric_word("Odd-Name.2"), "odd_name_2");
}

}  // namespace
}  // namespace sidecar_test
