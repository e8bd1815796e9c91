// The fb303-style flat view of the counters: one name per number.
//
//   "<service>.<counter>"             a service's total (instances plus
//                                     retired counts)
//   "<service>.<instance>.<counter>"  one instance whose segment is present
//
// <counter> is the stored counter name in lower case, such as
// "ItemService.successful_requests" or "ItemService.9091.bytes_sent".
//
// Thread safety: plain functions over values; safe from any thread.
#ifndef SIDECAR_COUNTER_NAMES_H_
#define SIDECAR_COUNTER_NAMES_H_

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "host_view.h"

namespace sidecar {

using CounterMap = std::map<std::string, int64_t>;

inline constexpr size_t kMaxPatternLength = 1024;

// A pattern that getRegexCounters refuses; the message says why.
class BadPattern : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Every counter of `readings` by flat name; values above 2^63-1 clamp.
CounterMap counter_map(const std::vector<ServiceReading>& readings);

// The counters of `all` whose whole name matches `pattern` (ECMAScript).
// Throws BadPattern when the pattern does not compile or is longer than
// kMaxPatternLength characters.
CounterMap select_matching(const CounterMap& all, const std::string& pattern);

// The counters of `all` named in `names`; unknown names are left out.
CounterMap select_named(const CounterMap& all,
                        const std::vector<std::string>& names);

}  // namespace sidecar

#endif  // SIDECAR_COUNTER_NAMES_H_
