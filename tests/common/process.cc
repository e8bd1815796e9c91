#include "common/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace test_support {
namespace {

constexpr std::chrono::milliseconds kPollInterval{10};

ExitStatus decode(int raw) {
  ExitStatus status;
  status.exited = WIFEXITED(raw);
  status.code = status.exited ? WEXITSTATUS(raw) : 0;
  status.signal = WIFSIGNALED(raw) ? WTERMSIG(raw) : 0;
  return status;
}

// Runs in the forked child: only async-signal-safe calls until exec.
[[noreturn]] void exec_child(const char* path, char* const argv[],
                             const char* output_path) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  if (output_path != nullptr) {
    const int fd = ::open(output_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) _exit(126);
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
  }
  // The test's own sockets and files must not live on in the child.
  ::close_range(3, ~0U, 0);
  ::execv(path, argv);
  _exit(127);
}

sockaddr_in loopback(int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

// Whether a listening socket could bind 127.0.0.1:`port` now.
bool can_bind(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  const sockaddr_in address = loopback(port);
  const bool bound = ::bind(fd, reinterpret_cast<const sockaddr*>(&address),
                            sizeof address) == 0;
  ::close(fd);
  return bound;
}

bool accepts_connections(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const sockaddr_in address = loopback(port);
  const bool connected =
      ::connect(fd, reinterpret_cast<const sockaddr*>(&address),
                sizeof(address)) == 0;
  ::close(fd);
  return connected;
}

}  // namespace

std::string to_string(const ExitStatus& status) {
  if (status.exited) return "exit code " + std::to_string(status.code);
  return "killed by signal " + std::to_string(status.signal);
}

ChildProcess ChildProcess::spawn(const std::string& path,
                                 const std::vector<std::string>& args,
                                 const std::string& output_path) {
  // Everything the child needs is prepared before fork().
  std::vector<std::string> strings;
  strings.push_back(path);
  strings.insert(strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  const char* output = output_path.empty() ? nullptr : output_path.c_str();

  const pid_t pid = ::fork();
  if (pid < 0) throw errno_error("fork for " + path);
  if (pid == 0) exec_child(path.c_str(), argv.data(), output);
  return ChildProcess(pid);
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(other.pid_), status_(other.status_) {
  other.pid_ = -1;
}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    kill_and_reap();
    pid_ = other.pid_;
    status_ = other.status_;
    other.pid_ = -1;
  }
  return *this;
}

ChildProcess::~ChildProcess() { kill_and_reap(); }

void ChildProcess::kill_and_reap() {
  if (pid_ > 0 && !status_) {
    ::kill(pid_, SIGKILL);
    int raw = 0;
    if (::waitpid(pid_, &raw, 0) == pid_) status_ = decode(raw);
  }
}

bool ChildProcess::poll() {
  if (status_) return true;
  if (pid_ <= 0) return false;
  int raw = 0;
  const pid_t done = ::waitpid(pid_, &raw, WNOHANG);
  if (done == pid_) status_ = decode(raw);
  return status_.has_value();
}

bool ChildProcess::running() { return pid_ > 0 && !poll(); }

bool ChildProcess::signal(int signal) {
  if (!running()) return false;
  return ::kill(pid_, signal) == 0;
}

std::optional<ExitStatus> ChildProcess::wait_for_exit(
    std::chrono::milliseconds timeout) {
  wait_until([this] { return poll(); }, timeout);
  return status_;
}

ExitStatus ChildProcess::terminate(std::chrono::milliseconds timeout) {
  signal(SIGTERM);
  if (auto status = wait_for_exit(timeout)) return *status;
  signal(SIGKILL);
  if (auto status = wait_for_exit(kDefaultWait)) return *status;
  throw std::runtime_error("process " + std::to_string(pid_) +
                           " survived SIGKILL");
}

int free_port() {
  // Ports below the kernel's ephemeral range (32768 and up by default) are
  // never handed to a client socket as its local port, so no connection a
  // test makes can take the port before its server binds it. A lock file
  // per port, held until this process exits, keeps test processes that
  // run in parallel off each other's ports.
  constexpr int kFirst = 20000;
  constexpr int kCount = 12000;
  static std::mutex mutex;
  static int next = static_cast<int>(::getpid()) % kCount;
  std::lock_guard lock(mutex);

  const std::filesystem::path locks =
      std::filesystem::temp_directory_path() / "telemetry-test-ports";
  std::error_code ignored;
  std::filesystem::create_directories(locks, ignored);
  for (int tried = 0; tried < kCount; ++tried) {
    const int port = kFirst + next;
    next = (next + 1) % kCount;
    const std::string path = (locks / std::to_string(port)).string();
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) continue;
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0 && can_bind(port)) {
      return port;  // the descriptor stays open: the port stays reserved
    }
    ::close(fd);
  }
  throw std::runtime_error("no free port from " + std::to_string(kFirst) +
                           " to " + std::to_string(kFirst + kCount - 1));
}

bool wait_for_port(int port, ChildProcess* child,
                   std::chrono::milliseconds timeout) {
  bool child_gone = false;
  const bool open = wait_until(
      [&] {
        child_gone = child != nullptr && !child->running();
        return child_gone || accepts_connections(port);
      },
      timeout);
  return open && !child_gone;
}

std::runtime_error errno_error(const std::string& what) {
  return std::runtime_error(what + ": " + std::strerror(errno));
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

TempDir::TempDir(const std::string& parent) {
  std::string pattern = parent + "/telemetry-test-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw errno_error("mkdtemp under " + parent);
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

void sleep_briefly() { std::this_thread::sleep_for(kPollInterval); }

}  // namespace test_support
