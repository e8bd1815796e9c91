#include "telemetry_shm/thrift_counting.h"

#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/protocol/TProtocolDecorator.h>
#include <thrift/transport/TBufferTransports.h>

#include <limits>
#include <stdexcept>
#include <string>

#include "telemetry_shm/counters.h"
#include "telemetry_shm/error.h"

namespace telemetry_shm {
namespace {

using apache::thrift::TProcessor;
using apache::thrift::TProcessorFactory;
using apache::thrift::protocol::TMessageType;
using apache::thrift::protocol::TProtocol;
using apache::thrift::protocol::TProtocolDecorator;
using apache::thrift::protocol::TProtocolFactory;
using apache::thrift::protocol::TType;
using apache::thrift::transport::TBufferedTransport;
using apache::thrift::transport::TFramedTransport;
using apache::thrift::transport::TTransport;
using apache::thrift::transport::TTransportFactory;
using telemetry::TelemetryCounter;

constexpr int32_t kStringLimit = 16 * 1024 * 1024;

// Thrift's default of 512 bytes turns a large reply into hundreds of
// write calls; 16 KiB lets most replies leave in one or a few.
constexpr uint32_t kBufferSize = 16 * 1024;
constexpr int32_t kContainerLimit = 1000 * 1000;

enum class Outcome { kNoReply, kSuccess, kError };

// Watches the replies written through it. A reply is an error when it is a
// T_EXCEPTION message (unknown method, undeclared exception) or when its
// result struct sets a field other than 0, the success field: that is how a
// declared exception travels.
class ReplyWatcher : public TProtocolDecorator {
 public:
  explicit ReplyWatcher(std::shared_ptr<TProtocol> inner)
      : TProtocolDecorator(std::move(inner)) {}

  void begin_call() {
    outcome_ = Outcome::kNoReply;
    depth_ = 0;
  }
  Outcome outcome() const { return outcome_; }

  uint32_t writeMessageBegin_virt(const std::string& name,
                                  const TMessageType type,
                                  const int32_t seqid) override {
    outcome_ = type == apache::thrift::protocol::T_EXCEPTION
                   ? Outcome::kError
                   : Outcome::kSuccess;
    depth_ = 0;
    field_seen_ = false;
    return TProtocolDecorator::writeMessageBegin_virt(name, type, seqid);
  }

  uint32_t writeStructBegin_virt(const char* name) override {
    ++depth_;
    return TProtocolDecorator::writeStructBegin_virt(name);
  }

  uint32_t writeStructEnd_virt() override {
    --depth_;
    return TProtocolDecorator::writeStructEnd_virt();
  }

  uint32_t writeFieldBegin_virt(const char* name, const TType type,
                                const int16_t id) override {
    if (depth_ == 1 && !field_seen_) {
      field_seen_ = true;
      if (id != 0 && outcome_ == Outcome::kSuccess) outcome_ = Outcome::kError;
    }
    return TProtocolDecorator::writeFieldBegin_virt(name, type, id);
  }

 private:
  Outcome outcome_ = Outcome::kNoReply;
  int depth_ = 0;
  bool field_seen_ = false;
};

class ReplyWatcherFactory : public TProtocolFactory {
 public:
  explicit ReplyWatcherFactory(std::shared_ptr<TProtocolFactory> inner)
      : inner_(std::move(inner)) {}

  std::shared_ptr<TProtocol> getProtocol(
      std::shared_ptr<TTransport> transport) override {
    return std::make_shared<ReplyWatcher>(inner_->getProtocol(transport));
  }

 private:
  std::shared_ptr<TProtocolFactory> inner_;
};

std::shared_ptr<TTransport> wrap_transport(std::shared_ptr<TTransport> inner,
                                           TransportKind kind) {
  if (kind == TransportKind::kFramed) {
    return std::make_shared<TFramedTransport>(std::move(inner));
  }
  return std::make_shared<TBufferedTransport>(std::move(inner), kBufferSize,
                                              kBufferSize);
}

// Puts a CountingTransport between the client's socket and the buffering
// or framing, so that what is counted is what crossed the wire.
class CountingTransportFactory : public TTransportFactory {
 public:
  explicit CountingTransportFactory(TransportKind kind) : kind_(kind) {}

  std::shared_ptr<TTransport> getTransport(
      std::shared_ptr<TTransport> client) override {
    auto counting = std::make_shared<CountingTransport>(std::move(client));
    return wrap_transport(std::move(counting), kind_);
  }

 private:
  TransportKind kind_;
};

// The same buffering or framing without counting, for comparison and for
// servers that do not count their own requests.
class PlainTransportFactory : public TTransportFactory {
 public:
  explicit PlainTransportFactory(TransportKind kind) : kind_(kind) {}

  std::shared_ptr<TTransport> getTransport(
      std::shared_ptr<TTransport> client) override {
    return wrap_transport(std::move(client), kind_);
  }

 private:
  TransportKind kind_;
};

// Counts the calls of one connection and publishes their bytes.
class CountingProcessor : public TProcessor {
 public:
  CountingProcessor(std::shared_ptr<TProcessor> inner,
                    std::shared_ptr<CountingTransport> in,
                    std::shared_ptr<CountingTransport> out,
                    std::shared_ptr<ReplyWatcher> watcher)
      : inner_(std::move(inner)),
        in_(std::move(in)),
        out_(std::move(out)),
        watcher_(std::move(watcher)) {}

  bool process(std::shared_ptr<TProtocol> in, std::shared_ptr<TProtocol> out,
               void* context) override {
    watcher_->begin_call();
    bool keep_going = false;
    try {
      keep_going = inner_->process(in, out, context);
    } catch (...) {
      // A failure before any byte of a new call arrived is a client that
      // closed its connection or stayed idle: not a request.
      const bool started = in_->bytes_read() > published_in_;
      publish(started ? Outcome::kError : Outcome::kNoReply);
      throw;
    }
    const Outcome outcome = watcher_->outcome();
    // A oneway call writes no reply; it was dispatched, so it succeeded.
    publish(outcome == Outcome::kNoReply ? Outcome::kSuccess : outcome);
    return keep_going;
  }

 private:
  void publish(Outcome outcome) {
    const uint64_t read = in_->bytes_read();
    const uint64_t written = out_->bytes_written();
    increment_counter(TelemetryCounter::BYTES_RECEIVED,
                      static_cast<int64_t>(read - published_in_));
    increment_counter(TelemetryCounter::BYTES_SENT,
                      static_cast<int64_t>(written - published_out_));
    published_in_ = read;
    published_out_ = written;
    if (outcome == Outcome::kSuccess) {
      increment_counter(TelemetryCounter::SUCCESSFUL_REQUESTS, 1);
    } else if (outcome == Outcome::kError) {
      increment_counter(TelemetryCounter::ERROR_REQUESTS, 1);
    }
  }

  std::shared_ptr<TProcessor> inner_;
  std::shared_ptr<CountingTransport> in_;
  std::shared_ptr<CountingTransport> out_;
  std::shared_ptr<ReplyWatcher> watcher_;
  uint64_t published_in_ = 0;
  uint64_t published_out_ = 0;
};

std::shared_ptr<CountingTransport> counting_below(
    const std::shared_ptr<TTransport>& top) {
  std::shared_ptr<TTransport> below;
  if (auto buffered = std::dynamic_pointer_cast<TBufferedTransport>(top)) {
    below = buffered->getUnderlyingTransport();
  } else if (auto framed = std::dynamic_pointer_cast<TFramedTransport>(top)) {
    below = framed->getUnderlyingTransport();
  }
  return std::dynamic_pointer_cast<CountingTransport>(below);
}

class CountingProcessorFactory : public TProcessorFactory {
 public:
  explicit CountingProcessorFactory(std::shared_ptr<TProcessor> inner)
      : inner_(std::move(inner)) {}

  std::shared_ptr<TProcessor> getProcessor(
      const apache::thrift::TConnectionInfo& info) override {
    auto in = counting_below(info.input->getTransport());
    auto out = counting_below(info.output->getTransport());
    auto watcher = std::dynamic_pointer_cast<ReplyWatcher>(info.output);
    if (!in || !out || !watcher) {
      throw std::logic_error(
          "request counting needs the transport and protocol factories "
          "that instrument() returns");
    }
    return std::make_shared<CountingProcessor>(
        inner_, std::move(in), std::move(out), std::move(watcher));
  }

 private:
  std::shared_ptr<TProcessor> inner_;
};

}  // namespace

TransportKind parse_transport_kind(std::string_view text) {
  if (text == "buffered") return TransportKind::kBuffered;
  if (text == "framed") return TransportKind::kFramed;
  throw TelemetryError(ErrorCode::kInvalidArgument,
                       "transport must be 'buffered' or 'framed', not '" +
                           std::string(text) + "'");
}

std::shared_ptr<TProtocolFactory> make_protocol_factory() {
  using Factory = apache::thrift::protocol::TBinaryProtocolFactoryT<
      apache::thrift::transport::TBufferBase>;
  return std::make_shared<Factory>(kStringLimit, kContainerLimit,
                                   /*strict_read=*/true,
                                   /*strict_write=*/true);
}

ServerParts instrument(std::shared_ptr<TProcessor> processor,
                       TransportKind kind, bool count) {
  ServerParts parts;
  parts.input_protocol_factory = make_protocol_factory();
  if (!count) {
    parts.processor_factory =
        std::make_shared<apache::thrift::TSingletonProcessorFactory>(
            std::move(processor));
    parts.transport_factory = std::make_shared<PlainTransportFactory>(kind);
    parts.output_protocol_factory = parts.input_protocol_factory;
    return parts;
  }
  parts.processor_factory =
      std::make_shared<CountingProcessorFactory>(std::move(processor));
  parts.transport_factory = std::make_shared<CountingTransportFactory>(kind);
  parts.output_protocol_factory =
      std::make_shared<ReplyWatcherFactory>(parts.input_protocol_factory);
  return parts;
}

CountingTransport::CountingTransport(std::shared_ptr<TTransport> inner)
    : inner_(std::move(inner)) {}

bool CountingTransport::isOpen() const { return inner_->isOpen(); }
bool CountingTransport::peek() { return inner_->peek(); }
void CountingTransport::open() { inner_->open(); }
void CountingTransport::close() { inner_->close(); }

uint32_t CountingTransport::read(uint8_t* buf, uint32_t len) {
  const uint32_t n = inner_->read(buf, len);
  bytes_read_ += n;
  return n;
}

void CountingTransport::write(const uint8_t* buf, uint32_t len) {
  inner_->write(buf, len);
  bytes_written_ += len;
}

void CountingTransport::flush() { inner_->flush(); }

telemetry::TelemetrySnapshot to_thrift(Snapshot snapshot) {
  telemetry::TelemetrySnapshot out;
  const auto& known = telemetry::_TelemetryCounter_VALUES_TO_NAMES;
  constexpr auto kMax =
      static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  out.all_counters.reserve(snapshot.counters.size());
  for (CounterReading& counter : snapshot.counters) {
    const auto value = static_cast<int64_t>(std::min(counter.value, kMax));
    if (known.count(counter.key) != 0) {
      out.counters[static_cast<TelemetryCounter::type>(counter.key)] = value;
    }
    telemetry::CounterValue& item = out.all_counters.emplace_back();
    item.key = counter.key;
    item.name = std::move(counter.name);
    item.value = value;
  }
  out.snapshot_timestamp_ms = snapshot.taken_ms;
  out.service_name = std::move(snapshot.service_name);
  out.instance_id = std::move(snapshot.instance_id);
  out.start_time_ms = snapshot.start_time_ms;
  out.generation = static_cast<int64_t>(snapshot.generation);
  out.alive = is_alive(snapshot.liveness);
  return out;
}

}  // namespace telemetry_shm
