// run_service(): the whole life of a game service binary, shared by
// item_service, inventory_service and player_service.
//
//   int main(int argc, char** argv) {
//     telemetry_shm::block_stop_signals();  // before any thread starts
//     return services::run_service(definition, argc, argv);
//   }
//
// It parses the flags, starts counting into this instance's segment, opens
// the port, serves until SIGTERM or SIGINT, then stops counting. A start
// that fails after counting began leaves the segment marked stopped. Everything
// it reports goes through one spdlog logger on stderr; --help and --version
// print to stdout.
//
// Thread safety: run_service() owns the process's telemetry manager and
// default logger, so it is called once, from main().
#ifndef SERVICES_COMMON_SERVICE_MAIN_H_
#define SERVICES_COMMON_SERVICE_MAIN_H_

#include <thrift/TProcessor.h>

#include <functional>
#include <memory>
#include <string>

#include "services/common/base_service_handler.h"

namespace services {

// Exit statuses of run_service().
inline constexpr int kExitStopped = 0;      // stopped by a signal, cleanly
inline constexpr int kExitStartFailed = 1;  // could not start or serve
inline constexpr int kExitBadFlags = 2;     // a flag was wrong

// What sets one service binary apart from the others.
struct ServiceDefinition {
  std::string program;       // such as "item_service"
  std::string service_name;  // such as "ItemService"
  int default_port = 0;
  // Builds the processor for the service, given what it says about itself.
  std::function<std::shared_ptr<apache::thrift::TProcessor>(
      const ServiceIdentity&)>
      make_processor;
};

// The version of the game services, such as "0.1.0".
const char* services_version();

// Runs the binary described by `definition` and returns its exit status:
// kExitStopped after a stop signal, kExitStartFailed when counting or
// serving cannot start (a busy port, another live process of the same
// instance, an unusable telemetry directory), kExitBadFlags with a message
// on stderr for a bad flag, and 0 after --help or --version.
int run_service(const ServiceDefinition& definition, int argc, char** argv);

}  // namespace services

#endif  // SERVICES_COMMON_SERVICE_MAIN_H_
