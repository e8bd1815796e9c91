#include "stat_report.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "sidecar/sidecar_test_support.h"

namespace sidecar_test {
namespace {

using telemetry::TelemetryCounter;

TEST(StatReportTest, ParsesEndpointAndRefusesBadOnes) {
  EXPECT_EQ(sidecar::parse_endpoint("127.0.0.1:9090"),
            std::make_pair(std::string("127.0.0.1"), 9090));
  EXPECT_THROW(sidecar::parse_endpoint("localhost"), std::invalid_argument);
  EXPECT_THROW(sidecar::parse_endpoint("h:0"), std::invalid_argument);
  EXPECT_THROW(sidecar::parse_endpoint("h:99999"), std::invalid_argument);
  EXPECT_THROW(sidecar::parse_endpoint("h:12x"), std::invalid_argument);
}

TEST(StatReportTest, RatesAreDifferencesPerSecond) {
  sidecar::RowValues before = {{"S/*", {{"bytes_sent", 100}}}};
  sidecar::RowValues now = {{"S/*", {{"bytes_sent", 400}}},
                            {"S/1", {{"bytes_sent", 5}}}};
  sidecar::RowRates r = sidecar::rates(before, now, 2.0);
  EXPECT_DOUBLE_EQ(r["S/*"]["bytes_sent"], 150.0);
  EXPECT_EQ(r.count("S/1"), 0u);
}

class StatSegmentsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    a_ = std::make_unique<WriterChild>(dir_.path(), "ItemService", "1");
    b_ = std::make_unique<WriterChild>(dir_.path(), "PlayerService", "2");
    a_->add(TelemetryCounter::BYTES_SENT, 300);
    b_->add(TelemetryCounter::ERROR_REQUESTS, 4);
  }

  TempDir dir_;
  std::unique_ptr<WriterChild> a_;
  std::unique_ptr<WriterChild> b_;
};

TEST_F(StatSegmentsTest, SegmentsSampleNotesWhereItCameFrom) {
  auto sample = sidecar::sample_from_segments(dir_.path());
  EXPECT_EQ(sample.source, "segments");
  EXPECT_NE(sample.note.find(dir_.path()), std::string::npos);
  ASSERT_EQ(sample.telemetry.services.size(), 2u);
  EXPECT_EQ(sample.telemetry.services[0].total.counters.at(
                TelemetryCounter::BYTES_SENT),
            300);
  ASSERT_EQ(sample.services.size(), 2u);
  EXPECT_EQ(sample.services[1].instances.at(0).liveness, "alive");
}

TEST_F(StatSegmentsTest, TableFiltersByServiceAndCounter) {
  auto sample = sidecar::sample_from_segments(dir_.path());
  const std::string table = sidecar::render_table(
      sample, {"ItemService", "BYTES_SENT"}, std::nullopt);
  EXPECT_NE(table.find("bytes_sent"), std::string::npos) << table;
  EXPECT_NE(table.find("300"), std::string::npos) << table;
  EXPECT_EQ(table.find("PlayerService"), std::string::npos) << table;
  EXPECT_EQ(table.find("error_requests"), std::string::npos) << table;
}

TEST_F(StatSegmentsTest, JsonHasFormatVersionAndCounters) {
  auto sample = sidecar::sample_from_segments(dir_.path());
  sidecar::RowRates rates = {{"PlayerService/*", {{"error_requests", 2.5}}}};
  const std::string json =
      sidecar::render_json(sample, {"PlayerService", ""}, rates);
  EXPECT_EQ(json.rfind("{\"format_version\":1,", 0), 0u) << json;
  EXPECT_NE(json.find("\"error_requests\":4"), std::string::npos) << json;
  EXPECT_NE(json.find("\"rates\":{\"error_requests\":2.5}"), std::string::npos)
      << json;
  EXPECT_EQ(json.find("ItemService"), std::string::npos) << json;
}

TEST_F(StatSegmentsTest, ListShowsLivenessAndGeneration) {
  b_->kill_hard();
  auto sample = sidecar::sample_from_segments(dir_.path());
  const std::string list = sidecar::render_list(sample, {});
  EXPECT_NE(list.find("PlayerService        2          dead"),
            std::string::npos)
      << list;
  EXPECT_NE(list.find("ItemService          1          alive"),
            std::string::npos)
      << list;
}

}  // namespace
}  // namespace sidecar_test
