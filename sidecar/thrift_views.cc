#include "thrift_views.h"

#include <chrono>
#include <limits>

#include "telemetry_shm/error.h"
#include "telemetry_shm/thrift_counting.h"

namespace sidecar {

namespace ts = telemetry::sidecar;

int64_t clamp_to_i64(uint64_t value) {
  constexpr auto kMax =
      static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  return static_cast<int64_t>(value > kMax ? kMax : value);
}

int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

ts::InstanceInfo to_instance_info(const telemetry_shm::Snapshot& snapshot,
                                  const std::string& segment_path) {
  ts::InstanceInfo info;
  info.service_name = snapshot.service_name;
  info.instance_id = snapshot.instance_id;
  info.alive = telemetry_shm::is_alive(snapshot.liveness);
  info.liveness = telemetry_shm::to_string(snapshot.liveness);
  info.start_time_ms = snapshot.start_time_ms;
  info.generation = clamp_to_i64(snapshot.generation);
  info.segment_path = segment_path;
  return info;
}

ts::ServiceTelemetry to_service_telemetry(ServiceReading reading) {
  ts::ServiceTelemetry out;
  out.service_name = std::move(reading.service_name);
  out.total = telemetry_shm::to_thrift(std::move(reading.total));
  out.instances.reserve(reading.instances.size());
  for (auto& instance : reading.instances) {
    out.instances.push_back(telemetry_shm::to_thrift(std::move(instance)));
  }
  for (const auto& counter : reading.retired) {
    out.retired[counter.name] = clamp_to_i64(counter.value);
  }
  return out;
}

ts::SidecarTelemetry to_sidecar_telemetry(std::vector<ServiceReading> readings,
                                          int64_t start_time_ms,
                                          const std::string& telemetry_dir) {
  ts::SidecarTelemetry out;
  out.snapshot_timestamp_ms = unix_now_ms();
  out.sidecar_start_time_ms = start_time_ms;
  out.telemetry_dir = telemetry_dir;
  out.services.reserve(readings.size());
  for (auto& reading : readings) {
    out.services.push_back(to_service_telemetry(std::move(reading)));
  }
  return out;
}

namespace {

telemetry_shm::Snapshot liveness_now(const InstanceView& instance) {
  telemetry_shm::Snapshot snap = instance.last_good;
  try {
    snap.liveness = instance.reader->liveness();
  } catch (const telemetry_shm::TelemetryError&) {
    // Keep the follower's last reading.
  }
  return snap;
}

}  // namespace

std::vector<ts::ServiceInfo> list_services(const HostView& view) {
  std::vector<ts::ServiceInfo> services;
  for (const auto& [name, service] : view.services) {
    ts::ServiceInfo info;
    info.service_name = name;
    info.alive = false;
    for (const auto& instance : service.instances) {
      auto one =
          to_instance_info(liveness_now(instance), instance.reader->path());
      info.alive = info.alive || one.alive;
      info.instances.push_back(std::move(one));
    }
    services.push_back(std::move(info));
  }
  return services;
}

}  // namespace sidecar
