#include "metrics_server.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>

#include "sidecar/sidecar_client.h"

namespace sidecar_test {
namespace {

constexpr char kType[] = "text/plain; version=0.0.4; charset=utf-8";

std::string request(const std::string& method, const std::string& path,
                    const std::string& extra_headers = "") {
  return method + " " + path +
         " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" +
         extra_headers + "\r\n";
}

// The value of header `name` in `reply`, or "(absent)".
std::string header(const HttpReply& reply, const std::string& name) {
  const std::string key = "\r\n" + name + ": ";
  const size_t at = reply.headers.find(key);
  if (at == std::string::npos) return "(absent)";
  const size_t begin = at + key.size();
  return reply.headers.substr(begin, reply.headers.find("\r\n", begin) - begin);
}

std::string gunzip(const std::string& data) {
  z_stream stream{};
  if (inflateInit2(&stream, 15 + 16) != Z_OK) {
    throw std::runtime_error("inflateInit2 failed");
  }
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buffer[16384];
  int result = Z_OK;
  while (result == Z_OK) {
    stream.next_out = reinterpret_cast<Bytef*>(buffer);
    stream.avail_out = sizeof buffer;
    result = inflate(&stream, Z_NO_FLUSH);
    out.append(buffer, sizeof buffer - stream.avail_out);
  }
  inflateEnd(&stream);
  if (result != Z_STREAM_END) throw std::runtime_error("not a whole gzip");
  return out;
}

// One server for the whole suite; each test starts with a fresh count of
// renders and a render function that succeeds.
class MetricsServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new sidecar::MetricsServer("127.0.0.1", 0, {kType, render});
  }

  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    renders_ = 0;
    fail_ = false;
  }

  static std::string render() {
    if (fail_) throw std::runtime_error("the segments went away");
    return "sample " + std::to_string(++renders_) + "\n";
  }

  static HttpReply send(const std::string& raw) {
    return http_request(server_->port(), raw);
  }

  static inline std::atomic<int> renders_{0};
  static inline std::atomic<bool> fail_{false};
  static inline sidecar::MetricsServer* server_ = nullptr;
};

TEST_F(MetricsServerTest, ServesTheDocumentWithItsTypeAndLength) {
  const HttpReply reply = send(request("GET", "/metrics"));
  EXPECT_EQ(reply.status, 200) << reply.headers;
  EXPECT_EQ(reply.body, "sample 1\n");
  EXPECT_EQ(header(reply, "Content-Type"), kType);
  EXPECT_EQ(header(reply, "Content-Length"), "9");
  EXPECT_EQ(header(reply, "Content-Encoding"), "(absent)");
}

TEST_F(MetricsServerTest, RendersAnewForEveryRequest) {
  send(request("GET", "/metrics"));
  EXPECT_EQ(send(request("GET", "/metrics")).body, "sample 2\n");
}

TEST_F(MetricsServerTest, CompressesForAClientThatAcceptsGzip) {
  const HttpReply reply =
      send(request("GET", "/metrics", "Accept-Encoding: gzip\r\n"));
  EXPECT_EQ(reply.status, 200) << reply.headers;
  EXPECT_EQ(header(reply, "Content-Encoding"), "gzip");
  EXPECT_EQ(header(reply, "Content-Length"), std::to_string(reply.body.size()));
  EXPECT_EQ(gunzip(reply.body), "sample 1\n");
}

TEST_F(MetricsServerTest, HeadAnswersWithHeadersOnly) {
  const HttpReply reply = send(request("HEAD", "/metrics"));
  EXPECT_EQ(reply.status, 200) << reply.headers;
  EXPECT_EQ(header(reply, "Content-Length"), "9");
  EXPECT_EQ(reply.body, "");
}

TEST_F(MetricsServerTest, RefusesOtherMethodsAndPathsAndKeepsServing) {
  const HttpReply post = send(request("POST", "/metrics"));
  EXPECT_EQ(post.status, 405) << post.headers;
  EXPECT_NE(post.body.find("takes GET or HEAD, not POST"), std::string::npos)
      << post.body;
  EXPECT_EQ(header(post, "Allow"), "GET, HEAD");
  EXPECT_EQ(send(request("GET", "/other")).status, 404);
  EXPECT_EQ(send(request("GET", "/metricsx")).status, 404);
  EXPECT_NE(send("garbage\r\n\r\n").status, 200);

  EXPECT_EQ(send(request("GET", "/metrics")).body, "sample 1\n");
}

TEST_F(MetricsServerTest, RenderFailureIsA500SayingWhyAndServingGoesOn) {
  fail_ = true;
  const HttpReply failed = send(request("GET", "/metrics"));
  EXPECT_EQ(failed.status, 500) << failed.headers;
  EXPECT_NE(failed.body.find("the segments went away"), std::string::npos)
      << failed.body;

  fail_ = false;
  EXPECT_EQ(send(request("GET", "/metrics")).status, 200);
}

TEST_F(MetricsServerTest, TakenPortIsAnErrorNamingTheAddress) {
  const std::string address = "127.0.0.1:" + std::to_string(server_->port());
  try {
    sidecar::MetricsServer second("127.0.0.1", server_->port(),
                                  {kType, [] { return std::string(); }});
    FAIL() << "a second server listened on " << address;
  } catch (const sidecar::MetricsServerError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot listen on " + address),
              std::string::npos)
        << e.what();
  }
}

TEST(MetricsServerLifetime, StoppedServerFreesItsPortForTheNext) {
  const sidecar::MetricsDocument document{kType, [] { return "x\n"; }};
  auto first =
      std::make_unique<sidecar::MetricsServer>("127.0.0.1", 0, document);
  const int port = first->port();
  EXPECT_EQ(http_get(port, "/metrics").body, "x\n");
  first.reset();

  sidecar::MetricsServer second("127.0.0.1", port, document);
  EXPECT_EQ(second.port(), port);
  EXPECT_EQ(http_get(port, "/metrics").body, "x\n");
}

TEST(AcceptsGzip, ReadsCodingsAndQualities) {
  EXPECT_TRUE(sidecar::accepts_gzip("gzip"));
  EXPECT_TRUE(sidecar::accepts_gzip("deflate, GZIP;q=0.5"));
  EXPECT_TRUE(sidecar::accepts_gzip("x-gzip"));
  EXPECT_TRUE(sidecar::accepts_gzip("br, *"));
  EXPECT_FALSE(sidecar::accepts_gzip(""));
  EXPECT_FALSE(sidecar::accepts_gzip("identity"));
  EXPECT_FALSE(sidecar::accepts_gzip("gzip;q=0"));
  EXPECT_FALSE(sidecar::accepts_gzip("gzip; q=0.0, *"));
  EXPECT_FALSE(sidecar::accepts_gzip("*;q=0"));
}

}  // namespace
}  // namespace sidecar_test
