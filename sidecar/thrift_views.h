// Conversions from what the sidecar read (ServiceReading) to the Thrift
// structures of sidecar.thrift, shared by the sidecar and telemetry_stat.
//
// Thread safety: plain functions over values; safe from any thread.
#ifndef SIDECAR_THRIFT_VIEWS_H_
#define SIDECAR_THRIFT_VIEWS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "host_view.h"
#include "sidecar_types.h"

namespace sidecar {

telemetry::sidecar::InstanceInfo to_instance_info(
    const telemetry_shm::Snapshot& snapshot, const std::string& segment_path);

// Both take their readings by value: pass rvalues to move the names
// instead of copying them.
telemetry::sidecar::ServiceTelemetry to_service_telemetry(
    ServiceReading reading);

// The whole host, as read at one moment.
telemetry::sidecar::SidecarTelemetry to_sidecar_telemetry(
    std::vector<ServiceReading> readings, int64_t start_time_ms,
    const std::string& telemetry_dir);

// Every service and instance of `view` with liveness, read now.
std::vector<telemetry::sidecar::ServiceInfo> list_services(
    const HostView& view);

int64_t clamp_to_i64(uint64_t value);

int64_t unix_now_ms();

}  // namespace sidecar

#endif  // SIDECAR_THRIFT_VIEWS_H_
