#include "host_view.h"

#include <chrono>
#include <mutex>

#include "telemetry_shm/error.h"

namespace sidecar {

std::shared_ptr<const HostView> ViewHolder::get() const {
  std::shared_lock lock(mutex_);
  return view_;
}

void ViewHolder::set(std::shared_ptr<const HostView> view) {
  std::unique_lock lock(mutex_);
  view_ = std::move(view);
}

namespace {

// The follower logs why a read failed, or why the names changed, on its
// next scan.
telemetry_shm::Snapshot read_instance(const InstanceView& instance) {
  try {
    telemetry_shm::Snapshot snap = instance.reader->snapshot();
    if (snap.service_name == instance.last_good.service_name &&
        snap.instance_id == instance.last_good.instance_id) {
      return snap;
    }
  } catch (const telemetry_shm::TelemetryError&) {
    // Falls back to the last good read below.
  }
  return instance.last_good;
}

}  // namespace

ServiceReading read_service(const std::string& service_name,
                            const ServiceView& service) {
  ServiceReading reading;
  reading.service_name = service_name;
  reading.retired = service.retired;
  reading.instances.reserve(service.instances.size());
  for (const auto& instance : service.instances) {
    reading.instances.push_back(read_instance(instance));
  }
  reading.total =
      service_total(service_name, reading.instances, reading.retired);
  reading.total.taken_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count();
  return reading;
}

std::vector<ServiceReading> read_host(const HostView& view) {
  std::vector<ServiceReading> readings;
  readings.reserve(view.services.size());
  for (const auto& [name, service] : view.services) {
    readings.push_back(read_service(name, service));
  }
  return readings;
}

}  // namespace sidecar
