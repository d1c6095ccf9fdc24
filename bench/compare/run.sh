#!/usr/bin/env bash
# The Runs page at scale (not a test): ten runs of 100,000 steps each overlaid on its charts,
# offscreen. Prints the time to read them, to tick each run, to repaint, smooth, switch axes and
# scales, and the longest event-loop stall, also while a live run grows beside them.
#   bash bench/compare/run.sh [WORKDIR=build/bench-compare] [RUNS=10] [STEPS=100000]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$root/packaging/env.sh"
work=${1:-$root/build/bench-compare}
mkdir -p "$work"
cmake --build --preset dev --target taxon_bench_compare
QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen} "$root/build/dev/bench/compare/taxon_bench_compare" \
  "$work" "${2:-10}" "${3:-100000}" | tee "$work/figures.txt"
