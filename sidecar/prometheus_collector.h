// SegmentCollector: the sidecar's Prometheus metrics, read from the
// segments at scrape time.
//
//   telemetry_<counter>_total{service, service_instance}  one counter per
//       stored counter name (lower case), per instance whose segment is
//       present; service_instance="(retired)" holds the final counts of the
//       service's removed segments, so a sum over a service never drops.
//   telemetry_instance_up{service, service_instance}  1 while alive, else 0
//   telemetry_instance_generation{...}  processes that counted so far
//   telemetry_instance_start_time_seconds{...}  start of the current process
//
// The label is service_instance, not instance: Prometheus sets its own
// "instance" label on every scraped series. Values are doubles, exact up to
// 2^53.
//
// Thread safety: Collect() may run on several threads at once.
#ifndef SIDECAR_PROMETHEUS_COLLECTOR_H_
#define SIDECAR_PROMETHEUS_COLLECTOR_H_

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <vector>

#include "handlers.h"

namespace sidecar {

inline constexpr char kRetiredInstanceLabel[] = "(retired)";

// The families for `readings`, sorted by name.
std::vector<prometheus::MetricFamily> metric_families(
    const std::vector<ServiceReading>& readings);

class SegmentCollector : public prometheus::Collectable {
 public:
  explicit SegmentCollector(ViewSource source);

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  ViewSource source_;
};

}  // namespace sidecar

#endif  // SIDECAR_PROMETHEUS_COLLECTOR_H_
