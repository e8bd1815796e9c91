// Helpers for the sidecar's tests: child processes that write counter
// segments, and the tests/common helpers (processes, ports, temporary
// directories, waiting) under short names.
//
// TelemetryManager is one per process, so each WriterChild is a forked
// process of its own that starts the manager and counts on command. The
// test process itself never starts a manager.
//
// Thread safety: none of these types may be shared between threads.
#ifndef TESTS_SIDECAR_SIDECAR_TEST_SUPPORT_H_
#define TESTS_SIDECAR_SIDECAR_TEST_SUPPORT_H_

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "common/process.h"
#include "telemetry_types.h"

namespace sidecar_test {

// A forked process that owns the segment of one service instance.
class WriterChild {
 public:
  // Forks and waits until the child's manager started. Throws
  // std::runtime_error with the child's reason when it could not start.
  WriterChild(const std::string& directory, const std::string& service,
              const std::string& instance);
  ~WriterChild();
  WriterChild(const WriterChild&) = delete;
  WriterChild& operator=(const WriterChild&) = delete;

  // Counts `amount` on `key` in the child and waits until it did.
  void add(telemetry::TelemetryCounter::type key, int64_t amount);

  // Publishes every count (the manager's stop) and exits with status 0.
  void stop_cleanly();

  // SIGKILL: the segment stays as the child left it.
  void kill_hard();

  pid_t pid() const { return pid_; }

 private:
  void command(char op, int32_t key, int64_t amount);
  void reap();

  pid_t pid_ = -1;
  int to_child_ = -1;
  int from_child_ = -1;
};

using test_support::ChildProcess;
using test_support::free_port;
using test_support::read_file;
using test_support::TempDir;
using test_support::wait_until;

// The sidecar binary built beside the tests.
std::string sidecar_binary();

}  // namespace sidecar_test

#endif  // TESTS_SIDECAR_SIDECAR_TEST_SUPPORT_H_
