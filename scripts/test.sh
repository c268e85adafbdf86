#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# THE test command (README; CI runs it through .ci/run): installs what is missing, then runs
# every check in order. Build directories under build/ are reused by a second run.
# usage: scripts/test.sh [--quick]   (--quick: formatting and the ci preset only)
set -euo pipefail
cd "$(dirname "$0")/.."

quick=false
case "${1:-}" in
  "") ;;
  --quick) quick=true ;;
  *)
    echo "usage: scripts/test.sh [--quick]" >&2
    exit 2
    ;;
esac

jobs=$(nproc)
passed=0
failed=0
skipped=0

# Runs one stage with a banner and its duration; a failing stage stops the run.
stage() {
  local name=$1
  shift
  local start=$SECONDS
  echo
  echo "==== test.sh: $name ===="
  if "$@"; then
    passed=$((passed + 1))
    echo "==== test.sh: $name passed in $((SECONDS - start)) s ===="
  else
    failed=$((failed + 1))
    echo "==== test.sh: $name FAILED after $((SECONDS - start)) s ===="
    echo "test.sh: $passed passed, $failed failed"
    exit 1
  fi
}

clang_format_check() {
  local format=clang-format-14
  command -v "$format" >/dev/null || format=clang-format
  # Tracked files plus new ones not ignored: a developer sees the same verdict as CI.
  git ls-files -z --cached --others --exclude-standard -- '*.hpp' '*.cpp' |
    xargs -0 -r "$format" --dry-run -Werror
}

# Configures (reusing the build directory; extra arguments go to cmake), builds and runs
# ctest for one preset; TEST_PRESET names another test preset of the same build.
preset() {
  local name=$1
  shift
  cmake --preset "$name" "$@" &&
    cmake --build --preset "$name" -j "$jobs" &&
    ctest --preset "${TEST_PRESET:-$name}" -j "$jobs"
}

# The asan build, tested with the portable loop backend forced (test preset asan-poll).
asan_poll() {
  TEST_PRESET=asan-poll preset asan
}

fuzz() {
  # ctest -j runs the fuzzers side by side, one per core.
  preset fuzz -DHTTP_TASK_FUZZ_SECONDS="${HTTP_TASK_FUZZ_SECONDS:-30}"
}

stage "install dependencies" ./scripts/install-deps.sh --interop
stage "clang-format 14" clang_format_check
stage "ci preset: g++, warnings as errors, every header alone, all tests" preset ci
if ! $quick; then
  # The portable loop backend forced (HTTP_TASK_LOOP_BACKEND=poll): the ci and tsan stages
  # run epoll, as users get it on Linux, so each backend runs every test once.
  stage "asan preset: clang++-14, ASan + UBSan, poll loop backend" asan_poll
  stage "tsan preset: g++, TSan" preset tsan
  if compgen -G 'tests/fuzz/fuzz_*.cpp' >/dev/null; then
    stage "fuzz preset: libFuzzer, ${HTTP_TASK_FUZZ_SECONDS:-30} s per target" fuzz
  else
    echo "test.sh: no tests/fuzz/fuzz_*.cpp yet, fuzz stage skipped"
    skipped=$((skipped + 1))
  fi
fi

echo
if [ "$skipped" -gt 0 ]; then
  echo "test.sh: $passed passed, $failed failed, $skipped skipped"
else
  echo "test.sh: $passed passed, $failed failed"
fi
