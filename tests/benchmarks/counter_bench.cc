// Side-by-side cost of one increment, and of one snapshot, for the ways a
// service could count. Prints nanoseconds per increment per thread at 1 and
// 2 threads, and the ratios that the library's goals are stated in.
//
//   build/bin/counter_bench [--rounds N] [--iterations N]
//
// Every figure is the median of several rounds; each round runs the
// contenders one after the other so that they share the machine's state.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "telemetry_shm/counters.h"
#include "telemetry_shm/segment_layout.h"
#include "telemetry_shm/segment_reader.h"
#include "telemetry_shm/telemetry_manager.h"

namespace {

using Clock = std::chrono::steady_clock;
using telemetry::TelemetryCounter;

// Forces the compiler to perform every store, as it would for counting
// spread through real code.
template <typename T>
inline void keep(T& value) {
  asm volatile("" : : "r"(&value) : "memory");
}

struct alignas(128) OwnedSlot {
  uint64_t value = 0;
};

std::atomic<uint64_t> g_shared{0};
std::mutex g_map_mutex;
std::unordered_map<int, int64_t> g_map;
OwnedSlot g_owned[8];

using Body = std::function<void(int thread, long iterations)>;

struct Contender {
  const char* name;
  Body body;
};

// Runs `body` on `threads` threads at once; returns ns per call per thread.
double run(const Body& body, int threads, long iterations) {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<double> per_thread(threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      ready.fetch_add(1);
      while (!go.load()) {
      }
      const auto begin = Clock::now();
      body(t, iterations);
      const std::chrono::duration<double, std::nano> took =
          Clock::now() - begin;
      per_thread[t] = took.count() / static_cast<double>(iterations);
    });
  }
  while (ready.load() != threads) {
  }
  go = true;
  for (auto& thread : pool) thread.join();
  return *std::max_element(per_thread.begin(), per_thread.end());
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

std::vector<Contender> contenders() {
  return {
      {"plain ++ on a thread-owned slot",
       [](int t, long n) {
         for (long i = 0; i < n; ++i) {
           ++g_owned[t].value;
           keep(g_owned[t].value);
         }
       }},
      {"increment_counter",
       [](int, long n) {
         for (long i = 0; i < n; ++i) {
           telemetry_shm::increment_counter(
               TelemetryCounter::SUCCESSFUL_REQUESTS, 1);
           keep(n);
         }
       }},
      {"fetch_add on one shared atomic",
       [](int, long n) {
         for (long i = 0; i < n; ++i) {
           g_shared.fetch_add(1, std::memory_order_relaxed);
           keep(n);
         }
       }},
      {"mutex + unordered_map",
       [](int, long n) {
         for (long i = 0; i < n; ++i) {
           std::lock_guard lock(g_map_mutex);
           g_map[TelemetryCounter::SUCCESSFUL_REQUESTS] += 1;
           keep(n);
         }
       }},
  };
}

void bench_increments(int rounds, long iterations) {
  const auto all = contenders();
  // results[contender][threads - 1]
  std::vector<std::vector<std::vector<double>>> samples(
      all.size(), std::vector<std::vector<double>>(2));
  for (int round = 0; round < rounds; ++round) {
    for (size_t c = 0; c < all.size(); ++c) {
      for (int threads = 1; threads <= 2; ++threads) {
        const long n = c == 3 ? iterations / 10 : iterations;
        samples[c][threads - 1].push_back(run(all[c].body, threads, n));
      }
    }
  }

  std::vector<std::vector<double>> ns(all.size(), std::vector<double>(2));
  std::printf("%-34s %12s %12s\n", "ns per increment per thread", "1 thread",
              "2 threads");
  for (size_t c = 0; c < all.size(); ++c) {
    ns[c][0] = median(samples[c][0]);
    ns[c][1] = median(samples[c][1]);
    std::printf("%-34s %12.2f %12.2f\n", all[c].name, ns[c][0], ns[c][1]);
  }

  const double own1 = ns[1][0], own2 = ns[1][1];
  std::printf("\nratios (goal in brackets)\n");
  std::printf("  increment_counter / plain ++, 1 thread:     %6.2fx  [<= 3]\n",
              own1 / ns[0][0]);
  std::printf(
      "  increment_counter 2 threads / 1 thread:     %6.2fx  [<= 1.2]\n",
      own2 / own1);
  std::printf("  shared atomic / increment_counter, 2 thr.:  %6.1fx  [>= 10]\n",
              ns[2][1] / own2);
  std::printf("  mutex map / increment_counter, 2 threads:   %6.1fx  [>= 50]\n",
              ns[3][1] / own2);
}

void bench_snapshot(int rounds) {
  const std::string path =
      telemetry_shm::TelemetryManager::instance().segment_path();
  const auto reader = telemetry_shm::SegmentReader::open(path);

  // The bytes a snapshot reads: the header, the descriptors and the stripes.
  std::vector<char> from(telemetry_shm::layout::kSegmentSize, 1);
  std::vector<char> to(telemetry_shm::layout::kSegmentSize);
  const int per_round = 2000;

  std::vector<double> snap_ns, copy_ns;
  for (int round = 0; round < rounds; ++round) {
    auto begin = Clock::now();
    for (int i = 0; i < per_round; ++i) {
      auto snap = reader.snapshot();
      keep(snap);
    }
    std::chrono::duration<double, std::nano> took = Clock::now() - begin;
    snap_ns.push_back(took.count() / per_round);

    begin = Clock::now();
    for (int i = 0; i < per_round; ++i) {
      std::memcpy(to.data(), from.data(), to.size());
      keep(to);
    }
    took = Clock::now() - begin;
    copy_ns.push_back(took.count() / per_round);
  }
  const double snap = median(snap_ns), copy = median(copy_ns);
  std::printf("\nsnapshot of one segment (%zu bytes)\n",
              telemetry_shm::layout::kSegmentSize);
  std::printf("  SegmentReader::snapshot():  %10.0f ns\n", snap);
  std::printf("  memcpy of the same bytes:   %10.0f ns\n", copy);
  std::printf("  ratio:                      %10.2fx  [<= 3]\n", snap / copy);
}

long flag_value(int argc, char** argv, const char* flag, long fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], flag) == 0) return std::atol(argv[i + 1]);
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = static_cast<int>(flag_value(argc, argv, "--rounds", 7));
  const long iterations =
      flag_value(argc, argv, "--iterations", 50 * 1000 * 1000);

  char directory[] = "/dev/shm/telemetry-bench-XXXXXX";
  if (::mkdtemp(directory) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  telemetry_shm::ManagerOptions options;
  options.service_name = "Bench";
  options.instance_id = "1";
  options.directory = directory;
  telemetry_shm::TelemetryManager::instance().start(options);

  std::printf("rounds %d, %ld increments per thread per round\n\n", rounds,
              iterations);
  bench_increments(rounds, iterations);
  bench_snapshot(rounds);

  const std::string path =
      telemetry_shm::TelemetryManager::instance().segment_path();
  telemetry_shm::TelemetryManager::instance().stop();
  std::remove(path.c_str());
  ::rmdir(directory);
  return 0;
}
