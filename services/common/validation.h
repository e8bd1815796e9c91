// Input checks shared by the game stores.
//
// Every check either returns the checked value or throws game::InvalidInput
// whose message names the field and says what was expected, so that a
// client can tell exactly which part of its request was refused. The
// functions keep no state and are safe from any thread.
#ifndef SERVICES_COMMON_VALIDATION_H_
#define SERVICES_COMMON_VALIDATION_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace services {

// The largest page a list method returns.
inline constexpr int32_t kMaxPageSize = 100;

// Throws game::InvalidInput carrying `message`.
[[noreturn]] void throw_invalid_input(std::string message);

// Throws game::NotFound carrying `message`.
[[noreturn]] void throw_not_found(std::string message);

// Parses an id of the form "<prefix>-<n>", where <n> is a decimal number
// from 1 up to 10^18 written without leading zeros, and returns <n>.
// Rejects an empty id as missing and any other form as malformed; both
// messages name `field`.
uint64_t parse_id(std::string_view field, std::string_view prefix,
                  std::string_view id);

// The id "<prefix>-<number>".
std::string format_id(std::string_view prefix, uint64_t number);

// Rejects a `value` that is empty, longer than `max_bytes` or that holds
// control characters (bytes below 0x20 and 0x7f); the message names
// `field`.
void check_name(std::string_view field, std::string_view value,
                size_t max_bytes);

// Rejects a `value` longer than `max_bytes`; the message names `field`.
void check_length(std::string_view field, std::string_view value,
                  size_t max_bytes);

// Rejects a `value` outside [`low`, `high`]; the message names `field`.
void check_range(std::string_view field, int64_t value, int64_t low,
                 int64_t high);

// Rejects an `offset` below 0 or a `limit` outside 1 to kMaxPageSize.
void check_page(int32_t offset, int32_t limit);

// Throws the "<field> is missing" InvalidInput unless `present`.
void require_field(std::string_view field, bool present);

}  // namespace services

#endif  // SERVICES_COMMON_VALIDATION_H_
