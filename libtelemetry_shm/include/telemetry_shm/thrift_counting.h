// Automatic request counting for any Thrift C++ server.
//
// instrument() wraps a server's processor, transports and protocols so that
// every request is counted without touching the handlers:
//
//   BYTES_RECEIVED, BYTES_SENT  the bytes read from and written to the
//       client's socket, below any buffering or framing, garbage included.
//   SUCCESSFUL_REQUESTS  a call whose reply carries no exception (or a
//       oneway call that was dispatched).
//   ERROR_REQUESTS  a call answered with a declared exception, with an
//       undeclared one, an unknown method name, or a message that could not
//       be parsed. A client that closes its connection, or stays idle until
//       the receive timeout, between two calls is not a request.
//
// A call's bytes and its outcome are published together, after its reply
// has been written, so a snapshot taken inside a handler never includes the
// call being served.
//
// Thread safety: the factories may be shared by every connection of a
// server. A CountingTransport belongs to one connection.
#ifndef TELEMETRY_SHM_THRIFT_COUNTING_H_
#define TELEMETRY_SHM_THRIFT_COUNTING_H_

#include <thrift/TProcessor.h>
#include <thrift/protocol/TProtocol.h>
#include <thrift/transport/TTransport.h>
#include <thrift/transport/TVirtualTransport.h>

#include <cstdint>
#include <memory>
#include <string_view>

#include "telemetry_shm/snapshot.h"
#include "telemetry_types.h"

namespace telemetry_shm {

enum class TransportKind { kBuffered, kFramed };

// Parses "buffered" or "framed"; throws TelemetryError(kInvalidArgument)
// naming the bad value otherwise.
TransportKind parse_transport_kind(std::string_view text);

// Everything a TServerFramework server (TThreadPoolServer, TThreadedServer,
// TSimpleServer) needs besides its server socket.
struct ServerParts {
  std::shared_ptr<apache::thrift::TProcessorFactory> processor_factory;
  std::shared_ptr<apache::thrift::transport::TTransportFactory>
      transport_factory;
  std::shared_ptr<apache::thrift::protocol::TProtocolFactory>
      input_protocol_factory;
  std::shared_ptr<apache::thrift::protocol::TProtocolFactory>
      output_protocol_factory;
};

// Builds the parts for `processor` over `kind` transports with the binary
// protocol (strict, with string and container limits so that a hostile
// length cannot make the server allocate gigabytes). With `count` false the
// same stack is built without any counting, for comparison.
ServerParts instrument(std::shared_ptr<apache::thrift::TProcessor> processor,
                       TransportKind kind, bool count = true);

// The binary protocol factory used by instrument(): strict reads and
// writes, strings up to 16 MiB, containers up to 1,000,000 elements. Its
// protocols work on a TBufferBase transport (buffered or framed) directly,
// and through virtual calls on any other transport.
std::shared_ptr<apache::thrift::protocol::TProtocolFactory>
make_protocol_factory();

// A transport that passes everything to `inner` and counts the bytes that
// went through. It publishes nothing by itself: the server side publishes
// its totals after each call, and a client may use it to count its own.
class CountingTransport
    : public apache::thrift::transport::TVirtualTransport<CountingTransport> {
 public:
  explicit CountingTransport(
      std::shared_ptr<apache::thrift::transport::TTransport> inner);

  bool isOpen() const override;
  bool peek() override;
  void open() override;
  void close() override;
  uint32_t read(uint8_t* buf, uint32_t len);
  void write(const uint8_t* buf, uint32_t len);
  void flush() override;

  uint64_t bytes_read() const { return bytes_read_; }
  uint64_t bytes_written() const { return bytes_written_; }

 private:
  std::shared_ptr<apache::thrift::transport::TTransport> inner_;
  uint64_t bytes_read_ = 0;
  uint64_t bytes_written_ = 0;
};

// The Thrift form of a snapshot: known keys in `counters`, every stored
// counter in `all_counters`, values above INT64_MAX clamped to it. Pass an
// rvalue to move the names instead of copying them.
telemetry::TelemetrySnapshot to_thrift(Snapshot snapshot);

}  // namespace telemetry_shm

#endif  // TELEMETRY_SHM_THRIFT_COUNTING_H_
