#include "retired_state.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "sidecar/sidecar_test_support.h"

namespace sidecar_test {
namespace {

namespace fs = std::filesystem;

sidecar::RetiredState sample_state() {
  sidecar::RetiredState state;
  state.counts["ItemService"] = {{1, "BYTES_RECEIVED", 1234},
                                 {3, "SUCCESSFUL_REQUESTS", 9007199254740993}};
  state.counts["PlayerService"] = {{4, "ERROR_REQUESTS", 2}};
  state.removing[{"ItemService", "9091", 1700000000123}] = {
      {1, "BYTES_RECEIVED", 34}, {3, "SUCCESSFUL_REQUESTS", 5}};
  state.removing[{"ItemService", "9092", 1700000000456}] = sidecar::Counters{};
  state.removing[{"PlayerService", "7", 1700000000789}] = std::nullopt;
  return state;
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

std::string load_error(const std::string& path) {
  try {
    sidecar::load_retired_state(path);
  } catch (const sidecar::StateFileError& e) {
    return e.what();
  }
  return "";
}

TEST(RetiredStateTest, MissingFileIsEmptyState) {
  TempDir dir;
  EXPECT_EQ(sidecar::load_retired_state(dir.path() + "/absent"),
            sidecar::RetiredState{});
}

TEST(RetiredStateTest, SavedStateLoadsBackUnchanged) {
  TempDir dir;
  const std::string path = dir.path() + "/state";
  sidecar::save_retired_state(path, sample_state());
  EXPECT_EQ(sidecar::load_retired_state(path), sample_state());
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST(RetiredStateTest, SavedFileAnnouncesEachRemovalsCounts) {
  TempDir dir;
  const std::string path = dir.path() + "/state";
  sidecar::save_retired_state(path, sample_state());
  const std::string text = test_support::read_file(path);
  EXPECT_NE(text.find("removing ItemService 9091 1700000000123 2\n"
                      "removed 1 BYTES_RECEIVED 34\n"
                      "removed 3 SUCCESSFUL_REQUESTS 5\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("removing ItemService 9092 1700000000456 0\n"),
            std::string::npos);
  EXPECT_NE(text.find("removing PlayerService 7 1700000000789 -\n"),
            std::string::npos);
}

TEST(RetiredStateTest, SaveReplacesThePreviousState) {
  TempDir dir;
  const std::string path = dir.path() + "/state";
  sidecar::save_retired_state(path, sample_state());
  sidecar::RetiredState smaller;
  smaller.counts["Other"] = {{2, "BYTES_SENT", 5}};
  sidecar::save_retired_state(path, smaller);
  EXPECT_EQ(sidecar::load_retired_state(path), smaller);
}

TEST(RetiredStateTest, ReadsVersionOneFile) {
  TempDir dir;
  const std::string path = dir.path() + "/state";
  write_text(path,
             "telemetry-sidecar-retired 1\n"
             "counter A 1 BYTES_SENT 3\n"
             "removing A 7 1700000000123\n"
             "end\n");

  sidecar::RetiredState expected;
  expected.counts["A"] = {{1, "BYTES_SENT", 3}};
  expected.removing[{"A", "7", 1700000000123}] = std::nullopt;
  EXPECT_EQ(sidecar::load_retired_state(path), expected);
}

TEST(RetiredStateTest, RefusesRemovedLinesInVersionOneFile) {
  TempDir dir;
  const std::string path = dir.path() + "/state";
  write_text(path,
             "telemetry-sidecar-retired 1\n"
             "removing A 7 1700000000123\n"
             "removed 1 BYTES_SENT 3\n"
             "end\n");
  EXPECT_NE(load_error(path).find("line 3: no removing line announced"),
            std::string::npos)
      << load_error(path);
}

TEST(RetiredStateTest, RefusesTruncatedFile) {
  TempDir dir;
  const std::string path = dir.path() + "/state";
  write_text(path, "telemetry-sidecar-retired 1\ncounter A 1 BYTES_SENT 3\n");
  EXPECT_NE(load_error(path).find("truncated"), std::string::npos);
}

TEST(RetiredStateTest, RefusesWrongHeader) {
  TempDir dir;
  const std::string path = dir.path() + "/state";
  write_text(path, "something else\nend\n");
  EXPECT_NE(load_error(path).find("line 1"), std::string::npos);
}

TEST(RetiredStateTest, RefusesBadRecordsNamingTheLine) {
  TempDir dir;
  const std::string path = dir.path() + "/state";
  const std::string header = "telemetry-sidecar-retired 2\n";
  const std::pair<std::string, std::string> cases[] = {
      {"counter A 1 BYTES_SENT -3\n", "counter value '-3'"},
      {"counter A 0 BYTES_SENT 3\n", "counter key must be positive"},
      {"counter bad/name 1 BYTES_SENT 3\n", "service name 'bad/name'"},
      {"counter A 1 BYTES_SENT\n", "expected 'counter"},
      {"counter A 1 X 3\ncounter A 1 X 4\n", "line 3: counter key repeated"},
      {"removing A 1 soon 0\n", "creation time 'soon'"},
      {"removing A 1 5\n", "expected 'removing"},
      {"removing A 1 5 0\nremoving A 1 5 0\n", "line 3: segment named by an"},
      {"removed 1 BYTES_SENT 3\n", "no removing line announced"},
      {"removing A 1 5 1\nremoved 1 X 3\nremoved 2 Y 3\n",
       "line 4: no removing line announced"},
      {"removing A 1 5 -\nremoved 1 X 3\n", "no removing line announced"},
      {"removing A 1 5 2\nremoved 1 X 3\ncounter A 1 X 3\n",
       "line 4: 1 more removed lines"},
      {"removing A 1 5 1\n", "line 3: 1 more removed lines"},
      {"removing A 1 5 2\nremoved 1 X 3\nremoved 1 Y 4\n",
       "line 4: counter key repeated"},
      {"removing A 1 5 1\nremoved 1 X\n", "expected 'removed"},
      {"removing A 1 5 many\n", "removed line count 'many'"},
      {"bogus\n", "unknown record 'bogus'"},
  };
  for (const auto& [body, expected] : cases) {
    write_text(path, header + body + "end\n");
    EXPECT_NE(load_error(path).find(expected), std::string::npos)
        << "for " << body << " got: " << load_error(path);
  }
}

TEST(RetiredStateTest, RefusesTextAfterEnd) {
  TempDir dir;
  const std::string path = dir.path() + "/state";
  write_text(path, "telemetry-sidecar-retired 1\nend\nmore\n");
  EXPECT_NE(load_error(path).find("text after 'end'"), std::string::npos);
}

TEST(RetiredStateTest, SaveIntoMissingDirectoryFailsNamingTheFile) {
  TempDir dir;
  const std::string path = dir.path() + "/no/such/state";
  try {
    sidecar::save_retired_state(path, sample_state());
    FAIL() << "saving into a missing directory succeeded";
  } catch (const sidecar::StateFileError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos);
  }
}

}  // namespace
}  // namespace sidecar_test
