// What a full poll of the sidecar costs as the host grows: 1, 16 and 128
// instances of 64 counters each. For each size it measures the aggregate
// call (TelemetrySidecar.get_all_telemetry) and a /metrics scrape, median
// and p99 latency, and the sidecar's resident memory.
//
//   build/bin/sidecar_bench [--polls N] [--pollers N] [--sizes 1,16,128]
//                           [--sidecar PATH]...
//
// "poll CPU" is the sidecar's CPU time per poll in ms, all its threads
// together, so it includes the directory scans that run meanwhile. "RSS
// MiB" is the sidecar's resident memory after one client's polls and
// scrapes; "RSS after" is read again after --pollers clients (default 8)
// have polled at the same time.
//
// A second table times each step of a poll inside this process, with this
// build's sidecar code on the same segments: steady figures that show
// where the time goes, without the sockets and the second process.
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

#include <prometheus/text_serializer.h>
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
#include "prometheus_collector.h"
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

// Fetches /metrics over a fresh connection; returns the body's size.
size_t scrape(int port) {
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
      "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
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

// Starts `binary` on `directory` and measures it once the sidecar serves
// all `instances`; prints one row.
void bench_sidecar(const std::string& binary, const std::string& directory,
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

  telemetry::sidecar::SidecarTelemetry all;
  const uint64_t cpu_before = bench::process_cpu_ns(sidecar.pid());
  const auto poll_ms =
      time_calls(polls, [&] { client.get_all_telemetry(all); });
  const double cpu_ms_per_poll =
      static_cast<double>(bench::process_cpu_ns(sidecar.pid()) - cpu_before) /
      1e6 / polls;
  size_t body = 0;
  const auto scrape_ms =
      time_calls(polls, [&] { body = scrape(metrics_port); });
  const long rss = bench::resident_kib(sidecar.pid());
  poll_together(port, options.pollers, options.polls_together);
  const long rss_together = bench::resident_kib(sidecar.pid());

  size_t seen = 0;
  for (const auto& service : all.services) seen += service.instances.size();
  const double cells = static_cast<double>(instances) * layout::kMaxCounters;
  std::printf(
      "%9d %9zu %10.3f %10.3f %10.3f %12.3f %10.3f %10.3f %9zu %9.1f %9.1f  "
      "%s\n",
      instances, seen, bench::median(poll_ms), bench::quantile(poll_ms, 0.99),
      cpu_ms_per_poll, bench::median(poll_ms) * 1e6 / cells,
      bench::median(scrape_ms), bench::quantile(scrape_ms, 0.99), body / 1024,
      static_cast<double>(rss) / 1024.0,
      static_cast<double>(rss_together) / 1024.0, binary.c_str());

  transport->close();
  sidecar.terminate();
}

// Median ms of each step of a poll, taken inside this process with the
// sidecar's own code on the same segments: no sockets, no second process.
struct Phases {
  int instances = 0;
  double read = 0;       // read_host(): every segment read now
  double convert = 0;    // to the Thrift reply
  double write = 0;      // serialized into memory
  double read_back = 0;  // deserialized, as a client would
  double collect = 0;    // the Prometheus families, segments read included
  double text = 0;       // the Prometheus text format
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

  std::vector<double> read, convert, write, read_back, collect, text;
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
    auto families = sidecar::metric_families(sidecar::read_host(*view));
    collect.push_back(since(begin));

    begin = Clock::now();
    const std::string body = prometheus::TextSerializer().Serialize(families);
    text.push_back(since(begin));
  }
  return {instances,
          bench::median(read),
          bench::median(convert),
          bench::median(write),
          bench::median(read_back),
          bench::median(collect),
          bench::median(text)};
}

Phases bench_size(const Options& options, int instances) {
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
    bench_sidecar(binary, directory.path(), instances, options);
  }
  Phases phases = time_phases(directory.path(), instances, options.polls);
  done = true;
  heartbeat.join();
  return phases;
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

  std::printf(
      "%d polls and %d scrapes per size by one client, then %d clients "
      "making %d polls each at once; 64 counters per instance\n\n",
      options.polls, options.polls, options.pollers, options.polls_together);
  std::printf("%9s %9s %10s %10s %10s %12s %10s %10s %9s %9s %9s  %s\n",
              "instances", "served", "poll ms", "poll p99", "poll CPU",
              "ns/counter", "scrape ms", "scrape p99", "body KiB", "RSS MiB",
              "RSS after", "sidecar");
  std::vector<Phases> phases;
  for (int size : options.sizes) phases.push_back(bench_size(options, size));

  std::printf(
      "\nsteps of one poll in this process, this build's code, median ms\n");
  std::printf("%9s %10s %10s %10s %10s %10s %10s\n", "instances", "read",
              "to Thrift", "write", "read back", "collect", "text");
  for (const Phases& p : phases) {
    std::printf("%9d %10.3f %10.3f %10.3f %10.3f %10.3f %10.3f\n", p.instances,
                p.read, p.convert, p.write, p.read_back, p.collect, p.text);
  }
  return 0;
}
