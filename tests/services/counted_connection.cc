#include "services/counted_connection.h"

#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>

#include <thread>

#include "BaseService.h"

namespace services_test {

using apache::thrift::protocol::TBinaryProtocol;
using apache::thrift::transport::TBufferedTransport;
using apache::thrift::transport::TFramedTransport;
using apache::thrift::transport::TMemoryBuffer;
using apache::thrift::transport::TSocket;
using apache::thrift::transport::TTransport;
using telemetry_shm::TransportKind;

Traffic Traffic::operator+(const Traffic& other) const {
  return {bytes_received + other.bytes_received, bytes_sent + other.bytes_sent,
          successful + other.successful, errors + other.errors};
}

Traffic Traffic::operator-(const Traffic& other) const {
  return {bytes_received - other.bytes_received, bytes_sent - other.bytes_sent,
          successful - other.successful, errors - other.errors};
}

bool Traffic::covers(const Traffic& other) const {
  return bytes_received >= other.bytes_received &&
         bytes_sent >= other.bytes_sent && successful >= other.successful &&
         errors >= other.errors;
}

std::ostream& operator<<(std::ostream& out, const Traffic& traffic) {
  return out << "{bytes_received " << traffic.bytes_received << ", bytes_sent "
             << traffic.bytes_sent << ", successful " << traffic.successful
             << ", errors " << traffic.errors << "}";
}

Traffic counters_of(const telemetry::TelemetrySnapshot& snapshot) {
  const auto value = [&](telemetry::TelemetryCounter::type key) {
    auto it = snapshot.counters.find(key);
    return it == snapshot.counters.end() ? 0
                                         : static_cast<uint64_t>(it->second);
  };
  using telemetry::TelemetryCounter;
  return {value(TelemetryCounter::BYTES_RECEIVED),
          value(TelemetryCounter::BYTES_SENT),
          value(TelemetryCounter::SUCCESSFUL_REQUESTS),
          value(TelemetryCounter::ERROR_REQUESTS)};
}

CountedConnection::CountedConnection(
    int port, TransportKind kind, std::chrono::milliseconds receive_timeout) {
  socket_ = std::make_shared<TSocket>("127.0.0.1", port);
  socket_->setRecvTimeout(static_cast<int>(receive_timeout.count()));
  counting_ = std::make_shared<telemetry_shm::CountingTransport>(socket_);
  if (kind == TransportKind::kFramed) {
    transport_ = std::make_shared<TFramedTransport>(counting_);
  } else {
    transport_ = std::make_shared<TBufferedTransport>(counting_);
  }
  protocol_ = std::make_shared<TBinaryProtocol>(transport_);
  transport_->open();
}

CountedConnection::~CountedConnection() { close(); }

Traffic CountedConnection::traffic() const {
  return {counting_->bytes_written(), counting_->bytes_read(), successful_,
          errors_};
}

void CountedConnection::close() {
  if (transport_->isOpen()) transport_->close();
}

Reading read_telemetry(CountedConnection& probe) {
  Reading reading;
  reading.before = probe.traffic();
  telemetry::BaseServiceClient client(probe.protocol());
  probe.expect_success([&] { client.get_telemetry(reading.snapshot); });
  return reading;
}

Growth wait_for_growth(CountedConnection& probe, const Reading& baseline,
                       const Traffic& elsewhere,
                       std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const Traffic start = counters_of(baseline.snapshot);
  const auto measure = [&] {
    const Reading now = read_telemetry(probe);
    return Growth{counters_of(now.snapshot) - start,
                  now.before - baseline.before + elsewhere};
  };
  Growth growth = measure();
  while (!growth.actual.covers(growth.expected) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    growth = measure();
  }
  // One more reading, so that a count published twice or late shows too.
  return measure();
}

std::string encode_empty_call(const std::string& method, TransportKind kind) {
  auto memory = std::make_shared<TMemoryBuffer>();
  std::shared_ptr<TTransport> transport = memory;
  if (kind == TransportKind::kFramed) {
    transport = std::make_shared<TFramedTransport>(memory);
  }
  TBinaryProtocol protocol(transport);
  protocol.writeMessageBegin(method, apache::thrift::protocol::T_CALL, 0);
  protocol.writeStructBegin("args");
  protocol.writeFieldStop();
  protocol.writeStructEnd();
  protocol.writeMessageEnd();
  transport->flush();
  return memory->getBufferAsString();
}

}  // namespace services_test
