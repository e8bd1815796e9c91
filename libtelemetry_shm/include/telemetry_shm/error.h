// Errors raised by the telemetry library.
//
// Every failure at the library's boundary is a TelemetryError: a code that a
// program can branch on and a message that says what was wrong, naming the
// file or value involved. Functions document which codes they raise. The
// library never prints; callers decide what to log.
#ifndef TELEMETRY_SHM_ERROR_H_
#define TELEMETRY_SHM_ERROR_H_

#include <stdexcept>
#include <string>
#include <string_view>

namespace telemetry_shm {

enum class ErrorCode {
  kInvalidArgument,  // a bad name, option or counter key
  kAlreadyRunning,   // another live process writes this instance's segment
  kSystem,           // a system call failed; the message carries errno's text
  kNotFound,         // the segment or directory does not exist
  kUnsafeFile,       // a symlink, not a regular file, or owned by another user
  kNotReady,         // the segment is still being built by its writer
  kCorrupt,          // the segment's content fails validation
  kNotStarted,       // the manager has not been started
};

// Returns a short stable name for `code`, such as "corrupt".
const char* to_string(ErrorCode code);

class TelemetryError : public std::runtime_error {
 public:
  TelemetryError(ErrorCode code, const std::string& message)
      : std::runtime_error(message), code_(code) {}

  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

// Builds the error for a failed system call: "<what>: <strerror(err)>".
// Every errno the library sees is turned into text here.
TelemetryError system_error(std::string_view what, int err);

}  // namespace telemetry_shm

#endif  // TELEMETRY_SHM_ERROR_H_
