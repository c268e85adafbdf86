#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs one libFuzzer target for a fixed time over a copy of its corpus, so the repo's corpus
# is never written to. Any crash, leak, sanitizer report or timeout makes libFuzzer exit non-zero.
# usage: run_fuzzer.sh <fuzzer> <repo corpus dir> <work dir> <seconds>
set -euo pipefail
fuzzer=$1 corpus=$2 work=$3 seconds=$4

rm -rf "$work/corpus"
mkdir -p "$work/corpus" "$work/artifacts"
if [ -d "$corpus" ]; then cp -R "$corpus/." "$work/corpus/"; fi

# -timeout: one input taking 10 s is a hang; -rss_limit_mb: a runaway allocation is a bug.
exec "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" "$work/corpus"
