#include "counter_names.h"

#include <regex>

#include <fmt/format.h>

#include "thrift_views.h"

namespace sidecar {
namespace {

void add_all(CounterMap& out, const std::string& prefix,
             const Counters& counters) {
  for (const auto& counter : counters) {
    out[prefix + metric_word(counter.name)] = clamp_to_i64(counter.value);
  }
}

}  // namespace

CounterMap counter_map(const std::vector<ServiceReading>& readings) {
  CounterMap out;
  for (const auto& reading : readings) {
    add_all(out, reading.service_name + ".", reading.total.counters);
    for (const auto& instance : reading.instances) {
      add_all(out,
              fmt::format("{}.{}.", reading.service_name, instance.instance_id),
              instance.counters);
    }
  }
  return out;
}

CounterMap select_matching(const CounterMap& all, const std::string& pattern) {
  if (pattern.size() > kMaxPatternLength) {
    throw BadPattern(
        fmt::format("pattern of {} characters is longer than "
                    "the limit of {}",
                    pattern.size(), kMaxPatternLength));
  }
  std::regex compiled;
  try {
    compiled = std::regex(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    throw BadPattern(fmt::format("pattern does not compile: {}", e.what()));
  }
  CounterMap out;
  try {
    for (const auto& [name, value] : all) {
      if (std::regex_match(name, compiled)) out.emplace(name, value);
    }
  } catch (const std::regex_error& e) {
    throw BadPattern(
        fmt::format("pattern is too costly to match: {}", e.what()));
  }
  return out;
}

CounterMap select_named(const CounterMap& all,
                        const std::vector<std::string>& names) {
  CounterMap out;
  for (const auto& name : names) {
    auto it = all.find(name);
    if (it != all.end()) out.emplace(name, it->second);
  }
  return out;
}

}  // namespace sidecar
