// Small helpers shared by the benchmarks: processes, ports, CPU time,
// medians. Benchmarks print figures; they assert nothing.
#ifndef TELEMETRY_TESTS_BENCHMARKS_BENCH_UTIL_H_
#define TELEMETRY_TESTS_BENCHMARKS_BENCH_UTIL_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace bench {

// The path of a project binary, next to the benchmark's own.
std::string binary(const std::string& name);

// Starts `args` (args[0] is the program) and returns its pid. Throws
// std::runtime_error when it cannot be started.
pid_t spawn(const std::vector<std::string>& args);

// Sends SIGTERM and waits for the process to exit.
void stop(pid_t pid);

// A TCP port on 127.0.0.1 that was free a moment ago.
int free_port();

// Waits up to 20 s until 127.0.0.1:`port` accepts connections; throws
// std::runtime_error naming the port otherwise.
void wait_for_port(int port);

// On-CPU time of every thread of `pid` so far, in nanoseconds.
uint64_t process_cpu_ns(pid_t pid);

// Resident memory of `pid` in KiB (VmRSS).
long resident_kib(pid_t pid);

double median(std::vector<double> values);

// The value at quantile `q` (0 to 1) of `values`.
double quantile(std::vector<double> values, double q);

// A fresh directory under /dev/shm, removed with its files on destruction.
class TempDirectory {
 public:
  explicit TempDirectory(const std::string& prefix);
  ~TempDirectory();
  TempDirectory(const TempDirectory&) = delete;
  TempDirectory& operator=(const TempDirectory&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace bench

#endif  // TELEMETRY_TESTS_BENCHMARKS_BENCH_UTIL_H_
