#!/usr/bin/env bash
# The fuzz targets of tests/fuzz run longer than the README's test command runs them: SECONDS each
# (default 600), one after another, each from its committed corpus plus what earlier runs here
# found (kept in WORKDIR). Prints a table: executions per second, coverage (edges, features),
# corpus size, and any finding (crash-*, leak-*, timeout-*, oom-* in WORKDIR/NAME).
#   bash bench/fuzz/run.sh [SECONDS=600] [WORKDIR=build/bench-fuzz] [TARGET...]
# Builds the fuzz preset (clang, ASan, UBSan) first. A finding's input belongs in
# tests/fuzz/corpus/NAME once fixed, with a regression test.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../packaging/env.sh"
cd "$taxon_root"
seconds=${1:-600}
work=$(realpath -m "${2:-build/bench-fuzz}")
shift $(($# > 2 ? 2 : $#))
targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=($(sed -n 's/^taxon_fuzz_target(\([a-z_]*\).*/\1/p' tests/fuzz/CMakeLists.txt))
fi

step "build (preset fuzz)"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz

export ASAN_OPTIONS=detect_odr_violation=0:protect_shadow_gap=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
table="| target | seconds | runs | exec/s | edges (cov) | features (ft) | corpus | findings |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
for name in "${targets[@]}"; do
  step "fuzz $name for $seconds s"
  dir=$work/$name
  mkdir -p "$dir"
  log=$dir/last.log
  rc=0
  # The same flags as the fuzz.NAME tests (tests/fuzz/run-target.sh), for longer.
  bash tests/fuzz/run-target.sh "$taxon_root/build/fuzz/tests/fuzz/taxon_fuzz_$name" \
    "$taxon_root/tests/fuzz/corpus/$name" "$dir" "$seconds" >"$log" 2>&1 || rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p' <<<"$last")
  findings=$(cd "$dir" && ls crash-* leak-* timeout-* oom-* slow-unit-* 2>/dev/null | tr '\n' ' ' ||
    true)
  if ((rc != 0)) && [[ -z $findings ]]; then
    findings="exit $rc (see $log)"
  fi
  table+=$'\n'"| $name | $seconds | ${runs:-?} | ${rate:-?} | ${cov:-?} | ${ft:-?} | ${corp:-?} | ${findings:-none} |"
done
step "results"
echo "$table" | tee "$work/fuzz.md"
