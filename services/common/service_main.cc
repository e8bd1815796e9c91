#include "services/common/service_main.h"

#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <thrift/TOutput.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>

#include "services/common/service_flags.h"
#include "telemetry_shm/telemetry_manager.h"
#include "telemetry_shm/thrift_server.h"

#ifndef GAME_SERVICES_VERSION
#error "GAME_SERVICES_VERSION must be defined by the build"
#endif

namespace services {
namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const char* transport_name(telemetry_shm::TransportKind kind) {
  return kind == telemetry_shm::TransportKind::kFramed ? "framed" : "buffered";
}

// Thrift reports some failures (a client that sent garbage, a failed
// accept) through its own output function; they go to the one logger.
void log_thrift_message(const char* message) {
  spdlog::warn("thrift: {}", message);
}

std::shared_ptr<spdlog::logger> make_logger(const std::string& program,
                                            spdlog::level::level_enum level) {
  auto logger = spdlog::stderr_color_mt(program);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ [%n] %v");
  logger->set_level(level);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  apache::thrift::GlobalOutput.setOutputFunction(log_thrift_message);
  return logger;
}

void start_counting(const ServiceDefinition& definition,
                    const ServiceFlags& flags, spdlog::logger& logger) {
  telemetry_shm::ManagerOptions options;
  options.service_name = definition.service_name;
  options.instance_id = flags.instance_id;
  options.directory = flags.telemetry_dir;
  options.warn = [&logger](std::string_view message) {
    logger.warn("telemetry: {}", message);
  };
  telemetry_shm::TelemetryManager::instance().start(options);
  logger.info("counting into {}",
              telemetry_shm::TelemetryManager::instance().segment_path());
}

telemetry_shm::ServerOptions server_options(const ServiceFlags& flags) {
  telemetry_shm::ServerOptions options;
  options.host = flags.host;
  options.port = flags.port;
  options.threads = flags.threads;
  options.transport = flags.transport;
  options.receive_timeout = flags.receive_timeout;
  options.count_requests = flags.telemetry;
  return options;
}

// Serves until a stop signal; throws when counting or serving cannot start.
int serve(const ServiceDefinition& definition, const ServiceFlags& flags,
          spdlog::logger& logger) {
  const ServiceIdentity identity{definition.service_name, flags.instance_id,
                                 services_version(), now_ms(), flags.telemetry};
  // Counting starts before the port opens: a client that can connect may
  // rely on the segment being there.
  if (flags.telemetry) {
    start_counting(definition, flags, logger);
  } else {
    logger.warn("counting is off (--no-telemetry): get_telemetry refuses");
  }
  telemetry_shm::ThriftServer server(definition.make_processor(identity),
                                     server_options(flags));
  logger.info("{} instance {} listening on {}:{} ({}, {} threads)",
              definition.service_name, flags.instance_id, flags.host,
              server.port(), transport_name(flags.transport), flags.threads);
  const int signal = server.serve_until_stop_signal();
  if (signal > 0) {
    logger.info("received SIG{}, stopping", sigabbrev_np(signal));
  } else {
    logger.info("the server stopped serving; stopping");
  }

  telemetry_shm::TelemetryManager::instance().stop();
  logger.info("{} instance {} stopped", definition.service_name,
              flags.instance_id);
  return kExitStopped;
}

std::vector<std::string> arguments(int argc, char** argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  return args;
}

}  // namespace

const char* services_version() { return GAME_SERVICES_VERSION; }

int run_service(const ServiceDefinition& definition, int argc, char** argv) {
  ParsedFlags parsed;
  try {
    parsed = parse_service_flags(definition.program, definition.default_port,
                                 arguments(argc, argv));
  } catch (const FlagError& error) {
    fmt::print(stderr, "{}: {}\nRun '{} --help' for the flags.\n",
               definition.program, error.what(), definition.program);
    return kExitBadFlags;
  }
  if (parsed.action == FlagAction::kPrintHelp) {
    fmt::print("{}", parsed.help);
    return 0;
  }
  if (parsed.action == FlagAction::kPrintVersion) {
    fmt::print("{} {}\n", definition.program, services_version());
    return 0;
  }

  auto logger = make_logger(definition.program, parsed.flags.log_level);
  try {
    return serve(definition, parsed.flags, *logger);
  } catch (const std::exception& error) {
    logger->error("{} instance {} cannot serve: {}", definition.service_name,
                  parsed.flags.instance_id, error.what());
    telemetry_shm::TelemetryManager::instance().stop();
    return kExitStartFailed;
  }
}

}  // namespace services
