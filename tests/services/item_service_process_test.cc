// item_service run as its own process: its counters must grow by exactly
// what its clients did, counted on the client side, for both transports.
#include <gtest/gtest.h>
#include <thrift/TApplicationException.h>

#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "ItemService.h"
#include "PlayerService.h"
#include "common/process.h"
#include "common/raw_connection.h"
#include "services/counted_connection.h"
#include "services/service_process.h"

namespace telemetry_shm {

// Names the transport in test output.
void PrintTo(TransportKind kind, std::ostream* out) {
  *out << (kind == TransportKind::kFramed ? "framed" : "buffered");
}

}  // namespace telemetry_shm

namespace services_test {
namespace {

using apache::thrift::TApplicationException;
using telemetry_shm::TransportKind;

std::string transport_flag(TransportKind kind) {
  return kind == TransportKind::kFramed ? "framed" : "buffered";
}

// Bytes that are no strict binary message: the first four read as a
// positive length, where a strict reader wants a version word. Framed, they
// come inside a well-formed frame.
std::string garbage_for(TransportKind kind) {
  const std::string garbage = "this is not thrift!!";
  if (kind == TransportKind::kBuffered) return garbage;
  const auto size = static_cast<uint32_t>(garbage.size());
  std::string frame = {static_cast<char>(size >> 24),
                       static_cast<char>(size >> 16),
                       static_cast<char>(size >> 8), static_cast<char>(size)};
  return frame + garbage;
}

game::NewItem sword() {
  game::NewItem item;
  item.__set_name("Sword");
  item.__set_description("Sharp on one side");
  item.__set_rarity(game::Rarity::RARE);
  item.__set_price(120);
  return item;
}

// Sends a message for a method that ItemService does not have, written by
// hand, and reads the server's answer.
TApplicationException call_unknown_method(CountedConnection& connection) {
  auto protocol = connection.protocol();
  protocol->writeMessageBegin("no_such_method",
                              apache::thrift::protocol::T_CALL, 7);
  protocol->writeStructBegin("no_such_method_args");
  protocol->writeFieldStop();
  protocol->writeStructEnd();
  protocol->writeMessageEnd();
  protocol->getTransport()->writeEnd();
  protocol->getTransport()->flush();

  std::string name;
  apache::thrift::protocol::TMessageType type;
  int32_t sequence = 0;
  protocol->readMessageBegin(name, type, sequence);
  EXPECT_EQ(type, apache::thrift::protocol::T_EXCEPTION);
  EXPECT_EQ(name, "no_such_method");
  TApplicationException error;
  error.read(protocol.get());
  protocol->readMessageEnd();
  protocol->getTransport()->readEnd();
  connection.record_error();
  return error;
}

// Sends `bytes` on a connection of its own and waits until the server
// closes it; returns what the server should have counted for it.
Traffic send_and_wait_for_close(int port, const std::string& bytes) {
  test_support::RawConnection raw(port);
  raw.send_all(bytes);
  EXPECT_TRUE(raw.wait_for_close(test_support::kDefaultWait))
      << "the server kept a connection open after garbage";
  return {raw.bytes_sent(), raw.bytes_received(), 0, 1};
}

class ItemServiceProcessTest : public ::testing::TestWithParam<TransportKind> {
 protected:
  // Starts item_service with this test's transport and `extra_args`.
  void start_service(std::vector<std::string> extra_args = {}) {
    extra_args.insert(extra_args.end(),
                      {"--transport", transport_flag(GetParam())});
    service_.emplace("item_service", extra_args);
    ASSERT_TRUE(service_->start()) << service_->log();
  }

  // Shows what the service logged when the test failed.
  void TearDown() override {
    if (HasFailure() && service_) {
      std::cerr << "item_service log:\n" << service_->log();
    }
  }

  int port() const { return service_->port(); }
  TransportKind kind() const { return GetParam(); }

  std::optional<ServiceProcess> service_;
};

TEST_P(ItemServiceProcessTest, CountsEveryCallAndByteExactly) {
  ASSERT_NO_FATAL_FAILURE(start_service({"--threads", "4"}));
  CountedConnection probe(port(), kind());
  game::ItemServiceClient items(probe.protocol());
  game::PlayerServiceClient players(probe.protocol());

  const Reading baseline = read_telemetry(probe);
  EXPECT_EQ(baseline.snapshot.service_name, "ItemService");
  EXPECT_EQ(baseline.snapshot.instance_id, service_->instance_id());
  EXPECT_TRUE(baseline.snapshot.alive);
  EXPECT_EQ(baseline.snapshot.generation, 1);
  EXPECT_EQ(counters_of(baseline.snapshot), Traffic{});

  // Valid calls.
  game::Item created;
  probe.expect_success([&] { items.create_item(created, sword()); });
  EXPECT_EQ(created.item_id, "item-1");
  game::Item fetched;
  probe.expect_success([&] { items.get_item(fetched, created.item_id); });
  EXPECT_EQ(fetched, created);
  game::ItemPage page;
  probe.expect_success([&] { items.list_items(page, 0, 10); });
  EXPECT_EQ(page.total, 1);
  ASSERT_EQ(page.items.size(), 1u);
  telemetry::ServiceMetadata metadata;
  probe.expect_success([&] { items.describe(metadata); });
  EXPECT_EQ(metadata.instance_id, service_->instance_id());

  // Declared exceptions.
  game::NewItem nameless = sword();
  nameless.__isset.name = false;
  game::Item unused;
  const auto missing = probe.expect_error<game::InvalidInput>(
      [&] { items.create_item(unused, nameless); });
  EXPECT_EQ(missing.message, "name is missing");
  const auto unknown = probe.expect_error<game::NotFound>(
      [&] { items.get_item(unused, "item-999"); });
  EXPECT_EQ(unknown.message, "item item-999 does not exist");
  probe.expect_error<game::InvalidInput>(
      [&] { items.get_item(unused, "sword"); });
  probe.expect_error<game::InvalidInput>([&] { items.list_items(page, 0, 0); });
  probe.expect_error<game::NotFound>([&] { items.delete_item("item-42"); });

  // Methods ItemService does not have.
  EXPECT_EQ(call_unknown_method(probe).getType(),
            TApplicationException::UNKNOWN_METHOD);
  game::Player player;
  const auto foreign = probe.expect_error<TApplicationException>(
      [&] { players.get_player(player, "player-1"); });
  EXPECT_EQ(foreign.getType(), TApplicationException::UNKNOWN_METHOD);

  // Garbage on a connection of its own.
  const Traffic garbage = send_and_wait_for_close(port(), garbage_for(kind()));

  // The baseline call and four valid calls succeeded; seven calls failed.
  const Traffic made = probe.traffic() - baseline.before;
  EXPECT_EQ(made.successful, 5u);
  EXPECT_EQ(made.errors, 7u);

  const Growth growth = wait_for_growth(probe, baseline, garbage);
  EXPECT_EQ(growth.actual, growth.expected);
  EXPECT_EQ(growth.expected.errors, 8u);
}

TEST_P(ItemServiceProcessTest, KeepsServingAfterGarbage) {
  ASSERT_NO_FATAL_FAILURE(start_service());
  CountedConnection probe(port(), kind());
  const Reading baseline = read_telemetry(probe);

  Traffic garbage;
  for (int i = 0; i < 3; ++i) {
    garbage = garbage + send_and_wait_for_close(port(), garbage_for(kind()));
  }
  CountedConnection after(port(), kind());
  game::ItemServiceClient items(after.protocol());
  game::Item created;
  after.expect_success([&] { items.create_item(created, sword()); });
  after.close();

  const Growth growth =
      wait_for_growth(probe, baseline, garbage + after.traffic());
  EXPECT_EQ(growth.actual, growth.expected);
  EXPECT_EQ(growth.expected.errors, 3u);
}

TEST_P(ItemServiceProcessTest, CountsAClientThatLeavesMidRequestAsOneError) {
  ASSERT_NO_FATAL_FAILURE(start_service());
  CountedConnection probe(port(), kind());
  const Reading baseline = read_telemetry(probe);

  const std::string call = encode_empty_call("list_items", kind());
  const std::string half = call.substr(0, call.size() / 2);
  test_support::RawConnection leaving(port());
  leaving.send_all(half);
  leaving.close();

  CountedConnection after(port(), kind());
  game::ItemServiceClient items(after.protocol());
  game::ItemPage page;
  after.expect_error<game::InvalidInput>([&] { items.list_items(page, 0, 0); });
  after.close();

  const Traffic left = {half.size(), 0, 0, 1};
  const Growth growth =
      wait_for_growth(probe, baseline, left + after.traffic());
  EXPECT_EQ(growth.actual, growth.expected);
}

TEST_P(ItemServiceProcessTest, FreesAWorkerFromAnIdleClientWithoutCounting) {
  // One worker: the idle client holds it until its receive timeout.
  ASSERT_NO_FATAL_FAILURE(
      start_service({"--threads", "1", "--receive-timeout-ms", "500"}));
  test_support::RawConnection idle(port());

  // Served only once the idle connection has been dropped. Every reading
  // uses a new connection, so a slow test cannot be timed out itself.
  Traffic first_traffic;
  {
    CountedConnection first(port(), kind());
    const Reading reading = read_telemetry(first);
    EXPECT_EQ(counters_of(reading.snapshot), Traffic{});
    first_traffic = first.traffic();
  }
  EXPECT_TRUE(idle.wait_for_close(test_support::kDefaultWait));
  EXPECT_EQ(idle.bytes_received(), 0u);

  CountedConnection second(port(), kind());
  const Reading reading = read_telemetry(second);
  EXPECT_EQ(counters_of(reading.snapshot), first_traffic);
}

TEST_P(ItemServiceProcessTest, AnswersMoreClientsThanWorkersAndCountsAll) {
  ASSERT_NO_FATAL_FAILURE(
      start_service({"--threads", "2", "--receive-timeout-ms", "120000"}));
  CountedConnection probe(port(), kind());
  const Reading baseline = read_telemetry(probe);

  constexpr int kClients = 8;
  constexpr int kCallsPerClient = 30;
  std::vector<Traffic> traffic(kClients);
  std::vector<std::string> failures(kClients);
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      try {
        CountedConnection connection(port(), kind());
        game::ItemServiceClient items(connection.protocol());
        game::Item item;
        for (int i = 0; i < kCallsPerClient; ++i) {
          if (i % 3 == 2) {
            connection.expect_error<game::NotFound>(
                [&] { items.get_item(item, "item-999999"); });
          } else {
            connection.expect_success(
                [&] { items.create_item(item, sword()); });
          }
        }
        connection.close();
        traffic[c] = connection.traffic();
      } catch (const std::exception& error) {
        failures[c] = error.what();
      }
    });
  }
  for (auto& client : clients) client.join();

  Traffic all;
  for (int c = 0; c < kClients; ++c) {
    EXPECT_EQ(failures[c], "") << "client " << c;
    EXPECT_EQ(traffic[c].successful + traffic[c].errors,
              static_cast<uint64_t>(kCallsPerClient))
        << "client " << c;
    all = all + traffic[c];
  }
  const Growth growth = wait_for_growth(probe, baseline, all);
  EXPECT_EQ(growth.actual, growth.expected);

  game::ItemServiceClient items(probe.protocol());
  game::ItemPage page;
  probe.expect_success([&] { items.list_items(page, 0, 1); });
  EXPECT_EQ(page.total, kClients * (kCallsPerClient / 3) * 2);
}

INSTANTIATE_TEST_SUITE_P(
    Transports, ItemServiceProcessTest,
    ::testing::Values(TransportKind::kBuffered, TransportKind::kFramed),
    [](const ::testing::TestParamInfo<TransportKind>& info) {
      return transport_flag(info.param);
    });

}  // namespace
}  // namespace services_test
