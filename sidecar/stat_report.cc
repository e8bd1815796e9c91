#include "stat_report.h"

#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/protocol/TMultiplexedProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSocket.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <ctime>
#include <stdexcept>

#include <fmt/format.h>

#include "TelemetrySidecar.h"
#include "aggregation.h"
#include "telemetry_shm/error.h"
#include "telemetry_shm/segment_reader.h"
#include "thrift_views.h"

namespace sidecar {
namespace {

namespace ts = telemetry::sidecar;
using telemetry::TelemetrySnapshot;

constexpr int kConnectTimeoutMs = 2000;
constexpr int kReceiveTimeoutMs = 10000;

std::string lower(std::string text) {
  for (char& c : text) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return text;
}

std::string row_key(const std::string& service, const std::string& instance) {
  return service + "/" + (instance.empty() ? "*" : instance);
}

bool wanted_service(const StatFilter& filter, const std::string& service) {
  return filter.service.empty() || filter.service == service;
}

bool wanted_counter(const StatFilter& filter, const std::string& name) {
  return filter.counter.empty() || lower(filter.counter) == lower(name);
}

}  // namespace

StatSample sample_from_sidecar(const std::string& host, int port, bool framed) {
  using namespace apache::thrift;
  auto socket = std::make_shared<transport::TSocket>(host, port);
  socket->setConnTimeout(kConnectTimeoutMs);
  socket->setRecvTimeout(kReceiveTimeoutMs);
  std::shared_ptr<transport::TBufferBase> transport;
  if (framed) {
    transport = std::make_shared<transport::TFramedTransport>(socket);
  } else {
    transport = std::make_shared<transport::TBufferedTransport>(socket);
  }
  // Specialised on the buffer: a large reply is read without a virtual
  // call per field.
  auto protocol =
      std::make_shared<protocol::TBinaryProtocolT<transport::TBufferBase>>(
          transport);
  ts::TelemetrySidecarClient client(
      std::make_shared<protocol::TMultiplexedProtocol>(protocol,
                                                       "TelemetrySidecar"));
  transport->open();
  StatSample sample;
  sample.source = "sidecar";
  client.get_all_telemetry(sample.telemetry);
  client.list_services(sample.services);
  transport->close();
  return sample;
}

namespace {

// Opens and reads one segment; on failure adds the reason to `problems`.
std::optional<telemetry_shm::Snapshot> read_segment(
    const telemetry_shm::SegmentEntry& entry, std::string& problems) {
  try {
    return telemetry_shm::SegmentReader::open(entry.path).snapshot();
  } catch (const telemetry_shm::TelemetryError& e) {
    problems += fmt::format("; skipped {}", e.what());
    return std::nullopt;
  }
}

}  // namespace

StatSample sample_from_segments(const std::string& directory) {
  std::map<std::string, ServiceReading> services;
  std::map<std::string, std::vector<std::string>> paths;
  std::string problems;
  for (const auto& entry : telemetry_shm::list_segments(directory)) {
    auto snap = read_segment(entry, problems);
    if (!snap) continue;
    ServiceReading& reading = services[snap->service_name];
    reading.service_name = snap->service_name;
    reading.instances.push_back(std::move(*snap));
    paths[entry.service_name].push_back(entry.path);
  }
  StatSample sample;
  sample.source = "segments";
  sample.note = fmt::format(
      "read the segments in {} directly (the sidecar's retired counts of "
      "removed segments are not included){}",
      directory, problems);
  std::vector<ServiceReading> readings;
  for (auto& [name, reading] : services) {
    reading.total = service_total(name, reading.instances, {});
    ts::ServiceInfo info;
    info.service_name = name;
    info.alive = telemetry_shm::is_alive(reading.total.liveness);
    for (size_t i = 0; i < reading.instances.size(); ++i) {
      info.instances.push_back(
          to_instance_info(reading.instances[i], paths[name][i]));
    }
    sample.services.push_back(std::move(info));
    readings.push_back(std::move(reading));
  }
  sample.telemetry = to_sidecar_telemetry(std::move(readings), 0, directory);
  return sample;
}

RowValues row_values(const StatSample& sample) {
  RowValues rows;
  auto add = [&](const TelemetrySnapshot& snap) {
    auto& row = rows[row_key(snap.service_name, snap.instance_id)];
    for (const auto& counter : snap.all_counters) {
      row[lower(counter.name)] = counter.value;
    }
  };
  for (const auto& service : sample.telemetry.services) {
    add(service.total);
    for (const auto& instance : service.instances) add(instance);
  }
  return rows;
}

RowRates rates(const RowValues& before, const RowValues& now, double seconds) {
  RowRates out;
  if (seconds <= 0) return out;
  for (const auto& [row, counters] : now) {
    auto old_row = before.find(row);
    if (old_row == before.end()) continue;
    for (const auto& [name, value] : counters) {
      auto old = old_row->second.find(name);
      if (old == old_row->second.end()) continue;
      out[row][name] = static_cast<double>(value - old->second) / seconds;
    }
  }
  return out;
}

namespace {

// The line without the spaces that pad its last column.
std::string trimmed_line(std::string line) {
  line.erase(line.find_last_not_of(' ') + 1);
  return line + "\n";
}

std::string rate_text(const std::optional<RowRates>& per_second,
                      const std::string& row, const std::string& counter) {
  if (!per_second) return "";
  auto r = per_second->find(row);
  if (r == per_second->end()) return "-";
  auto c = r->second.find(counter);
  return c == r->second.end() ? "-" : fmt::format("{:.1f}", c->second);
}

void table_rows(std::string& out, const TelemetrySnapshot& snap,
                const StatFilter& filter,
                const std::optional<RowRates>& per_second) {
  const std::string instance =
      snap.instance_id.empty() ? "(total)" : snap.instance_id;
  for (const auto& counter : snap.all_counters) {
    if (!wanted_counter(filter, counter.name)) continue;
    const std::string name = lower(counter.name);
    out += trimmed_line(fmt::format(
        "{:<20} {:<10} {:<5} {:<22} {:>16} {:>10}", snap.service_name, instance,
        snap.alive ? "yes" : "no", name, counter.value,
        rate_text(per_second, row_key(snap.service_name, snap.instance_id),
                  name)));
  }
}

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string json_counters(const TelemetrySnapshot& snap,
                          const StatFilter& filter) {
  std::vector<std::string> parts;
  for (const auto& counter : snap.all_counters) {
    if (!wanted_counter(filter, counter.name)) continue;
    parts.push_back(
        fmt::format("{}:{}", json_string(lower(counter.name)), counter.value));
  }
  return "{" + fmt::format("{}", fmt::join(parts, ",")) + "}";
}

std::string json_rates(const std::optional<RowRates>& per_second,
                       const TelemetrySnapshot& snap,
                       const StatFilter& filter) {
  if (!per_second) return "";
  std::vector<std::string> parts;
  auto row = per_second->find(row_key(snap.service_name, snap.instance_id));
  if (row != per_second->end()) {
    for (const auto& [name, value] : row->second) {
      if (!wanted_counter(filter, name)) continue;
      parts.push_back(fmt::format("{}:{}", json_string(name), value));
    }
  }
  return ",\"rates\":{" + fmt::format("{}", fmt::join(parts, ",")) + "}";
}

std::string json_snapshot(const TelemetrySnapshot& snap,
                          const StatFilter& filter,
                          const std::optional<RowRates>& per_second) {
  return fmt::format(
      "{{\"instance\":{},\"alive\":{},\"start_time_ms\":{},"
      "\"generation\":{},\"counters\":{}{}}}",
      json_string(snap.instance_id), snap.alive ? "true" : "false",
      snap.start_time_ms, snap.generation, json_counters(snap, filter),
      json_rates(per_second, snap, filter));
}

std::string json_service(const ts::ServiceTelemetry& service,
                         const StatFilter& filter,
                         const std::optional<RowRates>& per_second) {
  std::vector<std::string> instances;
  for (const auto& instance : service.instances) {
    instances.push_back(json_snapshot(instance, filter, per_second));
  }
  return fmt::format("{{\"service\":{},\"total\":{},\"instances\":[{}]}}",
                     json_string(service.service_name),
                     json_snapshot(service.total, filter, per_second),
                     fmt::join(instances, ","));
}

std::string utc_time(int64_t ms) {
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &parts);
  return text;
}

}  // namespace

std::string render_table(const StatSample& sample, const StatFilter& filter,
                         const std::optional<RowRates>& per_second) {
  std::string out = trimmed_line(fmt::format(
      "{:<20} {:<10} {:<5} {:<22} {:>16} {:>10}", "SERVICE", "INSTANCE",
      "ALIVE", "COUNTER", "VALUE", per_second ? "RATE/s" : ""));
  for (const auto& service : sample.telemetry.services) {
    if (!wanted_service(filter, service.service_name)) continue;
    table_rows(out, service.total, filter, per_second);
    for (const auto& instance : service.instances) {
      table_rows(out, instance, filter, per_second);
    }
  }
  return out;
}

std::string render_json(const StatSample& sample, const StatFilter& filter,
                        const std::optional<RowRates>& per_second) {
  std::vector<std::string> services;
  for (const auto& service : sample.telemetry.services) {
    if (!wanted_service(filter, service.service_name)) continue;
    services.push_back(json_service(service, filter, per_second));
  }
  return fmt::format(
      "{{\"format_version\":1,\"source\":{},\"note\":{},"
      "\"snapshot_timestamp_ms\":{},\"services\":[{}]}}\n",
      json_string(sample.source), json_string(sample.note),
      sample.telemetry.snapshot_timestamp_ms, fmt::join(services, ","));
}

std::string render_list(const StatSample& sample, const StatFilter& filter) {
  std::string out =
      fmt::format("{:<20} {:<10} {:<8} {:>10}  {}\n", "SERVICE", "INSTANCE",
                  "LIVENESS", "GENERATION", "STARTED (UTC)");
  for (const auto& service : sample.services) {
    if (!wanted_service(filter, service.service_name)) continue;
    for (const auto& i : service.instances) {
      out += fmt::format("{:<20} {:<10} {:<8} {:>10}  {}\n", i.service_name,
                         i.instance_id, i.liveness, i.generation,
                         utc_time(i.start_time_ms));
    }
  }
  return out;
}

std::pair<std::string, int> parse_endpoint(const std::string& text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    throw std::invalid_argument(
        fmt::format("'{}' is not host:port, such as 127.0.0.1:9090", text));
  }
  int port = 0;
  const char* begin = text.data() + colon + 1;
  const char* end = text.data() + text.size();
  auto [stop, ec] = std::from_chars(begin, end, port);
  if (ec != std::errc() || stop != end || port < 1 || port > 65535) {
    throw std::invalid_argument(fmt::format(
        "'{}' has no valid port: expected 1 to 65535 after ':'", text));
  }
  return {text.substr(0, colon), port};
}

}  // namespace sidecar
