#include "telemetry_shm/thrift_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include <thrift/concurrency/ThreadFactory.h>
#include <thrift/concurrency/ThreadManager.h>
#include <thrift/server/TThreadPoolServer.h>
#include <thrift/transport/TServerSocket.h>
#include <thrift/transport/TTransportException.h>

#include <atomic>
#include <cerrno>
#include <ctime>
#include <thread>

#include "telemetry_shm/error.h"

namespace telemetry_shm {
namespace {

using apache::thrift::concurrency::ThreadFactory;
using apache::thrift::concurrency::ThreadManager;
using apache::thrift::server::TThreadPoolServer;
using apache::thrift::transport::TServerSocket;
using apache::thrift::transport::TTransportException;

// The server calls listen() when it starts serving; the constructor has
// already bound the socket, so later calls must not bind again.
class EarlyBoundSocket : public TServerSocket {
 public:
  using TServerSocket::TServerSocket;

  void listen() override {
    if (bound_) return;
    TServerSocket::listen();
    bound_ = true;
  }

 private:
  bool bound_ = false;
};

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

void validate(const ServerOptions& options) {
  if (options.port < 0 || options.port > 65535) {
    throw TelemetryError(
        ErrorCode::kInvalidArgument,
        "port must be 0 to 65535, not " + std::to_string(options.port));
  }
  if (options.threads < 1) {
    throw TelemetryError(
        ErrorCode::kInvalidArgument,
        "threads must be at least 1, not " + std::to_string(options.threads));
  }
  if (options.receive_timeout.count() < 0) {
    throw TelemetryError(ErrorCode::kInvalidArgument,
                         "receive timeout must not be negative");
  }
}

}  // namespace

void block_stop_signals() {
  const sigset_t set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

class ThriftServer::Impl {
 public:
  Impl(std::shared_ptr<apache::thrift::TProcessor> processor,
       const ServerOptions& options) {
    validate(options);
    socket_ = std::make_shared<EarlyBoundSocket>(options.host, options.port);
    const int timeout = static_cast<int>(options.receive_timeout.count());
    socket_->setRecvTimeout(timeout);
    socket_->setSendTimeout(timeout);
    try {
      socket_->listen();
    } catch (const TTransportException& e) {
      throw TelemetryError(ErrorCode::kSystem,
                           "cannot listen on " + options.host + ":" +
                               std::to_string(options.port) + ": " + e.what());
    }

    auto workers = ThreadManager::newSimpleThreadManager(options.threads);
    workers->threadFactory(std::make_shared<ThreadFactory>());
    workers->start();

    const ServerParts parts = instrument(
        std::move(processor), options.transport, options.count_requests);
    server_ = std::make_unique<TThreadPoolServer>(
        parts.processor_factory, socket_, parts.transport_factory,
        parts.transport_factory, parts.input_protocol_factory,
        parts.output_protocol_factory, workers);
  }

  int port() const {
    sockaddr_storage address{};
    socklen_t length = sizeof(address);
    auto* raw = reinterpret_cast<sockaddr*>(&address);
    if (::getsockname(socket_->getSocketFD(), raw, &length) != 0) {
      throw system_error("getsockname", errno);
    }
    if (address.ss_family == AF_INET6) {
      return ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port);
    }
    return ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port);
  }

  void serve() { server_->serve(); }
  void stop() { server_->stop(); }

  int serve_until_stop_signal() {
    std::atomic<bool> served{false};
    std::atomic<int> received{0};
    std::thread waiter([&] {
      const sigset_t set = stop_signals();
      const timespec tick{0, 200 * 1000 * 1000};
      while (!served.load()) {
        const int signal = ::sigtimedwait(&set, nullptr, &tick);
        if (signal > 0) {
          received = signal;
          server_->stop();
          return;
        }
      }
    });
    try {
      server_->serve();
    } catch (...) {
      served = true;
      waiter.join();
      throw;
    }
    served = true;
    waiter.join();
    return received.load();
  }

 private:
  std::shared_ptr<EarlyBoundSocket> socket_;
  std::unique_ptr<TThreadPoolServer> server_;
};

ThriftServer::ThriftServer(
    std::shared_ptr<apache::thrift::TProcessor> processor,
    const ServerOptions& options)
    : impl_(std::make_unique<Impl>(std::move(processor), options)) {}

ThriftServer::~ThriftServer() = default;

int ThriftServer::port() const { return impl_->port(); }
void ThriftServer::serve() { impl_->serve(); }
int ThriftServer::serve_until_stop_signal() {
  return impl_->serve_until_stop_signal();
}
void ThriftServer::stop() { impl_->stop(); }

}  // namespace telemetry_shm
