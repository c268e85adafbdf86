#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the project as a distribution packager does: tests off (CTest's BUILD_TESTING), then
# build and install. Fails if anything but the installed program was linked, or if the
# install lacks the library's headers, package files or the CLI.
# usage: run_packager_build.sh <source dir> <scratch dir> <c++ compiler>
set -euo pipefail
src=$1 work=$2 cxx=$3

rm -rf "$work"
mkdir -p "$work"
generator=()
if command -v ninja >/dev/null; then generator=(-G Ninja); fi
cmake -S "$src" -B "$work/build" "${generator[@]}" -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >"$work/configure.log" || {
  cat "$work/configure.log"
  exit 1
}
cmake --build "$work/build" -j2
cmake --install "$work/build" --prefix "$work/prefix" >/dev/null

# Every executable the build made, outside CMake's own probes (CMakeFiles/).
built=$(cd "$work/build" && find . -path ./CMakeFiles -prune -o -type f -perm -u+x \
  ! -name '*.sh' -print | sort)
if [ "$built" != "./tools/http-task/http-task" ]; then
  echo "with BUILD_TESTING=OFF the build made more than the CLI:" >&2
  echo "$built" >&2
  exit 1
fi
if ctest --test-dir "$work/build" -N | grep -q "Total Tests: [1-9]"; then
  echo "with BUILD_TESTING=OFF ctest still lists tests" >&2
  exit 1
fi
for f in bin/http-task include/http_task/http_task.hpp; do
  [ -e "$work/prefix/$f" ] || {
    echo "not installed: $f" >&2
    exit 1
  }
done
find "$work/prefix" -name 'http_taskConfig.cmake' | grep -q . || {
  echo "not installed: http_taskConfig.cmake" >&2
  exit 1
}
echo "BUILD_TESTING=OFF: built and installed only the CLI"
