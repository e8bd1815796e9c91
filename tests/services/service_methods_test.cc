// Requests sent straight to the services' processors in memory: the method
// list each service gives in describe() must match what its processor
// really answers, and hostile field values must be refused cleanly.
#include <gtest/gtest.h>
#include <thrift/TApplicationException.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>

#include <memory>
#include <string>

#include "services/inventory/inventory_handler.h"
#include "services/item/item_handler.h"
#include "services/player/player_handler.h"

namespace services {
namespace {

using apache::thrift::TApplicationException;
using apache::thrift::protocol::TBinaryProtocol;
using apache::thrift::protocol::TMessageType;
using apache::thrift::transport::TMemoryBuffer;

struct ServiceUnderTest {
  std::shared_ptr<BaseServiceHandler> handler;
  std::shared_ptr<apache::thrift::TProcessor> processor;
};

template <typename Handler, typename Processor>
ServiceUnderTest make_service() {
  ServiceIdentity identity{Handler::kServiceName, "methods-test", "0", 0,
                           false};
  auto handler = std::make_shared<Handler>(identity);
  return {handler, std::make_shared<Processor>(handler)};
}

// Sends a call of `method` with an empty argument struct to `processor`.
// Returns the reply's message type; an exception reply is decoded into
// `error`.
TMessageType call(apache::thrift::TProcessor& processor,
                  const std::string& method, TApplicationException& error) {
  auto request = std::make_shared<TMemoryBuffer>();
  auto reply = std::make_shared<TMemoryBuffer>();
  auto in = std::make_shared<TBinaryProtocol>(request);
  auto out = std::make_shared<TBinaryProtocol>(reply);
  in->writeMessageBegin(method, apache::thrift::protocol::T_CALL, 1);
  in->writeStructBegin("args");
  in->writeFieldStop();
  in->writeStructEnd();
  in->writeMessageEnd();

  processor.process(in, out, nullptr);

  std::string name;
  TMessageType type;
  int32_t sequence = 0;
  out->readMessageBegin(name, type, sequence);
  EXPECT_EQ(name, method);
  if (type == apache::thrift::protocol::T_EXCEPTION) error.read(out.get());
  return type;
}

struct ServiceKind {
  const char* name;
  ServiceUnderTest (*make)();
};

void PrintTo(const ServiceKind& kind, std::ostream* out) { *out << kind.name; }

class ServiceMethodsTest : public ::testing::TestWithParam<ServiceKind> {};

TEST_P(ServiceMethodsTest, AnswersEveryMethodThatDescribeLists) {
  const ServiceUnderTest service = GetParam().make();
  telemetry::ServiceMetadata metadata;
  service.handler->describe(metadata);
  ASSERT_GT(metadata.methods.size(), 2u);

  for (const std::string& method : metadata.methods) {
    TApplicationException error;
    EXPECT_EQ(call(*service.processor, method, error),
              apache::thrift::protocol::T_REPLY)
        << method << ": " << error.what();
  }
}

TEST_P(ServiceMethodsTest, AnswersAnUnknownMethodWithAnException) {
  const ServiceUnderTest service = GetParam().make();
  TApplicationException error;
  EXPECT_EQ(call(*service.processor, "no_such_method", error),
            apache::thrift::protocol::T_EXCEPTION);
  EXPECT_EQ(error.getType(), TApplicationException::UNKNOWN_METHOD);
}

TEST(ItemProcessorTest, RefusesARarityNumberThatIsNoRarity) {
  auto request = std::make_shared<TMemoryBuffer>();
  auto reply = std::make_shared<TMemoryBuffer>();
  auto in = std::make_shared<TBinaryProtocol>(request);
  auto out = std::make_shared<TBinaryProtocol>(reply);
  using apache::thrift::protocol::T_I32;
  using apache::thrift::protocol::T_I64;
  using apache::thrift::protocol::T_STRING;
  using apache::thrift::protocol::T_STRUCT;

  // Written by hand: the generated client cannot send a number outside
  // the enum.
  in->writeMessageBegin("create_item", apache::thrift::protocol::T_CALL, 1);
  in->writeStructBegin("create_item_args");
  in->writeFieldBegin("item", T_STRUCT, 1);
  in->writeStructBegin("NewItem");
  in->writeFieldBegin("name", T_STRING, 1);
  in->writeString(std::string("Axe"));
  in->writeFieldEnd();
  in->writeFieldBegin("rarity", T_I32, 3);
  in->writeI32(9);
  in->writeFieldEnd();
  in->writeFieldBegin("price", T_I64, 4);
  in->writeI64(10);
  in->writeFieldEnd();
  in->writeFieldStop();
  in->writeStructEnd();
  in->writeFieldEnd();
  in->writeFieldStop();
  in->writeStructEnd();
  in->writeMessageEnd();

  const ServiceUnderTest service =
      make_service<ItemHandler, game::ItemServiceProcessor>();
  service.processor->process(in, out, nullptr);

  game::ItemServiceClient client(out, in);
  game::Item item;
  try {
    client.recv_create_item(item);
    ADD_FAILURE() << "an item with rarity 9 was created";
  } catch (const game::InvalidInput& error) {
    EXPECT_EQ(error.message,
              "rarity 9 is not a Rarity: expected 1 (COMMON) to 5 "
              "(LEGENDARY)");
  }
}

INSTANTIATE_TEST_SUITE_P(
    Services, ServiceMethodsTest,
    ::testing::Values(
        ServiceKind{"Item",
                    make_service<ItemHandler, game::ItemServiceProcessor>},
        ServiceKind{
            "Inventory",
            make_service<InventoryHandler, game::InventoryServiceProcessor>},
        ServiceKind{"Player",
                    make_service<PlayerHandler, game::PlayerServiceProcessor>}),
    [](const ::testing::TestParamInfo<ServiceKind>& info) {
      return std::string(info.param.name);
    });

}  // namespace
}  // namespace services
