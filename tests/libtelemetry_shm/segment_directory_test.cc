// Finding segments: names, the default directory and list_segments().
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "segment_test_util.h"
#include "telemetry_shm/error.h"
#include "telemetry_shm/segment_reader.h"

namespace {

using segment_test::TempDir;
using telemetry_shm::ErrorCode;
using telemetry_shm::list_segments;
using telemetry_shm::SegmentEntry;
using telemetry_shm::TelemetryError;

void touch(const std::string& path) { segment_test::write_file(path, {}); }

std::vector<std::string> names_of(const std::vector<SegmentEntry>& entries) {
  std::vector<std::string> names;
  for (const auto& entry : entries) {
    names.push_back(entry.service_name + "/" + entry.instance_id);
  }
  return names;
}

// The code of the TelemetryError that `call` throws.
template <typename F>
ErrorCode error_code_of(F&& call) {
  try {
    call();
  } catch (const TelemetryError& e) {
    return e.code();
  }
  ADD_FAILURE() << "no TelemetryError thrown";
  return ErrorCode::kSystem;
}

TEST(SegmentNameTest, AcceptsOneTo63SafeCharacters) {
  EXPECT_TRUE(telemetry_shm::is_valid_name("a"));
  EXPECT_TRUE(telemetry_shm::is_valid_name("Item-Service_2"));
  EXPECT_TRUE(telemetry_shm::is_valid_name(std::string(63, 'z')));
}

TEST(SegmentNameTest, RejectsEmptyLongAndUnsafeNames) {
  EXPECT_FALSE(telemetry_shm::is_valid_name(""));
  EXPECT_FALSE(telemetry_shm::is_valid_name(std::string(64, 'z')));
  for (const char* bad : {"a.b", "a/b", "..", "a b", "a\nb", "caf\xc3\xa9"}) {
    EXPECT_FALSE(telemetry_shm::is_valid_name(bad)) << bad;
  }
  EXPECT_FALSE(telemetry_shm::is_valid_name(std::string("a\0b", 3)));
}

TEST(SegmentNameTest, FileNameJoinsServiceAndInstance) {
  EXPECT_EQ(telemetry_shm::segment_file_name("ItemService", "9091"),
            "ItemService.9091.seg");
}

TEST(SegmentNameTest, FileNameRejectsInvalidNames) {
  EXPECT_EQ(error_code_of([] { telemetry_shm::segment_file_name("a.b", "1"); }),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(error_code_of([] { telemetry_shm::segment_file_name("a", ""); }),
            ErrorCode::kInvalidArgument);
}

TEST(SegmentDirectoryTest, DefaultDirectoryFollowsTelemetryDir) {
  const char* saved = ::getenv("TELEMETRY_DIR");
  const std::string restore = saved ? saved : "";

  ::setenv("TELEMETRY_DIR", "/dev/shm/elsewhere", 1);
  EXPECT_EQ(telemetry_shm::default_directory(), "/dev/shm/elsewhere");
  ::setenv("TELEMETRY_DIR", "", 1);
  EXPECT_EQ(telemetry_shm::default_directory(), "/dev/shm/telemetry");
  ::unsetenv("TELEMETRY_DIR");
  EXPECT_EQ(telemetry_shm::default_directory(), "/dev/shm/telemetry");

  if (saved != nullptr) ::setenv("TELEMETRY_DIR", restore.c_str(), 1);
}

TEST(SegmentDirectoryTest, SharedMemoryIsMemoryBacked) {
  TempDir dir;
  EXPECT_TRUE(telemetry_shm::is_memory_backed(dir.path()));
}

TEST(SegmentDirectoryTest, MemoryBackedReportsMissingDirectory) {
  TempDir dir;
  EXPECT_EQ(error_code_of(
                [&] { telemetry_shm::is_memory_backed(dir.file("missing")); }),
            ErrorCode::kNotFound);
}

TEST(SegmentDirectoryTest, ListsSegmentsSortedByServiceThenInstance) {
  TempDir dir;
  for (const char* name :
       {"Zeta.1.seg", "Alpha.b.seg", "Alpha.a.seg", "Mid.x.seg"}) {
    touch(dir.file(name));
  }

  const std::vector<SegmentEntry> entries = list_segments(dir.path());

  EXPECT_EQ(names_of(entries), (std::vector<std::string>{"Alpha/a", "Alpha/b",
                                                         "Mid/x", "Zeta/1"}));
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(std::filesystem::path(entries[0].path),
            std::filesystem::path(dir.file("Alpha.a.seg")));
}

TEST(SegmentDirectoryTest, SkipsFilesWithoutSegmentNames) {
  TempDir dir;
  touch(dir.file("Real.1.seg"));
  for (const char* name :
       {"notes.txt", "Only.seg", "a.b.c.seg", "x.1.seg.tmp", ".1.seg",
        "Svc..seg", "bad name.1.seg", "Svc.1.SEG"}) {
    touch(dir.file(name));
  }

  EXPECT_EQ(names_of(list_segments(dir.path())),
            std::vector<std::string>{"Real/1"});
}

TEST(SegmentDirectoryTest, EmptyDirectoryHasNoSegments) {
  TempDir dir;
  EXPECT_TRUE(list_segments(dir.path()).empty());
}

TEST(SegmentDirectoryTest, ListReportsMissingDirectory) {
  TempDir dir;
  EXPECT_EQ(error_code_of([&] { list_segments(dir.file("missing")); }),
            ErrorCode::kNotFound);
}

}  // namespace
