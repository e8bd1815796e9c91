// The command-line flags every game service binary takes, parsed with
// Boost.Program_options.
//
//   --host, --port, --threads, --transport, --telemetry-dir, --instance,
//   --receive-timeout-ms, --no-telemetry, --log-level, --help, --version
//
// parse_service_flags() checks every value and throws FlagError naming the
// flag and what was expected, so a binary can print the message and exit
// with status 2. It keeps no state and is safe from any thread.
#ifndef SERVICES_COMMON_SERVICE_FLAGS_H_
#define SERVICES_COMMON_SERVICE_FLAGS_H_

#include <spdlog/common.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "telemetry_shm/thrift_counting.h"

namespace services {

// A flag that is unknown, malformed or out of range.
class FlagError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ServiceFlags {
  std::string host = "127.0.0.1";
  int port = 0;
  int threads = 16;
  telemetry_shm::TransportKind transport =
      telemetry_shm::TransportKind::kBuffered;
  std::string telemetry_dir;  // never empty after parsing
  std::string instance_id;    // the port when not given
  std::chrono::milliseconds receive_timeout{30000};
  bool telemetry = true;  // false with --no-telemetry
  spdlog::level::level_enum log_level = spdlog::level::info;
};

// What the binary should do once the flags are parsed.
enum class FlagAction {
  kServe,         // serve with `flags`
  kPrintHelp,     // print `help` and exit 0
  kPrintVersion,  // print the version and exit 0
};

struct ParsedFlags {
  FlagAction action = FlagAction::kServe;
  ServiceFlags flags;
  std::string help;  // the flag descriptions, for --help
};

// Parses `args` (without the program name) for the binary `program`, whose
// port is `default_port` unless --port says otherwise. Throws FlagError for
// an unknown flag, a value that does not parse, a port outside 1 to 65535,
// threads outside 1 to 1024, a transport other than buffered or framed, an
// instance id that is not 1 to 63 characters of [A-Za-z0-9_-], a receive
// timeout below 1 ms, an unknown log level, an empty telemetry directory or
// a stray argument.
ParsedFlags parse_service_flags(const std::string& program, int default_port,
                                const std::vector<std::string>& args);

}  // namespace services

#endif  // SERVICES_COMMON_SERVICE_FLAGS_H_
