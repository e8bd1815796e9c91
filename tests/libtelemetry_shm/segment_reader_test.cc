// SegmentReader against damaged and hostile files. Each test starts from a
// valid segment that a real writer left behind, copies it, breaks one thing
// in the copy and checks that the reader refuses it with the right code and
// a message that names what is wrong.
#include "telemetry_shm/segment_reader.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "segment_test_util.h"
#include "telemetry_shm/error.h"
#include "telemetry_shm/segment_layout.h"

namespace {

namespace fs = std::filesystem;
namespace layout = telemetry_shm::layout;
using layout::CounterDescriptor;
using layout::Segment;
using layout::SegmentHeader;
using segment_test::ChildProcess;
using segment_test::kBytesReceived;
using segment_test::kErrorRequests;
using segment_test::Link;
using segment_test::names_field;
using segment_test::TempDir;
using telemetry_shm::ErrorCode;
using telemetry_shm::Liveness;
using telemetry_shm::ReaderOptions;
using telemetry_shm::SegmentReader;
using telemetry_shm::TelemetryError;

const char kService[] = "ReaderService";
const char kInstance[] = "7";
const char kFileName[] = "ReaderService.7.seg";

// How opening and reading a segment ended: read, or refused with a
// TelemetryError's code and message.
struct OpenResult {
  bool opened = false;
  ErrorCode code = ErrorCode::kSystem;
  std::string message;
};

OpenResult try_open(const std::string& path,
                    const ReaderOptions& options = {}) {
  OpenResult result;
  try {
    SegmentReader::open(path, options).snapshot();
    result.opened = true;
  } catch (const TelemetryError& e) {
    result.code = e.code();
    result.message = e.what();
  }
  return result;
}

bool names_any(const std::string& message,
               const std::vector<std::string>& words) {
  for (const auto& word : words) {
    if (names_field(message, word)) return true;
  }
  return false;
}

template <typename T>
std::vector<char> bytes_of(T value) {
  const char* raw = reinterpret_cast<const char*>(&value);
  return std::vector<char>(raw, raw + sizeof(value));
}

// `text` followed by a NUL.
std::vector<char> c_string(const std::string& text) {
  std::vector<char> bytes(text.begin(), text.end());
  bytes.push_back('\0');
  return bytes;
}

// `size` bytes of `fill` with no NUL anywhere.
std::vector<char> unterminated(size_t size, char fill) {
  return std::vector<char>(size, fill);
}

size_t descriptor_offset(size_t index, size_t field_offset) {
  return offsetof(Segment, descriptors) + index * sizeof(CounterDescriptor) +
         field_offset;
}

class SegmentReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directory(dir_.file("origin"));
    fs::create_directory(dir_.file("case"));
    origin_ = segment_test::make_stopped_segment(
        dir_.file("origin"), kService, kInstance,
        {{kBytesReceived, 123}, {kErrorRequests, 4}});
  }

  // A fresh copy of the valid segment, under the name it was written for.
  std::string copy() const {
    const std::string path = dir_.file("case") + "/" + kFileName;
    fs::copy_file(origin_, path, fs::copy_options::overwrite_existing);
    return path;
  }

  void expect_rejected(const std::string& path, ErrorCode code,
                       const std::vector<std::string>& words) const {
    expect_refusal(try_open(path), path, code, words);
  }

  static void expect_refusal(const OpenResult& result, const std::string& path,
                             ErrorCode code,
                             const std::vector<std::string>& words) {
    ASSERT_FALSE(result.opened) << "accepted a damaged segment";
    EXPECT_EQ(result.code, code)
        << telemetry_shm::to_string(result.code) << ": " << result.message;
    // The path itself must not be what makes the message match.
    std::string message = result.message;
    for (size_t at; (at = message.find(path)) != std::string::npos;) {
      message.erase(at, path.size());
    }
    EXPECT_TRUE(names_any(message, words))
        << "message does not say what is wrong: " << result.message;
  }

  TempDir dir_;
  std::string origin_;
};

TEST_F(SegmentReaderTest, AcceptsUndamagedCopy) {
  const SegmentReader reader = SegmentReader::open(copy());
  const telemetry_shm::Snapshot snap = reader.snapshot();

  EXPECT_EQ(snap.service_name, kService);
  EXPECT_EQ(snap.instance_id, kInstance);
  EXPECT_EQ(snap.liveness, Liveness::kStopped);
  EXPECT_EQ(snap.generation, 1u);
  EXPECT_EQ(snap.value(kBytesReceived), 123u);
  EXPECT_EQ(snap.value(kErrorRequests), 4u);
  EXPECT_EQ(reader.path(), dir_.file("case") + "/" + kFileName);
}

TEST_F(SegmentReaderTest, SumsEveryNamedCounterOverEveryStripe) {
  const std::string path = copy();
  for (uint32_t slot = 0; slot < layout::kMaxCounters; ++slot) {
    const std::string name = "COUNTER_" + std::to_string(slot + 1);
    segment_test::write_at(
        path, descriptor_offset(slot, offsetof(CounterDescriptor, name)),
        name.c_str(), name.size() + 1);
    const int32_t key = static_cast<int32_t>(slot) + 1;
    segment_test::write_at(
        path, descriptor_offset(slot, offsetof(CounterDescriptor, key)), &key,
        sizeof(key));
  }
  // Cell (stripe, slot) holds stripe * 1000 + slot: every counter's sum
  // differs, and a stripe left out changes it.
  for (uint32_t stripe = 0; stripe < layout::kStripeCount; ++stripe) {
    for (uint32_t slot = 0; slot < layout::kMaxCounters; ++slot) {
      const uint64_t cell = stripe * 1000 + slot;
      segment_test::write_at(path,
                             offsetof(Segment, stripes) +
                                 stripe * sizeof(layout::Stripe) +
                                 slot * sizeof(uint64_t),
                             &cell, sizeof(cell));
    }
  }

  const telemetry_shm::Snapshot snap = SegmentReader::open(path).snapshot();

  ASSERT_EQ(snap.counters.size(), layout::kMaxCounters);
  const uint64_t stripe_sum =
      layout::kStripeCount * (layout::kStripeCount - 1) / 2;
  for (uint32_t slot = 0; slot < layout::kMaxCounters; ++slot) {
    const auto& reading = snap.counters[slot];
    EXPECT_EQ(reading.key, static_cast<int32_t>(slot) + 1);
    EXPECT_EQ(reading.name, "COUNTER_" + std::to_string(slot + 1));
    EXPECT_EQ(reading.value, stripe_sum * 1000 + layout::kStripeCount * slot)
        << reading.name;
  }
}

TEST_F(SegmentReaderTest, SumsOnlyNamedSlotsAcrossGaps) {
  const std::string path = copy();
  const std::string name = "LAST_COUNTER";
  const size_t last = layout::kMaxCounters - 1;
  segment_test::write_at(
      path, descriptor_offset(last, offsetof(CounterDescriptor, name)),
      name.c_str(), name.size() + 1);
  const auto key = static_cast<int32_t>(layout::kMaxCounters);
  segment_test::write_at(
      path, descriptor_offset(last, offsetof(CounterDescriptor, key)), &key,
      sizeof(key));
  // Every cell of the unnamed slots in between, and the last slot in two
  // stripes.
  const uint64_t noise = 1000;
  for (uint32_t slot = 4; slot < last; ++slot) {
    segment_test::write_value_at(
        path, offsetof(Segment, stripes) + slot * sizeof(uint64_t), noise);
  }
  for (uint32_t stripe : {0u, layout::kStripeCount - 1}) {
    segment_test::write_value_at(path,
                                 offsetof(Segment, stripes) +
                                     stripe * sizeof(layout::Stripe) +
                                     last * sizeof(uint64_t),
                                 uint64_t{21});
  }

  const telemetry_shm::Snapshot snap = SegmentReader::open(path).snapshot();

  ASSERT_EQ(snap.counters.size(), 5u);
  EXPECT_EQ(snap.counters.back().key, key);
  EXPECT_EQ(snap.counters.back().name, name);
  EXPECT_EQ(snap.counters.back().value, 42u);
  EXPECT_EQ(snap.value(kBytesReceived), 123u);
  EXPECT_EQ(snap.value(kErrorRequests), 4u);
}

TEST_F(SegmentReaderTest, ReportsMissingFile) {
  const OpenResult result = try_open(dir_.file("case/Nope.1.seg"));

  ASSERT_FALSE(result.opened);
  EXPECT_EQ(result.code, ErrorCode::kNotFound) << result.message;
}

TEST_F(SegmentReaderTest, RejectsTruncatedFile) {
  const std::string path = copy();
  segment_test::resize_file(path, layout::kSegmentSize - 512);

  expect_rejected(path, ErrorCode::kCorrupt, {"total_size", "size"});
}

TEST_F(SegmentReaderTest, RejectsFileShorterThanHeader) {
  const std::string path = copy();
  segment_test::resize_file(path, 100);

  expect_rejected(path, ErrorCode::kCorrupt, {"size", "short", "truncated"});
}

// A zero-length file is what a reader finds between a writer's create and
// its resize, so "not ready yet" is as right as "corrupt"; anything else,
// or opening it, is wrong.
TEST_F(SegmentReaderTest, RejectsZeroLengthFile) {
  const std::string path = copy();
  segment_test::resize_file(path, 0);

  const OpenResult result = try_open(path);

  ASSERT_FALSE(result.opened);
  EXPECT_TRUE(result.code == ErrorCode::kCorrupt ||
              result.code == ErrorCode::kNotReady)
      << telemetry_shm::to_string(result.code) << ": " << result.message;
}

TEST_F(SegmentReaderTest, RejectsFileLongerThanTotalSize) {
  const std::string path = copy();
  segment_test::resize_file(path, layout::kSegmentSize + 4096);

  expect_rejected(path, ErrorCode::kCorrupt, {"total_size", "size"});
}

TEST_F(SegmentReaderTest, RejectsHugeFileThatClaimsItsOwnSize) {
  const std::string path = copy();
  const uint64_t huge = uint64_t{1} << 30;
  segment_test::resize_file(path, static_cast<off_t>(huge));
  segment_test::write_value_at(path, offsetof(SegmentHeader, total_size), huge);

  expect_rejected(path, ErrorCode::kCorrupt, {"total_size"});
}

TEST_F(SegmentReaderTest, RejectsSymlink) {
  const std::string path = dir_.file("case") + "/" + kFileName;
  ASSERT_EQ(::symlink(origin_.c_str(), path.c_str()), 0);

  const OpenResult result = try_open(path);

  ASSERT_FALSE(result.opened);
  EXPECT_EQ(result.code, ErrorCode::kUnsafeFile) << result.message;
}

TEST_F(SegmentReaderTest, RejectsDirectory) {
  const std::string path = dir_.file("case") + "/" + kFileName;
  fs::create_directory(path);

  const OpenResult result = try_open(path);

  ASSERT_FALSE(result.opened);
  EXPECT_EQ(result.code, ErrorCode::kUnsafeFile) << result.message;
}

TEST_F(SegmentReaderTest, RejectsFifoWithoutBlocking) {
  const std::string path = dir_.file("case") + "/" + kFileName;
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);

  // Opened in a child, so that a reader that blocks on the FIFO shows up
  // as a missing answer instead of a hung test.
  ChildProcess child([&](Link& link) {
    link.send(segment_test::outcome_of([&] { SegmentReader::open(path); }));
    return 0;
  });

  std::string answer;
  ASSERT_NO_THROW(answer = child.receive(std::chrono::seconds(10)))
      << "open() blocked on a FIFO";
  const segment_test::Outcome outcome = segment_test::parse_outcome(answer);
  ASSERT_TRUE(outcome.telemetry_error) << answer;
  EXPECT_EQ(outcome.code, ErrorCode::kUnsafeFile) << outcome.message;
}

TEST_F(SegmentReaderTest, RejectsFileOfAnotherUser) {
  const std::string path = copy();
  ASSERT_EQ(::chown(path.c_str(), 65534, 65534), 0);

  const OpenResult result = try_open(path);

  ASSERT_FALSE(result.opened);
  EXPECT_EQ(result.code, ErrorCode::kUnsafeFile) << result.message;
}

TEST_F(SegmentReaderTest, OpensFileOfAnotherUserWhenAllowed) {
  const std::string path = copy();
  ASSERT_EQ(::chown(path.c_str(), 65534, 65534), 0);
  ReaderOptions options;
  options.allow_foreign_owner = true;

  const telemetry_shm::Snapshot snap =
      SegmentReader::open(path, options).snapshot();

  EXPECT_EQ(snap.value(kBytesReceived), 123u);
}

TEST_F(SegmentReaderTest, RejectsSegmentStoredUnderAnotherName) {
  const std::string path = dir_.file("case") + "/Other.7.seg";
  fs::copy_file(origin_, path);

  expect_rejected(path, ErrorCode::kCorrupt, {"service_name"});
}

TEST_F(SegmentReaderTest, SnapshotRejectsFileTruncatedAfterOpen) {
  const std::string path = copy();
  const SegmentReader reader = SegmentReader::open(path);
  ASSERT_EQ(reader.snapshot().value(kBytesReceived), 123u);

  segment_test::resize_file(path, 1000);

  try {
    reader.snapshot();
    FAIL() << "snapshot() read a truncated segment";
  } catch (const TelemetryError& e) {
    EXPECT_EQ(e.code(), ErrorCode::kCorrupt) << e.what();
  }
}

TEST_F(SegmentReaderTest, SnapshotRejectsHeaderDamagedAfterOpen) {
  const std::string path = copy();
  const SegmentReader reader = SegmentReader::open(path);

  segment_test::write_value_at(path, offsetof(SegmentHeader, magic),
                               uint64_t{0x0123456789abcdef});

  try {
    reader.snapshot();
    FAIL() << "snapshot() read a segment with a damaged magic";
  } catch (const TelemetryError& e) {
    EXPECT_EQ(e.code(), ErrorCode::kCorrupt) << e.what();
    EXPECT_TRUE(names_field(e.what(), "magic")) << e.what();
  }
}

TEST_F(SegmentReaderTest, NoticesReplacedAndRemovedFile) {
  const std::string path = copy();
  const SegmentReader reader = SegmentReader::open(path);
  EXPECT_FALSE(reader.replaced());

  const std::string other = dir_.file("case/next");
  fs::copy_file(origin_, other);
  fs::rename(other, path);
  EXPECT_TRUE(reader.replaced());

  const SegmentReader fresh = SegmentReader::open(path);
  EXPECT_FALSE(fresh.replaced());
  fs::remove(path);
  EXPECT_TRUE(fresh.replaced());
}

TEST_F(SegmentReaderTest, MovedReaderKeepsWorking) {
  SegmentReader first = SegmentReader::open(copy());
  SegmentReader second = std::move(first);

  EXPECT_EQ(second.snapshot().value(kBytesReceived), 123u);
  EXPECT_EQ(second.liveness(), Liveness::kStopped);
}

// Random damage in the parts a reader interprets: whatever the bytes, the
// reader either reads the segment or refuses it with a TelemetryError.
TEST_F(SegmentReaderTest, SurvivesRandomDamage) {
  std::mt19937 random(20261203);
  std::uniform_int_distribution<size_t> header_byte(0, 215);
  std::uniform_int_distribution<size_t> descriptor_byte(
      offsetof(Segment, descriptors), offsetof(Segment, descriptors) + 511);
  std::uniform_int_distribution<int> byte_value(0, 255);
  std::uniform_int_distribution<int> coin(0, 2);
  int refused = 0;

  for (int round = 0; round < 300; ++round) {
    const std::string path = copy();
    for (int i = 0; i < 3; ++i) {
      const size_t offset =
          coin(random) == 0 ? descriptor_byte(random) : header_byte(random);
      const char value = static_cast<char>(byte_value(random));
      segment_test::write_at(path, offset, &value, 1);
    }
    try {
      const SegmentReader reader = SegmentReader::open(path);
      reader.snapshot();
      reader.liveness();
    } catch (const TelemetryError&) {
      ++refused;
    }
  }
  EXPECT_GT(refused, 0);
}

// One damaged field of an otherwise valid segment.
struct FieldDamage {
  const char* label;
  size_t offset;
  std::vector<char> bytes;
  ErrorCode code;
  std::vector<std::string> words;  // the message names one of these
};

void PrintTo(const FieldDamage& damage, std::ostream* out) {
  *out << damage.label;
}

class SegmentFieldTest : public SegmentReaderTest,
                         public ::testing::WithParamInterface<FieldDamage> {};

TEST_P(SegmentFieldTest, RejectsDamagedField) {
  const FieldDamage& damage = GetParam();
  const std::string path = copy();
  segment_test::write_at(path, damage.offset, damage.bytes.data(),
                         damage.bytes.size());

  expect_rejected(path, damage.code, damage.words);
}

// The same damage done after the reader opened the file: the next
// snapshot refuses it just as open() would have.
TEST_P(SegmentFieldTest, SnapshotRefusesFieldDamagedAfterOpen) {
  const FieldDamage& damage = GetParam();
  const std::string path = copy();
  const SegmentReader reader = SegmentReader::open(path);
  segment_test::write_at(path, damage.offset, damage.bytes.data(),
                         damage.bytes.size());

  OpenResult result;
  try {
    reader.snapshot();
    result.opened = true;
  } catch (const TelemetryError& e) {
    result.code = e.code();
    result.message = e.what();
  }
  expect_refusal(result, path, damage.code, damage.words);
}

std::vector<FieldDamage> field_damages() {
  constexpr auto kCorrupt = ErrorCode::kCorrupt;
  const size_t key = offsetof(CounterDescriptor, key);
  const size_t name = offsetof(CounterDescriptor, name);
  return {
      {"MagicOffByOne",
       offsetof(SegmentHeader, magic),
       bytes_of(layout::kMagic + 1),
       kCorrupt,
       {"magic"}},
      {"MagicZero",
       offsetof(SegmentHeader, magic),
       bytes_of(uint64_t{0}),
       kCorrupt,
       {"magic"}},
      {"LayoutVersionNext",
       offsetof(SegmentHeader, layout_version),
       bytes_of(layout::kLayoutVersion + 1),
       kCorrupt,
       {"version"}},
      {"LayoutVersionZero",
       offsetof(SegmentHeader, layout_version),
       bytes_of(uint32_t{0}),
       kCorrupt,
       {"version"}},
      {"HeaderSizeSmaller",
       offsetof(SegmentHeader, header_size),
       bytes_of(uint32_t{4095}),
       kCorrupt,
       {"header_size"}},
      {"HeaderSizeHuge",
       offsetof(SegmentHeader, header_size),
       bytes_of(uint32_t{0xffffffff}),
       kCorrupt,
       {"header_size"}},
      {"TotalSizeLarger",
       offsetof(SegmentHeader, total_size),
       bytes_of(uint64_t{layout::kSegmentSize * 2}),
       kCorrupt,
       {"total_size"}},
      {"TotalSizeZero",
       offsetof(SegmentHeader, total_size),
       bytes_of(uint64_t{0}),
       kCorrupt,
       {"total_size"}},
      {"TotalSizeOneShort",
       offsetof(SegmentHeader, total_size),
       bytes_of(uint64_t{layout::kSegmentSize - 1}),
       kCorrupt,
       {"total_size"}},
      {"MaxCountersMore",
       offsetof(SegmentHeader, max_counters),
       bytes_of(uint32_t{65}),
       kCorrupt,
       {"max_counters"}},
      {"MaxCountersZero",
       offsetof(SegmentHeader, max_counters),
       bytes_of(uint32_t{0}),
       kCorrupt,
       {"max_counters"}},
      {"StripeCountMore",
       offsetof(SegmentHeader, stripe_count),
       bytes_of(uint32_t{1u << 20}),
       kCorrupt,
       {"stripe_count"}},
      {"StripeCountOne",
       offsetof(SegmentHeader, stripe_count),
       bytes_of(uint32_t{1}),
       kCorrupt,
       {"stripe_count"}},
      {"DescriptorSizeHalf",
       offsetof(SegmentHeader, descriptor_size),
       bytes_of(uint32_t{32}),
       kCorrupt,
       {"descriptor_size"}},
      {"StripeSizeHalf",
       offsetof(SegmentHeader, stripe_size),
       bytes_of(uint32_t{256}),
       kCorrupt,
       {"stripe_size"}},
      {"StripeSizeDouble",
       offsetof(SegmentHeader, stripe_size),
       bytes_of(uint32_t{1024}),
       kCorrupt,
       {"stripe_size"}},
      {"StateUnknown",
       offsetof(SegmentHeader, state),
       bytes_of(uint32_t{3}),
       kCorrupt,
       {"state"}},
      {"StateAllOnes",
       offsetof(SegmentHeader, state),
       bytes_of(uint32_t{0xffffffff}),
       kCorrupt,
       {"state"}},
      {"StateInitializing",
       offsetof(SegmentHeader, state),
       bytes_of(static_cast<uint32_t>(layout::SegmentState::kInitializing)),
       ErrorCode::kNotReady,
       {"state", "initializ", "ready"}},
      {"ServiceNameUnterminated",
       offsetof(SegmentHeader, service_name),
       unterminated(layout::kNameCapacity, 'S'),
       kCorrupt,
       {"service_name"}},
      {"ServiceNameOfAnotherService",
       offsetof(SegmentHeader, service_name),
       c_string("OtherService"),
       kCorrupt,
       {"service_name"}},
      {"ServiceNameEmpty",
       offsetof(SegmentHeader, service_name),
       c_string(""),
       kCorrupt,
       {"service_name"}},
      {"ServiceNameWithSlash",
       offsetof(SegmentHeader, service_name),
       c_string("Reader/ervice"),
       kCorrupt,
       {"service_name"}},
      {"InstanceIdUnterminated",
       offsetof(SegmentHeader, instance_id),
       unterminated(layout::kNameCapacity, '7'),
       kCorrupt,
       {"instance_id"}},
      {"InstanceIdOfAnotherInstance",
       offsetof(SegmentHeader, instance_id),
       c_string("8"),
       kCorrupt,
       {"instance_id"}},
      {"InstanceIdEmpty",
       offsetof(SegmentHeader, instance_id),
       c_string(""),
       kCorrupt,
       {"instance_id"}},
      {"InstanceIdWithDot",
       offsetof(SegmentHeader, instance_id),
       c_string("."),
       kCorrupt,
       {"instance_id"}},
      {"DescriptorKeyAboveRange",
       descriptor_offset(0, key),
       bytes_of(int32_t{65}),
       kCorrupt,
       {"key", "descriptor"}},
      {"DescriptorKeyNegative",
       descriptor_offset(2, key),
       bytes_of(int32_t{-1}),
       kCorrupt,
       {"key", "descriptor"}},
      {"DescriptorKeyHuge",
       descriptor_offset(3, key),
       bytes_of(int32_t{0x7fffffff}),
       kCorrupt,
       {"key", "descriptor"}},
      {"DescriptorNameUnterminated",
       descriptor_offset(1, name),
       unterminated(layout::kCounterNameCapacity, 'N'),
       kCorrupt,
       {"name", "descriptor"}},
      {"DescriptorNameWithSpace",
       descriptor_offset(1, name),
       c_string("BYTES SENT"),
       kCorrupt,
       {"BYTES SENT"}},
      {"DescriptorNameEmpty",
       descriptor_offset(0, name),
       c_string(""),
       kCorrupt,
       {"name", "descriptor"}},
  };
}

INSTANTIATE_TEST_SUITE_P(EveryField, SegmentFieldTest,
                         ::testing::ValuesIn(field_damages()),
                         [](const ::testing::TestParamInfo<FieldDamage>& info) {
                           return std::string(info.param.label);
                         });

}  // namespace
