// The sidecar with the three game services running as real processes: the
// numbers through the sidecar must be exactly each service's own.
#include <gtest/gtest.h>
#include <signal.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSocket.h>

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "InventoryService.h"
#include "ItemService.h"
#include "PlayerService.h"
#include "common/process.h"
#include "common/raw_connection.h"
#include "sidecar/sidecar_client.h"

namespace sidecar_test {
namespace {

using test_support::ChildProcess;

// A game service binary on a free port, counting into `directory`.
struct RunningService {
  std::string name;    // "ItemService"
  std::string binary;  // "item_service"
  int port = 0;
  std::optional<ChildProcess> process;

  void start(const std::string& directory) {
    process = ChildProcess::spawn(
        std::string(TELEMETRY_BIN_DIR) + "/" + binary,
        {"--port", std::to_string(port), "--telemetry-dir", directory},
        directory + "/" + binary + ".log");
    ASSERT_TRUE(test_support::wait_for_port(port, &*process))
        << test_support::read_file(directory + "/" + binary + ".log");
  }
};

// A plain connection to one game service.
template <typename Client>
class ServiceConnection {
 public:
  explicit ServiceConnection(int port) {
    auto socket =
        std::make_shared<apache::thrift::transport::TSocket>("127.0.0.1", port);
    socket->setRecvTimeout(20000);
    transport_ =
        std::make_shared<apache::thrift::transport::TBufferedTransport>(socket);
    client_ = std::make_unique<Client>(
        std::make_shared<apache::thrift::protocol::TBinaryProtocol>(
            transport_));
    transport_->open();
  }
  ~ServiceConnection() { transport_->close(); }
  Client& operator*() { return *client_; }
  Client* operator->() { return client_.get(); }

 private:
  std::shared_ptr<apache::thrift::transport::TTransport> transport_;
  std::unique_ptr<Client> client_;
};

// Calls `call`, ignoring the declared exceptions that a bad request gets.
template <typename Call>
void tolerate_errors(Call call) {
  try {
    call();
  } catch (const apache::thrift::TException&) {
    // A refused request is what some calls are meant to get.
  }
}

void exercise_items(int port) {
  ServiceConnection<game::ItemServiceClient> items(port);
  game::NewItem item;
  item.__set_name("sword");
  item.__set_description("sharp");
  item.__set_rarity(game::Rarity::RARE);
  item.__set_price(10);
  game::Item created;
  for (int i = 0; i < 3; ++i) items->create_item(created, item);
  tolerate_errors([&] { items->get_item(created, "not-an-id"); });
  tolerate_errors([&] { items->get_item(created, "item-999999"); });
  tolerate_errors([&] { items->create_item(created, game::NewItem()); });
  items->get_item(created, created.item_id);
}

void exercise_players(int port) {
  ServiceConnection<game::PlayerServiceClient> players(port);
  game::NewPlayer player;
  player.__set_name("ann");
  game::Player created;
  players->create_player(created, player);
  tolerate_errors([&] { players->create_player(created, player); });
  tolerate_errors([&] { players->get_player(created, "bogus"); });
}

void exercise_inventory(int port) {
  ServiceConnection<game::InventoryServiceClient> inventory(port);
  game::Inventory result;
  tolerate_errors([&] { inventory->list_inventory(result, "player-1"); });
  tolerate_errors([&] { inventory->list_inventory(result, "nobody"); });
  test_support::RawConnection garbage(port);
  garbage.send_all(std::string(40, '\x7f'));
  garbage.wait_for_close(std::chrono::seconds(20));
}

// The service's own snapshot, read straight from it.
telemetry::TelemetrySnapshot own_snapshot(int port) {
  ServiceConnection<telemetry::BaseServiceClient> self(port);
  telemetry::TelemetrySnapshot snap;
  self->get_telemetry(snap);
  return snap;
}

telemetry::TelemetrySnapshot sidecar_snapshot(int port,
                                              const std::string& service) {
  SidecarClient sidecar(port);
  telemetry::TelemetrySnapshot snap;
  sidecar.service(service).get_telemetry(snap);
  return snap;
}

std::string counters_text(const telemetry::TelemetrySnapshot& snap) {
  std::string text;
  for (const auto& [key, value] : snap.counters) {
    text += std::to_string(key) + "=" + std::to_string(value) + " ";
  }
  return text + "generation=" + std::to_string(snap.generation);
}

// The sidecar is read first, then the service; the service's reply leaves
// out the call that asks, so with no other traffic the two agree exactly.
// A call is published just after its reply, hence the retries.
bool sidecar_matches_service(int sidecar_port, const RunningService& s,
                             std::string* last_difference) {
  return wait_until(
      [&] {
        try {
          auto via_sidecar = sidecar_snapshot(sidecar_port, s.name);
          auto own = own_snapshot(s.port);
          *last_difference = "sidecar " + counters_text(via_sidecar) +
                             " vs own " + counters_text(own);
          return via_sidecar.counters == own.counters &&
                 via_sidecar.generation == own.generation;
        } catch (const std::exception& e) {
          *last_difference = e.what();
          return false;
        }
      },
      std::chrono::seconds(30));
}

class ServicesIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::pair<const char*, const char*> kinds[] = {
        {"ItemService", "item_service"},
        {"InventoryService", "inventory_service"},
        {"PlayerService", "player_service"}};
    for (const auto& [name, binary] : kinds) {
      services_.emplace_back();
      services_.back().name = name;
      services_.back().binary = binary;
      services_.back().port = test_support::free_port();
    }
  }

  RunningService& service(const std::string& name) {
    for (auto& s : services_) {
      if (s.name == name) return s;
    }
    throw std::runtime_error("no service " + name);
  }

  void expect_all_match(int sidecar_port) {
    for (const auto& s : services_) {
      std::string difference;
      EXPECT_TRUE(sidecar_matches_service(sidecar_port, s, &difference))
          << s.name << ": " << difference;
    }
  }

  test_support::TempDir dir_;
  std::deque<RunningService> services_;
};

TEST_F(ServicesIntegrationTest, SidecarTotalsEqualEachServicesOwnCounts) {
  for (auto& s : services_) s.start(dir_.path());
  RunningSidecar sidecar(dir_.path());
  exercise_items(service("ItemService").port);
  exercise_players(service("PlayerService").port);
  exercise_inventory(service("InventoryService").port);
  expect_all_match(sidecar.port());

  auto items = own_snapshot(service("ItemService").port);
  EXPECT_GE(items.counters[telemetry::TelemetryCounter::ERROR_REQUESTS], 3);
  EXPECT_GE(items.counters[telemetry::TelemetryCounter::SUCCESSFUL_REQUESTS],
            4);
}

TEST_F(ServicesIntegrationTest, ServiceStartedAfterSidecarIsServed) {
  RunningSidecar sidecar(dir_.path());
  RunningService& players = service("PlayerService");
  players.start(dir_.path());
  exercise_players(players.port);
  std::string difference;
  EXPECT_TRUE(sidecar_matches_service(sidecar.port(), players, &difference))
      << difference;
}

TEST_F(ServicesIntegrationTest, KilledServiceKeepsCountsAndRestartContinues) {
  RunningService& items = service("ItemService");
  items.start(dir_.path());
  RunningSidecar sidecar(dir_.path());
  exercise_items(items.port);
  std::string difference;
  ASSERT_TRUE(sidecar_matches_service(sidecar.port(), items, &difference))
      << difference;
  const auto before = sidecar_snapshot(sidecar.port(), "ItemService");

  items.process->signal(SIGKILL);
  items.process->wait_for_exit();
  // The last call's counts may land just after `before` was read, but
  // nothing lands once the process is gone.
  telemetry::TelemetrySnapshot frozen;
  EXPECT_TRUE(wait_until([&] {
    frozen = sidecar_snapshot(sidecar.port(), "ItemService");
    return !frozen.alive;
  }));
  for (const auto& [key, value] : before.counters) {
    EXPECT_GE(frozen.counters.at(key), value) << key;
  }
  EXPECT_EQ(sidecar_snapshot(sidecar.port(), "ItemService").counters,
            frozen.counters);

  items.start(dir_.path());
  exercise_items(items.port);
  ASSERT_TRUE(sidecar_matches_service(sidecar.port(), items, &difference))
      << difference;
  const auto after = sidecar_snapshot(sidecar.port(), "ItemService");
  EXPECT_TRUE(after.alive);
  EXPECT_EQ(after.generation, 2);
  for (const auto& [key, value] : frozen.counters) {
    EXPECT_GT(after.counters.at(key), value) << key;
  }
}

// Every service's total as the sidecar on `port` reports it now.
std::map<std::string, std::map<telemetry::TelemetryCounter::type, int64_t>>
host_totals(int port) {
  SidecarClient client(port);
  telemetry::sidecar::SidecarTelemetry all;
  client.host().get_all_telemetry(all);
  std::map<std::string, std::map<telemetry::TelemetryCounter::type, int64_t>>
      totals;
  for (const auto& service : all.services) {
    totals[service.service_name] = service.total.counters;
  }
  return totals;
}

TEST_F(ServicesIntegrationTest, RestartingSidecarChangesNoNumber) {
  for (auto& s : services_) s.start(dir_.path());
  auto sidecar = std::make_unique<RunningSidecar>(dir_.path());
  exercise_items(service("ItemService").port);
  exercise_inventory(service("InventoryService").port);
  expect_all_match(sidecar->port());

  // With the services running, the new sidecar agrees with each of them.
  EXPECT_TRUE(exited_cleanly(sidecar->process().terminate()));
  sidecar = std::make_unique<RunningSidecar>(dir_.path());
  expect_all_match(sidecar->port());

  // Once they stopped, nothing can land late: the totals are equal across
  // a restart to the last count.
  for (auto& s : services_) {
    EXPECT_TRUE(exited_cleanly(s.process->terminate()));
  }
  const auto before = host_totals(sidecar->port());
  EXPECT_TRUE(exited_cleanly(sidecar->process().terminate()));
  sidecar = std::make_unique<RunningSidecar>(dir_.path());
  EXPECT_EQ(host_totals(sidecar->port()), before);
  EXPECT_EQ(before.size(), services_.size());
}

TEST_F(ServicesIntegrationTest, MetricsAgreeWithThriftForRealServices) {
  for (auto& s : services_) s.start(dir_.path());
  RunningSidecar sidecar(dir_.path());
  exercise_items(service("ItemService").port);
  expect_all_match(sidecar.port());

  SidecarClient client(sidecar.port());
  telemetry::sidecar::SidecarTelemetry all;
  client.host().get_all_telemetry(all);
  HttpReply reply = http_get(sidecar.metrics_port(), "/metrics");
  ASSERT_EQ(reply.status, 200);
  PrometheusSamples samples =
      parse_with_prometheus_client(reply.body, dir_.path());
  for (const auto& service : all.services) {
    for (const auto& instance : service.instances) {
      for (const auto& counter : instance.all_counters) {
        auto key = std::make_tuple(expected_sample_name(counter.name),
                                   service.service_name, instance.instance_id);
        EXPECT_EQ(samples[key], static_cast<double>(counter.value))
            << std::get<0>(key) << " " << service.service_name;
      }
    }
  }
}

}  // namespace
}  // namespace sidecar_test
