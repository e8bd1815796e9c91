// A multi-threaded Thrift server with the options every binary of this
// project shares, counting its requests through instrument().
//
//   int main(int argc, char** argv) {
//     telemetry_shm::block_stop_signals();  // first, before any thread
//     ... start the TelemetryManager ...
//     telemetry_shm::ThriftServer server(processor, options);
//     server.serve_until_stop_signal();  // returns on SIGTERM or SIGINT
//     ... stop the TelemetryManager ...
//   }
//
// The server is a TThreadPoolServer: each connection is served by one pool
// thread for its whole life, so the receive timeout is what frees a thread
// from a client that stays connected but idle.
//
// Thread safety: stop() may be called from any thread; the other members
// from the thread that owns the server.
#ifndef TELEMETRY_SHM_THRIFT_SERVER_H_
#define TELEMETRY_SHM_THRIFT_SERVER_H_

#include <thrift/TProcessor.h>

#include <chrono>
#include <memory>
#include <string>

#include "telemetry_shm/thrift_counting.h"

namespace apache::thrift::server {
class TThreadPoolServer;
}

namespace telemetry_shm {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0 picks a free port; see ThriftServer::port()
  int threads = 16;
  TransportKind transport = TransportKind::kBuffered;
  std::chrono::milliseconds receive_timeout{30000};
  bool count_requests = true;  // false serves without any counting
};

// Blocks SIGTERM and SIGINT in the calling thread, so that every thread
// started afterwards inherits the mask and serve_until_stop_signal() can
// receive them. Call it first thing in main().
void block_stop_signals();

class ThriftServer {
 public:
  // Binds and listens at once, so that port() is known and a busy port is
  // reported here. Throws TelemetryError(kInvalidArgument) for bad options
  // and kSystem when the address cannot be bound.
  ThriftServer(std::shared_ptr<apache::thrift::TProcessor> processor,
               const ServerOptions& options);
  ~ThriftServer();

  ThriftServer(const ThriftServer&) = delete;
  ThriftServer& operator=(const ThriftServer&) = delete;

  // The port the server listens on.
  int port() const;

  // Serves until stop() is called. Returns once every worker has finished.
  void serve();

  // Serves until the process receives SIGTERM or SIGINT (blocked first by
  // block_stop_signals()), then stops cleanly. Returns the signal number.
  int serve_until_stop_signal();

  void stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace telemetry_shm

#endif  // TELEMETRY_SHM_THRIFT_SERVER_H_
