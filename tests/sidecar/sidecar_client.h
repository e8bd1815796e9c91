// Thrift clients of a running sidecar for tests, plus a plain HTTP GET for
// its /metrics page and a parser run through Debian's prometheus_client.
//
// Thread safety: one SidecarClient per thread.
#ifndef TESTS_SIDECAR_SIDECAR_CLIENT_H_
#define TESTS_SIDECAR_SIDECAR_CLIENT_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "BaseService.h"
#include "CounterService.h"
#include "TelemetrySidecar.h"
#include "sidecar/sidecar_test_support.h"

namespace sidecar_test {

class SidecarClient {
 public:
  // Connects at once; throws the transport's exception when it cannot.
  explicit SidecarClient(int port, bool framed = false);
  ~SidecarClient();

  // BaseService of `service` through the multiplexed protocol.
  telemetry::BaseServiceClient& service(const std::string& service);
  telemetry::sidecar::TelemetrySidecarClient& host();
  // CounterService through the multiplexed protocol.
  telemetry::sidecar::CounterServiceClient& counters();
  // CounterService as the default service: plain message names.
  telemetry::sidecar::CounterServiceClient& plain_counters();

 private:
  std::shared_ptr<apache::thrift::transport::TTransport> transport_;
  std::shared_ptr<apache::thrift::protocol::TProtocol> protocol_;
  std::map<std::string, std::unique_ptr<telemetry::BaseServiceClient>>
      services_;
  std::unique_ptr<telemetry::sidecar::TelemetrySidecarClient> host_;
  std::unique_ptr<telemetry::sidecar::CounterServiceClient> counters_;
  std::unique_ptr<telemetry::sidecar::CounterServiceClient> plain_;
};

// True when `status` says the process returned 0.
bool exited_cleanly(const std::optional<test_support::ExitStatus>& status);

// True when a client can connect to `port` and list the sidecar's
// services.
bool sidecar_answers(int port, bool framed = false);

// A telemetry_sidecar process on free ports, serving `directory`, with its
// log in the directory's "sidecar.log".
class RunningSidecar {
 public:
  // Starts the sidecar and waits until it answers. Throws
  // std::runtime_error with its log when it does not.
  // `framed` says which transport the readiness check uses; it must match
  // a --transport in `extra_args`.
  RunningSidecar(const std::string& directory,
                 const std::vector<std::string>& extra_args = {},
                 bool framed = false);

  int port() const { return port_; }
  int metrics_port() const { return metrics_port_; }
  ChildProcess& process() { return *process_; }
  std::string log() const;

 private:
  int port_;
  int metrics_port_;
  std::string log_file_;
  std::optional<ChildProcess> process_;
};

struct HttpReply {
  int status = 0;
  std::string headers;
  std::string body;
};

// GET http://127.0.0.1:<port><path>; throws std::runtime_error when the
// connection fails.
HttpReply http_get(int port, const std::string& path);

// Sends `request` as it is to 127.0.0.1:<port> and reads the reply until
// the server closes the connection; throws std::runtime_error when the
// connection fails.
HttpReply http_request(int port, const std::string& request);

// The Prometheus sample name of a stored counter name:
// "BYTES_SENT" -> "telemetry_bytes_sent_total".
std::string expected_sample_name(const std::string& counter_name);

// (sample name, service label, service_instance label) -> value, parsed
// by /usr/bin/python3's prometheus_client. Throws std::runtime_error when
// the parser refuses the text.
using PrometheusSamples =
    std::map<std::tuple<std::string, std::string, std::string>, double>;
PrometheusSamples parse_with_prometheus_client(const std::string& text,
                                               const std::string& scratch_dir);

}  // namespace sidecar_test

#endif  // TESTS_SIDECAR_SIDECAR_CLIENT_H_
