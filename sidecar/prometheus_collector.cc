#include "prometheus_collector.h"

#include <map>
#include <string>

#include <fmt/format.h>

namespace sidecar {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

using Families = std::map<std::string, MetricFamily>;

MetricFamily& family(Families& families, const std::string& name,
                     const std::string& help, MetricType type) {
  auto [it, inserted] = families.try_emplace(name);
  if (inserted) {
    it->second.name = name;
    it->second.help = help;
    it->second.type = type;
  }
  return it->second;
}

ClientMetric labelled(const std::string& service, const std::string& instance) {
  ClientMetric metric;
  metric.label = {{"service", service}, {"service_instance", instance}};
  return metric;
}

void add_counters(Families& families, const std::string& service,
                  const std::string& instance, const Counters& counters) {
  for (const auto& counter : counters) {
    const std::string word = metric_word(counter.name);
    MetricFamily& f = family(
        families, fmt::format("telemetry_{}_total", word),
        fmt::format("Counter {} of each service instance; service_instance "
                    "(retired) holds the final counts of removed segments.",
                    word),
        MetricType::Counter);
    ClientMetric metric = labelled(service, instance);
    metric.counter.value = static_cast<double>(counter.value);
    f.metric.push_back(std::move(metric));
  }
}

void add_gauge(Families& families, const std::string& name,
               const std::string& help, const telemetry_shm::Snapshot& snap,
               double value) {
  ClientMetric metric = labelled(snap.service_name, snap.instance_id);
  metric.gauge.value = value;
  family(families, name, help, MetricType::Gauge)
      .metric.push_back(std::move(metric));
}

void add_instance(Families& families, const telemetry_shm::Snapshot& snap) {
  add_counters(families, snap.service_name, snap.instance_id, snap.counters);
  add_gauge(families, "telemetry_instance_up",
            "1 while the instance's process runs and its heartbeat is "
            "fresh, else 0.",
            snap, telemetry_shm::is_alive(snap.liveness) ? 1.0 : 0.0);
  add_gauge(families, "telemetry_instance_generation",
            "Processes that have counted into the instance's segment.", snap,
            static_cast<double>(snap.generation));
  add_gauge(families, "telemetry_instance_start_time_seconds",
            "When the instance's current or last process started counting, "
            "in seconds since the Unix epoch.",
            snap, static_cast<double>(snap.start_time_ms) / 1000.0);
}

}  // namespace

std::vector<MetricFamily> metric_families(
    const std::vector<ServiceReading>& readings) {
  Families families;
  for (const auto& reading : readings) {
    for (const auto& instance : reading.instances) {
      add_instance(families, instance);
    }
    if (!reading.retired.empty()) {
      add_counters(families, reading.service_name, kRetiredInstanceLabel,
                   reading.retired);
    }
  }
  std::vector<MetricFamily> out;
  out.reserve(families.size());
  for (auto& [name, f] : families) out.push_back(std::move(f));
  return out;
}

SegmentCollector::SegmentCollector(ViewSource source)
    : source_(std::move(source)) {}

std::vector<MetricFamily> SegmentCollector::Collect() const {
  return metric_families(read_host(*source_()));
}

}  // namespace sidecar
