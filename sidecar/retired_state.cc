#include "retired_state.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "telemetry_shm/segment_reader.h"

namespace sidecar {
namespace {

constexpr std::string_view kHeader = "telemetry-sidecar-retired 2";
constexpr std::string_view kHeaderVersion1 = "telemetry-sidecar-retired 1";
constexpr size_t kMaxCounterName = 55;

// Where a record was read, for error messages.
struct LineRef {
  const std::string& path;
  int number;
};

[[noreturn]] void fail_line(const LineRef& at, std::string_view what) {
  throw StateFileError(
      fmt::format("state file {} line {}: {}", at.path, at.number, what));
}

std::string errno_text(int err) { return std::strerror(err); }

std::vector<std::string_view> split_words(std::string_view line) {
  std::vector<std::string_view> words;
  size_t pos = 0;
  while (pos < line.size()) {
    size_t end = line.find(' ', pos);
    if (end == std::string_view::npos) end = line.size();
    words.push_back(line.substr(pos, end - pos));
    pos = end + 1;
  }
  return words;
}

template <typename Number>
Number parse_number(const LineRef& at, std::string_view text,
                    std::string_view field) {
  Number value{};
  auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    fail_line(at, fmt::format("{} '{}' is not a valid number", field, text));
  }
  return value;
}

void check_name(const LineRef& at, std::string_view name,
                std::string_view field) {
  if (!telemetry_shm::is_valid_name(name)) {
    fail_line(at, fmt::format("{} '{}' is not 1 to 63 characters of "
                              "[A-Za-z0-9_-]",
                              field, name));
  }
}

void check_counter_name(const LineRef& at, std::string_view name) {
  if (name.empty() || name.size() > kMaxCounterName) {
    fail_line(at, fmt::format("counter name '{}' is not 1 to {} characters",
                              name, kMaxCounterName));
  }
}

// "<key> <name> <value>" from words[first..first+2].
telemetry_shm::CounterReading parse_reading(
    const LineRef& at, const std::vector<std::string_view>& w, size_t first) {
  telemetry_shm::CounterReading reading;
  reading.key = parse_number<int32_t>(at, w[first], "counter key");
  if (reading.key <= 0) fail_line(at, "counter key must be positive");
  check_counter_name(at, w[first + 1]);
  reading.name = std::string(w[first + 1]);
  reading.value = parse_number<uint64_t>(at, w[first + 2], "counter value");
  return reading;
}

void add_unique(const LineRef& at, Counters& counts,
                const telemetry_shm::CounterReading& reading) {
  for (const auto& have : counts) {
    if (have.key == reading.key) fail_line(at, "counter key repeated");
  }
  add_counters(counts, {reading});
}

void parse_counter(const LineRef& at, const std::vector<std::string_view>& w,
                   RetiredState& state) {
  if (w.size() != 5) {
    fail_line(at, "expected 'counter <service> <key> <name> <value>'");
  }
  check_name(at, w[1], "service name");
  add_unique(at, state.counts[std::string(w[1])], parse_reading(at, w, 2));
}

// The removed lines that a removing line announced and that are still to
// come, and where they go.
struct Announced {
  Counters* counts = nullptr;
  size_t left = 0;
};

// "removing <service> <instance> <created ms> <removed lines>" in version
// 2, where the last word is "-" for counts that were not noted; version 1
// had no last word and noted no counts.
Announced parse_removing(const LineRef& at,
                         const std::vector<std::string_view>& w, int version,
                         RetiredState& state) {
  const size_t words = version == 1 ? 4 : 5;
  if (w.size() != words) {
    fail_line(at, version == 1
                      ? "expected 'removing <service> <instance> <created ms>'"
                      : "expected 'removing <service> <instance> <created "
                        "ms> <removed lines or ->'");
  }
  check_name(at, w[1], "service name");
  check_name(at, w[2], "instance id");
  const SegmentId id{std::string(w[1]), std::string(w[2]),
                     parse_number<int64_t>(at, w[3], "creation time")};
  auto [it, inserted] = state.removing.try_emplace(id);
  if (!inserted) fail_line(at, "segment named by an earlier removing line");
  if (version == 1 || w[4] == "-") return {};

  it->second.emplace();
  return {&*it->second, parse_number<size_t>(at, w[4], "removed line count")};
}

void parse_removed(const LineRef& at, const std::vector<std::string_view>& w,
                   Announced& announced) {
  if (w.size() != 4) fail_line(at, "expected 'removed <key> <name> <value>'");
  if (announced.left == 0) {
    fail_line(at, "no removing line announced this removed line");
  }
  add_unique(at, *announced.counts, parse_reading(at, w, 1));
  --announced.left;
}

// Parses every line after the header; returns true once "end" was read.
bool parse_records(std::istream& in, const std::string& path, int version,
                   RetiredState& state) {
  std::string line;
  int number = 1;
  Announced announced;
  while (std::getline(in, line)) {
    LineRef at{path, ++number};
    const auto words = split_words(line);
    if (words.empty()) fail_line(at, "empty line");
    if (words[0] == "removed") {
      parse_removed(at, words, announced);
      continue;
    }
    if (announced.left != 0) {
      fail_line(at, fmt::format("{} more removed lines were announced",
                                announced.left));
    }
    if (words[0] == "end") {
      if (words.size() != 1) fail_line(at, "'end' takes nothing after it");
      if (std::getline(in, line)) fail_line(at, "text after 'end'");
      return true;
    }
    if (words[0] == "counter") {
      parse_counter(at, words, state);
    } else if (words[0] == "removing") {
      announced = parse_removing(at, words, version, state);
    } else {
      fail_line(at, fmt::format("unknown record '{}', expected counter, "
                                "removing, removed or end",
                                words[0]));
    }
  }
  return false;
}

std::string render(const RetiredState& state) {
  std::ostringstream out;
  out << kHeader << '\n';
  for (const auto& [service, counts] : state.counts) {
    for (const auto& c : counts) {
      out << fmt::format("counter {} {} {} {}\n", service, c.key, c.name,
                         c.value);
    }
  }
  for (const auto& [id, noted] : state.removing) {
    out << fmt::format("removing {} {} {} {}\n", id.service_name,
                       id.instance_id, id.created_ms,
                       noted ? std::to_string(noted->size()) : "-");
    for (const auto& c : noted.value_or(Counters{})) {
      out << fmt::format("removed {} {} {}\n", c.key, c.name, c.value);
    }
  }
  out << "end\n";
  return out.str();
}

void write_all(int fd, const std::string& text, const std::string& path) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      throw StateFileError(fmt::format("cannot write state file {}: {}", path,
                                       errno_text(errno)));
    }
    done += static_cast<size_t>(n);
  }
}

bool same_noted(const std::optional<Counters>& a,
                const std::optional<Counters>& b) {
  return a.has_value() == b.has_value() && (!a || same_counters(*a, *b));
}

template <typename Key, typename Value, typename Same>
bool same_maps(const std::map<Key, Value>& a, const std::map<Key, Value>& b,
               Same same) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [&](const auto& x, const auto& y) {
                      return x.first == y.first && same(x.second, y.second);
                    });
}

}  // namespace

bool RetiredState::operator==(const RetiredState& other) const {
  return same_maps(counts, other.counts, same_counters) &&
         same_maps(removing, other.removing, same_noted);
}

RetiredState load_retired_state(const std::string& path) {
  RetiredState state;
  std::ifstream in(path);
  if (!in) {
    if (errno == ENOENT) return state;
    throw StateFileError(
        fmt::format("cannot read state file {}: {}", path, errno_text(errno)));
  }
  std::string header;
  std::getline(in, header);
  if (header != kHeader && header != kHeaderVersion1) {
    throw StateFileError(
        fmt::format("state file {} line 1: expected '{}' or '{}', found '{}'",
                    path, kHeader, kHeaderVersion1, header.substr(0, 60)));
  }
  const int version = header == kHeader ? 2 : 1;
  if (!parse_records(in, path, version, state)) {
    throw StateFileError(fmt::format(
        "state file {} is truncated: it does not finish with 'end'", path));
  }
  return state;
}

void save_retired_state(const std::string& path, const RetiredState& state) {
  const std::string temp = path + ".tmp";
  int fd = ::open(temp.c_str(),
                  O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    throw StateFileError(fmt::format("cannot create state file {}: {}", temp,
                                     errno_text(errno)));
  }
  try {
    write_all(fd, render(state), temp);
    if (::fsync(fd) != 0) {
      throw StateFileError(fmt::format("cannot sync state file {}: {}", temp,
                                       errno_text(errno)));
    }
  } catch (...) {
    ::close(fd);
    ::unlink(temp.c_str());
    throw;
  }
  ::close(fd);
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    throw StateFileError(
        fmt::format("cannot rename {} to {}: {}", temp, path, errno_text(err)));
  }
}

}  // namespace sidecar
