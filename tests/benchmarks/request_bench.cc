// What counting costs on real requests: two item_service processes, one
// counting and one started with --no-telemetry, driven in turn by the same
// clients over loopback. Prints calls per second and server CPU time per
// call for both, and their ratios.
//
//   build/bin/request_bench [--clients N] [--seconds S] [--rounds R]
//                           [--transport buffered|framed]
//
// Server CPU is the sum of every server thread's on-CPU time from
// /proc/<pid>/task/*/schedstat (nanoseconds), read before and after each
// phase. Figures are medians over the rounds; the order of the two servers
// alternates from round to round.
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSocket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "ItemService.h"
#include "bench_util.h"
#include "common/process.h"

namespace {

using apache::thrift::protocol::TBinaryProtocol;
using apache::thrift::transport::TBufferedTransport;
using apache::thrift::transport::TFramedTransport;
using apache::thrift::transport::TSocket;
using apache::thrift::transport::TTransport;

struct Options {
  int clients = 4;
  double seconds = 2.0;
  int rounds = 5;
  std::string transport = "buffered";
};

struct Server {
  std::string label;
  std::optional<test_support::ChildProcess> process;  // set once started
  int port = 0;
  std::string item_id;
};

class Client {
 public:
  Client(int port, const std::string& transport) {
    auto socket = std::make_shared<TSocket>("127.0.0.1", port);
    if (transport == "framed") {
      transport_ = std::make_shared<TFramedTransport>(socket);
    } else {
      transport_ = std::make_shared<TBufferedTransport>(socket);
    }
    client_ = std::make_unique<game::ItemServiceClient>(
        std::make_shared<TBinaryProtocol>(transport_));
    transport_->open();
  }
  ~Client() { transport_->close(); }

  game::ItemServiceClient& get() { return *client_; }

 private:
  std::shared_ptr<TTransport> transport_;
  std::unique_ptr<game::ItemServiceClient> client_;
};

Server start_server(const std::string& label, bool counting,
                    const std::string& directory, const Options& options) {
  Server server;
  server.label = label;
  server.port = test_support::free_port();
  std::vector<std::string> args = {
      "--port",          std::to_string(server.port),
      "--threads",       std::to_string(options.clients + 2),
      "--transport",     options.transport,
      "--telemetry-dir", directory,
      "--log-level",     "warn"};
  if (!counting) args.push_back("--no-telemetry");
  server.process = test_support::ChildProcess::spawn(
      TELEMETRY_BIN_DIR "/item_service", args);
  if (!test_support::wait_for_port(server.port, &*server.process)) {
    throw std::runtime_error("item_service did not listen on port " +
                             std::to_string(server.port));
  }

  Client client(server.port, options.transport);
  game::NewItem item;
  item.__set_name("Benchmark sword");
  item.__set_rarity(game::Rarity::RARE);
  item.__set_price(100);
  game::Item created;
  client.get().create_item(created, item);
  server.item_id = created.item_id;
  return server;
}

struct Phase {
  double calls_per_second = 0;
  double cpu_ns_per_call = 0;
};

Phase drive(const Server& server, const Options& options) {
  std::atomic<bool> go{false};
  std::atomic<long> calls{0};
  std::vector<std::thread> clients;
  std::vector<std::unique_ptr<Client>> connections;
  for (int i = 0; i < options.clients; ++i) {
    connections.push_back(
        std::make_unique<Client>(server.port, options.transport));
  }

  const auto duration = std::chrono::duration<double>(options.seconds);
  for (int i = 0; i < options.clients; ++i) {
    clients.emplace_back([&, i] {
      while (!go.load()) std::this_thread::yield();
      const auto end = std::chrono::steady_clock::now() + duration;
      long mine = 0;
      game::Item item;
      while (std::chrono::steady_clock::now() < end) {
        connections[i]->get().get_item(item, server.item_id);
        ++mine;
      }
      calls += mine;
    });
  }

  const uint64_t cpu_before = bench::process_cpu_ns(server.process->pid());
  const auto begin = std::chrono::steady_clock::now();
  go = true;
  for (auto& thread : clients) thread.join();
  const std::chrono::duration<double> took =
      std::chrono::steady_clock::now() - begin;
  const uint64_t cpu_after = bench::process_cpu_ns(server.process->pid());

  Phase phase;
  phase.calls_per_second = static_cast<double>(calls) / took.count();
  phase.cpu_ns_per_call =
      static_cast<double>(cpu_after - cpu_before) / static_cast<double>(calls);
  return phase;
}

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) throw std::invalid_argument(flag + " needs a value");
    const std::string value = argv[++i];
    if (flag == "--clients") {
      options.clients = std::stoi(value);
    } else if (flag == "--seconds") {
      options.seconds = std::stod(value);
    } else if (flag == "--rounds") {
      options.rounds = std::stoi(value);
    } else if (flag == "--transport") {
      options.transport = value;
    } else {
      throw std::invalid_argument("unknown flag " + flag);
    }
  }
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  try {
    options = parse(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "request_bench: %s\n", e.what());
    return 2;
  }

  test_support::TempDir directory;
  std::vector<Server> servers;
  servers.push_back(
      start_server("counting on", true, directory.path(), options));
  servers.push_back(
      start_server("counting off", false, directory.path(), options));

  std::vector<std::vector<Phase>> phases(servers.size());
  for (int round = 0; round < options.rounds; ++round) {
    for (size_t k = 0; k < servers.size(); ++k) {
      const size_t s = round % 2 == 0 ? k : servers.size() - 1 - k;
      phases[s].push_back(drive(servers[s], options));
    }
  }
  for (Server& server : servers) server.process->terminate();

  std::printf("%d clients, %s transport, %d rounds of %.1f s per server\n\n",
              options.clients, options.transport.c_str(), options.rounds,
              options.seconds);
  std::printf("%-14s %14s %18s\n", "server", "calls/s", "CPU us per call");
  std::vector<double> rate(servers.size()), cpu(servers.size());
  for (size_t s = 0; s < servers.size(); ++s) {
    std::vector<double> rates, cpus;
    for (const Phase& p : phases[s]) {
      rates.push_back(p.calls_per_second);
      cpus.push_back(p.cpu_ns_per_call);
    }
    rate[s] = bench::median(rates);
    cpu[s] = bench::median(cpus);
    std::printf("%-14s %14.0f %18.2f\n", servers[s].label.c_str(), rate[s],
                cpu[s] / 1000.0);
  }
  std::printf("\nratios, counting on / off (goal in brackets)\n");
  std::printf("  server CPU per call:  %.3fx  [<= 1.02]\n", cpu[0] / cpu[1]);
  std::printf("  calls per second:     %.3fx  [>= 0.98]\n", rate[0] / rate[1]);
  return 0;
}
