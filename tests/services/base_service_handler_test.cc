#include "services/common/base_service_handler.h"

#include <gtest/gtest.h>

#include "common/process.h"
#include "services/item/item_handler.h"
#include "telemetry_shm/counters.h"
#include "telemetry_shm/telemetry_manager.h"

namespace services {
namespace {

ServiceIdentity identity(bool counting) {
  return ServiceIdentity{"ItemService", "handler-test", "1.2.3", 1234,
                         counting};
}

std::string unavailable_message(BaseServiceHandler& handler) {
  telemetry::TelemetrySnapshot snapshot;
  try {
    handler.get_telemetry(snapshot);
  } catch (const telemetry::TelemetryUnavailable& error) {
    return error.message;
  }
  return "no exception";
}

TEST(BaseServiceHandlerTest, DescribesTheServiceWithItsMethodsInOrder) {
  ItemHandler handler(identity(true));
  telemetry::ServiceMetadata metadata;
  handler.describe(metadata);
  EXPECT_EQ(metadata.service_name, "ItemService");
  EXPECT_EQ(metadata.instance_id, "handler-test");
  EXPECT_EQ(metadata.version, "1.2.3");
  EXPECT_EQ(metadata.start_time_ms, 1234);
  const std::vector<std::string> methods = {
      "describe",   "get_telemetry", "create_item", "get_item",
      "list_items", "update_item",   "delete_item"};
  EXPECT_EQ(metadata.methods, methods);
}

TEST(BaseServiceHandlerTest, RefusesTelemetryWhenCountingIsOff) {
  ItemHandler handler(identity(false));
  EXPECT_EQ(unavailable_message(handler),
            "ItemService counts nothing: counting is off (--no-telemetry)");
}

TEST(BaseServiceHandlerTest, RefusesTelemetryBeforeCountingStarts) {
  ItemHandler handler(identity(true));
  ASSERT_FALSE(telemetry_shm::TelemetryManager::instance().started());
  EXPECT_EQ(unavailable_message(handler),
            "ItemService has not started counting: no segment is open");
}

TEST(BaseServiceHandlerTest, ReportsTheCountersOfTheRunningManager) {
  test_support::TempDir dir;
  telemetry_shm::ManagerOptions options;
  options.service_name = "ItemService";
  options.instance_id = "handler-test";
  options.directory = dir.path();
  auto& manager = telemetry_shm::TelemetryManager::instance();
  manager.start(options);
  // Counts made earlier in this process are published at start.
  const uint64_t before =
      manager.snapshot().value(telemetry::TelemetryCounter::ERROR_REQUESTS);
  telemetry_shm::increment_counter(telemetry::TelemetryCounter::ERROR_REQUESTS,
                                   3);

  ItemHandler handler(identity(true));
  telemetry::TelemetrySnapshot snapshot;
  handler.get_telemetry(snapshot);
  manager.stop();

  EXPECT_EQ(snapshot.service_name, "ItemService");
  EXPECT_EQ(snapshot.instance_id, "handler-test");
  EXPECT_TRUE(snapshot.alive);
  EXPECT_EQ(snapshot.counters[telemetry::TelemetryCounter::ERROR_REQUESTS],
            static_cast<int64_t>(before + 3));
}

}  // namespace
}  // namespace services
