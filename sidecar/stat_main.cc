// telemetry_stat: shows every service's counters, from the sidecar or,
// when it cannot be reached, straight from the segments. Run with --help.
#include <thrift/Thrift.h>

#include <boost/program_options.hpp>

#include <chrono>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "stat_report.h"
#include "telemetry_shm/error.h"
#include "telemetry_shm/segment_reader.h"

namespace {

namespace po = boost::program_options;

constexpr int kUsageExit = 2;

struct Options {
  std::string sidecar;
  std::string transport;
  std::string directory;
  bool json = false;
  bool list = false;
  int watch_seconds = 0;
  int count = 0;
  sidecar::StatFilter filter;
};

struct UsageError {
  std::string message;
};

po::options_description describe_flags(Options& o) {
  po::options_description flags("telemetry_stat options");
  flags.add_options()("help", "show this help and exit")(
      "sidecar", po::value(&o.sidecar)->default_value("127.0.0.1:9090"),
      "the sidecar to ask, host:port")(
      "transport", po::value(&o.transport)->default_value("buffered"),
      "the sidecar's transport: buffered or framed")(
      "telemetry-dir", po::value(&o.directory),
      "segments to read when the sidecar cannot be reached (default: "
      "$TELEMETRY_DIR or /dev/shm/telemetry)")(
      "json", po::bool_switch(&o.json),
      "print JSON (\"format_version\": 1), one document per refresh")(
      "list", po::bool_switch(&o.list),
      "list instances with liveness, generation and start time")(
      "watch", po::value(&o.watch_seconds),
      "refresh every N seconds, with per-second rates")(
      "count", po::value(&o.count),
      "with --watch: stop after K refreshes (default: until interrupted)")(
      "service", po::value(&o.filter.service), "show only this service")(
      "counter", po::value(&o.filter.counter),
      "show only this counter, such as bytes_sent");
  return flags;
}

void validate(Options& o, const po::variables_map& values) {
  if (values.count("watch") != 0 &&
      (o.watch_seconds < 1 || o.watch_seconds > 86400)) {
    throw UsageError{fmt::format("--watch must be 1 to 86400 seconds, not {}",
                                 o.watch_seconds)};
  }
  if (values.count("count") != 0 && o.count < 1) {
    throw UsageError{
        fmt::format("--count must be at least 1, not {}", o.count)};
  }
  if (values.count("count") != 0 && values.count("watch") == 0) {
    throw UsageError{"--count needs --watch"};
  }
  if (o.transport != "buffered" && o.transport != "framed") {
    throw UsageError{fmt::format(
        "--transport must be buffered or framed, not '{}'", o.transport)};
  }
  try {
    sidecar::parse_endpoint(o.sidecar);
  } catch (const std::invalid_argument& e) {
    throw UsageError{fmt::format("--sidecar: {}", e.what())};
  }
  if (o.directory.empty()) o.directory = telemetry_shm::default_directory();
}

std::optional<Options> parse_flags(int argc, char** argv) {
  Options options;
  po::options_description flags = describe_flags(options);
  po::variables_map values;
  try {
    po::store(po::parse_command_line(argc, argv, flags), values);
    po::notify(values);
  } catch (const po::error& e) {
    throw UsageError{e.what()};
  }
  if (values.count("help") != 0) {
    std::cout << flags << '\n';
    return std::nullopt;
  }
  validate(options, values);
  return options;
}

// Asks the sidecar, or reads the segments when it does not answer.
sidecar::StatSample take_sample(const Options& o) {
  const auto [host, port] = sidecar::parse_endpoint(o.sidecar);
  std::string why;
  try {
    return sidecar::sample_from_sidecar(host, port, o.transport == "framed");
  } catch (const apache::thrift::TException& e) {
    why = e.what();
  }
  sidecar::StatSample sample;
  try {
    sample = sidecar::sample_from_segments(o.directory);
  } catch (const telemetry_shm::TelemetryError& e) {
    throw std::runtime_error(
        fmt::format("sidecar {} did not answer ({}), and the segments "
                    "cannot be read either: {}",
                    o.sidecar, why, e.what()));
  }
  sample.note = fmt::format("sidecar {} did not answer ({}); {}", o.sidecar,
                            why, sample.note);
  return sample;
}

void show(const Options& o, const sidecar::StatSample& sample,
          const std::optional<sidecar::RowRates>& per_second) {
  if (o.json) {
    std::cout << sidecar::render_json(sample, o.filter, per_second);
  } else {
    if (!sample.note.empty()) std::cout << "note: " << sample.note << '\n';
    std::cout << (o.list ? sidecar::render_list(sample, o.filter)
                         : sidecar::render_table(sample, o.filter, per_second));
  }
  std::cout.flush();
}

void watch(const Options& o) {
  using Clock = std::chrono::steady_clock;
  std::optional<sidecar::RowValues> before;
  Clock::time_point before_time;
  for (int shown = 0; o.count == 0 || shown < o.count; ++shown) {
    if (shown > 0)
      std::this_thread::sleep_for(std::chrono::seconds(o.watch_seconds));
    const sidecar::StatSample sample = take_sample(o);
    const Clock::time_point now = Clock::now();
    sidecar::RowValues values = sidecar::row_values(sample);
    std::optional<sidecar::RowRates> per_second;
    if (before) {
      const double seconds =
          std::chrono::duration<double>(now - before_time).count();
      per_second = sidecar::rates(*before, values, seconds);
    } else {
      per_second = sidecar::RowRates{};
    }
    if (!o.json && shown > 0) std::cout << '\n';
    show(o, sample, per_second);
    before = std::move(values);
    before_time = now;
  }
}

}  // namespace

int main(int argc, char** argv) {
  // Connection failures are reported once, in the note of the output.
  apache::thrift::GlobalOutput.setOutputFunction([](const char*) {});
  try {
    std::optional<Options> options = parse_flags(argc, argv);
    if (!options) return 0;
    if (options->watch_seconds > 0) {
      watch(*options);
    } else {
      show(*options, take_sample(*options), std::nullopt);
    }
    return 0;
  } catch (const UsageError& e) {
    std::cerr << "telemetry_stat: " << e.message
              << "\nRun with --help to see the flags.\n";
    return kUsageExit;
  } catch (const std::exception& e) {
    std::cerr << "telemetry_stat: " << e.what() << '\n';
    return 1;
  }
}
