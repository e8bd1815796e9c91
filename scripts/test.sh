#!/usr/bin/env bash
# The whole test suite, as CI runs it:
#   1. the formatting check: clang-format must not change any tracked
#      *.h or *.cc file;
#   2. every CTest test in build/ (RelWithDebInfo), in build-asan/
#      (AddressSanitizer with UndefinedBehaviorSanitizer) and in build-tsan/
#      (ThreadSanitizer).
# Installs missing packages first, so a fresh machine works. Prints
# "N passed, N failed" over the three CTest runs as its last line and exits
# non-zero when anything failed.
#
# JOBS (default 2) sets the parallelism of both the builds and CTest.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
readonly ROOT=$PWD
readonly JOBS=${JOBS:-2}

passed=0
failed=0
status=0

check_format() {
  echo "== clang-format"
  local files
  mapfile -t files < <(git ls-files -- '*.h' '*.cc')
  if ((${#files[@]} == 0)); then
    return
  fi
  if ! clang-format --dry-run -Werror "${files[@]}"; then
    echo "test: clang-format would change the files above;" \
      "run clang-format -i on them"
    status=1
  fi
}

# Adds the counts of CTest's "N% tests passed, F tests failed out of T"
# line in log file $1 to the totals.
add_ctest_counts() {
  local line failed_here total
  line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$1" |
    tail -n 1)
  if [[ -z "$line" ]]; then
    echo "test: no CTest summary in $1"
    status=1
    return
  fi
  failed_here=$(sed -E 's/.* ([0-9]+) tests? failed out of.*/\1/' <<<"$line")
  total=$(sed -E 's/.*failed out of ([0-9]+).*/\1/' <<<"$line")
  passed=$((passed + total - failed_here))
  failed=$((failed + failed_here))
}

# run_suite <build dir> [cmake arguments...]: configures, builds and runs
# CTest there. The environment of the call reaches the tests.
run_suite() {
  local dir=$1
  shift
  echo "== $dir"
  if ! cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" ||
    ! cmake --build "$dir" -j"$JOBS"; then
    echo "test: building $dir failed"
    status=1
    return
  fi
  local log="$dir/ctest.log"
  (cd "$dir" && ctest --output-on-failure -j"$JOBS") 2>&1 | tee "$log"
  if [[ ${PIPESTATUS[0]} -ne 0 ]]; then
    status=1
  fi
  add_ctest_counts "$log"
}

main() {
  if ! bash scripts/setup.sh --deps-only; then
    echo "test: installing packages failed"
    exit 1
  fi

  check_format

  run_suite build

  ASAN_OPTIONS=detect_leaks=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_suite build-asan -DTELEMETRY_SANITIZE=address -DTELEMETRY_BENCHMARKS=OFF

  TSAN_OPTIONS="suppressions=$ROOT/scripts/tsan.supp halt_on_error=1" \
    run_suite build-tsan -DTELEMETRY_SANITIZE=thread -DTELEMETRY_BENCHMARKS=OFF

  echo "$passed passed, $failed failed"
  if ((status != 0 || failed != 0)); then
    exit 1
  fi
}

main "$@"
