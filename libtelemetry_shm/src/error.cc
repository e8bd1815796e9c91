#include "telemetry_shm/error.h"

#include <cstring>
#include <string>

namespace telemetry_shm {

const char* to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return "invalid argument";
    case ErrorCode::kAlreadyRunning:
      return "already running";
    case ErrorCode::kSystem:
      return "system error";
    case ErrorCode::kNotFound:
      return "not found";
    case ErrorCode::kUnsafeFile:
      return "unsafe file";
    case ErrorCode::kNotReady:
      return "not ready";
    case ErrorCode::kCorrupt:
      return "corrupt";
    case ErrorCode::kNotStarted:
      return "not started";
  }
  return "unknown error";
}

TelemetryError system_error(std::string_view what, int err) {
  char buffer[256];
  // The GNU strerror_r returns the message, which may not be `buffer`.
  const char* text = strerror_r(err, buffer, sizeof(buffer));
  const ErrorCode code =
      err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kSystem;
  return TelemetryError(code, std::string(what) + ": " + text);
}

}  // namespace telemetry_shm
