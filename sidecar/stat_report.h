// What telemetry_stat shows: a sample of every service's counters, taken
// from the sidecar or, when the sidecar cannot be reached, straight from
// the segments, and its rendering as a table, JSON or an instance list.
//
// Thread safety: plain functions over values; safe from any thread.
#ifndef SIDECAR_STAT_REPORT_H_
#define SIDECAR_STAT_REPORT_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sidecar_types.h"

namespace sidecar {

struct StatSample {
  std::string source;  // "sidecar" or "segments"
  std::string note;    // said once to the reader, such as why segments
  telemetry::sidecar::SidecarTelemetry telemetry;
  std::vector<telemetry::sidecar::ServiceInfo> services;
};

// Asks the sidecar at `host`:`port`. Throws apache::thrift::TException
// when it cannot be reached or fails.
StatSample sample_from_sidecar(const std::string& host, int port, bool framed);

// Reads every segment of `directory`; segments that cannot be read are
// named in the note. Throws telemetry_shm::TelemetryError when the
// directory cannot be listed.
StatSample sample_from_segments(const std::string& directory);

struct StatFilter {
  std::string service;  // empty: every service
  std::string counter;  // empty: every counter; else any letter case
};

// Counter values per row ("<service>/<instance>", instance "*" for the
// total) and counter name, the basis for rates between two samples.
using RowValues = std::map<std::string, std::map<std::string, int64_t>>;

using RowRates = std::map<std::string, std::map<std::string, double>>;

RowValues row_values(const StatSample& sample);

// Per-second rates of `now` over `before`, `seconds` apart; rows or
// counters missing from `before` are left out.
RowRates rates(const RowValues& before, const RowValues& now, double seconds);

std::string render_table(const StatSample& sample, const StatFilter& filter,
                         const std::optional<RowRates>& per_second);

// One JSON document with "format_version": 1.
std::string render_json(const StatSample& sample, const StatFilter& filter,
                        const std::optional<RowRates>& per_second);

std::string render_list(const StatSample& sample, const StatFilter& filter);

// "host:port" -> (host, port); throws std::invalid_argument saying what is
// wrong.
std::pair<std::string, int> parse_endpoint(const std::string& text);

}  // namespace sidecar

#endif  // SIDECAR_STAT_REPORT_H_
