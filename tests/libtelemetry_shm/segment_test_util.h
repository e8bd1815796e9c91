// Helpers for the segment tests: scratch directories on tmpfs, child
// processes that talk to the test over a socket, and file surgery.
//
// The TelemetryManager is one per process, so every test that needs a writer
// forks one. The test process itself only reads segments; it never starts
// the manager, which keeps each child's copy of the singleton fresh.
#ifndef TESTS_LIBTELEMETRY_SHM_SEGMENT_TEST_UTIL_H_
#define TESTS_LIBTELEMETRY_SHM_SEGMENT_TEST_UTIL_H_

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "telemetry_shm/counters.h"
#include "telemetry_shm/error.h"
#include "telemetry_shm/segment_reader.h"
#include "telemetry_shm/telemetry_manager.h"
#include "telemetry_types.h"

namespace telemetry_shm {

// Lets GoogleTest print an ErrorCode by name in failure messages.
inline void PrintTo(ErrorCode code, std::ostream* out) {
  *out << to_string(code);
}

}  // namespace telemetry_shm

namespace segment_test {

using Key = telemetry::TelemetryCounter::type;
inline constexpr Key kBytesReceived =
    telemetry::TelemetryCounter::BYTES_RECEIVED;
inline constexpr Key kBytesSent = telemetry::TelemetryCounter::BYTES_SENT;
inline constexpr Key kSuccessfulRequests =
    telemetry::TelemetryCounter::SUCCESSFUL_REQUESTS;
inline constexpr Key kErrorRequests =
    telemetry::TelemetryCounter::ERROR_REQUESTS;
inline constexpr Key kAllKeys[] = {kBytesReceived, kBytesSent,
                                   kSuccessfulRequests, kErrorRequests};

// Generous, because sanitizer builds run several times slower.
inline constexpr std::chrono::milliseconds kTimeout{30000};

[[noreturn]] inline void fail_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

// A fresh directory under /dev/shm, removed with its content at the end.
class TempDir {
 public:
  TempDir() {
    std::string pattern = "/dev/shm/telemetry_test.XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) fail_errno("mkdtemp");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(std::string_view name) const {
    return path_ + "/" + std::string(name);
  }

 private:
  std::string path_;
};

// One end of a socket between the test and a child. Messages are strings,
// sent with a length prefix.
class Link {
 public:
  explicit Link(int fd) : fd_(fd) {}

  void send(std::string_view message) const {
    const auto size = static_cast<uint32_t>(message.size());
    write_all(&size, sizeof(size));
    write_all(message.data(), message.size());
  }

  // Throws std::runtime_error when nothing arrives in time or the other end
  // closed the socket.
  std::string receive(std::chrono::milliseconds timeout = kTimeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    uint32_t size = 0;
    read_all(&size, sizeof(size), deadline);
    std::string message(size, '\0');
    read_all(message.data(), size, deadline);
    return message;
  }

 private:
  void write_all(const void* data, size_t size) const {
    const char* bytes = static_cast<const char*>(data);
    while (size > 0) {
      const ssize_t n = ::send(fd_, bytes, size, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail_errno("send to peer");
      bytes += n;
      size -= static_cast<size_t>(n);
    }
  }

  void read_all(void* data, size_t size,
                std::chrono::steady_clock::time_point deadline) const {
    char* bytes = static_cast<char*>(data);
    while (size > 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) throw std::runtime_error("peer sent nothing");
      pollfd pfd{fd_, POLLIN, 0};
      const int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
      if (ready < 0 && errno == EINTR) continue;
      if (ready < 0) fail_errno("poll");
      if (ready == 0) continue;
      const ssize_t n = ::recv(fd_, bytes, size, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail_errno("receive from peer");
      if (n == 0) throw std::runtime_error("peer closed the connection");
      bytes += n;
      size -= static_cast<size_t>(n);
    }
  }

  int fd_;
};

// A forked child running `body`, which returns the child's exit code. An
// exception out of `body` is sent to the test as "exception: <what>" and
// ends the child with kChildThrew. A child still running when its
// ChildProcess is destroyed is killed.
class ChildProcess {
 public:
  static constexpr int kChildThrew = 70;
  using Body = std::function<int(Link&)>;

  explicit ChildProcess(const Body& body) {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
      fail_errno("socketpair");
    }
    // Buffered output would otherwise be written by both processes.
    std::fflush(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) fail_errno("fork");
    if (pid_ == 0) {
      ::close(fds[0]);
      Link link(fds[1]);
      _exit(run_body(body, link));
    }
    ::close(fds[1]);
    fd_ = fds[0];
  }

  ~ChildProcess() {
    if (!reaped_) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    ::close(fd_);
  }

  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  void send(std::string_view message) const { Link(fd_).send(message); }
  std::string receive(std::chrono::milliseconds timeout = kTimeout) const {
    return Link(fd_).receive(timeout);
  }

  void signal(int signal_number) const {
    if (::kill(pid_, signal_number) != 0) fail_errno("kill");
  }

  // Waits for the child to end. Returns its exit code, or 128 plus the
  // signal that ended it. Kills it and throws when it does not end in time.
  int wait(std::chrono::milliseconds timeout = kTimeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      int status = 0;
      const pid_t done = ::waitpid(pid_, &status, WNOHANG);
      if (done < 0 && errno != EINTR) fail_errno("waitpid");
      if (done == pid_) {
        reaped_ = true;
        if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
        return WEXITSTATUS(status);
      }
      if (std::chrono::steady_clock::now() > deadline) {
        throw std::runtime_error("child " + std::to_string(pid_) +
                                 " did not end in time");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }

  // Sends SIGKILL and reaps the child.
  void kill_and_wait() {
    signal(SIGKILL);
    wait();
  }

 private:
  static int run_body(const Body& body, Link& link) {
    try {
      return body(link);
    } catch (const std::exception& e) {
      try {
        link.send(std::string("exception: ") + e.what());
      } catch (...) {
      }
    } catch (...) {
    }
    return kChildThrew;
  }

  pid_t pid_ = -1;
  int fd_ = -1;
  bool reaped_ = false;
};

// How a call in a child ended, in a form that crosses the socket:
// "ok", "error <code number> <message>" or "other <message>".
template <typename F>
std::string outcome_of(F&& call) {
  try {
    call();
    return "ok";
  } catch (const telemetry_shm::TelemetryError& e) {
    return "error " + std::to_string(static_cast<int>(e.code())) + " " +
           e.what();
  } catch (const std::exception& e) {
    return std::string("other ") + e.what();
  }
}

struct Outcome {
  bool ok = false;
  bool telemetry_error = false;
  telemetry_shm::ErrorCode code = telemetry_shm::ErrorCode::kSystem;
  std::string message;
};

inline Outcome parse_outcome(const std::string& text) {
  Outcome outcome;
  if (text == "ok") {
    outcome.ok = true;
    return outcome;
  }
  std::istringstream in(text);
  std::string kind;
  in >> kind;
  if (kind == "error") {
    int code = 0;
    in >> code;
    outcome.telemetry_error = true;
    outcome.code = static_cast<telemetry_shm::ErrorCode>(code);
  }
  in.get();
  std::getline(in, outcome.message, '\0');
  if (!outcome.telemetry_error && kind != "other") outcome.message = text;
  return outcome;
}

inline std::string to_lower(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

// True when `message` names `field`, written either with underscores
// ("total_size") or with spaces ("total size"), in any case.
inline bool names_field(const std::string& message, std::string_view field) {
  const std::string text = to_lower(message);
  std::string spaced = to_lower(std::string(field));
  if (text.find(spaced) != std::string::npos) return true;
  for (char& c : spaced) {
    if (c == '_') c = ' ';
  }
  return text.find(spaced) != std::string::npos;
}

// Options for a writer in `directory` with a quick heartbeat, so that
// liveness tests do not wait long.
inline telemetry_shm::ManagerOptions writer_options(
    const std::string& directory, const std::string& service,
    const std::string& instance) {
  telemetry_shm::ManagerOptions options;
  options.service_name = service;
  options.instance_id = instance;
  options.directory = directory;
  options.heartbeat_interval = std::chrono::milliseconds(50);
  return options;
}

using Counts = std::vector<std::pair<Key, int64_t>>;

inline void add_counts(const Counts& counts) {
  for (const auto& [key, amount] : counts) {
    telemetry_shm::increment_counter(key, amount);
  }
}

// The body of a simple writer child: starts the manager with `options`,
// adds `counts` and sends "ready" (or the failure of start() as an
// outcome). Then it obeys the test:
//   "stop"  stops the manager, answers "stopped" and exits 0;
//   "exit"  exits 0 without stopping, as a crash would leave the segment;
//   "count" adds `counts` once more and answers "counted".
inline int run_writer(Link& link, const telemetry_shm::ManagerOptions& options,
                      const Counts& counts) {
  const std::string started = outcome_of(
      [&] { telemetry_shm::TelemetryManager::instance().start(options); });
  if (started != "ok") {
    link.send(started);
    return 1;
  }
  add_counts(counts);
  link.send("ready");
  for (;;) {
    const std::string command = link.receive(std::chrono::hours(1));
    if (command == "stop") {
      telemetry_shm::TelemetryManager::instance().stop();
      link.send("stopped");
      return 0;
    }
    if (command == "exit") return 0;
    if (command == "count") {
      add_counts(counts);
      link.send("counted");
    }
  }
}

inline ChildProcess::Body writer_body(telemetry_shm::ManagerOptions options,
                                      Counts counts) {
  return [options = std::move(options), counts = std::move(counts)](
             Link& link) { return run_writer(link, options, counts); };
}

// Runs a writer that counts `counts`, stops cleanly and exits, leaving a
// valid stopped segment behind. Returns the segment's path.
inline std::string make_stopped_segment(const std::string& directory,
                                        const std::string& service,
                                        const std::string& instance,
                                        const Counts& counts) {
  ChildProcess writer(
      writer_body(writer_options(directory, service, instance), counts));
  const std::string ready = writer.receive();
  if (ready != "ready") throw std::runtime_error("writer: " + ready);
  writer.send("stop");
  writer.receive();
  if (writer.wait() != 0) throw std::runtime_error("writer failed to exit");
  return directory + "/" + telemetry_shm::segment_file_name(service, instance);
}

inline std::vector<char> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  return std::vector<char>(std::istreambuf_iterator<char>(in),
                           std::istreambuf_iterator<char>());
}

inline void write_file(const std::string& path, const std::vector<char>& data,
                       mode_t mode = 0600) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, mode);
  if (fd < 0) fail_errno("open " + path);
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n <= 0) {
      ::close(fd);
      fail_errno("write " + path);
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
}

// Overwrites `size` bytes of the file at `offset`.
inline void write_at(const std::string& path, size_t offset, const void* data,
                     size_t size) {
  const int fd = ::open(path.c_str(), O_WRONLY);
  if (fd < 0) fail_errno("open " + path);
  const ssize_t n = ::pwrite(fd, data, size, static_cast<off_t>(offset));
  ::close(fd);
  if (n != static_cast<ssize_t>(size)) fail_errno("pwrite " + path);
}

template <typename T>
void write_value_at(const std::string& path, size_t offset, const T& value) {
  write_at(path, offset, &value, sizeof(value));
}

inline void resize_file(const std::string& path, off_t size) {
  if (::truncate(path.c_str(), size) != 0) fail_errno("truncate " + path);
}

inline mode_t permission_bits(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) fail_errno("lstat " + path);
  return st.st_mode & 07777;
}

// Polls `condition` until it holds or `timeout` passes; returns whether it
// held.
template <typename Condition>
bool wait_until(Condition condition,
                std::chrono::milliseconds timeout = kTimeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace segment_test

#endif  // TESTS_LIBTELEMETRY_SHM_SEGMENT_TEST_UTIL_H_
