#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Starts the Express multiply webhook; the arguments go to server.js (--host, --port,
# --port-file, --parent-pid). Installs the locked dependencies first if they are missing.
set -euo pipefail
cd "$(dirname "$0")"
# npm writes node_modules/.package-lock.json last: its absence means no (or a partial)
# install. The lock on this directory keeps two servers starting at once from running
# npm ci over each other.
if [ ! -f node_modules/.package-lock.json ]; then
  exec 9<.
  flock 9
  if [ ! -f node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error >&2
  fi
  exec 9<&-
fi
exec node server.js "$@"
