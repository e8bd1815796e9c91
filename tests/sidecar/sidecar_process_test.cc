// The telemetry_sidecar binary against segments written by child processes.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thrift/TApplicationException.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include "sidecar/sidecar_client.h"
#include "sidecar/sidecar_test_support.h"

namespace sidecar_test {
namespace {

namespace fs = std::filesystem;
using telemetry::TelemetryCounter;

constexpr auto kSuccess = TelemetryCounter::SUCCESSFUL_REQUESTS;
constexpr auto kReceived = TelemetryCounter::BYTES_RECEIVED;

int64_t counter_of(const telemetry::TelemetrySnapshot& snap,
                   TelemetryCounter::type key) {
  auto it = snap.counters.find(key);
  return it == snap.counters.end() ? -1 : it->second;
}

// The sidecar's total of `service`, or nothing when it cannot say.
std::optional<telemetry::TelemetrySnapshot> total_of(
    int port, const std::string& service) {
  try {
    SidecarClient client(port);
    telemetry::TelemetrySnapshot snap;
    client.service(service).get_telemetry(snap);
    return snap;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

bool total_reaches(int port, const std::string& service,
                   TelemetryCounter::type key, int64_t value) {
  return wait_until([&] {
    auto snap = total_of(port, service);
    return snap && counter_of(*snap, key) == value;
  });
}

TEST(SidecarProcessTest, ServesTotalsOfServicesFoundBeforeAndAfterStart) {
  TempDir dir;
  WriterChild a(dir.path(), "ItemService", "9091");
  WriterChild b(dir.path(), "ItemService", "9092");
  a.add(kSuccess, 4);
  b.add(kSuccess, 5);
  RunningSidecar sidecar(dir.path());
  ASSERT_TRUE(total_reaches(sidecar.port(), "ItemService", kSuccess, 9));

  WriterChild late(dir.path(), "PlayerService", "1");
  late.add(kReceived, 77);
  ASSERT_TRUE(total_reaches(sidecar.port(), "PlayerService", kReceived, 77));

  auto item = total_of(sidecar.port(), "ItemService");
  ASSERT_TRUE(item);
  EXPECT_TRUE(item->alive);
  EXPECT_EQ(item->instance_id, "");
  EXPECT_EQ(item->generation, 2);
  EXPECT_EQ(item->service_name, "ItemService");
  EXPECT_NE(sidecar.log().find("serving service PlayerService"),
            std::string::npos);
}

TEST(SidecarProcessTest, UnknownServiceIsRefusedAndConnectionStaysUsable) {
  TempDir dir;
  WriterChild a(dir.path(), "ItemService", "1");
  a.add(kSuccess, 1);
  RunningSidecar sidecar(dir.path());
  ASSERT_TRUE(total_reaches(sidecar.port(), "ItemService", kSuccess, 1));

  SidecarClient client(sidecar.port());
  telemetry::TelemetrySnapshot snap;
  try {
    client.service("GhostService").get_telemetry(snap);
    FAIL() << "an unknown service answered";
  } catch (const apache::thrift::TApplicationException& e) {
    EXPECT_NE(std::string(e.what()).find("GhostService"), std::string::npos);
  }
  client.service("ItemService").get_telemetry(snap);
  EXPECT_EQ(counter_of(snap, kSuccess), 1);
}

TEST(SidecarProcessTest, KilledWriterStaysVisibleAndRestartContinues) {
  TempDir dir;
  RunningSidecar sidecar(dir.path());
  auto first = std::make_unique<WriterChild>(dir.path(), "ItemService", "1");
  first->add(kSuccess, 6);
  ASSERT_TRUE(total_reaches(sidecar.port(), "ItemService", kSuccess, 6));
  first->kill_hard();

  ASSERT_TRUE(wait_until([&] {
    auto snap = total_of(sidecar.port(), "ItemService");
    return snap && !snap->alive && counter_of(*snap, kSuccess) == 6;
  }));
  SidecarClient client(sidecar.port());
  std::vector<telemetry::sidecar::ServiceInfo> services;
  client.host().list_services(services);
  ASSERT_EQ(services.size(), 1u);
  ASSERT_EQ(services[0].instances.size(), 1u);
  EXPECT_EQ(services[0].instances[0].liveness, "dead");

  WriterChild second(dir.path(), "ItemService", "1");
  second.add(kSuccess, 1);
  ASSERT_TRUE(total_reaches(sidecar.port(), "ItemService", kSuccess, 7));
  auto snap = total_of(sidecar.port(), "ItemService");
  EXPECT_TRUE(snap->alive);
  EXPECT_EQ(snap->generation, 2);
}

TEST(SidecarProcessTest, RestartOfSidecarKeepsRetiredAndLiveCounts) {
  TempDir dir;
  const std::vector<std::string> args = {"--retention", "0"};
  auto sidecar = std::make_unique<RunningSidecar>(dir.path(), args);
  {
    WriterChild gone(dir.path(), "ItemService", "1");
    gone.add(kSuccess, 10);
    ASSERT_TRUE(total_reaches(sidecar->port(), "ItemService", kSuccess, 10));
  }
  ASSERT_TRUE(wait_until(
      [&] { return !fs::exists(dir.path() + "/ItemService.1.seg"); }));
  WriterChild again(dir.path(), "ItemService", "1");
  again.add(kSuccess, 3);
  ASSERT_TRUE(total_reaches(sidecar->port(), "ItemService", kSuccess, 13));

  EXPECT_TRUE(exited_cleanly(sidecar->process().terminate()));
  sidecar = std::make_unique<RunningSidecar>(dir.path(), args);
  ASSERT_TRUE(total_reaches(sidecar->port(), "ItemService", kSuccess, 13));
  auto snap = total_of(sidecar->port(), "ItemService");
  EXPECT_TRUE(snap->alive);
}

void send_raw(int port, const std::string& bytes) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  }
  ::close(fd);
}

TEST(SidecarProcessTest, SurvivesGarbageDisconnectsAndManyPollers) {
  TempDir dir;
  WriterChild a(dir.path(), "ItemService", "1");
  a.add(kSuccess, 21);
  RunningSidecar sidecar(dir.path());
  ASSERT_TRUE(total_reaches(sidecar.port(), "ItemService", kSuccess, 21));

  send_raw(sidecar.port(), std::string(64, '\xff'));
  send_raw(sidecar.port(), "\x80\x01\x00\x01\x7f\xff\xff\xff");  // 2 GiB name
  send_raw(sidecar.port(), std::string("\x80\x01\x00\x01\x00\x00\x00\x18"
                                       "ItemService:get_tele",
                                       28));  // cut mid-request
  std::atomic<int> correct{0};
  std::vector<std::thread> pollers;
  for (int t = 0; t < 12; ++t) {
    pollers.emplace_back([&] {
      SidecarClient client(sidecar.port());
      for (int i = 0; i < 25; ++i) {
        telemetry::sidecar::SidecarTelemetry all;
        client.host().get_all_telemetry(all);
        if (all.services.size() == 1 &&
            counter_of(all.services[0].total, kSuccess) == 21) {
          ++correct;
        }
      }
    });
  }
  for (auto& poller : pollers) poller.join();
  EXPECT_EQ(correct.load(), 12 * 25);
  EXPECT_TRUE(sidecar.process().running());
  EXPECT_TRUE(total_reaches(sidecar.port(), "ItemService", kSuccess, 21));
}

TEST(SidecarProcessTest, CounterServiceIsTheDefaultForPlainClients) {
  TempDir dir;
  WriterChild a(dir.path(), "ItemService", "9091");
  a.add(kSuccess, 2);
  RunningSidecar sidecar(dir.path());
  ASSERT_TRUE(total_reaches(sidecar.port(), "ItemService", kSuccess, 2));

  SidecarClient client(sidecar.port());
  EXPECT_EQ(client.plain_counters().getCounter(
                "ItemService.9091.successful_requests"),
            2);
  EXPECT_EQ(client.counters().getCounter("ItemService.successful_requests"), 2);
  EXPECT_GT(client.plain_counters().aliveSince(), 1600000000);
  std::map<std::string, int64_t> some;
  EXPECT_THROW(client.plain_counters().getRegexCounters(some, "[z-a]"),
               telemetry::sidecar::InvalidRegex);
  client.plain_counters().getRegexCounters(some, "ItemService\\.[a-z_]+");
  EXPECT_EQ(some.at("ItemService.successful_requests"), 2);
}

TEST(SidecarProcessTest, MetricsParseAndMatchThriftNumbers) {
  TempDir dir;
  WriterChild a(dir.path(), "ItemService", "9091");
  WriterChild b(dir.path(), "InventoryService", "7");
  a.add(kReceived, 4096);
  b.add(kSuccess, 3);
  RunningSidecar sidecar(dir.path());
  ASSERT_TRUE(total_reaches(sidecar.port(), "InventoryService", kSuccess, 3));

  HttpReply reply = http_get(sidecar.metrics_port(), "/metrics");
  ASSERT_EQ(reply.status, 200) << reply.headers;
  EXPECT_NE(reply.headers.find("Content-Type: text/plain"), std::string::npos)
      << reply.headers;
  PrometheusSamples samples =
      parse_with_prometheus_client(reply.body, dir.path());

  SidecarClient client(sidecar.port());
  telemetry::sidecar::SidecarTelemetry all;
  client.host().get_all_telemetry(all);
  size_t compared = 0;
  for (const auto& service : all.services) {
    for (const auto& instance : service.instances) {
      for (const auto& counter : instance.all_counters) {
        auto key = std::make_tuple(expected_sample_name(counter.name),
                                   service.service_name, instance.instance_id);
        ASSERT_EQ(samples.count(key), 1u) << std::get<0>(key);
        EXPECT_EQ(samples[key], static_cast<double>(counter.value));
        ++compared;
      }
      EXPECT_EQ((samples[{"telemetry_instance_up", service.service_name,
                          instance.instance_id}]),
                1.0);
    }
  }
  EXPECT_GE(compared, 8u);
}

TEST(SidecarProcessTest, TakenMetricsPortIsAStartupErrorNamingIt) {
  TempDir dir;
  TempDir other_dir;
  RunningSidecar first(dir.path());
  const std::string taken = std::to_string(first.metrics_port());
  const std::string log = other_dir.path() + "/second.log";
  auto second = ChildProcess::spawn(
      sidecar_binary(),
      {"--port", std::to_string(free_port()), "--metrics-port", taken,
       "--telemetry-dir", other_dir.path()},
      log);

  auto status = second.wait_for_exit();
  ASSERT_TRUE(status) << "the second sidecar kept running";
  EXPECT_TRUE(status->exited && status->code != 0)
      << test_support::to_string(*status);
  EXPECT_NE(read_file(log).find("cannot serve metrics: cannot listen on "
                                "127.0.0.1:" +
                                taken),
            std::string::npos)
      << read_file(log);
}

TEST(SidecarProcessTest, ServesFramedTransportWhenAsked) {
  TempDir dir;
  WriterChild a(dir.path(), "ItemService", "1");
  a.add(kSuccess, 9);
  RunningSidecar sidecar(dir.path(), {"--transport", "framed"},
                         /*framed=*/true);
  SidecarClient client(sidecar.port(), /*framed=*/true);
  ASSERT_TRUE(wait_until([&] {
    telemetry::TelemetrySnapshot snap;
    client.service("ItemService").get_telemetry(snap);
    return counter_of(snap, kSuccess) == 9;
  }));
}

TEST(SidecarProcessTest, StopsCleanlyOnSigterm) {
  TempDir dir;
  RunningSidecar sidecar(dir.path());
  EXPECT_TRUE(exited_cleanly(sidecar.process().terminate()));
  EXPECT_NE(sidecar.log().find("stopped"), std::string::npos);
}

TEST(SidecarProcessTest, RefusesBadFlagsAndUnusableDirectory) {
  TempDir dir;
  const std::string not_a_dir = dir.path() + "/plain-file";
  std::ofstream(not_a_dir) << "x";
  const std::string bad_state = dir.path() + "/bad-state";
  std::ofstream(bad_state) << "telemetry-sidecar-retired 1\ncounter\n";
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--transport", "carrier-pigeon"}, "carrier-pigeon"},
      {{"--port", "70000"}, "--port must be between"},
      {{"--retention", "-1"}, "--retention must be between"},
      {{"--no-such-flag"}, "no-such-flag"},
      {{"--port", std::to_string(free_port()), "--metrics-port", "0",
        "--telemetry-dir", not_a_dir},
       "is not a directory"},
      {{"--port", std::to_string(free_port()), "--metrics-port", "0",
        "--telemetry-dir", dir.path(), "--state-file", bad_state},
       "bad-state line 2: expected 'counter"},
  };
  int n = 0;
  for (const auto& [args, expected] : cases) {
    const std::string log = dir.path() + "/bad-" + std::to_string(n++) + ".log";
    auto bad = ChildProcess::spawn(sidecar_binary(), args, log);
    auto status = bad.wait_for_exit();
    ASSERT_TRUE(status) << "the sidecar kept running with bad flags";
    EXPECT_TRUE(status->exited && status->code != 0)
        << test_support::to_string(*status);
    EXPECT_NE(read_file(log).find(expected), std::string::npos)
        << read_file(log);
  }
}

}  // namespace
}  // namespace sidecar_test
