#include "services/service_process.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>

#include "telemetry_shm/segment_reader.h"

namespace services_test {
namespace {

// Unique across the processes and the tests of one run.
std::string new_instance_id(int port) {
  static std::atomic<int> sequence{0};
  return "test-" + std::to_string(::getpid()) + "-" + std::to_string(port) +
         "-" + std::to_string(sequence++);
}

}  // namespace

ServiceProcess::ServiceProcess(std::string binary,
                               std::vector<std::string> extra_args)
    : binary_(std::move(binary)), extra_args_(std::move(extra_args)) {}

ServiceProcess::~ServiceProcess() {
  // A graceful stop when possible; ChildProcess kills whatever is left.
  if (child_ && child_->running()) child_->signal(SIGTERM);
  if (child_) child_->wait_for_exit();
}

bool ServiceProcess::start() {
  port_ = test_support::free_port();
  instance_id_ = new_instance_id(port_);
  std::vector<std::string> args = {"--port",          std::to_string(port_),
                                   "--telemetry-dir", dir_.path(),
                                   "--instance",      instance_id_};
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  child_ = test_support::ChildProcess::spawn(
      std::string(TELEMETRY_BIN_DIR) + "/" + binary_, args,
      dir_.path() + "/" + binary_ + ".log");
  return test_support::wait_for_port(port_, &*child_);
}

test_support::ExitStatus ServiceProcess::stop() { return child_->terminate(); }

std::string ServiceProcess::segment_path(
    const std::string& service_name) const {
  return dir_.path() + "/" +
         telemetry_shm::segment_file_name(service_name, instance_id_);
}

std::string ServiceProcess::log() const {
  return test_support::read_file(dir_.path() + "/" + binary_ + ".log");
}

}  // namespace services_test
