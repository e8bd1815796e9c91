// The telemetry_stat binary against a running sidecar and, with the
// sidecar down, against the segments directly.
#include <gtest/gtest.h>

#include "sidecar/sidecar_client.h"
#include "sidecar/sidecar_test_support.h"

namespace sidecar_test {
namespace {

using telemetry::TelemetryCounter;

struct StatRun {
  int status;
  std::string output;
};

StatRun run_stat(const TempDir& dir, const std::vector<std::string>& args) {
  static int runs = 0;
  const std::string log =
      dir.path() + "/stat-" + std::to_string(runs++) + ".out";
  auto stat = ChildProcess::spawn(
      std::string(TELEMETRY_BIN_DIR) + "/telemetry_stat", args, log);
  auto status = stat.wait_for_exit();
  const int code = status && status->exited ? status->code : -1;
  return {code, read_file(log)};
}

TEST(StatProcessTest, ShowsSidecarNumbersAsTableJsonAndList) {
  TempDir dir;
  WriterChild a(dir.path(), "ItemService", "9091");
  a.add(TelemetryCounter::SUCCESSFUL_REQUESTS, 42);
  RunningSidecar sidecar(dir.path());
  const std::string endpoint = "127.0.0.1:" + std::to_string(sidecar.port());

  StatRun table = run_stat(dir, {"--sidecar", endpoint});
  EXPECT_EQ(table.status, 0) << table.output;
  EXPECT_NE(table.output.find("successful_requests"), std::string::npos);
  EXPECT_NE(table.output.find("42"), std::string::npos) << table.output;
  EXPECT_EQ(table.output.find("note:"), std::string::npos) << table.output;

  StatRun json = run_stat(dir, {"--sidecar", endpoint, "--json"});
  EXPECT_NE(json.output.find("\"format_version\":1"), std::string::npos);
  EXPECT_NE(json.output.find("\"source\":\"sidecar\""), std::string::npos);

  StatRun list = run_stat(dir, {"--sidecar", endpoint, "--list"});
  EXPECT_NE(list.output.find("9091"), std::string::npos) << list.output;
  EXPECT_NE(list.output.find("alive"), std::string::npos) << list.output;
}

TEST(StatProcessTest, ReadsSegmentsWithNoteWhenSidecarIsDown) {
  TempDir dir;
  WriterChild a(dir.path(), "ItemService", "1");
  a.add(TelemetryCounter::BYTES_RECEIVED, 512);
  const std::string nobody = "127.0.0.1:" + std::to_string(free_port());
  StatRun run = run_stat(dir, {"--sidecar", nobody, "--telemetry-dir",
                               dir.path(), "--counter", "bytes_received"});
  EXPECT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("note: sidecar " + nobody + " did not answer"),
            std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("512"), std::string::npos) << run.output;
}

TEST(StatProcessTest, WatchShowsRatesForCountRefreshes) {
  TempDir dir;
  WriterChild a(dir.path(), "ItemService", "1");
  RunningSidecar sidecar(dir.path());
  const std::string endpoint = "127.0.0.1:" + std::to_string(sidecar.port());
  StatRun run = run_stat(
      dir, {"--sidecar", endpoint, "--watch", "1", "--count", "2", "--json"});
  EXPECT_EQ(run.status, 0) << run.output;
  size_t documents = 0;
  for (size_t at = run.output.find("\"format_version\":1");
       at != std::string::npos;
       at = run.output.find("\"format_version\":1", at + 1)) {
    ++documents;
  }
  EXPECT_EQ(documents, 2u) << run.output;
  EXPECT_NE(run.output.find("\"rates\":{\"bytes_received\":0"),
            std::string::npos)
      << run.output;
}

TEST(StatProcessTest, RefusesBadFlags) {
  TempDir dir;
  const std::pair<std::vector<std::string>, std::string> cases[] = {
      {{"--watch", "0"}, "--watch must be 1 to 86400"},
      {{"--count", "3"}, "--count needs --watch"},
      {{"--sidecar", "nohost"}, "not host:port"},
      {{"--frobnicate"}, "frobnicate"},
  };
  for (const auto& [args, expected] : cases) {
    StatRun run = run_stat(dir, args);
    EXPECT_EQ(run.status, 2) << run.output;
    EXPECT_NE(run.output.find(expected), std::string::npos) << run.output;
  }
}

}  // namespace
}  // namespace sidecar_test
