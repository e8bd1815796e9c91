// Client-side bookkeeping for the tests that check a service's counters
// against what its clients really did.
//
// A CountedConnection is one Thrift connection to a service whose socket is
// wrapped in a telemetry_shm::CountingTransport, below the buffering or
// framing, so it counts the bytes that crossed the wire. Calls made through
// expect_success() and expect_error() also record their outcome. traffic()
// then says what the server must have counted for this connection.
//
// Thread safety: one connection belongs to one thread at a time.
#ifndef TESTS_SERVICES_COUNTED_CONNECTION_H_
#define TESTS_SERVICES_COUNTED_CONNECTION_H_

#include <gtest/gtest.h>
#include <thrift/TApplicationException.h>
#include <thrift/protocol/TProtocol.h>
#include <thrift/transport/TSocket.h>
#include <thrift/transport/TTransportException.h>

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>

#include "telemetry_shm/thrift_counting.h"
#include "telemetry_types.h"

namespace services_test {

// The four counters of a service, or the amounts they should grow by.
struct Traffic {
  uint64_t bytes_received = 0;  // by the server: what clients wrote
  uint64_t bytes_sent = 0;      // by the server: what clients read
  uint64_t successful = 0;
  uint64_t errors = 0;

  Traffic operator+(const Traffic& other) const;
  Traffic operator-(const Traffic& other) const;
  bool operator==(const Traffic& other) const = default;
  // True when every counter is at least the one in `other`.
  bool covers(const Traffic& other) const;
};

std::ostream& operator<<(std::ostream& out, const Traffic& traffic);

// The four counters of a snapshot; missing keys count as 0.
Traffic counters_of(const telemetry::TelemetrySnapshot& snapshot);

class CountedConnection {
 public:
  // Connects to 127.0.0.1:`port` with `kind` transport. Every read waits
  // at most `receive_timeout`, so a server that never answers fails the
  // call instead of hanging the test. Throws TTransportException when the
  // connection cannot be made.
  CountedConnection(
      int port, telemetry_shm::TransportKind kind,
      std::chrono::milliseconds receive_timeout = std::chrono::seconds(120));
  ~CountedConnection();

  // The protocol to build generated clients on.
  std::shared_ptr<apache::thrift::protocol::TProtocol> protocol() const {
    return protocol_;
  }

  // Runs `call`, one Thrift call on this connection, expecting a normal
  // reply.
  template <typename Call>
  void expect_success(Call&& call);

  // Runs `call`, expecting the server to answer with an `Exception`, and
  // returns it.
  template <typename Exception, typename Call>
  Exception expect_error(Call&& call);

  // Counts one more call answered normally or with an error, for calls made
  // without the helpers above.
  void record_success() { ++successful_; }
  void record_error() { ++errors_; }

  // What the server should have counted for this connection so far.
  Traffic traffic() const;

  void close();

 private:
  std::shared_ptr<apache::thrift::transport::TSocket> socket_;
  std::shared_ptr<telemetry_shm::CountingTransport> counting_;
  std::shared_ptr<apache::thrift::transport::TTransport> transport_;
  std::shared_ptr<apache::thrift::protocol::TProtocol> protocol_;
  uint64_t successful_ = 0;
  uint64_t errors_ = 0;
};

// One get_telemetry() call and what the probing connection had done before
// it. The snapshot leaves that call out, so `before` is what it covers of
// the probing connection.
struct Reading {
  telemetry::TelemetrySnapshot snapshot;
  Traffic before;
};

// Calls get_telemetry() on `probe`, which must be connected to a service.
Reading read_telemetry(CountedConnection& probe);

// What the counters grew by since `baseline` and what they should have
// grown by.
struct Growth {
  Traffic actual;
  Traffic expected;
};

// Reads the counters through `probe` until they have grown since
// `baseline` by at least the probe's own traffic plus `elsewhere` (the
// traffic of every other connection since), or until `timeout`, then
// reads them once more and returns that last reading. The wait covers
// counts that other connections publish just after their replies arrive;
// the caller then asserts that the growth is exact.
Growth wait_for_growth(
    CountedConnection& probe, const Reading& baseline, const Traffic& elsewhere,
    std::chrono::milliseconds timeout = std::chrono::seconds(60));

// A complete, valid call message of `method` with an empty argument
// struct, as `kind` puts it on the wire.
std::string encode_empty_call(const std::string& method,
                              telemetry_shm::TransportKind kind);

template <typename Call>
void CountedConnection::expect_success(Call&& call) {
  call();
  ++successful_;
}

template <typename Exception, typename Call>
Exception CountedConnection::expect_error(Call&& call) {
  try {
    call();
  } catch (const Exception& error) {
    ++errors_;
    return error;
  }
  ADD_FAILURE() << "the call returned normally; expected an exception";
  return Exception();
}

}  // namespace services_test

#endif  // TESTS_SERVICES_COUNTED_CONNECTION_H_
