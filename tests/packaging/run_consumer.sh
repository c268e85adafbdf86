#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds and runs one consumer project of tests/packaging/ the way a user would.
# usage: run_consumer.sh <find_package|pkg_config|add_subdirectory|fetch_content>
#                        <source dir> <http_task build dir> <scratch dir> <c++ compiler>
set -euo pipefail
kind=$1 src=$2 build=$3 work=$4 cxx=$5
here="$(cd "$(dirname "$0")" && pwd)"

rm -rf "$work"
mkdir -p "$work"

# Installs to one prefix, then moves the tree: the package must not remember where it was
# installed. Prints the final prefix.
install_moved() {
  cmake --install "$build" --prefix "$work/staging" >/dev/null
  mv "$work/staging" "$work/moved"
  if grep -rqF "$work/staging" "$work/moved"; then
    echo "installed files name the install prefix; the package is not relocatable" >&2
    exit 1
  fi
  echo "$work/moved"
}

# Configures, builds and runs a consumer CMake project; extra arguments go to configure.
# No build type: unoptimized, as this checks usability, not speed.
cmake_consumer() {
  cmake -S "$here/$kind" -B "$work/build" -DCMAKE_CXX_COMPILER="$cxx" "$@" \
    >"$work/configure.log" || {
    cat "$work/configure.log"
    exit 1
  }
  cmake --build "$work/build" -j2
  "$work/build/consumer"
  "$work/build/consumer_signing"
}

case "$kind" in
  find_package)
    cmake_consumer -DCMAKE_PREFIX_PATH="$(install_moved)"
    ;;
  pkg_config)
    prefix=$(install_moved)
    export PKG_CONFIG_PATH="$prefix/share/pkgconfig"
    # shellcheck disable=SC2046  # the flags must split into words
    "$cxx" -std=c++17 "$here/main.cpp" -o "$work/consumer" \
      $(pkg-config --cflags --libs http_task)
    "$work/consumer"
    # shellcheck disable=SC2046
    "$cxx" -std=c++17 "$here/signing_main.cpp" -o "$work/consumer_signing" \
      $(pkg-config --cflags --libs http_task_signing)
    "$work/consumer_signing"
    ;;
  add_subdirectory | fetch_content)
    cmake_consumer -DHTTP_TASK_SOURCE_DIR="$src"
    ;;
  *)
    echo "unknown consumer kind: $kind" >&2
    exit 2
    ;;
esac
