#include "dispatcher.h"

#include <gtest/gtest.h>
#include <thrift/TApplicationException.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/protocol/TMultiplexedProtocol.h>
#include <thrift/transport/TBufferTransports.h>

#include <atomic>
#include <thread>

#include "handlers.h"

namespace sidecar_test {
namespace {

using apache::thrift::TApplicationException;
using apache::thrift::protocol::TBinaryProtocol;
using apache::thrift::protocol::TMultiplexedProtocol;
using apache::thrift::protocol::TProtocol;
using apache::thrift::transport::TMemoryBuffer;

// A client and a dispatcher joined by two memory buffers: each call is
// written, processed, then its reply read.
class Loopback {
 public:
  explicit Loopback(std::shared_ptr<sidecar::Dispatcher> dispatcher)
      : dispatcher_(std::move(dispatcher)),
        requests_(std::make_shared<TMemoryBuffer>()),
        replies_(std::make_shared<TMemoryBuffer>()),
        request_protocol_(std::make_shared<TBinaryProtocol>(requests_)),
        reply_protocol_(std::make_shared<TBinaryProtocol>(replies_)) {}

  std::shared_ptr<TProtocol> to(const std::string& service) {
    if (service.empty()) return request_protocol_;
    return std::make_shared<TMultiplexedProtocol>(request_protocol_, service);
  }
  std::shared_ptr<TProtocol> replies() { return reply_protocol_; }

  void process() {
    ASSERT_TRUE(
        dispatcher_->process(request_protocol_, reply_protocol_, nullptr));
  }

 private:
  std::shared_ptr<sidecar::Dispatcher> dispatcher_;
  std::shared_ptr<TMemoryBuffer> requests_;
  std::shared_ptr<TMemoryBuffer> replies_;
  std::shared_ptr<TProtocol> request_protocol_;
  std::shared_ptr<TProtocol> reply_protocol_;
};

sidecar::ViewSource empty_view() {
  auto view = std::make_shared<const sidecar::HostView>();
  return [view] { return view; };
}

const sidecar::SidecarIdentity kIdentity{"test", 5000, "/nowhere"};

std::shared_ptr<sidecar::Dispatcher> dispatcher_for(
    std::shared_ptr<sidecar::ServiceRegistry> registry) {
  auto counters = std::make_shared<telemetry::sidecar::CounterServiceProcessor>(
      std::make_shared<sidecar::CounterHandler>(empty_view(), kIdentity));
  return std::make_shared<sidecar::Dispatcher>(registry, counters);
}

std::string describe_through(Loopback& loop, const std::string& service) {
  telemetry::BaseServiceClient client(loop.replies(), loop.to(service));
  client.send_describe();
  loop.process();
  telemetry::ServiceMetadata metadata;
  client.recv_describe(metadata);
  return metadata.service_name;
}

TEST(DispatcherTest, RoutesEachServiceToItsProcessor) {
  auto registry = std::make_shared<sidecar::ServiceRegistry>();
  for (const char* name : {"ItemService", "PlayerService"}) {
    registry->add(
        name, sidecar::make_service_processor(name, empty_view(), kIdentity));
  }
  Loopback loop(dispatcher_for(registry));
  EXPECT_EQ(describe_through(loop, "PlayerService"), "PlayerService");
  EXPECT_EQ(describe_through(loop, "ItemService"), "ItemService");
}

TEST(DispatcherTest, UnknownServiceGetsExceptionNamingItAndKeepsServing) {
  auto registry = std::make_shared<sidecar::ServiceRegistry>();
  registry->add("ItemService", sidecar::make_service_processor(
                                   "ItemService", empty_view(), kIdentity));
  Loopback loop(dispatcher_for(registry));
  try {
    describe_through(loop, "NoSuchService");
    FAIL() << "a call to an unknown service was answered";
  } catch (const TApplicationException& e) {
    EXPECT_EQ(e.getType(), TApplicationException::UNKNOWN_METHOD);
    EXPECT_NE(std::string(e.what()).find("NoSuchService"), std::string::npos);
  }
  EXPECT_EQ(describe_through(loop, "ItemService"), "ItemService");
}

TEST(DispatcherTest, PlainCallsReachTheDefaultService) {
  Loopback loop(dispatcher_for(std::make_shared<sidecar::ServiceRegistry>()));
  telemetry::sidecar::CounterServiceClient client(loop.replies(), loop.to(""));
  client.send_aliveSince();
  loop.process();
  EXPECT_EQ(client.recv_aliveSince(), 5);
}

TEST(DispatcherTest, ServicesAddedWhileServingAreFound) {
  auto registry = std::make_shared<sidecar::ServiceRegistry>();
  registry->add("S0",
                sidecar::make_service_processor("S0", empty_view(), kIdentity));
  auto dispatcher = dispatcher_for(registry);
  std::atomic<bool> done{false};
  std::thread adder([&] {
    for (int i = 1; i < 200; ++i) {
      const std::string name = "S" + std::to_string(i);
      registry->add(
          name, sidecar::make_service_processor(name, empty_view(), kIdentity));
    }
    done = true;
  });
  Loopback loop(dispatcher);
  int calls = 0;
  while (!done || calls < 10) {
    EXPECT_EQ(describe_through(loop, "S0"), "S0");
    ++calls;
  }
  adder.join();
  EXPECT_EQ(describe_through(loop, "S199"), "S199");
  EXPECT_EQ(registry->names().size(), 200u);
}

TEST(DispatcherTest, RegistryRefusesDuplicateAndSeparatorNames) {
  sidecar::ServiceRegistry registry;
  auto processor =
      sidecar::make_service_processor("A", empty_view(), kIdentity);
  EXPECT_TRUE(registry.add("A", processor));
  EXPECT_FALSE(registry.add("A", processor));
  EXPECT_FALSE(registry.add("A:B", processor));
  EXPECT_EQ(registry.find("A"), processor);
  EXPECT_EQ(registry.find("B"), nullptr);
}

}  // namespace
}  // namespace sidecar_test
