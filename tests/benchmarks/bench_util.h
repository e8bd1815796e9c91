// Measuring helpers shared by the benchmarks: CPU time and memory of
// another process, medians and quantiles. Processes, ports and temporary
// directories come from tests/common/process.h. Benchmarks print figures;
// they assert nothing.
#ifndef TELEMETRY_TESTS_BENCHMARKS_BENCH_UTIL_H_
#define TELEMETRY_TESTS_BENCHMARKS_BENCH_UTIL_H_

#include <sys/types.h>

#include <cstdint>
#include <vector>

namespace bench {

// On-CPU time of every thread of `pid` so far, in nanoseconds.
uint64_t process_cpu_ns(pid_t pid);

// Resident memory of `pid` in KiB (VmRSS).
long resident_kib(pid_t pid);

double median(std::vector<double> values);

// The value at quantile `q` (0 to 1) of `values`.
double quantile(std::vector<double> values, double q);

}  // namespace bench

#endif  // TELEMETRY_TESTS_BENCHMARKS_BENCH_UTIL_H_
