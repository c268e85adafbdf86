#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the Debian packages from a copy of the tree, checks them with lintian, unpacks
# them into a scratch root (dpkg -x: no root rights, the system's dpkg database untouched)
# and builds the consumer project against that root with find_package and pkg-config.
# usage: run_deb.sh <source dir> <scratch dir> <c++ compiler>
# Needs dpkg-dev, debhelper and lintian (scripts/install-deps.sh installs them).
set -euo pipefail
src=$1 work=$2 cxx=$3
here="$(cd "$(dirname "$0")" && pwd)"

for tool in dpkg-buildpackage dh lintian; do
  command -v "$tool" >/dev/null || {
    echo "run_deb.sh: $tool is missing; run scripts/install-deps.sh" >&2
    exit 1
  }
done

rm -rf "$work"
mkdir -p "$work/src" "$work/root"
# The tree as it is (uncommitted changes included), without build outputs or git data.
tar -C "$src" --exclude=./build --exclude=./.git --exclude='./build-*' -cf - . |
  tar -C "$work/src" -xf -

# The package build compiles the CLI only (debian/rules turns tests and examples off).
(cd "$work/src" && DEB_BUILD_OPTIONS="parallel=2 nocheck" \
  dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1) || {
  tail -n 60 "$work/build.log"
  exit 1
}
shopt -s nullglob
debs=("$work"/libhttp-task-dev_*.deb "$work"/http-task_*.deb)
[ ${#debs[@]} -eq 2 ] || {
  echo "run_deb.sh: expected libhttp-task-dev and http-task packages, got: ${debs[*]}" >&2
  exit 1
}

# Errors and warnings fail; informational tags do not.
changes=("$work"/http-task_*.changes)
lintian --fail-on error,warning --suppress-tags bad-distribution-in-changes-file "${changes[0]}"

for deb in "${debs[@]}"; do dpkg -x "$deb" "$work/root"; done
prefix="$work/root/usr"
for path in include/http_task/http_task.hpp include/http_task/testing.hpp \
  share/cmake/http_task/http_taskConfig.cmake share/pkgconfig/http_task.pc bin/http-task; do
  [ -e "$prefix/$path" ] || {
    echo "run_deb.sh: the packages lack usr/$path" >&2
    exit 1
  }
done
"$prefix/bin/http-task" --version

# find_package, as tests/packaging/find_package does it against an install.
cmake -S "$here/find_package" -B "$work/consumer-cmake" -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_PREFIX_PATH="$prefix" >"$work/configure.log" || {
  cat "$work/configure.log"
  exit 1
}
cmake --build "$work/consumer-cmake" -j2
"$work/consumer-cmake/consumer"

# pkg-config: the .pc file finds its prefix from where it lies.
export PKG_CONFIG_PATH="$prefix/share/pkgconfig"
# shellcheck disable=SC2046  # the flags must split into words
"$cxx" -std=c++17 "$here/main.cpp" -o "$work/consumer-pkg-config" \
  $(pkg-config --cflags --libs http_task)
"$work/consumer-pkg-config"
echo "run_deb.sh: packages built, lintian clean, consumer built with find_package and pkg-config"
