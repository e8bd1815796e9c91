#include "metrics_text.h"

#include <iterator>
#include <map>
#include <string_view>
#include <type_traits>
#include <unordered_map>

#include <fmt/format.h>

#include "aggregation.h"

namespace sidecar {
namespace {

// One metric family: its header lines and, as they come, its samples.
struct Family {
  std::string help;
  std::string_view type;
  std::string samples;
};

// Appends `text` with the escapes the format asks of a label value
// (backslash, double quote, line feed) or, with `quote` false, of a HELP
// text (backslash, line feed).
void append_escaped(std::string& out, std::string_view text, bool quote) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

// `{service="...",service_instance="..."}`, written once per instance.
std::string label_set(std::string_view service, std::string_view instance) {
  std::string out = "{service=\"";
  append_escaped(out, service, true);
  out += "\",service_instance=\"";
  append_escaped(out, instance, true);
  out += "\"}";
  return out;
}

// The families of one scrape, by metric name. A counter's family is found
// by its stored name, so its metric name and help text are built once per
// scrape, not once per instance.
class TextBuilder {
 public:
  void add_counters(const std::string& labels, const Counters& counters) {
    if (recent_.size() < counters.size()) recent_.resize(counters.size());
    for (size_t i = 0; i < counters.size(); ++i) {
      auto& [name, family] = counter_family(counters[i].name, recent_[i]);
      add_sample(name, family, labels, counters[i].value);
    }
  }

  template <typename Value>
  void add_gauge(std::string_view name, std::string_view help,
                 const std::string& labels, Value value) {
    auto& entry = this->family(name, help, "gauge");
    add_sample(entry.first, entry.second, labels, value);
  }

  std::string finish() const {
    std::string out;
    out.reserve(total_size());
    for (const auto& [name, family] : families_) {
      out += "# HELP ";
      out += name;
      out += ' ';
      append_escaped(out, family.help, false);
      fmt::format_to(std::back_inserter(out), "\n# TYPE {} {}\n", name,
                     family.type);
      out += family.samples;
    }
    return out;
  }

 private:
  using Entry = std::pair<const std::string, Family>;

  struct Recent {
    std::string counter_name;
    Entry* entry = nullptr;
  };

  template <typename Value>
  static void add_sample(std::string_view name, Family& family,
                         const std::string& labels, Value value) {
    std::string& out = family.samples;
    out.append(name).append(labels).push_back(' ');
    if constexpr (std::is_integral_v<Value>) {
      const fmt::format_int digits(value);
      out.append(digits.data(), digits.size());
    } else {
      fmt::format_to(std::back_inserter(out), "{}", value);
    }
    out.push_back('\n');
  }

  Entry& family(std::string_view name, std::string_view help,
                std::string_view type) {
    auto it = families_.find(name);
    if (it == families_.end()) {
      it = families_.try_emplace(std::string(name)).first;
      it->second.help = help;
      it->second.type = type;
    }
    return *it;
  }

  // The family of `counter_name`. Instances list their counters in the
  // same order, so `recent`, what the same position found for the
  // instance before, is nearly always the answer.
  Entry& counter_family(const std::string& counter_name, Recent& recent) {
    if (recent.entry != nullptr && recent.counter_name == counter_name) {
      return *recent.entry;
    }
    recent = {counter_name, &lookup_counter_family(counter_name)};
    return *recent.entry;
  }

  Entry& lookup_counter_family(const std::string& counter_name) {
    auto it = by_counter_.find(counter_name);
    if (it != by_counter_.end()) return *it->second;

    const std::string word = metric_word(counter_name);
    Entry& entry =
        family(fmt::format("telemetry_{}_total", word),
               fmt::format("Counter {} of each service instance; "
                           "service_instance (retired) holds the final counts "
                           "of removed segments.",
                           word),
               "counter");
    by_counter_.emplace(counter_name, &entry);
    return entry;
  }

  size_t total_size() const {
    size_t size = 0;
    for (const auto& [name, family] : families_) {
      size += 2 * name.size() + family.help.size() + family.samples.size() + 32;
    }
    return size;
  }

  std::map<std::string, Family, std::less<>> families_;
  std::unordered_map<std::string, Entry*> by_counter_;
  std::vector<Recent> recent_;
};

void add_instance(TextBuilder& text, const telemetry_shm::Snapshot& snap) {
  const std::string labels = label_set(snap.service_name, snap.instance_id);
  text.add_counters(labels, snap.counters);
  text.add_gauge("telemetry_instance_up",
                 "1 while the instance's process runs and its heartbeat is "
                 "fresh, else 0.",
                 labels, telemetry_shm::is_alive(snap.liveness) ? 1 : 0);
  text.add_gauge("telemetry_instance_generation",
                 "Processes that have counted into the instance's segment.",
                 labels, snap.generation);
  text.add_gauge("telemetry_instance_start_time_seconds",
                 "When the instance's current or last process started "
                 "counting, in seconds since the Unix epoch.",
                 labels, static_cast<double>(snap.start_time_ms) / 1000.0);
}

}  // namespace

std::string metrics_text(const std::vector<ServiceReading>& readings) {
  TextBuilder text;
  for (const auto& reading : readings) {
    for (const auto& instance : reading.instances) {
      add_instance(text, instance);
    }
    if (!reading.retired.empty()) {
      text.add_counters(label_set(reading.service_name, kRetiredInstanceLabel),
                        reading.retired);
    }
  }
  return text.finish();
}

}  // namespace sidecar
