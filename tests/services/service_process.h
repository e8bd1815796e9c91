// ServiceProcess: one game service binary running as its own process for a
// test, on a free port, counting into its own temporary directory under
// /dev/shm with its own instance id, so tests never share a segment.
//
//   ServiceProcess item("item_service", {"--transport", "framed"});
//   ASSERT_TRUE(item.start()) << item.log();
//   CountedConnection client(item.port(), TransportKind::kFramed);
//
// The process is stopped (SIGTERM, then SIGKILL) on destruction.
//
// Thread safety: one ServiceProcess belongs to one thread; port() may be
// read from any thread once start() has returned.
#ifndef TESTS_SERVICES_SERVICE_PROCESS_H_
#define TESTS_SERVICES_SERVICE_PROCESS_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/process.h"

namespace services_test {

class ServiceProcess {
 public:
  // `binary` is a program in TELEMETRY_BIN_DIR; `extra_args` are added
  // after --port, --telemetry-dir and --instance.
  ServiceProcess(std::string binary, std::vector<std::string> extra_args);
  ~ServiceProcess();

  // Starts the binary and waits until it accepts connections; the binaries
  // open their port only once counting has started. Returns false when it
  // exits first or does not listen in time; log() says why.
  bool start();

  // Sends SIGTERM and waits for the exit.
  test_support::ExitStatus stop();

  int port() const { return port_; }
  const std::string& instance_id() const { return instance_id_; }
  const std::string& telemetry_dir() const { return dir_.path(); }
  test_support::ChildProcess& child() { return *child_; }

  // The path of this instance's segment file.
  std::string segment_path(const std::string& service_name) const;

  // Everything the process wrote to stdout and stderr so far.
  std::string log() const;

 private:
  std::string binary_;
  std::vector<std::string> extra_args_;
  test_support::TempDir dir_;
  int port_ = 0;
  std::string instance_id_;
  std::optional<test_support::ChildProcess> child_;
};

}  // namespace services_test

#endif  // TESTS_SERVICES_SERVICE_PROCESS_H_
