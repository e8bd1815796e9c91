// MetricsServer: serves one text document at GET /metrics over HTTP, for
// Prometheus to scrape. The HTTP side is civetweb's.
//
// Each request calls the render function anew, so every scrape shows the
// numbers of that moment. A client that accepts gzip gets the body
// compressed. HEAD answers with the headers alone, any other method gets
// 405, any other path 404, and a render function that throws gets 500 with
// its message; the server keeps serving after each of them.
//
// Thread safety: the render function runs on the server's worker threads,
// several at once. The destructor stops the server at once and waits for
// the requests in progress.
#ifndef SIDECAR_METRICS_SERVER_H_
#define SIDECAR_METRICS_SERVER_H_

#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

struct mg_context;
struct mg_connection;

namespace sidecar {

class MetricsServerError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct MetricsDocument {
  std::string content_type;
  std::function<std::string()> render;
};

class MetricsServer {
 public:
  // Listens on `host`:`port` (a numeric address; port 0 picks a free one)
  // with `threads` workers. Throws MetricsServerError saying why the
  // address cannot be served.
  MetricsServer(const std::string& host, int port, MetricsDocument document,
                int threads = 2);
  ~MetricsServer();

  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // The port listened on.
  int port() const { return port_; }

 private:
  static int handle(mg_connection* connection, void* self);
  int answer(mg_connection* connection) const;

  MetricsDocument document_;
  std::string knock_address_;  // where the destructor wakes civetweb
  mg_context* context_ = nullptr;
  int port_ = 0;
};

// Whether an Accept-Encoding header value lets the reply be gzip: a "gzip"
// (or "*") coding whose q-value is not zero.
bool accepts_gzip(std::string_view accept_encoding);

// `text` as a gzip member, compressed for speed over size.
std::string gzip(std::string_view text);

}  // namespace sidecar

#endif  // SIDECAR_METRICS_SERVER_H_
