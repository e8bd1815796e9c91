#include "metrics_server.h"

#include <arpa/inet.h>
#include <civetweb.h>
#include <netdb.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include <fmt/format.h>

namespace sidecar {
namespace {

constexpr char kPath[] = "/metrics";

// civetweb asks to be set up once per process before its first server.
void init_civetweb_once() {
  static std::once_flag once;
  std::call_once(once, [] { mg_init_library(0); });
}

// civetweb's form of a listening address: IPv6 hosts go in brackets, and
// only where the installed civetweb was built with IPv6.
std::string listening_address(const std::string& host, int port) {
  if (host.find(':') != std::string::npos) {
    if (mg_check_feature(MG_FEATURES_IPV6) == 0) {
      throw MetricsServerError(fmt::format(
          "cannot listen on {}: the installed civetweb has no IPv6", host));
    }
    return fmt::format("[{}]:{}", host, port);
  }
  return fmt::format("{}:{}", host, port);
}

// civetweb's own messages while a server starts, on the starting thread:
// they say why an address cannot be served ("cannot bind to ...: Address
// already in use"), where the error it returns only says that it failed.
thread_local std::string* startup_messages = nullptr;

int keep_startup_message(const mg_connection*, const char* message) {
  if (startup_messages != nullptr) {
    if (!startup_messages->empty()) *startup_messages += "; ";
    *startup_messages += message;
  }
  return 1;
}

std::string_view trim(std::string_view s) {
  const size_t begin = s.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return {};
  const size_t end = s.find_last_not_of(" \t");
  return s.substr(begin, end - begin + 1);
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// The q-value of one Accept-Encoding element's parameters, 1 when absent.
double quality(std::string_view parameters) {
  while (!parameters.empty()) {
    const size_t semicolon = parameters.find(';');
    const std::string_view parameter = trim(parameters.substr(0, semicolon));
    if (parameter.size() >= 2 && (parameter[0] == 'q' || parameter[0] == 'Q') &&
        parameter[1] == '=') {
      return std::strtod(std::string(parameter.substr(2)).c_str(), nullptr);
    }
    if (semicolon == std::string_view::npos) break;
    parameters.remove_prefix(semicolon + 1);
  }
  return 1.0;
}

// The numeric IPv4 address a client of `host` connects to: loopback for
// the wildcard address, the first IPv4 address of a name, or "" when
// there is none.
std::string connect_address(const std::string& host) {
  if (host == "0.0.0.0") return "127.0.0.1";
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0) return "";
  char text[INET_ADDRSTRLEN] = "";
  const auto* address = reinterpret_cast<const sockaddr_in*>(found->ai_addr);
  ::inet_ntop(AF_INET, &address->sin_addr, text, sizeof text);
  ::freeaddrinfo(found);
  return text;
}

// Opens and closes one connection to `ip`:`port`. civetweb's listening
// thread looks at its stop flag only between waits in poll() of up to two
// seconds; a new connection ends the wait at once.
void knock(const std::string& ip, int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, ip.c_str(), &address.sin_addr) != 1) return;

  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address);
  ::close(fd);
}

// An error reply whose plain-text body says what was wrong. `allow`, when
// not empty, lists the methods the path takes.
void send_error(mg_connection* connection, int status,
                const std::string& message, const char* allow = "") {
  const std::string body = message + "\n";
  const std::string length = std::to_string(body.size());
  mg_response_header_start(connection, status);
  mg_response_header_add(connection, "Content-Type",
                         "text/plain; charset=utf-8", -1);
  if (*allow != '\0') mg_response_header_add(connection, "Allow", allow, -1);
  mg_response_header_add(connection, "Content-Length", length.c_str(), -1);
  mg_response_header_send(connection);
  mg_write(connection, body.data(), body.size());
}

}  // namespace

bool accepts_gzip(std::string_view accept_encoding) {
  double gzip_q = -1;  // -1: not named
  double any_q = -1;
  while (!accept_encoding.empty()) {
    const size_t comma = accept_encoding.find(',');
    const std::string_view element = accept_encoding.substr(0, comma);
    const size_t semicolon = element.find(';');
    const std::string_view coding = trim(element.substr(0, semicolon));
    const double q = semicolon == std::string_view::npos
                         ? 1.0
                         : quality(element.substr(semicolon + 1));
    if (equals_ignoring_case(coding, "gzip") ||
        equals_ignoring_case(coding, "x-gzip")) {
      gzip_q = q;
    } else if (coding == "*") {
      any_q = q;
    }
    if (comma == std::string_view::npos) break;
    accept_encoding.remove_prefix(comma + 1);
  }
  return gzip_q >= 0 ? gzip_q > 0 : any_q > 0;
}

std::string gzip(std::string_view text) {
  z_stream stream{};
  constexpr int kGzipWindowBits = 15 + 16;  // 32 KiB window, gzip header
  if (deflateInit2(&stream, Z_BEST_SPEED, Z_DEFLATED, kGzipWindowBits, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("cannot start gzip compression");
  }
  // Ends the stream however this function leaves, a failed allocation too.
  std::unique_ptr<z_stream, int (*)(z_stream*)> end(&stream, deflateEnd);

  std::string out(deflateBound(&stream, text.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  stream.avail_in = static_cast<uInt>(text.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  if (deflate(&stream, Z_FINISH) != Z_STREAM_END) {
    throw std::runtime_error("gzip compression did not finish");
  }
  out.resize(stream.total_out);
  return out;
}

MetricsServer::MetricsServer(const std::string& host, int port,
                             MetricsDocument document, int threads)
    : document_(std::move(document)), knock_address_(connect_address(host)) {
  init_civetweb_once();
  const std::string address = listening_address(host, port);
  const std::string thread_count = std::to_string(threads);
  const char* options[] = {"listening_ports",
                           address.c_str(),
                           "num_threads",
                           thread_count.c_str(),
                           "request_timeout_ms",
                           "10000",
                           nullptr};
  mg_callbacks callbacks{};
  callbacks.log_message = keep_startup_message;
  mg_init_data init{&callbacks, this, options};
  char reason[256] = "";
  unsigned code = 0;
  mg_error_data error{&code, reason, sizeof reason};
  std::string messages;
  startup_messages = &messages;
  context_ = mg_start2(&init, &error);
  startup_messages = nullptr;
  if (context_ == nullptr) {
    throw MetricsServerError(fmt::format("cannot listen on {}: {}", address,
                                         messages.empty() ? reason : messages));
  }
  const std::string exact_path = std::string(kPath) + "$";
  mg_set_request_handler(context_, exact_path.c_str(), &MetricsServer::handle,
                         this);

  mg_server_port bound{};
  if (mg_get_server_ports(context_, 1, &bound) == 1) port_ = bound.port;
}

MetricsServer::~MetricsServer() {
  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    mg_stop(context_);
    stopped = true;
  });

  // mg_stop() raises the stop flag at once and then waits for the
  // listening thread; knock until that thread has seen the flag.
  while (!stopped) {
    knock(knock_address_, port_);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stopper.join();
}

int MetricsServer::handle(mg_connection* connection, void* self) {
  return static_cast<const MetricsServer*>(self)->answer(connection);
}

int MetricsServer::answer(mg_connection* connection) const {
  const mg_request_info* request = mg_get_request_info(connection);
  const std::string_view method = request->request_method;
  if (method != "GET" && method != "HEAD") {
    send_error(connection, 405,
               fmt::format("{} takes GET or HEAD, not {}", kPath, method),
               "GET, HEAD");
    return 405;
  }

  const char* accept_encoding = mg_get_header(connection, "Accept-Encoding");
  const bool compress =
      accept_encoding != nullptr && accepts_gzip(accept_encoding);
  std::string body;
  try {
    body = document_.render();
    if (compress) body = gzip(body);
  } catch (const std::exception& e) {
    send_error(connection, 500,
               fmt::format("cannot render {}: {}", kPath, e.what()));
    return 500;
  }

  mg_response_header_start(connection, 200);
  mg_response_header_add(connection, "Content-Type",
                         document_.content_type.c_str(), -1);
  if (compress)
    mg_response_header_add(connection, "Content-Encoding", "gzip", -1);
  mg_response_header_add(connection, "Vary", "Accept-Encoding", -1);
  const std::string length = std::to_string(body.size());
  mg_response_header_add(connection, "Content-Length", length.c_str(), -1);
  mg_response_header_send(connection);
  if (method == "GET") mg_write(connection, body.data(), body.size());
  return 200;
}

}  // namespace sidecar
