// The sidecar's Prometheus metrics in the text exposition format 0.0.4,
// written straight from the segment readings of one scrape.
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
// "instance" label on every scraped series. Families come sorted by name,
// each with its HELP and TYPE lines and then all of its samples. Counter
// values are written as decimal integers, exact over the whole uint64 range
// (Prometheus itself stores them as doubles, exact up to 2^53).
//
// Thread safety: a plain function over values; safe from any thread.
#ifndef SIDECAR_METRICS_TEXT_H_
#define SIDECAR_METRICS_TEXT_H_

#include <string>
#include <vector>

#include "host_view.h"

namespace sidecar {

inline constexpr char kRetiredInstanceLabel[] = "(retired)";

// The Content-Type of metrics_text()'s output.
inline constexpr char kMetricsContentType[] =
    "text/plain; version=0.0.4; charset=utf-8";

// The exposition of `readings`; empty when there is nothing to show.
std::string metrics_text(const std::vector<ServiceReading>& readings);

}  // namespace sidecar

#endif  // SIDECAR_METRICS_TEXT_H_
