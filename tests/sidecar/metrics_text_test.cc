#include "metrics_text.h"

#include <cstdint>
#include <limits>
#include <sstream>

#include "sidecar/follower_fixture.h"

namespace sidecar_test {
namespace {

using telemetry::TelemetryCounter;

class MetricsTextTest : public FollowerTest {
 protected:
  std::string scrape() {
    return sidecar::metrics_text(sidecar::read_host(*follower().view()));
  }
};

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos ||
         text.rfind(line + "\n", 0) == 0;
}

TEST_F(MetricsTextTest, ExportsCountersPerInstanceWithHelpAndType) {
  WriterChild a(dir_.path(), "ItemService", "9091");
  a.add(TelemetryCounter::BYTES_RECEIVED, 1234);
  follower().scan_once();
  const std::string text = scrape();

  EXPECT_TRUE(has_line(text, "# TYPE telemetry_bytes_received_total counter"))
      << text;
  EXPECT_NE(text.find("# HELP telemetry_bytes_received_total "),
            std::string::npos);
  EXPECT_TRUE(has_line(text,
                       "telemetry_bytes_received_total{service=\"ItemService\""
                       ",service_instance=\"9091\"} 1234"))
      << text;
  EXPECT_TRUE(has_line(text, "# TYPE telemetry_instance_up gauge"));
  EXPECT_TRUE(has_line(text,
                       "telemetry_instance_up{service=\"ItemService\","
                       "service_instance=\"9091\"} 1"))
      << text;
}

TEST_F(MetricsTextTest, DeadInstanceIsDownAndRetiredCountsStay) {
  options_.retention = std::chrono::milliseconds(0);
  WriterChild a(dir_.path(), "ItemService", "1");
  WriterChild b(dir_.path(), "ItemService", "2");
  a.add(TelemetryCounter::SUCCESSFUL_REQUESTS, 8);
  b.add(TelemetryCounter::SUCCESSFUL_REQUESTS, 1);
  follower().scan_once();
  a.kill_hard();
  follower().scan_once();  // removes a's segment
  const std::string text = scrape();

  EXPECT_TRUE(has_line(text,
                       "telemetry_successful_requests_total{service="
                       "\"ItemService\",service_instance=\"(retired)\"} 8"))
      << text;
  EXPECT_TRUE(has_line(text,
                       "telemetry_successful_requests_total{service="
                       "\"ItemService\",service_instance=\"2\"} 1"))
      << text;
  EXPECT_EQ(text.find("service_instance=\"1\""), std::string::npos) << text;
}

TEST_F(MetricsTextTest, KilledInstanceReadsDown) {
  WriterChild a(dir_.path(), "ItemService", "1");
  follower().scan_once();
  a.kill_hard();
  follower().scan_once();
  EXPECT_TRUE(has_line(scrape(),
                       "telemetry_instance_up{service=\"ItemService\","
                       "service_instance=\"1\"} 0"));
}

// One instance of `service` with the counters `counters`, alive.
sidecar::ServiceReading reading(const std::string& service,
                                const std::string& instance,
                                sidecar::Counters counters) {
  sidecar::ServiceReading r;
  r.service_name = service;
  telemetry_shm::Snapshot& snap = r.instances.emplace_back();
  snap.service_name = service;
  snap.instance_id = instance;
  snap.liveness = telemetry_shm::Liveness::kAlive;
  snap.generation = 3;
  snap.start_time_ms = 1764800000123;
  snap.counters = std::move(counters);
  return r;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(MetricsText, WritesCountersAsExactIntegers) {
  const uint64_t max = std::numeric_limits<uint64_t>::max();
  const std::string text = sidecar::metrics_text(
      {reading("ItemService", "1", {{1, "BYTES_SENT", max}})});
  EXPECT_TRUE(has_line(text,
                       "telemetry_bytes_sent_total{service=\"ItemService\","
                       "service_instance=\"1\"} 18446744073709551615"))
      << text;
}

TEST(MetricsText, WritesGenerationAndStartTimeInSeconds) {
  const std::string text =
      sidecar::metrics_text({reading("ItemService", "1", {})});
  const std::string labels = "{service=\"ItemService\",service_instance=\"1\"}";
  EXPECT_TRUE(has_line(text, "telemetry_instance_generation" + labels + " 3"))
      << text;
  EXPECT_TRUE(has_line(text, "telemetry_instance_start_time_seconds" + labels +
                                 " 1764800000.123"))
      << text;
}

TEST(MetricsText, EscapesQuoteBackslashAndNewlineInLabelValues) {
  const std::string text = sidecar::metrics_text(
      {reading("Odd\"Service", "a\\b\nc", {{1, "BYTES_SENT", 5}})});
  EXPECT_TRUE(has_line(text,
                       "telemetry_bytes_sent_total{service=\"Odd\\\"Service\","
                       "service_instance=\"a\\\\b\\nc\"} 5"))
      << text;
}

TEST(MetricsText, GroupsEachFamilyOnceUnderItsHelpAndTypeSortedByName) {
  const std::string text = sidecar::metrics_text(
      {reading("AService", "1", {{1, "BYTES_SENT", 1}, {2, "ERRORS", 2}}),
       reading("BService", "7", {{1, "BYTES_SENT", 3}, {2, "ERRORS", 4}})});
  std::vector<std::string> families;
  std::string current;
  for (const std::string& line : lines_of(text)) {
    if (line.rfind("# HELP ", 0) == 0) {
      current = line.substr(7, line.find(' ', 7) - 7);
      families.push_back(current);
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      EXPECT_EQ(line.rfind("# TYPE " + current + " ", 0), 0u) << line;
      continue;
    }
    // A sample belongs to the family whose header came last.
    EXPECT_EQ(line.rfind(current + "{", 0), 0u) << line << "\n" << text;
  }
  const std::vector<std::string> expected = {
      "telemetry_bytes_sent_total", "telemetry_errors_total",
      "telemetry_instance_generation", "telemetry_instance_start_time_seconds",
      "telemetry_instance_up"};
  EXPECT_EQ(families, expected) << text;
}

TEST(MetricsText, NothingToShowIsAnEmptyDocument) {
  EXPECT_EQ(sidecar::metrics_text({}), "");
}

}  // namespace
}  // namespace sidecar_test
