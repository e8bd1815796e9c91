#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "retired_state.h"
#include "sidecar/follower_fixture.h"
#include "telemetry_shm/segment_layout.h"
#include "telemetry_shm/segment_reader.h"

namespace sidecar_test {
namespace {

namespace fs = std::filesystem;
using telemetry::TelemetryCounter;

constexpr auto kSuccess = TelemetryCounter::SUCCESSFUL_REQUESTS;
constexpr auto kErrors = TelemetryCounter::ERROR_REQUESTS;
constexpr auto kSent = TelemetryCounter::BYTES_SENT;

// How many lines of `text` mention `part`.
size_t lines_with(const std::string& text, const std::string& part) {
  std::istringstream lines(text);
  size_t n = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.find(part) != std::string::npos) ++n;
  }
  return n;
}

TEST_F(FollowerTest, SumsInstancesIntoServiceTotal) {
  WriterChild a(dir_.path(), "ItemService", "9091");
  WriterChild b(dir_.path(), "ItemService", "9092");
  a.add(kSuccess, 5);
  a.add(kSent, 100);
  b.add(kSuccess, 7);
  b.add(kErrors, 2);

  sidecar::ServiceReading item = read("ItemService");
  ASSERT_EQ(item.instances.size(), 2u);
  EXPECT_EQ(item.instances[0].instance_id, "9091");
  EXPECT_EQ(item.total.value(kSuccess), 12u);
  EXPECT_EQ(item.total.value(kErrors), 2u);
  EXPECT_EQ(item.total.value(kSent), 100u);
  EXPECT_EQ(item.total.generation, 2u);
  EXPECT_EQ(item.total.instance_id, "");
  EXPECT_TRUE(telemetry_shm::is_alive(item.total.liveness));
  EXPECT_EQ(item.total.start_time_ms,
            std::max(item.instances[0].start_time_ms,
                     item.instances[1].start_time_ms));
  EXPECT_NE(log().find("instance found: ItemService/9092"), std::string::npos);
}

TEST_F(FollowerTest, KilledInstanceReadsNotAliveAndKeepsItsCounts) {
  WriterChild a(dir_.path(), "PlayerService", "1");
  a.add(kSuccess, 3);
  read("PlayerService");  // seen alive first
  a.kill_hard();

  sidecar::ServiceReading player = read("PlayerService");
  ASSERT_EQ(player.instances.size(), 1u);
  EXPECT_EQ(player.instances[0].liveness, telemetry_shm::Liveness::kDead);
  EXPECT_FALSE(telemetry_shm::is_alive(player.total.liveness));
  EXPECT_EQ(player.total.value(kSuccess), 3u);
  EXPECT_NE(log().find("instance PlayerService/1 is gone: dead"),
            std::string::npos);
}

TEST_F(FollowerTest, RestartedInstanceContinuesItsCounts) {
  {
    WriterChild first(dir_.path(), "PlayerService", "1");
    first.add(kSuccess, 3);
    read("PlayerService");
    first.kill_hard();
  }
  WriterChild second(dir_.path(), "PlayerService", "1");
  second.add(kSuccess, 4);

  sidecar::ServiceReading player = read("PlayerService");
  EXPECT_EQ(player.total.value(kSuccess), 7u);
  EXPECT_EQ(player.total.generation, 2u);
  EXPECT_TRUE(telemetry_shm::is_alive(player.total.liveness));
}

TEST_F(FollowerTest, RemovesDeadSegmentAfterRetentionKeepingTheTotal) {
  options_.retention = std::chrono::milliseconds(0);
  WriterChild a(dir_.path(), "ItemService", "1");
  a.add(kSuccess, 11);
  read("ItemService");
  a.stop_cleanly();

  sidecar::ServiceReading item = read("ItemService");
  EXPECT_FALSE(fs::exists(dir_.path() + "/ItemService.1.seg"));
  EXPECT_TRUE(item.instances.empty());
  EXPECT_EQ(item.total.value(kSuccess), 11u);
  EXPECT_NE(log().find("removed segment"), std::string::npos);
}

TEST_F(FollowerTest, SegmentTheSystemWillNotRemoveIsRetiredOnlyOnce) {
  options_.retention = std::chrono::milliseconds(0);
  auto refuse = std::make_shared<bool>(true);
  options_.remove_file = [refuse](const std::string& path) {
    return *refuse ? EACCES : sidecar::FollowerOptions::unlink_file(path);
  };
  WriterChild a(dir_.path(), "ItemService", "1");
  a.add(kSuccess, 11);
  read("ItemService");
  a.stop_cleanly();
  const std::string path = dir_.path() + "/ItemService.1.seg";

  for (int scan = 0; scan < 3; ++scan) {
    sidecar::ServiceReading item = read("ItemService");
    EXPECT_TRUE(item.instances.empty());
    EXPECT_EQ(item.total.value(kSuccess), 11u) << "scan " << scan;
  }
  EXPECT_TRUE(fs::exists(path));
  EXPECT_EQ(lines_with(log(),
                       "cannot remove segment " + path + ": Permission denied"),
            1u)
      << log();

  restart_follower();
  EXPECT_EQ(read("ItemService").total.value(kSuccess), 11u);

  *refuse = false;
  sidecar::ServiceReading item = read("ItemService");
  EXPECT_FALSE(fs::exists(path));
  EXPECT_EQ(item.total.value(kSuccess), 11u);
  EXPECT_TRUE(
      sidecar::load_retired_state(options_.state_file).removing.empty());
}

TEST_F(FollowerTest, RetiredCountsSurviveRestartAndRecreatedSegment) {
  options_.retention = std::chrono::milliseconds(0);
  {
    WriterChild a(dir_.path(), "ItemService", "1");
    a.add(kSuccess, 11);
    read("ItemService");
    a.kill_hard();
  }
  read("ItemService");  // removes the dead segment
  restart_follower();

  EXPECT_EQ(read("ItemService").total.value(kSuccess), 11u);
  WriterChild again(dir_.path(), "ItemService", "1");
  again.add(kSuccess, 2);
  sidecar::ServiceReading item = read("ItemService");
  ASSERT_EQ(item.instances.size(), 1u);
  EXPECT_EQ(item.instances[0].value(kSuccess), 2u);
  EXPECT_EQ(item.instances[0].generation, 1u);
  EXPECT_EQ(item.total.value(kSuccess), 13u);
}

TEST_F(FollowerTest, KeepsSegmentOfLiveInstanceBeyondRetention) {
  options_.retention = std::chrono::milliseconds(0);
  WriterChild a(dir_.path(), "ItemService", "1");
  a.add(kSuccess, 1);
  read("ItemService");
  read("ItemService");
  EXPECT_TRUE(fs::exists(dir_.path() + "/ItemService.1.seg"));
}

TEST_F(FollowerTest, VanishedSegmentCountsMoveToRetired) {
  WriterChild a(dir_.path(), "ItemService", "1");
  a.add(kSuccess, 6);
  read("ItemService");
  a.stop_cleanly();
  fs::remove(dir_.path() + "/ItemService.1.seg");

  sidecar::ServiceReading item = read("ItemService");
  EXPECT_TRUE(item.instances.empty());
  EXPECT_EQ(item.total.value(kSuccess), 6u);
  EXPECT_NE(log().find("disappeared"), std::string::npos);
}

TEST_F(FollowerTest, RejectsCorruptSegmentOnceAndServesTheRest) {
  WriterChild good(dir_.path(), "ItemService", "1");
  good.add(kSuccess, 1);
  {
    std::ofstream bad(dir_.path() + "/Broken.1.seg");
    bad << std::string(5000, 'x');
  }
  read("ItemService");
  read("ItemService");
  sidecar::ServiceReading item = read("ItemService");

  EXPECT_EQ(item.total.value(kSuccess), 1u);
  EXPECT_EQ(follower().view()->services.count("Broken"), 0u);
  EXPECT_EQ(lines_with(log(), "Broken.1.seg"), 1u) << log();
  EXPECT_NE(log().find("corrupt"), std::string::npos) << log();
}

TEST_F(FollowerTest, SegmentRenamedInPlaceKeepsItsServiceAndNumbers) {
  WriterChild a(dir_.path(), "ItemService", "1");
  a.add(kSuccess, 5);
  read("ItemService");
  {
    // A hostile writer puts another service's name into the header.
    const char other[] = "PlayerService";
    int fd = ::open((dir_.path() + "/ItemService.1.seg").c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(
        ::pwrite(fd, other, sizeof other,
                 offsetof(telemetry_shm::layout::SegmentHeader, service_name)),
        static_cast<ssize_t>(sizeof other));
    ::close(fd);
  }
  sidecar::ServiceReading item = read("ItemService");
  ASSERT_EQ(item.instances.size(), 1u);
  EXPECT_EQ(item.instances[0].service_name, "ItemService");
  EXPECT_EQ(item.total.value(kSuccess), 5u);
  EXPECT_EQ(follower().view()->services.count("PlayerService"), 0u);
  EXPECT_NE(log().find("service_name is 'PlayerService', but the file name "
                       "says 'ItemService'"),
            std::string::npos)
      << log();
}

TEST_F(FollowerTest, RejectsForeignOwnedSegmentUnlessAllowed) {
  if (::geteuid() != 0) GTEST_SKIP() << "changing a file's owner needs root";
  {
    WriterChild other(dir_.path(), "Foreign", "1");
    other.add(kSuccess, 4);
    other.stop_cleanly();
  }
  ASSERT_EQ(::chown((dir_.path() + "/Foreign.1.seg").c_str(), 54321, 54321), 0);
  follower().scan_once();
  EXPECT_EQ(follower().view()->services.count("Foreign"), 0u);
  EXPECT_NE(log().find("Foreign.1.seg rejected"), std::string::npos);

  restart_follower();
  options_.reader.allow_foreign_owner = true;
  EXPECT_EQ(read("Foreign").total.value(kSuccess), 4u);
}

TEST_F(FollowerTest, SkipsHalfBuiltSegmentUntilItIsReady) {
  {
    std::ofstream half(dir_.path() + "/Half.1.seg", std::ios::binary);
    namespace layout = telemetry_shm::layout;
    layout::SegmentHeader header{};
    header.magic = layout::kMagic;
    header.layout_version = layout::kLayoutVersion;
    header.header_size = sizeof(layout::SegmentHeader);
    header.total_size = layout::kSegmentSize;
    header.max_counters = layout::kMaxCounters;
    header.stripe_count = layout::kStripeCount;
    header.descriptor_size = sizeof(layout::CounterDescriptor);
    header.stripe_size = sizeof(layout::Stripe);
    half.write(reinterpret_cast<const char*>(&header), sizeof header);
    half << std::string(layout::kSegmentSize - sizeof header, '\0');
  }
  follower().scan_once();
  follower().scan_once();
  EXPECT_EQ(follower().view()->services.count("Half"), 0u);
  EXPECT_EQ(lines_with(log(), "Half.1.seg"), 1u) << log();
}

// Leaves ItemService.1.seg of a killed writer that counted 11 successes,
// and the state a sidecar leaves when it stops between saving the
// segment's counts as retired and removing the file. Returns the path.
std::string leave_removal_cut_short(const std::string& directory,
                                    const std::string& state_file) {
  {
    WriterChild a(directory, "ItemService", "1");
    a.add(kSuccess, 11);
    a.kill_hard();
  }
  const std::string path = directory + "/ItemService.1.seg";
  const telemetry_shm::Snapshot last =
      telemetry_shm::SegmentReader::open(path).snapshot();
  sidecar::RetiredState state;
  state.counts[last.service_name] = last.counters;
  state.removing[{last.service_name, last.instance_id, last.created_ms}] =
      last.counters;
  sidecar::save_retired_state(state_file, state);
  return path;
}

TEST_F(FollowerTest, FinishesRemovalCutShortWithoutCountingTwice) {
  const std::string path =
      leave_removal_cut_short(dir_.path(), options_.state_file);

  sidecar::ServiceReading item = read("ItemService");
  EXPECT_FALSE(fs::exists(path));
  EXPECT_TRUE(item.instances.empty());
  EXPECT_EQ(item.total.value(kSuccess), 11u);
  EXPECT_TRUE(
      sidecar::load_retired_state(options_.state_file).removing.empty());
}

TEST_F(FollowerTest, WriterThatTookOverARetiredSegmentIsNotCountedTwice) {
  leave_removal_cut_short(dir_.path(), options_.state_file);
  WriterChild again(dir_.path(), "ItemService", "1");
  again.add(kSuccess, 4);

  sidecar::ServiceReading item = read("ItemService");
  ASSERT_EQ(item.instances.size(), 1u);
  EXPECT_EQ(item.instances[0].value(kSuccess), 15u);
  EXPECT_EQ(item.total.value(kSuccess), 15u);
  EXPECT_NE(log().find("a writer took it over"), std::string::npos) << log();

  restart_follower();
  EXPECT_EQ(read("ItemService").total.value(kSuccess), 15u);
}

TEST_F(FollowerTest, WriterThatTookOverAndExitedKeepsWhatItCounted) {
  const std::string path =
      leave_removal_cut_short(dir_.path(), options_.state_file);
  {
    WriterChild again(dir_.path(), "ItemService", "1");
    again.add(kSuccess, 4);
    again.kill_hard();
  }

  sidecar::ServiceReading item = read("ItemService");
  EXPECT_TRUE(fs::exists(path));
  ASSERT_EQ(item.instances.size(), 1u);
  EXPECT_EQ(item.total.value(kSuccess), 15u);
}

TEST_F(FollowerTest, SegmentBuiltAnewEndsTheRemovalCutShortAtItsPath) {
  const std::string path =
      leave_removal_cut_short(dir_.path(), options_.state_file);
  fs::remove(path);
  WriterChild again(dir_.path(), "ItemService", "1");
  again.add(kSuccess, 4);

  sidecar::ServiceReading item = read("ItemService");
  ASSERT_EQ(item.instances.size(), 1u);
  EXPECT_EQ(item.instances[0].value(kSuccess), 4u);
  EXPECT_EQ(item.total.value(kSuccess), 15u);
  EXPECT_TRUE(
      sidecar::load_retired_state(options_.state_file).removing.empty());
}

TEST_F(FollowerTest, VersionOneRemovalCutShortIsFinished) {
  const std::string path =
      leave_removal_cut_short(dir_.path(), options_.state_file);
  {
    std::ofstream state(options_.state_file);
    state << "telemetry-sidecar-retired 1\n"
          << "counter ItemService 3 SUCCESSFUL_REQUESTS 11\n"
          << "removing ItemService 1 "
          << telemetry_shm::SegmentReader::open(path).snapshot().created_ms
          << "\nend\n";
  }

  sidecar::ServiceReading item = read("ItemService");
  EXPECT_FALSE(fs::exists(path));
  EXPECT_EQ(item.total.value(kSuccess), 11u);
}

TEST_F(FollowerTest, RefusesMalformedStateFileWithItsLine) {
  {
    std::ofstream state(options_.state_file);
    state << "telemetry-sidecar-retired 1\ncounter ItemService 3 X nope\nend\n";
  }
  try {
    follower();
    FAIL() << "a malformed state file was accepted";
  } catch (const sidecar::StateFileError& e) {
    EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("'nope'"), std::string::npos);
  }
}

}  // namespace
}  // namespace sidecar_test
