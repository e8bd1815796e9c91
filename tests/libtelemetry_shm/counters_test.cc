// increment_counter(): exact totals under contention, counts that only grow
// for a reader, counts made outside start()/stop(), and refused input.
#include "telemetry_shm/counters.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "segment_test_util.h"
#include "telemetry_shm/segment_reader.h"
#include "telemetry_shm/telemetry_manager.h"

namespace {

using segment_test::ChildProcess;
using segment_test::kAllKeys;
using segment_test::kBytesReceived;
using segment_test::kBytesSent;
using segment_test::kErrorRequests;
using segment_test::Key;
using segment_test::kSuccessfulRequests;
using segment_test::Link;
using segment_test::TempDir;
using segment_test::writer_options;
using telemetry_shm::increment_counter;
using telemetry_shm::Liveness;
using telemetry_shm::SegmentReader;
using telemetry_shm::Snapshot;
using telemetry_shm::TelemetryManager;

using Totals = std::map<int32_t, uint64_t>;

// Each thread's share of the contention test: increment `i` adds
// amount_of(i) to kAllKeys[i % 4].
constexpr int kIncrementsPerThread = 200000;
uint64_t amount_of(int i) { return 1 + static_cast<uint64_t>(i % 3); }

Totals expected_per_thread() {
  Totals totals;
  for (int i = 0; i < kIncrementsPerThread; ++i) {
    totals[kAllKeys[i % 4]] += amount_of(i);
  }
  return totals;
}

void count_share() {
  for (int i = 0; i < kIncrementsPerThread; ++i) {
    increment_counter(kAllKeys[i % 4], static_cast<int64_t>(amount_of(i)));
  }
}

// Runs `threads` threads of `work` at once and joins them.
template <typename Work>
void run_threads(int threads, Work work) {
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(work);
  for (auto& thread : pool) thread.join();
}

Totals sum_of_directory(const std::string& directory) {
  Totals totals;
  for (const auto& entry : telemetry_shm::list_segments(directory)) {
    const Snapshot snap = SegmentReader::open(entry.path).snapshot();
    for (const auto& counter : snap.counters) {
      totals[counter.key] += counter.value;
    }
  }
  return totals;
}

std::string rejection_message(int32_t key, int64_t amount) {
  try {
    increment_counter(static_cast<Key>(key), amount);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "<accepted>";
}

class CounterTest : public ::testing::Test {
 protected:
  std::string segment_path(const std::string& instance = "1") const {
    return dir_.file("CounterService." + instance + ".seg");
  }

  telemetry_shm::ManagerOptions options(
      const std::string& instance = "1") const {
    return writer_options(dir_.path(), "CounterService", instance);
  }

  TempDir dir_;
};

TEST_F(CounterTest, SumIsExactUnderContentionFromSeveralProcesses) {
  constexpr int kProcesses = 3;
  constexpr int kThreads = 4;
  std::vector<std::unique_ptr<ChildProcess>> writers;
  for (int p = 0; p < kProcesses; ++p) {
    const auto opts = options(std::to_string(p));
    writers.push_back(std::make_unique<ChildProcess>([opts](Link& link) {
      TelemetryManager::instance().start(opts);
      link.send("started");
      link.receive();
      run_threads(kThreads, count_share);
      link.send("counted");
      link.receive();
      TelemetryManager::instance().stop();
      return 0;
    }));
  }
  for (auto& writer : writers) ASSERT_EQ(writer->receive(), "started");

  // Let every process count at the same time.
  for (auto& writer : writers) writer->send("go");
  for (auto& writer : writers) ASSERT_EQ(writer->receive(), "counted");

  Totals expected;
  for (const auto& [key, total] : expected_per_thread()) {
    expected[key] = total * kProcesses * kThreads;
  }
  EXPECT_EQ(sum_of_directory(dir_.path()), expected);

  for (auto& writer : writers) writer->send("stop");
  for (auto& writer : writers) EXPECT_EQ(writer->wait(), 0);
  EXPECT_EQ(sum_of_directory(dir_.path()), expected);
}

TEST_F(CounterTest, SumIsExactWhenThreadsOutnumberStripes) {
  constexpr int kThreads = 100;  // more than layout::kStripeCount
  constexpr int kPerThread = 20000;
  ChildProcess writer([&](Link& link) {
    TelemetryManager::instance().start(options());
    std::atomic<int> waiting{kThreads};
    run_threads(kThreads, [&] {
      // Every thread counts only once all exist, so none can hand its
      // stripe on to a later one.
      waiting.fetch_sub(1);
      while (waiting.load() > 0) std::this_thread::yield();
      for (int i = 0; i < kPerThread; ++i) increment_counter(kBytesSent, 1);
    });
    link.send("counted");
    link.receive();
    return 0;
  });

  ASSERT_EQ(writer.receive(), "counted");
  EXPECT_EQ(SegmentReader::open(segment_path()).snapshot().value(kBytesSent),
            static_cast<uint64_t>(kThreads) * kPerThread);
}

TEST_F(CounterTest, KeepsCountsOfThreadsThatHaveEnded) {
  constexpr int kRounds = 50;
  constexpr int kThreadsPerRound = 8;  // 400 threads in all
  constexpr int kPerThread = 1000;
  ChildProcess writer([&](Link& link) {
    TelemetryManager::instance().start(options());
    for (int round = 0; round < kRounds; ++round) {
      run_threads(kThreadsPerRound, [] {
        for (int i = 0; i < kPerThread; ++i) {
          increment_counter(kSuccessfulRequests, 1);
        }
      });
    }
    link.send("counted");
    link.receive();
    return 0;
  });

  ASSERT_EQ(writer.receive(), "counted");
  EXPECT_EQ(
      SegmentReader::open(segment_path()).snapshot().value(kSuccessfulRequests),
      static_cast<uint64_t>(kRounds) * kThreadsPerRound * kPerThread);
}

TEST_F(CounterTest, ReaderSeesEveryCounterOnlyGrow) {
  constexpr int kProcesses = 2;
  constexpr int kThreads = 2;
  std::vector<std::unique_ptr<ChildProcess>> writers;
  for (int p = 0; p < kProcesses; ++p) {
    const auto opts = options(std::to_string(p));
    writers.push_back(std::make_unique<ChildProcess>([opts](Link& link) {
      TelemetryManager::instance().start(opts);
      std::atomic<bool> done{false};
      std::atomic<uint64_t> counted{0};
      std::vector<std::thread> pool;
      for (int t = 0; t < kThreads; ++t) {
        pool.emplace_back([&] {
          uint64_t mine = 0;
          while (!done.load(std::memory_order_relaxed)) {
            for (Key key : kAllKeys) increment_counter(key, 3);
            ++mine;
          }
          counted.fetch_add(mine);
        });
      }
      link.send("counting");
      link.receive();
      done = true;
      for (auto& thread : pool) thread.join();
      link.send(std::to_string(counted.load()));
      link.receive();
      return 0;
    }));
  }
  for (auto& writer : writers) ASSERT_EQ(writer->receive(), "counting");

  std::vector<SegmentReader> readers;
  for (int p = 0; p < kProcesses; ++p) {
    readers.push_back(SegmentReader::open(segment_path(std::to_string(p))));
  }
  std::vector<Totals> previous(kProcesses);
  // Read for at least half a second and until the values moved a few
  // times, so that the reads really overlapped the counting.
  int changes = 0;
  const auto start = std::chrono::steady_clock::now();
  const auto elapsed = [&] { return std::chrono::steady_clock::now() - start; };
  while ((elapsed() < std::chrono::milliseconds(500) || changes < 10) &&
         elapsed() < segment_test::kTimeout) {
    for (int p = 0; p < kProcesses; ++p) {
      const Snapshot snap = readers[p].snapshot();
      for (const auto& counter : snap.counters) {
        uint64_t& last = previous[p][counter.key];
        ASSERT_GE(counter.value, last) << "key " << counter.key;
        if (counter.value != last) ++changes;
        last = counter.value;
      }
    }
  }

  EXPECT_GE(changes, 10);

  // The totals the writers report match what the segments hold.
  for (auto& writer : writers) writer->send("finish");
  for (int p = 0; p < kProcesses; ++p) {
    const uint64_t rounds = std::stoull(writers[p]->receive());
    const Snapshot snap = readers[p].snapshot();
    for (Key key : kAllKeys) EXPECT_EQ(snap.value(key), rounds * 3);
  }
}

TEST_F(CounterTest, KeepsCountsMadeBeforeStartAndPublishesThemAtStart) {
  ChildProcess writer([&](Link& link) {
    increment_counter(kBytesReceived, 11);
    increment_counter(kErrorRequests, 2);
    const Snapshot before = TelemetryManager::instance().snapshot();
    link.send(std::to_string(before.value(kBytesReceived)) + " " +
              std::to_string(before.value(kErrorRequests)) + " " +
              telemetry_shm::to_string(before.liveness));
    TelemetryManager::instance().start(options());
    link.send("started");
    link.receive();
    return 0;
  });

  EXPECT_EQ(writer.receive(), "11 2 stopped");
  ASSERT_EQ(writer.receive(), "started");
  const Snapshot snap = SegmentReader::open(segment_path()).snapshot();
  EXPECT_EQ(snap.value(kBytesReceived), 11u);
  EXPECT_EQ(snap.value(kErrorRequests), 2u);
  EXPECT_EQ(snap.value(kBytesSent), 0u);
}

TEST_F(CounterTest, KeepsCountsMadeAfterStopForTheNextStart) {
  ChildProcess writer([&](Link& link) {
    auto& manager = TelemetryManager::instance();
    manager.start(options());
    increment_counter(kBytesSent, 1);
    manager.stop();
    increment_counter(kBytesSent, 2);
    link.send("stopped");
    link.receive();
    manager.start(options());
    link.send("restarted");
    link.receive();
    return 0;
  });

  ASSERT_EQ(writer.receive(), "stopped");
  const Snapshot stopped = SegmentReader::open(segment_path()).snapshot();
  EXPECT_EQ(stopped.value(kBytesSent), 1u);
  EXPECT_EQ(stopped.liveness, Liveness::kStopped);

  writer.send("restart");
  ASSERT_EQ(writer.receive(), "restarted");
  const Snapshot restarted = SegmentReader::open(segment_path()).snapshot();
  EXPECT_EQ(restarted.value(kBytesSent), 3u);
  EXPECT_EQ(restarted.liveness, Liveness::kAlive);
}

TEST_F(CounterTest, ZeroAmountIsAcceptedAndChangesNothing) {
  ChildProcess writer([&](Link& link) {
    TelemetryManager::instance().start(options());
    increment_counter(kBytesReceived, 0);
    link.send("counted");
    link.receive();
    return 0;
  });

  ASSERT_EQ(writer.receive(), "counted");
  EXPECT_EQ(
      SegmentReader::open(segment_path()).snapshot().value(kBytesReceived), 0u);
}

TEST_F(CounterTest, RejectsUnknownKeysNamingKeyAndAmount) {
  for (int32_t key : {0, 5, 99, -1, -7}) {
    const std::string message = rejection_message(key, 31337);

    EXPECT_NE(message.find(std::to_string(key)), std::string::npos)
        << "key " << key << ": " << message;
    EXPECT_NE(message.find("31337"), std::string::npos)
        << "key " << key << ": " << message;
  }
}

TEST_F(CounterTest, RejectsNegativeAmountNamingIt) {
  for (int64_t amount : {int64_t{-1}, int64_t{-4242}, INT64_MIN}) {
    const std::string message = rejection_message(kBytesSent, amount);

    EXPECT_NE(message.find(std::to_string(amount)), std::string::npos)
        << message;
  }
}

TEST_F(CounterTest, RejectedIncrementsAreNotCounted) {
  ChildProcess writer([&](Link& link) {
    TelemetryManager::instance().start(options());
    std::string outcomes;
    outcomes += rejection_message(kBytesSent, -5) == "<accepted>" ? "a" : "r";
    outcomes += rejection_message(5, 8) == "<accepted>" ? "a" : "r";
    increment_counter(kBytesSent, 1);
    link.send(outcomes);
    link.receive();
    return 0;
  });

  EXPECT_EQ(writer.receive(), "rr");
  const Snapshot snap = SegmentReader::open(segment_path()).snapshot();
  EXPECT_EQ(snap.value(kBytesSent), 1u);
  EXPECT_EQ(snap.value(5), 0u);
}

}  // namespace
