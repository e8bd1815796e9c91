#include "services/common/service_flags.h"

#include <fmt/format.h>

#include <boost/program_options.hpp>
#include <cstdint>
#include <limits>
#include <sstream>

#include "telemetry_shm/error.h"
#include "telemetry_shm/segment_reader.h"

namespace services {
namespace {

namespace po = boost::program_options;

constexpr int kMaxThreads = 1024;

// The raw values, before they are checked.
struct RawFlags {
  std::string host;
  int port = 0;
  int threads = 0;
  std::string transport;
  std::string telemetry_dir;
  std::string instance_id;
  int64_t receive_timeout_ms = 0;
  bool no_telemetry = false;
  std::string log_level;
};

po::options_description describe_flags(int default_port, RawFlags& raw) {
  po::options_description flags("Flags");
  auto add = flags.add_options();
  add("help,h", "print this help and exit");
  add("version", "print the program's version and exit");
  add("host", po::value(&raw.host)->default_value("127.0.0.1"),
      "address to listen on");
  add("port", po::value(&raw.port)->default_value(default_port),
      "TCP port to listen on, 1 to 65535");
  add("threads", po::value(&raw.threads)->default_value(16),
      "worker threads, 1 to 1024; each serves one connection at a time");
  add("transport", po::value(&raw.transport)->default_value("buffered"),
      "Thrift transport clients must use: buffered or framed");
  add("telemetry-dir", po::value(&raw.telemetry_dir),
      "directory of the counter segment (default: $TELEMETRY_DIR, else "
      "/dev/shm/telemetry)");
  add("instance", po::value(&raw.instance_id),
      "instance id in the segment's name, 1 to 63 characters of "
      "[A-Za-z0-9_-] (default: the port)");
  add("receive-timeout-ms",
      po::value(&raw.receive_timeout_ms)->default_value(30000),
      "close a connection that sends nothing for this long (1 or more)");
  add("no-telemetry", po::bool_switch(&raw.no_telemetry),
      "serve without counting requests; get_telemetry then refuses");
  add("log-level", po::value(&raw.log_level)->default_value("info"),
      "trace, debug, info, warn, error, critical or off");
  return flags;
}

spdlog::level::level_enum parse_log_level(const std::string& text) {
  const auto level = spdlog::level::from_str(text);
  if (level == spdlog::level::off && text != "off") {
    throw FlagError(fmt::format(
        "--log-level '{}' is unknown: expected trace, debug, info, warn, "
        "error, critical or off",
        text));
  }
  return level;
}

telemetry_shm::TransportKind parse_transport(const std::string& text) {
  try {
    return telemetry_shm::parse_transport_kind(text);
  } catch (const telemetry_shm::TelemetryError&) {
    throw FlagError(fmt::format(
        "--transport '{}' is unknown: expected buffered or framed", text));
  }
}

void check_flag_range(const char* flag, int64_t value, int64_t low,
                      int64_t high) {
  if (value < low || value > high) {
    throw FlagError(
        fmt::format("{} must be {} to {}, got {}", flag, low, high, value));
  }
}

// Checks the raw values and turns them into ServiceFlags.
ServiceFlags check_flags(const RawFlags& raw) {
  ServiceFlags flags;
  check_flag_range("--port", raw.port, 1, 65535);
  check_flag_range("--threads", raw.threads, 1, kMaxThreads);
  check_flag_range("--receive-timeout-ms", raw.receive_timeout_ms, 1,
                   std::numeric_limits<int32_t>::max());
  flags.host = raw.host;
  flags.port = raw.port;
  flags.threads = raw.threads;
  flags.transport = parse_transport(raw.transport);
  flags.receive_timeout = std::chrono::milliseconds(raw.receive_timeout_ms);
  flags.telemetry = !raw.no_telemetry;
  flags.log_level = parse_log_level(raw.log_level);

  flags.instance_id =
      raw.instance_id.empty() ? std::to_string(raw.port) : raw.instance_id;
  if (!telemetry_shm::is_valid_name(flags.instance_id)) {
    throw FlagError(fmt::format(
        "--instance '{}' is not valid: expected 1 to 63 characters of "
        "[A-Za-z0-9_-]",
        flags.instance_id));
  }
  return flags;
}

// Parses `args` against `flags`; any argument that is not a flag is
// refused by name.
po::variables_map parse_command_line(const po::options_description& flags,
                                     const std::vector<std::string>& args) {
  std::vector<std::string> stray;
  po::options_description all;
  all.add(flags).add_options()("stray", po::value(&stray));
  po::positional_options_description positional;
  positional.add("stray", -1);

  po::variables_map values;
  try {
    po::store(
        po::command_line_parser(args).options(all).positional(positional).run(),
        values);
    po::notify(values);
  } catch (const po::error& error) {
    throw FlagError(error.what());
  }
  if (!stray.empty()) {
    throw FlagError(fmt::format(
        "unexpected argument '{}': every value follows its flag", stray[0]));
  }
  return values;
}

}  // namespace

ParsedFlags parse_service_flags(const std::string& program, int default_port,
                                const std::vector<std::string>& args) {
  RawFlags raw;
  const po::options_description flags = describe_flags(default_port, raw);
  const po::variables_map values = parse_command_line(flags, args);

  ParsedFlags parsed;
  if (values.count("help") != 0) {
    std::ostringstream help;
    help << "Usage: " << program << " [flags]\n\n" << flags;
    parsed.action = FlagAction::kPrintHelp;
    parsed.help = help.str();
    return parsed;
  }
  if (values.count("version") != 0) {
    parsed.action = FlagAction::kPrintVersion;
    return parsed;
  }
  if (values.count("telemetry-dir") != 0 && raw.telemetry_dir.empty()) {
    throw FlagError("--telemetry-dir is empty: expected a directory");
  }

  parsed.flags = check_flags(raw);
  parsed.flags.telemetry_dir = raw.telemetry_dir.empty()
                                   ? telemetry_shm::default_directory()
                                   : raw.telemetry_dir;
  return parsed;
}

}  // namespace services
