// Helpers for tests that run the project's binaries as separate processes:
// start a binary, wait until it accepts connections, signal it, wait for it
// to exit; find a free loopback port; make a temporary directory.
//
//   test_support::TempDir dir("/dev/shm");
//   const int port = test_support::free_port();
//   auto child = test_support::ChildProcess::spawn(
//       TELEMETRY_BIN_DIR "/item_service",
//       {"--port", std::to_string(port), "--telemetry-dir", dir.path()},
//       dir.path() + "/item_service.log");
//   ASSERT_TRUE(test_support::wait_for_port(port, &child));
//   child.signal(SIGTERM);
//   auto status = child.wait_for_exit(std::chrono::seconds(60));
//
// A test links these by adding tests/common/process.cc to its SOURCES.
// Every wait takes a deadline and gives up with a result (never an
// exception), so a test can assert on it; deadlines are meant to be
// generous, for machines under load.
//
// Thread safety: a ChildProcess or TempDir belongs to one thread at a time;
// the free functions may be called from any thread.
#ifndef TESTS_COMMON_PROCESS_H_
#define TESTS_COMMON_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace test_support {

// A generous default for anything a test waits for.
inline constexpr std::chrono::seconds kDefaultWait{60};

// How a child process ended.
struct ExitStatus {
  bool exited = false;  // true: returned `code`; false: killed by `signal`
  int code = 0;
  int signal = 0;
};

// Prints as "exit code 2" or "killed by signal 9", for assertion messages.
std::string to_string(const ExitStatus& status);

// A child process started with fork() and exec(). On destruction a child
// that still runs is killed with SIGKILL and reaped, so a failing test
// leaves no process behind.
class ChildProcess {
 public:
  // Starts `path` with `args` (without the program name). The child's
  // stdout and stderr go to `output_path` (created or truncated) or, when
  // it is empty, to the test's own. Throws std::runtime_error when the
  // process cannot be started; a binary that cannot be executed shows up as
  // exit code 127.
  static ChildProcess spawn(const std::string& path,
                            const std::vector<std::string>& args,
                            const std::string& output_path = "");

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }

  // True until the child has been seen to exit.
  bool running();

  // Sends `signal`; false when the child has already exited.
  bool signal(int signal);

  // Waits up to `timeout` for the child to exit and reaps it. Returns
  // nothing when it is still running at the deadline. Once the child has
  // exited, every call returns the same status.
  std::optional<ExitStatus> wait_for_exit(
      std::chrono::milliseconds timeout = kDefaultWait);

  // SIGTERM, then wait up to `timeout`; SIGKILL if it has not exited by
  // then. Returns how the child ended.
  ExitStatus terminate(std::chrono::milliseconds timeout = kDefaultWait);

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}

  // Reaps the child if it has exited, without blocking.
  bool poll();

  // Kills and reaps a child that still runs.
  void kill_and_reap();

  pid_t pid_ = -1;
  std::optional<ExitStatus> status_;
};

// A TCP port on 127.0.0.1 that is free and stays reserved for this process
// until it exits: below the ephemeral range, so no client socket gets it,
// and locked against other test processes. Throws std::runtime_error when
// none of the range is free.
int free_port();

// Waits until something accepts TCP connections on 127.0.0.1:`port`.
// Returns false at the deadline, or early when `child` (if given) exits.
bool wait_for_port(int port, ChildProcess* child = nullptr,
                   std::chrono::milliseconds timeout = kDefaultWait);

// Calls `condition` every few milliseconds until it returns true or
// `timeout` passes; returns its last answer.
template <typename Condition>
bool wait_until(Condition condition,
                std::chrono::milliseconds timeout = kDefaultWait);

// A std::runtime_error saying "<what>: <text of errno>", for a system call
// that just failed. Every errno of these helpers becomes text here.
std::runtime_error errno_error(const std::string& what);

// The whole content of the file at `path`; empty when it cannot be read.
std::string read_file(const std::string& path);

// A new empty directory made with mkdtemp() under `parent`, removed with
// everything in it on destruction.
class TempDir {
 public:
  // Throws std::runtime_error when the directory cannot be made.
  explicit TempDir(const std::string& parent = "/dev/shm");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Pauses a few milliseconds between two checks of wait_until().
void sleep_briefly();

template <typename Condition>
bool wait_until(Condition condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return condition();
    sleep_briefly();
  }
  return true;
}

}  // namespace test_support

#endif  // TESTS_COMMON_PROCESS_H_
