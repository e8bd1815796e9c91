#include "sidecar/sidecar_test_support.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>

#include "telemetry_shm/counters.h"
#include "telemetry_shm/telemetry_manager.h"

namespace sidecar_test {

namespace {

// One command to a writer child: 'i' count, 'x' stop and exit.
struct Command {
  char op;
  int32_t key;
  int64_t amount;
};

bool read_exact(int fd, void* data, size_t size) {
  auto* bytes = static_cast<char*>(data);
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::read(fd, bytes + done, size - done);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

void write_exact(int fd, const void* data, size_t size) {
  if (::write(fd, data, size) != static_cast<ssize_t>(size)) {
    throw std::runtime_error("cannot talk to a writer child");
  }
}

[[noreturn]] void writer_main(int in, int out, const std::string& directory,
                              const std::string& service,
                              const std::string& instance) {
  auto& manager = telemetry_shm::TelemetryManager::instance();
  try {
    telemetry_shm::ManagerOptions options;
    options.directory = directory;
    options.service_name = service;
    options.instance_id = instance;
    manager.start(options);
  } catch (const std::exception&) {
    write_exact(out, "E", 1);
    ::_exit(1);
  }
  write_exact(out, "R", 1);
  Command c{};
  while (read_exact(in, &c, sizeof c)) {
    if (c.op == 'i') {
      telemetry_shm::increment_counter(
          static_cast<telemetry::TelemetryCounter::type>(c.key), c.amount);
    } else if (c.op == 'x') {
      manager.stop();
      write_exact(out, "K", 1);
      ::_exit(0);
    }
    write_exact(out, "K", 1);
  }
  ::_exit(0);
}

}  // namespace

WriterChild::WriterChild(const std::string& directory,
                         const std::string& service,
                         const std::string& instance) {
  int down[2];
  int up[2];
  if (::pipe2(down, O_CLOEXEC) != 0 || ::pipe2(up, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe failed");
  }
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) writer_main(down[0], up[1], directory, service, instance);
  ::close(down[0]);
  ::close(up[1]);
  to_child_ = down[1];
  from_child_ = up[0];
  char status = 0;
  if (!read_exact(from_child_, &status, 1) || status != 'R') {
    reap();
    throw std::runtime_error("writer for " + service + "/" + instance +
                             " could not start its manager");
  }
}

WriterChild::~WriterChild() {
  if (pid_ > 0) kill_hard();
  if (to_child_ >= 0) ::close(to_child_);
  if (from_child_ >= 0) ::close(from_child_);
}

void WriterChild::command(char op, int32_t key, int64_t amount) {
  Command c{op, key, amount};
  write_exact(to_child_, &c, sizeof c);
  char ack = 0;
  if (!read_exact(from_child_, &ack, 1) || ack != 'K') {
    throw std::runtime_error("writer child did not acknowledge");
  }
}

void WriterChild::add(telemetry::TelemetryCounter::type key, int64_t amount) {
  command('i', key, amount);
}

void WriterChild::stop_cleanly() {
  command('x', 0, 0);
  reap();
}

void WriterChild::kill_hard() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  reap();
}

void WriterChild::reap() {
  if (pid_ <= 0) return;
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string sidecar_binary() {
  return std::string(TELEMETRY_BIN_DIR) + "/telemetry_sidecar";
}

}  // namespace sidecar_test
