// What a full poll of the sidecar costs as the host grows: 1, 16 and 128
// instances of 64 counters each.
//
//   build/bin/sidecar_bench [--polls N] [--pollers N] [--sizes 1,16,128]
//                           [--sidecar PATH]...
//
// It prints three tables:
//   - the aggregate call (TelemetrySidecar.get_all_telemetry): median and
//     p99 latency at the client, the sidecar's CPU time per call (all its
//     threads, so the directory scans that run meanwhile are included),
//     and its resident memory after the single client's polls and scrapes
//     ("RSS MiB") and again after --pollers clients (default 8) polled at
//     the same time ("RSS after");
//   - a /metrics scrape, plain and asking for gzip as Prometheus does;
//   - each step of a poll timed inside this process with this build's
//     sidecar code on the same segments: steady figures that show where
//     the time goes, without sockets or a second process.
//
// Each --sidecar names a telemetry_sidecar binary to measure (default: the
// one of this build). With several, they take turns on the same instances
// at each size, so two builds can be compared within one run.
//
// The instances are synthetic writers held by this process: each segment
// is built with all 64 counter slots named and filled, its lock is held and
// its heartbeat kept fresh, so the sidecar sees 64 live counters per
// instance, more than the IDL defines today.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/protocol/TMultiplexedProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSocket.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "TelemetrySidecar.h"
#include "bench_util.h"
#include "common/process.h"
#include "malloc_tuning.h"
#include "metrics_server.h"
#include "metrics_text.h"
#include "segment_file.h"
#include "segment_follower.h"
#include "telemetry_shm/segment_layout.h"
#include "telemetry_shm/segment_reader.h"
#include "thrift_views.h"

namespace {

using apache::thrift::protocol::TMultiplexedProtocol;
using apache::thrift::transport::TBufferBase;
using apache::thrift::transport::TBufferedTransport;
using apache::thrift::transport::TSocket;
using Clock = std::chrono::steady_clock;
// What a careful poller uses: reads go straight to the buffer, without a
// virtual call per field.
using FastBinaryProtocol =
    apache::thrift::protocol::TBinaryProtocolT<TBufferBase>;
namespace layout = telemetry_shm::layout;
namespace internal = telemetry_shm::internal;

constexpr int kServices = 4;

// One synthetic instance: an open, locked, mapped segment.
struct Writer {
  internal::FileDescriptor fd;
  boost::interprocess::mapped_region region;
  layout::Segment* segment = nullptr;
};

std::vector<std::string> counter_names() {
  std::vector<std::string> names;
  for (uint32_t i = 1; i <= layout::kMaxCounters; ++i) {
    names.push_back("BENCH_COUNTER_" + std::to_string(i));
  }
  return names;
}

Writer make_writer(const std::string& directory, int index) {
  const std::string service =
      "BenchService" + std::to_string(index % kServices);
  const std::string instance = std::to_string(10000 + index);
  const std::string path =
      directory + "/" + telemetry_shm::segment_file_name(service, instance);

  Writer writer;
  writer.fd = internal::FileDescriptor(
      ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!writer.fd.valid() || ::flock(writer.fd.get(), LOCK_EX) != 0 ||
      ::ftruncate(writer.fd.get(), layout::kSegmentSize) != 0) {
    throw std::runtime_error("cannot create " + path);
  }
  writer.region =
      internal::map_file(writer.fd.get(), layout::kSegmentSize, true);
  writer.segment = static_cast<layout::Segment*>(writer.region.get_address());
  internal::build_segment(*writer.segment, service, instance, counter_names());
  for (uint32_t stripe = 0; stripe < layout::kStripeCount; ++stripe) {
    for (uint32_t slot = 0; slot < layout::kMaxCounters; ++slot) {
      writer.segment->stripes[stripe].cells[slot] = 1000 + stripe + slot;
    }
  }
  return writer;
}

telemetry::sidecar::TelemetrySidecarClient connect_aggregate(
    int port, std::shared_ptr<TBufferedTransport>* transport) {
  auto socket = std::make_shared<TSocket>("127.0.0.1", port);
  *transport = std::make_shared<TBufferedTransport>(socket, 16384, 16384);
  auto protocol = std::make_shared<FastBinaryProtocol>(*transport);
  (*transport)->open();
  return telemetry::sidecar::TelemetrySidecarClient(
      std::make_shared<TMultiplexedProtocol>(protocol, "TelemetrySidecar"));
}

size_t count_instances(telemetry::sidecar::TelemetrySidecarClient& client) {
  std::vector<telemetry::sidecar::ServiceInfo> services;
  client.list_services(services);
  size_t total = 0;
  for (const auto& service : services) total += service.instances.size();
  return total;
}

// Fetches /metrics over a fresh connection, asking for gzip as Prometheus
// does when `gzip` is set; returns the size of the reply, headers included.
size_t scrape(int port, bool gzip) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address))) {
    ::close(fd);
    throw std::runtime_error("cannot connect to the metrics port");
  }
  const std::string request =
      std::string("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n") +
      (gzip ? "Accept-Encoding: gzip\r\n" : "") + "Connection: close\r\n\r\n";
  if (::send(fd, request.data(), request.size(), 0) < 0) {
    ::close(fd);
    throw std::runtime_error("cannot send the scrape request");
  }
  size_t total = 0;
  char buffer[65536];
  ssize_t n;
  while ((n = ::recv(fd, buffer, sizeof(buffer), 0)) > 0) total += n;
  ::close(fd);
  return total;
}

struct Options {
  int polls = 200;  // timed polls, and timed scrapes, by one client
  int pollers = 8;  // clients polling at once before the second RSS reading
  int polls_together = 20;  // polls by each of them
  std::vector<int> sizes = {1, 16, 128};
  std::vector<std::string> binaries;  // telemetry_sidecar builds to compare
};

template <typename Call>
std::vector<double> time_calls(int count, Call call) {
  std::vector<double> ms;
  for (int i = 0; i < count; ++i) {
    const auto begin = Clock::now();
    call();
    const std::chrono::duration<double, std::milli> took = Clock::now() - begin;
    ms.push_back(took.count());
  }
  return ms;
}

// `pollers` clients on connections of their own, each making `polls`
// aggregate calls at the same time as the others.
void poll_together(int port, int pollers, int polls) {
  std::vector<std::thread> threads;
  for (int i = 0; i < pollers; ++i) {
    threads.emplace_back([port, polls] {
      std::shared_ptr<TBufferedTransport> transport;
      auto client = connect_aggregate(port, &transport);
      telemetry::sidecar::SidecarTelemetry all;
      for (int n = 0; n < polls; ++n) client.get_all_telemetry(all);
      transport->close();
    });
  }
  for (auto& thread : threads) thread.join();
}

// One sidecar binary measured at one size.
struct Row {
  std::string binary;
  int instances = 0;
  size_t served = 0;  // instances in the last aggregate reply
  double poll_ms = 0, poll_p99 = 0, poll_cpu_ms = 0;
  double scrape_ms = 0, scrape_p99 = 0, gzip_ms = 0, gzip_p99 = 0;
  size_t scrape_kib = 0, gzip_kib = 0;
  double rss_mib = 0, rss_after_mib = 0;
};

// Starts `binary` on `directory` and measures it once the sidecar serves
// all `instances`.
Row bench_sidecar(const std::string& binary, const std::string& directory,
                  int instances, const Options& options) {
  const int polls = options.polls;
  const int port = test_support::free_port();
  const int metrics_port = test_support::free_port();
  auto sidecar = test_support::ChildProcess::spawn(
      binary, {"--port", std::to_string(port), "--metrics-port",
               std::to_string(metrics_port), "--telemetry-dir", directory,
               "--log-level", "warn"});
  if (!test_support::wait_for_port(port, &sidecar) ||
      !test_support::wait_for_port(metrics_port, &sidecar)) {
    throw std::runtime_error(binary + " did not start");
  }

  std::shared_ptr<TBufferedTransport> transport;
  auto client = connect_aggregate(port, &transport);
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  while (count_instances(client) < static_cast<size_t>(instances) &&
         Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }

  Row row{binary, instances};
  telemetry::sidecar::SidecarTelemetry all;
  const uint64_t cpu_before = bench::process_cpu_ns(sidecar.pid());
  const auto poll_ms =
      time_calls(polls, [&] { client.get_all_telemetry(all); });
  row.poll_cpu_ms =
      static_cast<double>(bench::process_cpu_ns(sidecar.pid()) - cpu_before) /
      1e6 / polls;
  const auto scrape_ms = time_calls(
      polls, [&] { row.scrape_kib = scrape(metrics_port, false) / 1024; });
  const auto gzip_ms = time_calls(
      polls, [&] { row.gzip_kib = scrape(metrics_port, true) / 1024; });
  row.rss_mib = static_cast<double>(bench::resident_kib(sidecar.pid())) / 1024;
  poll_together(port, options.pollers, options.polls_together);
  row.rss_after_mib =
      static_cast<double>(bench::resident_kib(sidecar.pid())) / 1024;

  for (const auto& service : all.services) {
    row.served += service.instances.size();
  }
  row.poll_ms = bench::median(poll_ms);
  row.poll_p99 = bench::quantile(poll_ms, 0.99);
  row.scrape_ms = bench::median(scrape_ms);
  row.scrape_p99 = bench::quantile(scrape_ms, 0.99);
  row.gzip_ms = bench::median(gzip_ms);
  row.gzip_p99 = bench::quantile(gzip_ms, 0.99);

  transport->close();
  sidecar.terminate();
  return row;
}

// Median ms of each step of a poll, taken inside this process with the
// sidecar's own code on the same segments: no sockets, no second process.
struct Phases {
  int instances = 0;
  double read = 0;       // read_host(): every segment read now
  double convert = 0;    // to the Thrift reply
  double write = 0;      // serialized into memory
  double read_back = 0;  // deserialized, as a client would
  double text = 0;       // the /metrics text, segments read included
  double gzip = 0;       // that text compressed, as for Prometheus
};

Phases time_phases(const std::string& directory, int instances, int polls) {
  sidecar::FollowerOptions options;
  options.directory = directory;
  options.state_file = directory + "/.phases-state";
  sidecar::SegmentFollower follower(
      options, std::make_shared<spdlog::logger>(
                   "phases", std::make_shared<spdlog::sinks::null_sink_mt>()));
  follower.scan_once();
  const std::shared_ptr<const sidecar::HostView> view = follower.view();

  std::vector<double> read, convert, write, read_back, text, gzip;
  auto since = [](Clock::time_point begin) {
    return std::chrono::duration<double, std::milli>(Clock::now() - begin)
        .count();
  };
  for (int i = 0; i < polls; ++i) {
    auto begin = Clock::now();
    auto readings = sidecar::read_host(*view);
    read.push_back(since(begin));

    begin = Clock::now();
    auto reply = sidecar::to_sidecar_telemetry(std::move(readings), 0, "");
    convert.push_back(since(begin));

    auto buffer = std::make_shared<apache::thrift::transport::TMemoryBuffer>();
    FastBinaryProtocol protocol(buffer);
    begin = Clock::now();
    reply.write(&protocol);
    write.push_back(since(begin));

    telemetry::sidecar::SidecarTelemetry back;
    begin = Clock::now();
    back.read(&protocol);
    read_back.push_back(since(begin));

    begin = Clock::now();
    const std::string body = sidecar::metrics_text(sidecar::read_host(*view));
    text.push_back(since(begin));

    begin = Clock::now();
    const std::string compressed = sidecar::gzip(body);
    gzip.push_back(since(begin));
  }
  return {instances,
          bench::median(read),
          bench::median(convert),
          bench::median(write),
          bench::median(read_back),
          bench::median(text),
          bench::median(gzip)};
}

// Measures every binary, then the steps in this process, at one size.
Phases bench_size(const Options& options, int instances,
                  std::vector<Row>* rows) {
  test_support::TempDir directory;
  std::vector<Writer> writers;
  for (int i = 0; i < instances; ++i) {
    writers.push_back(make_writer(directory.path(), i));
  }
  std::atomic<bool> done{false};
  std::thread heartbeat([&] {
    while (!done) {
      for (Writer& w : writers) {
        w.segment->header.heartbeat_ms.store(internal::now_ms());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  });

  for (const std::string& binary : options.binaries) {
    rows->push_back(
        bench_sidecar(binary, directory.path(), instances, options));
  }
  Phases phases = time_phases(directory.path(), instances, options.polls);
  done = true;
  heartbeat.join();
  return phases;
}

void print_tables(const Options& options, const std::vector<Row>& rows,
                  const std::vector<Phases>& phases) {
  std::printf(
      "aggregate call: %d polls by one client, then %d clients making %d "
      "polls each at once; 64 counters per instance\n",
      options.polls, options.pollers, options.polls_together);
  std::printf("%9s %7s %8s %8s %9s %11s %8s %9s  %s\n", "instances", "served",
              "poll ms", "p99", "CPU ms", "ns/counter", "RSS MiB", "RSS after",
              "sidecar");
  for (const Row& r : rows) {
    const double counters = r.instances * double{layout::kMaxCounters};
    std::printf("%9d %7zu %8.3f %8.3f %9.3f %11.1f %8.1f %9.1f  %s\n",
                r.instances, r.served, r.poll_ms, r.poll_p99, r.poll_cpu_ms,
                r.poll_ms * 1e6 / counters, r.rss_mib, r.rss_after_mib,
                r.binary.c_str());
  }

  std::printf("\n/metrics: %d scrapes, plain and asking for gzip\n",
              options.polls);
  std::printf("%9s %9s %8s %8s %9s %8s %8s  %s\n", "instances", "scrape ms",
              "p99", "KiB", "gzip ms", "p99", "KiB", "sidecar");
  for (const Row& r : rows) {
    std::printf("%9d %9.3f %8.3f %8zu %9.3f %8.3f %8zu  %s\n", r.instances,
                r.scrape_ms, r.scrape_p99, r.scrape_kib, r.gzip_ms, r.gzip_p99,
                r.gzip_kib, r.binary.c_str());
  }

  std::printf(
      "\nsteps of one poll in this process, this build's code, median ms\n");
  std::printf("%9s %10s %10s %10s %10s %10s %10s\n", "instances", "read",
              "to Thrift", "write", "read back", "text", "gzip");
  for (const Phases& p : phases) {
    std::printf("%9d %10.3f %10.3f %10.3f %10.3f %10.3f %10.3f\n", p.instances,
                p.read, p.convert, p.write, p.read_back, p.text, p.gzip);
  }
}

std::vector<int> parse_sizes(const std::string& text) {
  std::vector<int> sizes;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) sizes.push_back(std::stoi(item));
  return sizes;
}

}  // namespace

int main(int argc, char** argv) {
  sidecar::tune_malloc_for_polls();  // the in-process steps, as the sidecar
  Options options;
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (i + 1 == argc) {
      std::fprintf(stderr, "sidecar_bench: %s needs a value\n", flag.c_str());
      return 2;
    }
    const std::string value = argv[i + 1];
    if (flag == "--polls") {
      options.polls = std::stoi(value);
    } else if (flag == "--pollers") {
      options.pollers = std::stoi(value);
    } else if (flag == "--sizes") {
      options.sizes = parse_sizes(value);
    } else if (flag == "--sidecar") {
      options.binaries.push_back(value);
    } else {
      std::fprintf(stderr, "sidecar_bench: unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  if (options.binaries.empty()) {
    options.binaries.push_back(TELEMETRY_BIN_DIR "/telemetry_sidecar");
  }

  std::vector<Row> rows;
  std::vector<Phases> phases;
  for (int size : options.sizes) {
    phases.push_back(bench_size(options, size, &rows));
  }
  print_tables(options, rows, phases);
  return 0;
}
