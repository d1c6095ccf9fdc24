#!/usr/bin/env bash
# One fuzz.NAME test: replays the committed corpus, then fuzzes for SECONDS.
#   run-target.sh BINARY CORPUS WORK SECONDS
# New interesting inputs go to WORK/corpus (the committed corpus is only read); a finding is
# written as WORK/crash-*, leak-*, timeout-* or oom-* and fails the test. Limits: 10 s per input
# (a hang), 2 GiB in all and 512 MiB in one allocation (a hostile header must not make us
# allocate what it claims). NAME.flags beside this script adds flags for one target (NAME: the
# corpus folder's name): the two targets that reach LibTorch's zip reader run without leak
# detection, because each refused zip leaks inside LibTorch (lsan.supp) and libFuzzer then scans
# the whole heap after every such input, which slowed them to 20 executions a second.
set -euo pipefail
binary=$1 corpus=$2 work=$3 seconds=$4
here=$(dirname "$(realpath "$0")")
flags=()
if [[ -f $here/$(basename "$corpus").flags ]]; then
  read -ra flags <"$here/$(basename "$corpus").flags"
fi
mkdir -p "$work/corpus"
export LSAN_OPTIONS=suppressions=$here/lsan.supp:print_suppressions=0
cd "$work"
exec "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 \
  -print_final_stats=1 -artifact_prefix="$work/" "${flags[@]}" "$work/corpus" "$corpus"
