#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the API reference from docs/Doxyfile into a scratch dir; fails on any Doxygen
# warning (an undocumented public name, a broken link or command in a doc comment), on a
# failed run, and when no index.html was made. The only exceptions are the marked EXCLUDE
# lines in docs/Doxyfile, printed here so that they are not forgotten.
# usage: run_doxygen.sh <source dir> <output dir>
set -euo pipefail
src=$1 out=$2
command -v doxygen >/dev/null || {
  echo "doxygen not found (scripts/install-deps.sh installs it)" >&2
  exit 1
}
rm -rf "$out"
mkdir -p "$out"
cd "$src"
status=0
{
  cat docs/Doxyfile
  echo "OUTPUT_DIRECTORY = $out"
  echo "WARN_AS_ERROR = FAIL_ON_WARNINGS"
} | doxygen - 2>"$out/warnings.log" || status=$?
warnings=$(grep -c "warning:\|error:" "$out/warnings.log" || true)
cat "$out/warnings.log"
grep -q '^EXCLUDE *=' docs/Doxyfile &&
  echo "known exceptions (docs/Doxyfile): $(grep '^EXCLUDE *=' docs/Doxyfile | sed 's/^EXCLUDE *= *//')"
echo "doxygen $(doxygen --version): exit $status, $warnings warnings (docs/Doxyfile)"
[ "$status" -eq 0 ] && [ "$warnings" -eq 0 ] || exit 1
[ -s "$out/html/index.html" ] || {
  echo "no $out/html/index.html" >&2
  exit 1
}
