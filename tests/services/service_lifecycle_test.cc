// Starting and stopping the service binaries: flags, signals, the segment
// they leave behind and the ways they refuse to start.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <string>
#include <vector>

#include "InventoryService.h"
#include "ItemService.h"
#include "PlayerService.h"
#include "common/process.h"
#include "services/counted_connection.h"
#include "services/service_process.h"
#include "telemetry_shm/segment_reader.h"

namespace services_test {
namespace {

using telemetry_shm::TransportKind;
using test_support::ChildProcess;
using test_support::ExitStatus;

struct Outcome {
  ExitStatus status;
  std::string output;
};

// Runs `binary` with `args` to its end, collecting what it printed.
Outcome run_to_exit(const std::string& binary,
                    const std::vector<std::string>& args) {
  test_support::TempDir dir;
  const std::string output = dir.path() + "/output";
  auto child = ChildProcess::spawn(
      std::string(TELEMETRY_BIN_DIR) + "/" + binary, args, output);
  const auto status = child.wait_for_exit();
  EXPECT_TRUE(status.has_value()) << binary << " did not exit";
  return {status.value_or(ExitStatus{}), test_support::read_file(output)};
}

TEST(ServiceLifecycleTest, StopsCleanlyOnSigtermAndMarksTheSegmentStopped) {
  ServiceProcess service("item_service", {});
  ASSERT_TRUE(service.start()) << service.log();
  {
    CountedConnection client(service.port(), TransportKind::kBuffered);
    game::ItemServiceClient items(client.protocol());
    telemetry::ServiceMetadata metadata;
    client.expect_success([&] { items.describe(metadata); });
  }

  const ExitStatus status = service.stop();
  EXPECT_TRUE(status.exited && status.code == 0)
      << test_support::to_string(status) << "\n"
      << service.log();
  auto reader =
      telemetry_shm::SegmentReader::open(service.segment_path("ItemService"));
  EXPECT_EQ(reader.liveness(), telemetry_shm::Liveness::kStopped);
  EXPECT_EQ(
      reader.snapshot().value(telemetry::TelemetryCounter::SUCCESSFUL_REQUESTS),
      1u);
  EXPECT_NE(service.log().find("stopped"), std::string::npos) << service.log();
}

TEST(ServiceLifecycleTest, StopsOnSigtermWhileAClientStaysConnected) {
  // The client would hold its worker for ten minutes were it not
  // interrupted by the stop.
  ServiceProcess service("item_service", {"--receive-timeout-ms", "600000"});
  ASSERT_TRUE(service.start()) << service.log();
  CountedConnection client(service.port(), TransportKind::kBuffered);
  game::ItemServiceClient items(client.protocol());
  telemetry::ServiceMetadata metadata;
  client.expect_success([&] { items.describe(metadata); });

  ASSERT_TRUE(service.child().signal(SIGTERM));
  const auto status = service.child().wait_for_exit();
  ASSERT_TRUE(status.has_value()) << "still running with a client connected";
  EXPECT_EQ(test_support::to_string(*status), "exit code 0") << service.log();
}

TEST(ServiceLifecycleTest, EveryServiceDescribesItselfAndReportsTelemetry) {
  struct Case {
    std::string binary;
    std::string service_name;
    std::string first_own_method;
  };
  const std::vector<Case> cases = {
      {"item_service", "ItemService", "create_item"},
      {"inventory_service", "InventoryService", "add_item"},
      {"player_service", "PlayerService", "create_player"}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.binary);
    ServiceProcess service(c.binary, {"--transport", "framed"});
    ASSERT_TRUE(service.start()) << service.log();
    CountedConnection client(service.port(), TransportKind::kFramed);
    telemetry::BaseServiceClient base(client.protocol());

    telemetry::ServiceMetadata metadata;
    base.describe(metadata);
    EXPECT_EQ(metadata.service_name, c.service_name);
    EXPECT_EQ(metadata.instance_id, service.instance_id());
    EXPECT_FALSE(metadata.version.empty());
    ASSERT_GE(metadata.methods.size(), 3u);
    EXPECT_EQ(metadata.methods[0], "describe");
    EXPECT_EQ(metadata.methods[1], "get_telemetry");
    EXPECT_EQ(metadata.methods[2], c.first_own_method);

    telemetry::TelemetrySnapshot snapshot;
    base.get_telemetry(snapshot);
    EXPECT_EQ(snapshot.service_name, c.service_name);
    EXPECT_EQ(counters_of(snapshot).successful, 1u);  // describe()
  }
}

TEST(ServiceLifecycleTest, ServesWithoutCountingWhenTelemetryIsOff) {
  ServiceProcess service("item_service", {"--no-telemetry"});
  ASSERT_TRUE(service.start()) << service.log();
  CountedConnection client(service.port(), TransportKind::kBuffered);
  game::ItemServiceClient items(client.protocol());

  game::ItemPage page;
  client.expect_success([&] { items.list_items(page, 0, 5); });
  telemetry::TelemetrySnapshot snapshot;
  const auto refused = client.expect_error<telemetry::TelemetryUnavailable>(
      [&] { items.get_telemetry(snapshot); });
  EXPECT_NE(refused.message.find("counting is off"), std::string::npos)
      << refused.message;
  EXPECT_FALSE(std::filesystem::exists(service.segment_path("ItemService")));
}

TEST(ServiceLifecycleTest, RefusesASecondProcessOfTheSameInstance) {
  ServiceProcess first("player_service", {});
  ASSERT_TRUE(first.start()) << first.log();

  const Outcome second = run_to_exit(
      "player_service",
      {"--port", std::to_string(test_support::free_port()), "--telemetry-dir",
       first.telemetry_dir(), "--instance", first.instance_id()});
  EXPECT_EQ(test_support::to_string(second.status), "exit code 1");
  EXPECT_NE(second.output.find("error"), std::string::npos) << second.output;
  EXPECT_NE(second.output.find(first.instance_id()), std::string::npos)
      << second.output;
  EXPECT_TRUE(first.child().running()) << first.log();
}

TEST(ServiceLifecycleTest, ExitsWithAnErrorWhenThePortIsBusy) {
  ServiceProcess first("inventory_service", {});
  ASSERT_TRUE(first.start()) << first.log();
  test_support::TempDir dir;

  const Outcome second =
      run_to_exit("inventory_service",
                  {"--port", std::to_string(first.port()), "--telemetry-dir",
                   dir.path(), "--instance", "busy-port"});
  EXPECT_EQ(test_support::to_string(second.status), "exit code 1");
  EXPECT_NE(second.output.find(std::to_string(first.port())), std::string::npos)
      << second.output;
  // Counting had started; the failed start must have stopped it cleanly.
  auto reader = telemetry_shm::SegmentReader::open(
      dir.path() + "/" +
      telemetry_shm::segment_file_name("InventoryService", "busy-port"));
  EXPECT_EQ(reader.liveness(), telemetry_shm::Liveness::kStopped);
}

TEST(ServiceLifecycleTest, PrintsHelpAndVersion) {
  const Outcome help = run_to_exit("item_service", {"--help"});
  EXPECT_EQ(test_support::to_string(help.status), "exit code 0");
  for (const char* flag :
       {"--port", "--host", "--threads", "--transport", "--telemetry-dir",
        "--instance", "--receive-timeout-ms", "--no-telemetry", "--log-level",
        "--version"}) {
    EXPECT_NE(help.output.find(flag), std::string::npos) << flag;
  }
  EXPECT_NE(help.output.find("9091"), std::string::npos) << help.output;

  const Outcome version = run_to_exit("player_service", {"--version"});
  EXPECT_EQ(test_support::to_string(version.status), "exit code 0");
  EXPECT_EQ(version.output.rfind("player_service ", 0), 0u) << version.output;
}

struct BadFlags {
  std::string name;  // names the test case
  std::vector<std::string> args;
  std::string named;  // what the message must mention
};

void PrintTo(const BadFlags& flags, std::ostream* out) {
  for (const std::string& arg : flags.args) *out << arg << ' ';
}

class BadFlagsTest : public ::testing::TestWithParam<BadFlags> {};

TEST_P(BadFlagsTest, ExitsWithStatusTwoAndNamesTheProblem) {
  const Outcome outcome = run_to_exit("item_service", GetParam().args);
  EXPECT_EQ(test_support::to_string(outcome.status), "exit code 2");
  EXPECT_NE(outcome.output.find(GetParam().named), std::string::npos)
      << outcome.output;
}

INSTANTIATE_TEST_SUITE_P(
    Flags, BadFlagsTest,
    ::testing::Values(
        BadFlags{"UnknownFlag", {"--bogus"}, "--bogus"},
        BadFlags{"PortZero", {"--port", "0"}, "--port"},
        BadFlags{"PortTooHigh", {"--port", "65536"}, "--port"},
        BadFlags{"PortNotANumber", {"--port", "http"}, "--port"},
        BadFlags{"UnknownTransport", {"--transport", "zlib"}, "--transport"},
        BadFlags{"NoThreads", {"--threads", "0"}, "--threads"},
        BadFlags{"BadInstance", {"--instance", "a/b"}, "--instance"},
        BadFlags{"ZeroTimeout",
                 {"--receive-timeout-ms", "0"},
                 "--receive-timeout-ms"},
        BadFlags{"UnknownLogLevel", {"--log-level", "loud"}, "--log-level"},
        BadFlags{"StrayArgument", {"stray"}, "stray"}),
    [](const ::testing::TestParamInfo<BadFlags>& info) {
      return info.param.name;
    });

}  // namespace
}  // namespace services_test
