#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what building, testing and the demo need on Debian 12. Idempotent: when every
# package is already installed it returns at once, without touching apt.
# usage: scripts/install-deps.sh [--bench] [--interop]
set -euo pipefail

# The one list of Debian packages, by purpose.
packages=(
  # toolchain and build
  build-essential cmake ninja-build pkg-config git
  # clang: libFuzzer, the ASan/UBSan build, its sanitizer runtimes, the formatter CI checks
  clang-14 libclang-rt-14-dev clang-format-14
  # the library's dependencies and the test framework
  libcurl4-openssl-dev rapidjson-dev catch2
  # libcrypto for request signing (http_task::signing); libcurl's -dev only suggests it
  libssl-dev
  # test servers and the Django webhook example (system python: /usr/bin/python3); the
  # openssl command makes the TLS tests' throwaway certificates
  python3 python3-django curl openssl
  # the h2 fault server of the h2 tests (tests/servers/h2_fault_server.py)
  python3-h2
  # Boost.Asio, for examples/asio_thread_pool.cpp (headers only)
  libboost-dev
  # the Celery cluster of examples/celery_gateway (cluster.sh) and its tests: broker and
  # result backend, workers, the gateway's threaded WSGI server, djcelery's status views
  redis-server redis-tools python3-celery python3-redis gunicorn python3-django-celery-results
  # the API reference from the public headers (docs/Doxyfile; ctest docs.doxygen)
  doxygen
  # the proxy tests (tests/integration/test_proxy.cpp): an HTTP and a SOCKS5 proxy
  tinyproxy dante-server
  # the Debian package test (ctest -L packaging, tests/packaging/run_deb.sh)
  dpkg-dev debhelper lintian
)
# Optional extras, only on request.
# nlohmann-json3-dev and libcpp-httplib-dev: what bench/compile_time/run.sh weighs the headers against.
bench_packages=(libbenchmark-dev hyperfine nginx-light libnginx-mod-http-echo gnuplot-nox valgrind
  nlohmann-json3-dev libcpp-httplib-dev bc)
# --interop: the webhook frameworks of tests/interop (Flask, Rails + Puma, Express, cpp-httplib).
interop_packages=(python3-flask python3-aiohttp ruby-rails puma nodejs libcpp-httplib-dev)
# NodeSource's nodejs bundles npm and conflicts with Debian's npm: ask for it only when missing.
command -v npm >/dev/null || interop_packages+=(npm)
# npm packages (installed globally) go here when a step needs one.
npm_packages=()

for arg in "$@"; do
  case "$arg" in
    --bench) packages+=("${bench_packages[@]}") ;;
    --interop) packages+=("${interop_packages[@]}") ;;
    *)
      echo "install-deps.sh: unknown option $arg (known: --bench --interop)" >&2
      exit 2
      ;;
  esac
done

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$package")
done

if [ ${#missing[@]} -gt 0 ]; then
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  echo "install-deps.sh: installing ${missing[*]}"
  "${sudo[@]}" apt-get update
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}"
fi

if [ ${#npm_packages[@]} -gt 0 ]; then
  for package in "${npm_packages[@]}"; do
    npm ls -g --depth=0 "$package" >/dev/null 2>&1 || npm install -g "$package"
  done
fi
