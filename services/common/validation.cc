#include "services/common/validation.h"

#include <fmt/format.h>

#include <charconv>
#include <limits>
#include <system_error>

#include "game_types.h"

namespace services {
namespace {

// Ids stay well inside uint64_t and print in at most 19 digits.
constexpr uint64_t kMaxIdNumber = 1'000'000'000'000'000'000ULL;

// Ids are echoed in messages; a hostile one must not make them huge.
constexpr size_t kMaxEchoedBytes = 40;

std::string excerpt(std::string_view text) {
  if (text.size() <= kMaxEchoedBytes) return std::string(text);
  return fmt::format("{}...", text.substr(0, kMaxEchoedBytes));
}

bool is_control(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte < 0x20 || byte == 0x7f;
}

}  // namespace

void throw_invalid_input(std::string message) {
  game::InvalidInput error;
  error.message = std::move(message);
  throw error;
}

void throw_not_found(std::string message) {
  game::NotFound error;
  error.message = std::move(message);
  throw error;
}

uint64_t parse_id(std::string_view field, std::string_view prefix,
                  std::string_view id) {
  if (id.empty()) {
    throw_invalid_input(fmt::format("{} is missing", field));
  }
  const auto malformed = [&] {
    throw_invalid_input(fmt::format(
        "{} '{}' is malformed: expected {}-<n> with n a number from 1 "
        "without leading zeros",
        field, excerpt(id), prefix));
  };
  if (id.size() <= prefix.size() + 1 || !id.starts_with(prefix) ||
      id[prefix.size()] != '-') {
    malformed();
  }

  const std::string_view digits = id.substr(prefix.size() + 1);
  uint64_t number = 0;
  const auto [end, error] =
      std::from_chars(digits.data(), digits.data() + digits.size(), number);
  if (error != std::errc() || end != digits.data() + digits.size() ||
      digits.front() == '0' || number > kMaxIdNumber) {
    malformed();
  }
  return number;
}

std::string format_id(std::string_view prefix, uint64_t number) {
  return fmt::format("{}-{}", prefix, number);
}

void check_name(std::string_view field, std::string_view value,
                size_t max_bytes) {
  if (value.empty()) {
    throw_invalid_input(fmt::format("{} is empty", field));
  }
  check_length(field, value, max_bytes);
  for (char c : value) {
    if (is_control(c)) {
      throw_invalid_input(
          fmt::format("{} holds a control character (byte {:#04x})", field,
                      static_cast<unsigned char>(c)));
    }
  }
}

void check_length(std::string_view field, std::string_view value,
                  size_t max_bytes) {
  if (value.size() > max_bytes) {
    throw_invalid_input(fmt::format("{} is {} bytes long, at most {} allowed",
                                    field, value.size(), max_bytes));
  }
}

void check_range(std::string_view field, int64_t value, int64_t low,
                 int64_t high) {
  if (value < low || value > high) {
    throw_invalid_input(fmt::format("{} must be from {} to {}, got {}", field,
                                    low, high, value));
  }
}

void check_page(int32_t offset, int32_t limit) {
  check_range("offset", offset, 0, std::numeric_limits<int32_t>::max());
  check_range("limit", limit, 1, kMaxPageSize);
}

void require_field(std::string_view field, bool present) {
  if (!present) {
    throw_invalid_input(fmt::format("{} is missing", field));
  }
}

}  // namespace services
