#include "prometheus_collector.h"

#include <prometheus/text_serializer.h>

#include "sidecar/follower_fixture.h"

namespace sidecar_test {
namespace {

using telemetry::TelemetryCounter;

class PrometheusCollectorTest : public FollowerTest {
 protected:
  std::string scrape() {
    sidecar::SegmentCollector collector([this] { return follower().view(); });
    return prometheus::TextSerializer().Serialize(collector.Collect());
  }
};

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos ||
         text.rfind(line + "\n", 0) == 0;
}

TEST_F(PrometheusCollectorTest, ExportsCountersPerInstanceWithHelpAndType) {
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

TEST_F(PrometheusCollectorTest, DeadInstanceIsDownAndRetiredCountsStay) {
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

TEST_F(PrometheusCollectorTest, KilledInstanceReadsDown) {
  WriterChild a(dir_.path(), "ItemService", "1");
  follower().scan_once();
  a.kill_hard();
  follower().scan_once();
  EXPECT_TRUE(has_line(scrape(),
                       "telemetry_instance_up{service=\"ItemService\","
                       "service_instance=\"1\"} 0"));
}

}  // namespace
}  // namespace sidecar_test
