#include "sidecar/sidecar_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/protocol/TMultiplexedProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSocket.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace sidecar_test {

using apache::thrift::protocol::TBinaryProtocol;
using apache::thrift::protocol::TMultiplexedProtocol;
using apache::thrift::transport::TBufferedTransport;
using apache::thrift::transport::TFramedTransport;
using apache::thrift::transport::TSocket;

SidecarClient::SidecarClient(int port, bool framed) {
  auto socket = std::make_shared<TSocket>("127.0.0.1", port);
  socket->setRecvTimeout(20000);
  if (framed) {
    transport_ = std::make_shared<TFramedTransport>(socket);
  } else {
    transport_ = std::make_shared<TBufferedTransport>(socket);
  }
  protocol_ = std::make_shared<TBinaryProtocol>(transport_);
  transport_->open();
}

SidecarClient::~SidecarClient() {
  try {
    transport_->close();
  } catch (...) {
    // Closing a broken connection has nothing left to report.
  }
}

telemetry::BaseServiceClient& SidecarClient::service(
    const std::string& service) {
  auto& client = services_[service];
  if (!client) {
    client = std::make_unique<telemetry::BaseServiceClient>(
        std::make_shared<TMultiplexedProtocol>(protocol_, service));
  }
  return *client;
}

telemetry::sidecar::TelemetrySidecarClient& SidecarClient::host() {
  if (!host_) {
    host_ = std::make_unique<telemetry::sidecar::TelemetrySidecarClient>(
        std::make_shared<TMultiplexedProtocol>(protocol_, "TelemetrySidecar"));
  }
  return *host_;
}

telemetry::sidecar::CounterServiceClient& SidecarClient::counters() {
  if (!counters_) {
    counters_ = std::make_unique<telemetry::sidecar::CounterServiceClient>(
        std::make_shared<TMultiplexedProtocol>(protocol_, "CounterService"));
  }
  return *counters_;
}

telemetry::sidecar::CounterServiceClient& SidecarClient::plain_counters() {
  if (!plain_) {
    plain_ =
        std::make_unique<telemetry::sidecar::CounterServiceClient>(protocol_);
  }
  return *plain_;
}

bool sidecar_answers(int port, bool framed) {
  // A refused connection is expected while the sidecar starts.
  apache::thrift::GlobalOutput.setOutputFunction([](const char*) {});
  try {
    SidecarClient client(port, framed);
    std::vector<telemetry::sidecar::ServiceInfo> services;
    client.host().list_services(services);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

RunningSidecar::RunningSidecar(const std::string& directory,
                               const std::vector<std::string>& extra_args,
                               bool framed)
    : port_(free_port()), metrics_port_(free_port()) {
  std::vector<std::string> args = {
      "--port",          std::to_string(port_),
      "--metrics-port",  std::to_string(metrics_port_),
      "--telemetry-dir", directory,
      "--log-level",     "debug"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  log_file_ = directory + "/sidecar.log";
  process_ = ChildProcess::spawn(sidecar_binary(), args, log_file_);
  bool exited = false;
  const auto answers = [&] {
    exited = !process_->running();
    return exited || sidecar_answers(port_, framed);
  };
  if (!wait_until(answers) || exited) {
    const char* what = exited ? "exited" : "did not answer";
    throw std::runtime_error(std::string("the sidecar ") + what +
                             "; its log:\n" + log());
  }
}

std::string RunningSidecar::log() const { return read_file(log_file_); }

bool exited_cleanly(const std::optional<test_support::ExitStatus>& status) {
  return status && status->exited && status->code == 0;
}

namespace {

int connect_loopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot connect to port " + std::to_string(port));
  }
  return fd;
}

}  // namespace

HttpReply http_get(int port, const std::string& path) {
  return http_request(port,
                      "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
}

HttpReply http_request(int port, const std::string& request) {
  const int fd = connect_loopback(port);
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) < 0) {
    ::close(fd);
    throw std::runtime_error("cannot send the HTTP request");
  }
  std::string raw;
  char buffer[4096];
  for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;) {
    raw.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  HttpReply reply;
  const size_t split = raw.find("\r\n\r\n");
  if (split == std::string::npos || raw.size() < 12) return reply;
  reply.status = std::stoi(raw.substr(9, 3));
  reply.headers = raw.substr(0, split);
  reply.body = raw.substr(split + 4);
  return reply;
}

std::string expected_sample_name(const std::string& counter_name) {
  std::string word = counter_name;
  for (char& c : word) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return "telemetry_" + word + "_total";
}

PrometheusSamples parse_with_prometheus_client(const std::string& text,
                                               const std::string& scratch_dir) {
  const std::string input = scratch_dir + "/metrics.txt";
  std::ofstream(input) << text;
  const std::string command =
      "/usr/bin/python3 -c 'import sys\n"
      "from prometheus_client.parser import text_string_to_metric_families\n"
      "for family in text_string_to_metric_families(sys.stdin.read()):\n"
      "  for s in family.samples:\n"
      "    print(s.name, s.labels.get(\"service\", \"-\"),"
      " s.labels.get(\"service_instance\", \"-\"), repr(s.value))\n' < " +
      input + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("cannot run /usr/bin/python3");
  std::string output;
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) {
    output.append(buffer, n);
  }
  if (::pclose(pipe) != 0) {
    throw std::runtime_error("prometheus_client refused the text: " + output);
  }
  PrometheusSamples samples;
  std::istringstream lines(output);
  std::string name, service, instance, value;
  while (lines >> name >> service >> instance >> value) {
    samples[{name, service, instance}] = std::strtod(value.c_str(), nullptr);
  }
  return samples;
}

}  // namespace sidecar_test
