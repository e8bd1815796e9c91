// telemetry_sidecar: serves the counters of every service instance on this
// host over Thrift (and Prometheus), read from their counter segments.
// Run with --help for the flags.
#include <thrift/Thrift.h>
#include <unistd.h>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <boost/program_options.hpp>

#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include <fmt/format.h>

#include "dispatcher.h"
#include "handlers.h"
#include "malloc_tuning.h"
#include "metrics_server.h"
#include "metrics_text.h"
#include "segment_follower.h"
#include "service_registry.h"
#include "telemetry_shm/error.h"
#include "telemetry_shm/segment_reader.h"
#include "telemetry_shm/thrift_server.h"
#include "thrift_views.h"

namespace {

namespace po = boost::program_options;
namespace fs = std::filesystem;

constexpr char kVersion[] = TELEMETRY_VERSION;
constexpr char kSidecarService[] = "TelemetrySidecar";
constexpr char kCounterService[] = "CounterService";
constexpr int kUsageExit = 2;

struct Config {
  std::string host;
  int port = 0;
  std::string transport;
  int threads = 0;
  std::string directory;
  int metrics_port = 0;
  int64_t retention_s = 0;
  std::string state_file;
  bool allow_foreign_owner = false;
  std::string log_level;
  int scan_interval_ms = 0;
};

// A problem with the command line or the environment, said to the user.
struct StartupError {
  std::string message;
  int exit_code = 1;
};

po::options_description describe_flags(Config& c) {
  po::options_description flags("telemetry_sidecar options");
  flags.add_options()("help", "show this help and exit")(
      "version", "show the version and exit")(
      "host", po::value(&c.host)->default_value("127.0.0.1"),
      "address to serve Thrift and metrics on")(
      "port", po::value(&c.port)->default_value(9090), "Thrift port")(
      "transport", po::value(&c.transport)->default_value("buffered"),
      "Thrift transport: buffered or framed")(
      "threads", po::value(&c.threads)->default_value(32),
      "Thrift worker threads (one per connected client)")(
      "telemetry-dir", po::value(&c.directory),
      "segment directory (default: $TELEMETRY_DIR or /dev/shm/telemetry)")(
      "metrics-port", po::value(&c.metrics_port)->default_value(9464),
      "Prometheus /metrics port, 0 to disable")(
      "retention", po::value(&c.retention_s)->default_value(3600),
      "seconds a dead instance's segment is kept before removal")(
      "state-file", po::value(&c.state_file),
      "where retired counts are kept (default: "
      "<telemetry-dir>/.sidecar-retired)")(
      "allow-foreign-owner", po::bool_switch(&c.allow_foreign_owner),
      "accept segments owned by other users")(
      "log-level", po::value(&c.log_level)->default_value("info"),
      "trace, debug, info, warn, error, critical or off")(
      "scan-interval-ms", po::value(&c.scan_interval_ms)->default_value(100),
      "milliseconds between directory scans, 10 to 250");
  return flags;
}

void check_range(const char* flag, int64_t value, int64_t low, int64_t high) {
  if (value < low || value > high) {
    throw StartupError{fmt::format("--{} must be between {} and {}, not {}",
                                   flag, low, high, value),
                       kUsageExit};
  }
}

void validate(Config& c) {
  check_range("port", c.port, 1, 65535);
  check_range("threads", c.threads, 1, 1024);
  check_range("metrics-port", c.metrics_port, 0, 65535);
  check_range("retention", c.retention_s, 0, int64_t{10} * 365 * 86400);
  check_range("scan-interval-ms", c.scan_interval_ms, 10, 250);
  if (spdlog::level::from_str(c.log_level) == spdlog::level::off &&
      c.log_level != "off") {
    throw StartupError{fmt::format("--log-level must be trace, debug, info, "
                                   "warn, error, critical or off, not '{}'",
                                   c.log_level),
                       kUsageExit};
  }
  try {
    telemetry_shm::parse_transport_kind(c.transport);
  } catch (const telemetry_shm::TelemetryError& e) {
    throw StartupError{fmt::format("--transport: {}", e.what()), kUsageExit};
  }
  if (c.directory.empty()) c.directory = telemetry_shm::default_directory();
  if (c.state_file.empty()) {
    c.state_file = (fs::path(c.directory) / ".sidecar-retired").string();
  }
}

// Parses the flags; returns nothing when --help or --version was handled.
std::optional<Config> parse_flags(int argc, char** argv) {
  Config config;
  po::options_description flags = describe_flags(config);
  po::variables_map values;
  try {
    po::store(po::parse_command_line(argc, argv, flags), values);
    po::notify(values);
  } catch (const po::error& e) {
    throw StartupError{
        fmt::format("{}\nRun with --help to see the flags.", e.what()),
        kUsageExit};
  }
  if (values.count("help") != 0) {
    std::cout << flags << '\n';
    return std::nullopt;
  }
  if (values.count("version") != 0) {
    std::cout << "telemetry_sidecar " << kVersion << '\n';
    return std::nullopt;
  }
  validate(config);
  return config;
}

// Creates the segment directory when missing; refuses one the sidecar
// cannot list or whose state file it could not write.
void prepare_directory(const Config& c) {
  std::error_code ec;
  if (!fs::exists(c.directory, ec)) {
    fs::create_directories(c.directory, ec);
    if (ec) {
      throw StartupError{
          fmt::format("cannot create telemetry directory {}: "
                      "{}",
                      c.directory, ec.message())};
    }
    fs::permissions(c.directory, fs::perms::owner_all, ec);
  }
  if (!fs::is_directory(c.directory, ec)) {
    throw StartupError{
        fmt::format("telemetry directory {} is not a directory", c.directory)};
  }
  if (::access(c.directory.c_str(), R_OK | X_OK) != 0) {
    throw StartupError{fmt::format(
        "telemetry directory {} cannot be read by this user", c.directory)};
  }
  const fs::path state_dir = fs::path(c.state_file).parent_path();
  const std::string dir = state_dir.empty() ? "." : state_dir.string();
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    throw StartupError{fmt::format(
        "cannot write the state file {}: its directory {} is not writable",
        c.state_file, dir)};
  }
}

// Thrift's own messages (a client that sent garbage, a dropped
// connection) are routine for a server: they go to the log at debug level.
void log_thrift_message(const char* message) {
  if (auto logger = spdlog::get("telemetry_sidecar")) {
    logger->debug("thrift: {}", message);
  }
}

std::shared_ptr<spdlog::logger> make_logger(const Config& c) {
  auto logger = spdlog::stderr_logger_mt("telemetry_sidecar");
  logger->set_level(spdlog::level::from_str(c.log_level));
  logger->flush_on(spdlog::level::trace);
  apache::thrift::GlobalOutput.setOutputFunction(log_thrift_message);
  return logger;
}

sidecar::FollowerOptions follower_options(const Config& c) {
  sidecar::FollowerOptions options;
  options.directory = c.directory;
  options.state_file = c.state_file;
  options.reader.allow_foreign_owner = c.allow_foreign_owner;
  options.retention = std::chrono::seconds(c.retention_s);
  options.scan_interval = std::chrono::milliseconds(c.scan_interval_ms);
  return options;
}

// Everything that serves, kept alive until the end of run().
struct Serving {
  std::shared_ptr<sidecar::ServiceRegistry> registry;
  std::unique_ptr<sidecar::SegmentFollower> follower;
  std::unique_ptr<sidecar::MetricsServer> metrics;
};

void start_follower(const Config& c, Serving& s,
                    std::shared_ptr<spdlog::logger> logger,
                    const sidecar::SidecarIdentity& identity) {
  auto registry = s.registry;
  auto source = [&s] { return s.follower->view(); };
  auto on_new = [registry, source, identity, logger](const std::string& name) {
    auto processor = sidecar::make_service_processor(name, source, identity);
    if (registry->add(name, processor)) {
      logger->info("serving service {}", name);
    } else {
      logger->warn("service {} cannot be served: its name is taken", name);
    }
  };
  try {
    s.follower = std::make_unique<sidecar::SegmentFollower>(follower_options(c),
                                                            logger, on_new);
  } catch (const sidecar::StateFileError& e) {
    throw StartupError{fmt::format("{}; fix or remove it", e.what())};
  }
  s.follower->scan_once();
  s.follower->start();
}

void start_metrics(const Config& c, Serving& s, sidecar::ViewSource source) {
  if (c.metrics_port == 0) return;
  sidecar::MetricsDocument document{
      sidecar::kMetricsContentType, [source = std::move(source)] {
        return sidecar::metrics_text(sidecar::read_host(*source()));
      }};
  try {
    s.metrics = std::make_unique<sidecar::MetricsServer>(c.host, c.metrics_port,
                                                         std::move(document));
  } catch (const sidecar::MetricsServerError& e) {
    throw StartupError{fmt::format("cannot serve metrics: {}", e.what())};
  }
}

void register_fixed(Serving& s, const sidecar::ViewSource& source,
                    const sidecar::SidecarIdentity& identity,
                    std::shared_ptr<apache::thrift::TProcessor> counters) {
  s.registry->add(
      kSidecarService,
      std::make_shared<telemetry::sidecar::TelemetrySidecarProcessor>(
          std::make_shared<sidecar::SidecarHandler>(source, identity)));
  s.registry->add(kCounterService, std::move(counters));
}

std::unique_ptr<telemetry_shm::ThriftServer> make_server(
    const Config& c, std::shared_ptr<apache::thrift::TProcessor> dispatcher) {
  telemetry_shm::ServerOptions options;
  options.host = c.host;
  options.port = c.port;
  options.threads = c.threads;
  options.transport = telemetry_shm::parse_transport_kind(c.transport);
  options.count_requests = false;
  try {
    return std::make_unique<telemetry_shm::ThriftServer>(std::move(dispatcher),
                                                         options);
  } catch (const telemetry_shm::TelemetryError& e) {
    throw StartupError{fmt::format("cannot serve Thrift on {}:{}: {}", c.host,
                                   c.port, e.what())};
  }
}

void log_start(spdlog::logger& logger, const Config& c, int port) {
  const std::string metrics =
      c.metrics_port == 0
          ? std::string("disabled")
          : fmt::format("on {}:{}/metrics", c.host, c.metrics_port);
  logger.info(
      "started {}: Thrift on {}:{} ({}), metrics {}, segments in {}, state "
      "file {}",
      kVersion, c.host, port, c.transport, metrics, c.directory, c.state_file);
}

int run(const Config& c) {
  prepare_directory(c);
  auto logger = make_logger(c);
  const sidecar::SidecarIdentity identity{kVersion, sidecar::unix_now_ms(),
                                          c.directory};
  Serving s;
  s.registry = std::make_shared<sidecar::ServiceRegistry>();
  sidecar::ViewSource source = [&s] { return s.follower->view(); };
  auto counters = std::make_shared<telemetry::sidecar::CounterServiceProcessor>(
      std::make_shared<sidecar::CounterHandler>(source, identity));
  register_fixed(s, source, identity, counters);
  start_follower(c, s, logger, identity);
  start_metrics(c, s, source);
  auto server = make_server(
      c, std::make_shared<sidecar::Dispatcher>(s.registry, counters));

  log_start(*logger, c, server->port());
  const int signal = server->serve_until_stop_signal();
  logger->info("stopping on signal {}", signal);
  s.follower->stop();
  logger->info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  sidecar::tune_malloc_for_polls();
  telemetry_shm::block_stop_signals();
  try {
    std::optional<Config> config = parse_flags(argc, argv);
    if (!config) return 0;
    return run(*config);
  } catch (const StartupError& e) {
    std::cerr << "telemetry_sidecar: " << e.message << '\n';
    return e.exit_code;
  } catch (const std::exception& e) {
    std::cerr << "telemetry_sidecar: " << e.what() << '\n';
    return 1;
  }
}
