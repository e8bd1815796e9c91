#include "services/common/base_service_handler.h"

#include <utility>

#include "telemetry_shm/error.h"
#include "telemetry_shm/telemetry_manager.h"
#include "telemetry_shm/thrift_counting.h"

namespace services {
namespace {

[[noreturn]] void throw_unavailable(std::string message) {
  telemetry::TelemetryUnavailable error;
  error.message = std::move(message);
  throw error;
}

}  // namespace

std::vector<std::string> base_service_methods() {
  return {"describe", "get_telemetry"};
}

BaseServiceHandler::BaseServiceHandler(ServiceIdentity identity,
                                       std::vector<std::string> methods)
    : identity_(std::move(identity)), methods_(std::move(methods)) {}

void BaseServiceHandler::describe(telemetry::ServiceMetadata& metadata) {
  metadata.service_name = identity_.service_name;
  metadata.instance_id = identity_.instance_id;
  metadata.version = identity_.version;
  metadata.start_time_ms = identity_.start_time_ms;
  metadata.methods = methods_;
}

void BaseServiceHandler::get_telemetry(telemetry::TelemetrySnapshot& snapshot) {
  if (!identity_.counting) {
    throw_unavailable(identity_.service_name +
                      " counts nothing: counting is off (--no-telemetry)");
  }
  auto& manager = telemetry_shm::TelemetryManager::instance();
  if (!manager.started()) {
    throw_unavailable(identity_.service_name +
                      " has not started counting: no segment is open");
  }
  try {
    snapshot = telemetry_shm::to_thrift(manager.snapshot());
  } catch (const telemetry_shm::TelemetryError& error) {
    throw_unavailable(error.what());
  }
}

}  // namespace services
