// The writer's life cycle as other processes see it: what a reader finds in
// the segment while the writer runs, after it stops, dies, hangs or
// restarts, and what start() refuses.
#include "telemetry_shm/telemetry_manager.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <ios>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "segment_test_util.h"
#include "telemetry_shm/counters.h"
#include "telemetry_shm/error.h"
#include "telemetry_shm/segment_reader.h"

namespace {

using segment_test::ChildProcess;
using segment_test::kBytesReceived;
using segment_test::kBytesSent;
using segment_test::kErrorRequests;
using segment_test::kSuccessfulRequests;
using segment_test::Link;
using segment_test::Outcome;
using segment_test::parse_outcome;
using segment_test::TempDir;
using segment_test::writer_body;
using segment_test::writer_options;
using telemetry_shm::ErrorCode;
using telemetry_shm::Liveness;
using telemetry_shm::ManagerOptions;
using telemetry_shm::SegmentReader;
using telemetry_shm::Snapshot;
using telemetry_shm::TelemetryError;
using telemetry_shm::TelemetryManager;

const segment_test::Counts kSomeCounts = {{kBytesReceived, 1000},
                                          {kBytesSent, 250},
                                          {kSuccessfulRequests, 7},
                                          {kErrorRequests, 2}};

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Snapshot read_segment(const std::string& path,
                      const telemetry_shm::ReaderOptions& options = {}) {
  return SegmentReader::open(path, options).snapshot();
}

// Starts the manager in a child with `options` and reports the outcome of
// start(), then exits without stopping.
Outcome start_in_child(const ManagerOptions& options) {
  ChildProcess child([&](Link& link) {
    link.send(segment_test::outcome_of(
        [&] { TelemetryManager::instance().start(options); }));
    return 0;
  });
  const Outcome outcome = parse_outcome(child.receive());
  child.wait();
  return outcome;
}

class TelemetryManagerTest : public ::testing::Test {
 protected:
  std::string segment_path(const std::string& service = "ItemService",
                           const std::string& instance = "9091") const {
    return dir_.file(telemetry_shm::segment_file_name(service, instance));
  }

  ManagerOptions options(const std::string& service = "ItemService",
                         const std::string& instance = "9091") const {
    return writer_options(dir_.path(), service, instance);
  }

  TempDir dir_;
};

TEST_F(TelemetryManagerTest, ReaderInAnotherProcessSeesWhatWriterCounted) {
  const int64_t before_start = now_ms();
  ChildProcess writer(writer_body(options(), kSomeCounts));
  ASSERT_EQ(writer.receive(), "ready");

  const Snapshot snap = read_segment(segment_path());

  EXPECT_EQ(snap.service_name, "ItemService");
  EXPECT_EQ(snap.instance_id, "9091");
  EXPECT_EQ(snap.writer_pid, static_cast<uint64_t>(writer.pid()));
  EXPECT_EQ(snap.generation, 1u);
  EXPECT_EQ(snap.liveness, Liveness::kAlive);
  EXPECT_GE(snap.start_time_ms, before_start);
  EXPECT_LE(snap.start_time_ms, snap.taken_ms);
  EXPECT_EQ(snap.value(kBytesReceived), 1000u);
  EXPECT_EQ(snap.value(kBytesSent), 250u);
  EXPECT_EQ(snap.value(kSuccessfulRequests), 7u);
  EXPECT_EQ(snap.value(kErrorRequests), 2u);
}

TEST_F(TelemetryManagerTest, SegmentNamesEveryKnownCounter) {
  ChildProcess writer(writer_body(options(), {}));
  ASSERT_EQ(writer.receive(), "ready");

  const Snapshot snap = read_segment(segment_path());

  ASSERT_EQ(snap.counters.size(), 4u);
  EXPECT_EQ(snap.counters[0].key, 1);
  EXPECT_EQ(snap.counters[0].name, "BYTES_RECEIVED");
  EXPECT_EQ(snap.counters[1].name, "BYTES_SENT");
  EXPECT_EQ(snap.counters[2].name, "SUCCESSFUL_REQUESTS");
  EXPECT_EQ(snap.counters[3].key, 4);
  EXPECT_EQ(snap.counters[3].name, "ERROR_REQUESTS");
  for (const auto& counter : snap.counters) EXPECT_EQ(counter.value, 0u);
}

TEST_F(TelemetryManagerTest, MoreCountsShowUpWhileWriterRuns) {
  ChildProcess writer(writer_body(options(), kSomeCounts));
  ASSERT_EQ(writer.receive(), "ready");
  const SegmentReader reader = SegmentReader::open(segment_path());
  ASSERT_EQ(reader.snapshot().value(kBytesReceived), 1000u);

  writer.send("count");
  ASSERT_EQ(writer.receive(), "counted");

  EXPECT_EQ(reader.snapshot().value(kBytesReceived), 2000u);
  EXPECT_EQ(reader.snapshot().value(kErrorRequests), 4u);
}

TEST_F(TelemetryManagerTest, CleanStopLeavesStoppedSegmentWithCounts) {
  ChildProcess writer(writer_body(options(), kSomeCounts));
  ASSERT_EQ(writer.receive(), "ready");
  const SegmentReader reader = SegmentReader::open(segment_path());
  ASSERT_EQ(reader.liveness(), Liveness::kAlive);

  writer.send("stop");
  ASSERT_EQ(writer.receive(), "stopped");
  EXPECT_EQ(reader.liveness(), Liveness::kStopped);
  ASSERT_EQ(writer.wait(), 0);

  const Snapshot snap = read_segment(segment_path());
  EXPECT_EQ(snap.liveness, Liveness::kStopped);
  EXPECT_EQ(snap.value(kBytesReceived), 1000u);
  EXPECT_EQ(snap.value(kErrorRequests), 2u);
}

TEST_F(TelemetryManagerTest, KilledWriterIsReportedDeadWithCountsKept) {
  ChildProcess writer(writer_body(options(), kSomeCounts));
  ASSERT_EQ(writer.receive(), "ready");
  const SegmentReader reader = SegmentReader::open(segment_path());
  ASSERT_EQ(reader.liveness(), Liveness::kAlive);

  writer.kill_and_wait();

  EXPECT_EQ(reader.liveness(), Liveness::kDead);
  const Snapshot snap = read_segment(segment_path());
  EXPECT_EQ(snap.liveness, Liveness::kDead);
  EXPECT_EQ(snap.value(kBytesReceived), 1000u);
  EXPECT_EQ(snap.value(kSuccessfulRequests), 7u);
}

TEST_F(TelemetryManagerTest, WriterThatExitsWithoutStopIsReportedDead) {
  ChildProcess writer(writer_body(options(), kSomeCounts));
  ASSERT_EQ(writer.receive(), "ready");

  writer.send("exit");
  ASSERT_EQ(writer.wait(), 0);

  const Snapshot snap = read_segment(segment_path());
  EXPECT_EQ(snap.liveness, Liveness::kDead);
  EXPECT_EQ(snap.value(kBytesSent), 250u);
}

TEST_F(TelemetryManagerTest, HungWriterIsReportedStaleAndAliveWhenResumed) {
  ChildProcess writer(writer_body(options(), kSomeCounts));
  ASSERT_EQ(writer.receive(), "ready");
  telemetry_shm::ReaderOptions reader_options;
  reader_options.stale_after = std::chrono::milliseconds(1000);
  const SegmentReader reader =
      SegmentReader::open(segment_path(), reader_options);
  ASSERT_EQ(reader.liveness(), Liveness::kAlive);

  writer.signal(SIGSTOP);
  EXPECT_TRUE(segment_test::wait_until(
      [&] { return reader.liveness() == Liveness::kStale; }));
  EXPECT_EQ(reader.snapshot().liveness, Liveness::kStale);
  EXPECT_EQ(reader.snapshot().value(kBytesReceived), 1000u);

  writer.signal(SIGCONT);
  EXPECT_TRUE(segment_test::wait_until(
      [&] { return reader.liveness() == Liveness::kAlive; }));

  writer.kill_and_wait();
  EXPECT_EQ(reader.liveness(), Liveness::kDead);
}

TEST_F(TelemetryManagerTest, HeartbeatAdvancesWhileWriterRuns) {
  ChildProcess writer(writer_body(options(), {}));
  ASSERT_EQ(writer.receive(), "ready");
  const SegmentReader reader = SegmentReader::open(segment_path());
  const int64_t first = reader.snapshot().heartbeat_ms;

  EXPECT_TRUE(segment_test::wait_until(
      [&] { return reader.snapshot().heartbeat_ms > first; }));
}

TEST_F(TelemetryManagerTest, RestartContinuesCountsWithNextGeneration) {
  const std::string path = segment_test::make_stopped_segment(
      dir_.path(), "ItemService", "9091", kSomeCounts);
  const Snapshot first = read_segment(path);
  ASSERT_EQ(first.generation, 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));

  ChildProcess second(writer_body(options(), {{kBytesReceived, 5}}));
  ASSERT_EQ(second.receive(), "ready");

  const Snapshot snap = read_segment(path);
  EXPECT_EQ(snap.generation, 2u);
  EXPECT_GT(snap.start_time_ms, first.start_time_ms);
  EXPECT_EQ(snap.created_ms, first.created_ms);
  EXPECT_EQ(snap.writer_pid, static_cast<uint64_t>(second.pid()));
  EXPECT_EQ(snap.liveness, Liveness::kAlive);
  EXPECT_EQ(snap.value(kBytesReceived), 1005u);
  EXPECT_EQ(snap.value(kBytesSent), 250u);
}

TEST_F(TelemetryManagerTest, RestartAfterKillContinuesCounts) {
  {
    ChildProcess first(writer_body(options(), kSomeCounts));
    ASSERT_EQ(first.receive(), "ready");
    first.kill_and_wait();
  }

  ChildProcess second(writer_body(options(), {{kErrorRequests, 3}}));
  ASSERT_EQ(second.receive(), "ready");

  const Snapshot snap = read_segment(segment_path());
  EXPECT_EQ(snap.generation, 2u);
  EXPECT_EQ(snap.liveness, Liveness::kAlive);
  EXPECT_EQ(snap.value(kErrorRequests), 5u);
  EXPECT_EQ(snap.value(kSuccessfulRequests), 7u);
}

TEST_F(TelemetryManagerTest, OpenReaderFollowsSegmentAcrossRestart) {
  ChildProcess first(writer_body(options(), {{kBytesSent, 10}}));
  ASSERT_EQ(first.receive(), "ready");
  const SegmentReader reader = SegmentReader::open(segment_path());
  first.send("stop");
  ASSERT_EQ(first.receive(), "stopped");
  ASSERT_EQ(first.wait(), 0);

  ChildProcess second(writer_body(options(), {{kBytesSent, 1}}));
  ASSERT_EQ(second.receive(), "ready");

  EXPECT_FALSE(reader.replaced());
  const Snapshot snap = reader.snapshot();
  EXPECT_EQ(snap.value(kBytesSent), 11u);
  EXPECT_EQ(snap.generation, 2u);
  EXPECT_EQ(snap.liveness, Liveness::kAlive);
}

TEST_F(TelemetryManagerTest, GenerationCountsEveryRestart) {
  for (int i = 0; i < 3; ++i) {
    segment_test::make_stopped_segment(dir_.path(), "ItemService", "9091",
                                       {{kSuccessfulRequests, 1}});
  }

  const Snapshot snap = read_segment(segment_path());
  EXPECT_EQ(snap.generation, 3u);
  EXPECT_EQ(snap.value(kSuccessfulRequests), 3u);
}

TEST_F(TelemetryManagerTest, RefusesSecondLiveWriterForSameInstance) {
  ChildProcess first(writer_body(options(), kSomeCounts));
  ASSERT_EQ(first.receive(), "ready");

  const Outcome second = start_in_child(options());

  ASSERT_TRUE(second.telemetry_error) << second.message;
  EXPECT_EQ(second.code, ErrorCode::kAlreadyRunning) << second.message;
  EXPECT_NE(second.message.find("9091"), std::string::npos) << second.message;

  // The refused process left the running writer's segment alone.
  const Snapshot snap = read_segment(segment_path());
  EXPECT_EQ(snap.writer_pid, static_cast<uint64_t>(first.pid()));
  EXPECT_EQ(snap.generation, 1u);
  EXPECT_EQ(snap.liveness, Liveness::kAlive);
  EXPECT_EQ(snap.value(kBytesReceived), 1000u);
}

TEST_F(TelemetryManagerTest, InstancesOfOneServiceCountSeparately) {
  ChildProcess a(writer_body(options("ItemService", "1"), {{kBytesSent, 3}}));
  ChildProcess b(writer_body(options("ItemService", "2"), {{kBytesSent, 4}}));
  ASSERT_EQ(a.receive(), "ready");
  ASSERT_EQ(b.receive(), "ready");

  EXPECT_EQ(read_segment(segment_path("ItemService", "1")).value(kBytesSent),
            3u);
  EXPECT_EQ(read_segment(segment_path("ItemService", "2")).value(kBytesSent),
            4u);
}

TEST_F(TelemetryManagerTest, ManagerSnapshotIncludesEarlierProcesses) {
  segment_test::make_stopped_segment(dir_.path(), "ItemService", "9091",
                                     {{kBytesSent, 40}});

  ChildProcess writer([&](Link& link) {
    TelemetryManager::instance().start(options());
    telemetry_shm::increment_counter(kBytesSent, 2);
    const Snapshot snap = TelemetryManager::instance().snapshot();
    link.send(std::to_string(snap.value(kBytesSent)) + " " +
              std::to_string(snap.generation) + " " +
              telemetry_shm::to_string(snap.liveness));
    TelemetryManager::instance().stop();
    return 0;
  });

  EXPECT_EQ(writer.receive(), "42 2 alive");
  EXPECT_EQ(writer.wait(), 0);
}

TEST_F(TelemetryManagerTest, SegmentPathIsKnownOnlyWhileStarted) {
  ChildProcess writer([&](Link& link) {
    auto& manager = TelemetryManager::instance();
    link.send((manager.started() ? "started:" : "idle:") +
              manager.segment_path());
    manager.start(options());
    link.send((manager.started() ? "started:" : "idle:") +
              manager.segment_path());
    manager.stop();
    link.send((manager.started() ? "started:" : "idle:") +
              manager.segment_path());
    return 0;
  });

  EXPECT_EQ(writer.receive(), "idle:");
  EXPECT_EQ(writer.receive(), "started:" + segment_path());
  EXPECT_EQ(writer.receive(), "idle:");
  EXPECT_EQ(writer.wait(), 0);
}

TEST_F(TelemetryManagerTest, UsesTelemetryDirWhenNoDirectoryIsGiven) {
  ChildProcess writer([&](Link& link) {
    ::setenv("TELEMETRY_DIR", dir_.path().c_str(), 1);
    ManagerOptions no_directory = options();
    no_directory.directory.clear();
    TelemetryManager::instance().start(no_directory);
    link.send(TelemetryManager::instance().segment_path());
    TelemetryManager::instance().stop();
    return 0;
  });

  EXPECT_EQ(writer.receive(), segment_path());
  EXPECT_EQ(writer.wait(), 0);
  EXPECT_TRUE(std::filesystem::is_regular_file(segment_path()));
}

TEST_F(TelemetryManagerTest, CreatesSegmentOwnerOnlyByDefault) {
  ChildProcess writer([&](Link& link) {
    ::umask(0);
    return segment_test::run_writer(link, options(), {});
  });
  ASSERT_EQ(writer.receive(), "ready");

  EXPECT_EQ(segment_test::permission_bits(segment_path()), 0600u);
}

TEST_F(TelemetryManagerTest, CreatesGroupReadableSegmentWithGroupMode) {
  ManagerOptions group = options();
  group.mode = 0640;
  ChildProcess writer([&](Link& link) {
    ::umask(0077);
    return segment_test::run_writer(link, group, {});
  });
  ASSERT_EQ(writer.receive(), "ready");

  EXPECT_EQ(segment_test::permission_bits(segment_path()), 0640u);
}

TEST_F(TelemetryManagerTest, RejectsModeThatIsNeitherOwnerNorGroupRead) {
  for (mode_t mode : {0644u, 0666u, 0700u, 0400u}) {
    ManagerOptions bad = options();
    bad.mode = mode;

    const Outcome outcome = start_in_child(bad);

    EXPECT_TRUE(outcome.telemetry_error) << std::oct << mode;
    EXPECT_EQ(outcome.code, ErrorCode::kInvalidArgument) << outcome.message;
    EXPECT_FALSE(std::filesystem::exists(segment_path())) << std::oct << mode;
  }
}

TEST_F(TelemetryManagerTest, CreatesMissingDirectoryOwnerOnly) {
  ManagerOptions nested = options();
  nested.directory = dir_.file("segments");
  ChildProcess writer([&](Link& link) {
    ::umask(0);
    return segment_test::run_writer(link, nested, {});
  });
  ASSERT_EQ(writer.receive(), "ready");

  EXPECT_TRUE(std::filesystem::is_directory(nested.directory));
  EXPECT_EQ(segment_test::permission_bits(nested.directory), 0700u);
  EXPECT_TRUE(std::filesystem::is_regular_file(nested.directory +
                                               "/ItemService.9091.seg"));
}

TEST_F(TelemetryManagerTest, CreatesMissingDirectoryGroupReadableInGroupMode) {
  ManagerOptions nested = options();
  nested.directory = dir_.file("segments");
  nested.mode = 0640;
  ChildProcess writer([&](Link& link) {
    ::umask(0);
    return segment_test::run_writer(link, nested, {});
  });
  ASSERT_EQ(writer.receive(), "ready");

  EXPECT_EQ(segment_test::permission_bits(nested.directory), 0750u);
}

TEST_F(TelemetryManagerTest, RefusesSymlinkAtSegmentPath) {
  const std::string target = dir_.file("target");
  ASSERT_EQ(::symlink(target.c_str(), segment_path().c_str()), 0);

  const Outcome outcome = start_in_child(options());

  ASSERT_TRUE(outcome.telemetry_error) << outcome.message;
  EXPECT_EQ(outcome.code, ErrorCode::kUnsafeFile) << outcome.message;
  EXPECT_FALSE(std::filesystem::exists(target));
  EXPECT_TRUE(std::filesystem::is_symlink(segment_path()));
}

TEST_F(TelemetryManagerTest, RefusesSegmentOwnedByAnotherUser) {
  const std::string path = segment_test::make_stopped_segment(
      dir_.path(), "ItemService", "9091", kSomeCounts);
  const std::vector<char> before = segment_test::read_file(path);
  ASSERT_EQ(::chown(path.c_str(), 65534, 65534), 0);

  const Outcome outcome = start_in_child(options());

  ASSERT_TRUE(outcome.telemetry_error) << outcome.message;
  EXPECT_EQ(outcome.code, ErrorCode::kUnsafeFile) << outcome.message;
  EXPECT_EQ(segment_test::read_file(path), before);
}

TEST_F(TelemetryManagerTest, RefusesDirectoryAtSegmentPath) {
  std::filesystem::create_directory(segment_path());

  const Outcome outcome = start_in_child(options());

  ASSERT_TRUE(outcome.telemetry_error) << outcome.message;
  EXPECT_EQ(outcome.code, ErrorCode::kUnsafeFile) << outcome.message;
}

TEST_F(TelemetryManagerTest, RejectsInvalidNames) {
  const std::pair<std::string, std::string> bad_names[] = {
      {"", "1"},
      {"Item.Service", "1"},
      {"Item/Service", "1"},
      {"Item Service", "1"},
      {std::string(64, 'a'), "1"},
      {"ItemService", ""},
      {"ItemService", "../1"},
      {"ItemService", "90.91"},
  };
  for (const auto& [service, instance] : bad_names) {
    ManagerOptions bad = options();
    bad.service_name = service;
    bad.instance_id = instance;

    const Outcome outcome = start_in_child(bad);

    EXPECT_TRUE(outcome.telemetry_error) << service << " / " << instance;
    EXPECT_EQ(outcome.code, ErrorCode::kInvalidArgument)
        << service << " / " << instance << ": " << outcome.message;
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir_.path()));
}

TEST_F(TelemetryManagerTest, AcceptsLongestValidNames) {
  const std::string longest(63, 'x');
  ChildProcess writer(writer_body(options(longest, "A-b_9"), {}));
  ASSERT_EQ(writer.receive(), "ready");

  const Snapshot snap = read_segment(segment_path(longest, "A-b_9"));
  EXPECT_EQ(snap.service_name, longest);
  EXPECT_EQ(snap.instance_id, "A-b_9");
}

TEST_F(TelemetryManagerTest, RejectsNonPositiveHeartbeatInterval) {
  for (int interval_ms : {0, -100}) {
    ManagerOptions bad = options();
    bad.heartbeat_interval = std::chrono::milliseconds(interval_ms);

    const Outcome outcome = start_in_child(bad);

    EXPECT_TRUE(outcome.telemetry_error) << interval_ms;
    EXPECT_EQ(outcome.code, ErrorCode::kInvalidArgument) << outcome.message;
  }
}

TEST_F(TelemetryManagerTest, RejectsSecondStartInSameProcess) {
  ChildProcess writer([&](Link& link) {
    TelemetryManager::instance().start(options());
    link.send(segment_test::outcome_of(
        [&] { TelemetryManager::instance().start(options("Other", "1")); }));
    link.send(TelemetryManager::instance().started() ? "started" : "idle");
    return 0;
  });

  const Outcome second = parse_outcome(writer.receive());
  EXPECT_TRUE(second.telemetry_error) << second.message;
  EXPECT_EQ(second.code, ErrorCode::kInvalidArgument) << second.message;
  EXPECT_EQ(writer.receive(), "started");
  EXPECT_EQ(writer.wait(), 0);
  EXPECT_FALSE(std::filesystem::exists(segment_path("Other", "1")));
}

TEST_F(TelemetryManagerTest, FailedStartLeavesManagerStopped) {
  ChildProcess writer([&](Link& link) {
    ManagerOptions bad = options();
    bad.service_name = "no.dots";
    link.send(segment_test::outcome_of(
        [&] { TelemetryManager::instance().start(bad); }));
    link.send(TelemetryManager::instance().started() ? "started" : "idle");
    link.send(segment_test::outcome_of(
        [&] { TelemetryManager::instance().start(options()); }));
    return 0;
  });

  EXPECT_FALSE(parse_outcome(writer.receive()).ok);
  EXPECT_EQ(writer.receive(), "idle");
  EXPECT_EQ(writer.receive(), "ok");
  EXPECT_EQ(writer.wait(), 0);
}

TEST_F(TelemetryManagerTest, StopWithoutStartDoesNothing) {
  ChildProcess writer([&](Link& link) {
    TelemetryManager::instance().stop();
    link.send(TelemetryManager::instance().started() ? "started" : "idle");
    return 0;
  });

  EXPECT_EQ(writer.receive(), "idle");
  EXPECT_EQ(writer.wait(), 0);
  EXPECT_TRUE(std::filesystem::is_empty(dir_.path()));
}

TEST_F(TelemetryManagerTest, MovesUnreadableOldSegmentAsideAndWarns) {
  const std::vector<char> garbage(5000, 'g');
  segment_test::write_file(segment_path(), garbage);

  ChildProcess writer([&](Link& link) {
    std::string warnings;
    ManagerOptions warned = options();
    warned.warn = [&](std::string_view text) {
      warnings += std::string(text) + "\n";
    };
    TelemetryManager::instance().start(warned);
    telemetry_shm::increment_counter(kBytesSent, 9);
    link.send(warnings);
    link.receive();
    return 0;
  });

  const std::string warnings = writer.receive();
  EXPECT_FALSE(warnings.empty());
  const Snapshot snap = read_segment(segment_path());
  EXPECT_EQ(snap.generation, 1u);
  EXPECT_EQ(snap.value(kBytesSent), 9u);

  // The old bytes are kept under another name for inspection.
  bool kept = false;
  for (const auto& entry : std::filesystem::directory_iterator(dir_.path())) {
    if (entry.path() == segment_path()) continue;
    kept = kept || segment_test::read_file(entry.path()) == garbage;
  }
  EXPECT_TRUE(kept);
}

}  // namespace
