#include "services/common/service_flags.h"

#include <gtest/gtest.h>
#include <stdlib.h>

namespace services {
namespace {

using telemetry_shm::TransportKind;

ParsedFlags parse(const std::vector<std::string>& args) {
  return parse_service_flags("item_service", 9091, args);
}

std::string error_of(const std::vector<std::string>& args) {
  try {
    parse(args);
  } catch (const FlagError& error) {
    return error.what();
  }
  return "no error";
}

TEST(ServiceFlagsTest, UsesTheDefaultsWhenNoFlagIsGiven) {
  ::setenv("TELEMETRY_DIR", "/dev/shm/flags-test", 1);
  const ParsedFlags parsed = parse({});
  ::unsetenv("TELEMETRY_DIR");

  EXPECT_EQ(parsed.action, FlagAction::kServe);
  const ServiceFlags& flags = parsed.flags;
  EXPECT_EQ(flags.host, "127.0.0.1");
  EXPECT_EQ(flags.port, 9091);
  EXPECT_EQ(flags.threads, 16);
  EXPECT_EQ(flags.transport, TransportKind::kBuffered);
  EXPECT_EQ(flags.telemetry_dir, "/dev/shm/flags-test");
  EXPECT_EQ(flags.instance_id, "9091");
  EXPECT_EQ(flags.receive_timeout, std::chrono::milliseconds(30000));
  EXPECT_TRUE(flags.telemetry);
  EXPECT_EQ(flags.log_level, spdlog::level::info);
}

TEST(ServiceFlagsTest, FallsBackToDevShmWithoutTelemetryDir) {
  ::unsetenv("TELEMETRY_DIR");
  EXPECT_EQ(parse({}).flags.telemetry_dir, "/dev/shm/telemetry");
}

TEST(ServiceFlagsTest, ReadsEveryFlag) {
  const ParsedFlags parsed =
      parse({"--host", "0.0.0.0", "--port", "7000", "--threads", "3",
             "--transport", "framed", "--telemetry-dir", "/tmp/t", "--instance",
             "blue", "--receive-timeout-ms", "250", "--no-telemetry",
             "--log-level", "debug"});
  const ServiceFlags& flags = parsed.flags;
  EXPECT_EQ(flags.host, "0.0.0.0");
  EXPECT_EQ(flags.port, 7000);
  EXPECT_EQ(flags.threads, 3);
  EXPECT_EQ(flags.transport, TransportKind::kFramed);
  EXPECT_EQ(flags.telemetry_dir, "/tmp/t");
  EXPECT_EQ(flags.instance_id, "blue");
  EXPECT_EQ(flags.receive_timeout, std::chrono::milliseconds(250));
  EXPECT_FALSE(flags.telemetry);
  EXPECT_EQ(flags.log_level, spdlog::level::debug);
}

TEST(ServiceFlagsTest, TakesTheInstanceIdFromThePort) {
  EXPECT_EQ(parse({"--port", "8123"}).flags.instance_id, "8123");
}

TEST(ServiceFlagsTest, AnswersHelpAndVersion) {
  const ParsedFlags help = parse({"--help"});
  EXPECT_EQ(help.action, FlagAction::kPrintHelp);
  EXPECT_NE(help.help.find("--receive-timeout-ms"), std::string::npos);
  EXPECT_EQ(parse({"--version"}).action, FlagAction::kPrintVersion);
}

TEST(ServiceFlagsTest, NamesTheBadFlagInItsError) {
  EXPECT_EQ(error_of({"--port", "0"}), "--port must be 1 to 65535, got 0");
  EXPECT_EQ(error_of({"--port", "65536"}),
            "--port must be 1 to 65535, got 65536");
  EXPECT_EQ(error_of({"--threads", "0"}), "--threads must be 1 to 1024, got 0");
  EXPECT_EQ(error_of({"--transport", "http"}),
            "--transport 'http' is unknown: expected buffered or framed");
  EXPECT_EQ(error_of({"--receive-timeout-ms", "-1"}),
            "--receive-timeout-ms must be 1 to 2147483647, got -1");
  EXPECT_EQ(error_of({"--instance", "a.b"}),
            "--instance 'a.b' is not valid: expected 1 to 63 characters of "
            "[A-Za-z0-9_-]");
  EXPECT_EQ(error_of({"--telemetry-dir", ""}),
            "--telemetry-dir is empty: expected a directory");
  EXPECT_EQ(error_of({"extra"}),
            "unexpected argument 'extra': every value follows its flag");
  EXPECT_NE(error_of({"--log-level", "loud"}).find("--log-level 'loud'"),
            std::string::npos);
  EXPECT_NE(error_of({"--nope"}).find("--nope"), std::string::npos);
  EXPECT_NE(error_of({"--port", "abc"}).find("--port"), std::string::npos);
}

}  // namespace
}  // namespace services
