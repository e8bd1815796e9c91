#include "handlers.h"

#include <fmt/format.h>

#include "counter_names.h"
#include "telemetry_shm/thrift_counting.h"
#include "thrift_views.h"

namespace sidecar {

ServiceTotalHandler::ServiceTotalHandler(std::string service_name,
                                         ViewSource source,
                                         SidecarIdentity identity)
    : service_name_(std::move(service_name)),
      source_(std::move(source)),
      identity_(std::move(identity)) {}

void ServiceTotalHandler::describe(telemetry::ServiceMetadata& result) {
  result.service_name = service_name_;
  result.instance_id = "";
  result.version = identity_.version;
  result.start_time_ms = identity_.start_time_ms;
  result.methods = {"describe", "get_telemetry"};
}

void ServiceTotalHandler::get_telemetry(telemetry::TelemetrySnapshot& result) {
  const std::shared_ptr<const HostView> view = source_();
  auto it = view->services.find(service_name_);
  if (it == view->services.end()) {
    telemetry::TelemetryUnavailable error;
    error.message =
        fmt::format("the sidecar has no segment of service {}", service_name_);
    throw error;
  }
  result = telemetry_shm::to_thrift(read_service(it->first, it->second).total);
}

SidecarHandler::SidecarHandler(ViewSource source, SidecarIdentity identity)
    : source_(std::move(source)), identity_(std::move(identity)) {}

void SidecarHandler::list_services(
    std::vector<telemetry::sidecar::ServiceInfo>& result) {
  result = sidecar::list_services(*source_());
}

void SidecarHandler::get_all_telemetry(
    telemetry::sidecar::SidecarTelemetry& result) {
  result = to_sidecar_telemetry(read_host(*source_()), identity_.start_time_ms,
                                identity_.telemetry_dir);
}

CounterHandler::CounterHandler(ViewSource source, SidecarIdentity identity)
    : source_(std::move(source)), identity_(std::move(identity)) {}

std::map<std::string, int64_t> CounterHandler::all_counters() const {
  return counter_map(read_host(*source_()));
}

void CounterHandler::getCounters(std::map<std::string, int64_t>& result) {
  result = all_counters();
}

int64_t CounterHandler::getCounter(const std::string& key) {
  const auto all = all_counters();
  auto it = all.find(key);
  return it == all.end() ? 0 : it->second;
}

void CounterHandler::getSelectedCounters(std::map<std::string, int64_t>& result,
                                         const std::vector<std::string>& keys) {
  result = select_named(all_counters(), keys);
}

void CounterHandler::getRegexCounters(std::map<std::string, int64_t>& result,
                                      const std::string& regex) {
  try {
    result = select_matching(all_counters(), regex);
  } catch (const BadPattern& e) {
    telemetry::sidecar::InvalidRegex error;
    error.pattern = regex;
    error.message = e.what();
    throw error;
  }
}

int64_t CounterHandler::aliveSince() { return identity_.start_time_ms / 1000; }

std::shared_ptr<apache::thrift::TProcessor> make_service_processor(
    const std::string& service_name, ViewSource source,
    const SidecarIdentity& identity) {
  return std::make_shared<telemetry::BaseServiceProcessor>(
      std::make_shared<ServiceTotalHandler>(service_name, std::move(source),
                                            identity));
}

}  // namespace sidecar
