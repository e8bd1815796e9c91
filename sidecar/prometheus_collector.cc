#include "prometheus_collector.h"

#include <map>
#include <string>
#include <string_view>
#include <unordered_map>

#include <fmt/format.h>

namespace sidecar {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Labels = std::vector<ClientMetric::Label>;

// The families of one scrape. A counter's family is found by its stored
// name, so the metric name and help text are built once per scrape, not
// once per instance.
class FamilyBuilder {
 public:
  void add_counters(const Labels& labels, const Counters& counters) {
    for (const auto& counter : counters) {
      ClientMetric& metric = add_metric(counter_family(counter.name), labels);
      metric.counter.value = static_cast<double>(counter.value);
    }
  }

  void add_gauge(std::string_view name, std::string_view help,
                 const Labels& labels, double value) {
    add_metric(family(name, help, MetricType::Gauge), labels).gauge.value =
        value;
  }

  std::vector<MetricFamily> finish() {
    std::vector<MetricFamily> out;
    out.reserve(families_.size());
    for (auto& [name, f] : families_) out.push_back(std::move(f));
    return out;
  }

 private:
  static ClientMetric& add_metric(MetricFamily& f, const Labels& labels) {
    ClientMetric& metric = f.metric.emplace_back();
    metric.label = labels;
    return metric;
  }

  MetricFamily& family(std::string_view name, std::string_view help,
                       MetricType type) {
    auto it = families_.find(name);
    if (it == families_.end()) {
      it = families_.try_emplace(std::string(name)).first;
      it->second.name = name;
      it->second.help = help;
      it->second.type = type;
    }
    return it->second;
  }

  MetricFamily& counter_family(const std::string& counter_name) {
    auto it = by_counter_.find(counter_name);
    if (it != by_counter_.end()) return *it->second;

    const std::string word = metric_word(counter_name);
    MetricFamily& f = family(
        fmt::format("telemetry_{}_total", word),
        fmt::format("Counter {} of each service instance; service_instance "
                    "(retired) holds the final counts of removed segments.",
                    word),
        MetricType::Counter);
    by_counter_.emplace(counter_name, &f);
    return f;
  }

  std::map<std::string, MetricFamily, std::less<>> families_;  // by name
  std::unordered_map<std::string, MetricFamily*> by_counter_;
};

Labels labels_of(const std::string& service, const std::string& instance) {
  return {{"service", service}, {"service_instance", instance}};
}

void add_instance(FamilyBuilder& families,
                  const telemetry_shm::Snapshot& snap) {
  const Labels labels = labels_of(snap.service_name, snap.instance_id);
  families.add_counters(labels, snap.counters);
  families.add_gauge("telemetry_instance_up",
                     "1 while the instance's process runs and its heartbeat "
                     "is fresh, else 0.",
                     labels,
                     telemetry_shm::is_alive(snap.liveness) ? 1.0 : 0.0);
  families.add_gauge("telemetry_instance_generation",
                     "Processes that have counted into the instance's segment.",
                     labels, static_cast<double>(snap.generation));
  families.add_gauge("telemetry_instance_start_time_seconds",
                     "When the instance's current or last process started "
                     "counting, in seconds since the Unix epoch.",
                     labels, static_cast<double>(snap.start_time_ms) / 1000.0);
}

}  // namespace

std::vector<MetricFamily> metric_families(
    const std::vector<ServiceReading>& readings) {
  FamilyBuilder families;
  for (const auto& reading : readings) {
    for (const auto& instance : reading.instances) {
      add_instance(families, instance);
    }
    if (!reading.retired.empty()) {
      families.add_counters(
          labels_of(reading.service_name, kRetiredInstanceLabel),
          reading.retired);
    }
  }
  return families.finish();
}

SegmentCollector::SegmentCollector(ViewSource source)
    : source_(std::move(source)) {}

std::vector<MetricFamily> SegmentCollector::Collect() const {
  return metric_families(read_host(*source_()));
}

}  // namespace sidecar
