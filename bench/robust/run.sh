#!/usr/bin/env bash
# Kill -9 at random moments, then the same command again (issue 16): `taxon import`,
# `build-records`, a label edit as the app makes it (taxon_relabel_loop) and `train`, KILLS times
# each; prints a table: command, kills, kills that landed while it ran, runs that recovered,
# failures. tests/e2e/test_Robust.cpp does three of each (training: test_Train.cpp).
#   bash bench/robust/run.sh [WORKDIR=build/bench-robust] [KILLS=20] [SEED=16]
# Environment: PER_CATEGORY (1500: photos in each of 3 categories), ONLY (the commands to kill,
# default "import build-records relabel train").
# Uses the binaries of build/dev (or $TAXON_BUILD): cmake --build --preset dev --target taxon
# taxon_relabel_loop. What a round checked and why it failed: WORKDIR/robust.log.
#
# A round recovers when, after the kill and the same command again:
#   import         `taxon info` passes its catalog check and shows the categories, splits and
#                  images of an import that was never stopped (nothing lost, nothing duplicated);
#   build-records  the shards verify and equal those of a build that was never stopped, with no
#                  temporary file left;
#   relabel        the edit in flight is wholly applied or wholly not, the catalog check passes,
#                  undo reverts the last applied edit and redo re-applies it (taxon_relabel_loop
#                  verify);
#   train          the next --resume starts from the newest checkpoint on disk; at the end every
#                  step is logged once in metrics.jsonl.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$root/packaging/env.sh"
work=${1:-$root/build/bench-robust}
kills=${2:-20}
per_category=${PER_CATEGORY:-1500}
only=" ${ONLY:-import build-records relabel train} "
wanted() { [[ $only == *" $1 "* ]]; }
RANDOM=${3:-16}
build=${TAXON_BUILD:-$root/build/dev}
taxon=$build/app/taxon
loop=$build/tests/e2e/taxon_relabel_loop
need_built "$build" taxon:app/taxon taxon_relabel_loop:tests/e2e/taxon_relabel_loop
mkdir -p "$work"
log=$work/robust.log
: >"$log"
started=$(date +%s)

# Starts "$@" in the background (output to $work/out), kills it after $1 milliseconds; sets
# `landed` to 1 when the kill ended it (0: it had finished).
kill_after() {
  local ms=$1
  shift
  "$@" >"$work/out" 2>&1 &
  local pid=$!
  sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
  kill -9 "$pid" 2>/dev/null || true
  local status=0
  { wait "$pid"; } 2>/dev/null || status=$?  # without bash's "Killed" line
  landed=$((status == 137 ? 1 : 0))
}

# Milliseconds "$@" takes, run to its end (it must succeed).
millis() {
  local begin=$(date +%s%N)
  "$@" >>"$log" 2>&1
  echo $((($(date +%s%N) - begin) / 1000000))
}

# taxon's start-up (libtorch loads): the kills of import and build-records come after it.
startup_ms=$(millis "$taxon" --version)
# A random delay in [start-up, $1] milliseconds.
delay() {
  local from=$((startup_ms < $1 ? startup_ms : $1))
  echo $((from + (RANDOM * 32768 + RANDOM) % ($1 - from + 1)))
}

# One row per command: name, kills, landed, recovered, failures.
rows=()
row() { rows+=("$(printf '%-14s %6d %7d %10d %9d' "$@")"); }

# The summary of `taxon info PROJECT` without its first line, "" when the check fails.
summary() {
  local out
  out=$("$taxon" info "$1" 2>>"$log") || return 0
  grep -q "Catalog check: ok." <<<"$out" && tail -n +2 <<<"$out"
}

step "photos"
if [[ ! -f $work/photos.done-$per_category ]]; then
  rm -rf "$work/photos" "$work"/photos.done-*
  "$TAXON_VENV/bin/python" "$root/bench/robust/make_photos.py" "$work/photos" "$per_category"
  touch "$work/photos.done-$per_category"
fi

step "import: $kills kills"
rm -rf "$work/reference" "$work/project"
import_ms=$(millis "$taxon" import "$work/reference" "$work/photos" --num_threads 1)
reference=$(summary "$work/reference")
wanted import || "$taxon" import "$work/project" "$work/photos" >>"$log" 2>&1
landed_total=0 recovered=0
import_kills=0
wanted import && import_kills=$kills
for ((k = 0; k < import_kills; ++k)); do
  rm -rf "$work/project"
  kill_after "$(delay "$import_ms")" "$taxon" import "$work/project" "$work/photos" \
    --num_threads 1
  landed_total=$((landed_total + landed))
  if "$taxon" import "$work/project" "$work/photos" --num_threads 1 >>"$log" 2>&1 &&
    [[ $(summary "$work/project") == "$reference" ]]; then
    recovered=$((recovered + 1))
  else
    echo "import round $k: the project differs from the reference" >>"$log"
  fi
done
wanted import && row import "$kills" "$landed_total" "$recovered" $((kills - recovered))

step "build-records: $kills kills"
shards=(--train_shards 8 --validation_shards 2 --num_threads 2)
rm -rf "$work/reference-records"
build_ms=$(millis "$taxon" build-records "$work/reference" --output_directory \
  "$work/reference-records" "${shards[@]}")
"$taxon" build-records "$work/project" "${shards[@]}" >>"$log" 2>&1
landed_total=0 recovered=0
build_kills=0
wanted build-records && build_kills=$kills
for ((k = 0; k < build_kills; ++k)); do
  kill_after "$(delay "$build_ms")" "$taxon" build-records "$work/project" "${shards[@]}"
  landed_total=$((landed_total + landed))
  ok=1
  "$taxon" build-records "$work/project" "${shards[@]}" >>"$log" 2>&1 || ok=0
  "$taxon" info "$work/project/records" >>"$log" 2>&1 || ok=0
  for shard in "$work"/reference-records/*-of-*; do
    cmp -s "$shard" "$work/project/records/$(basename "$shard")" || ok=0
  done
  [[ -z $(find "$work/project/records" -name '*.tmp-*') ]] || ok=0
  if ((ok)); then
    recovered=$((recovered + 1))
  else
    echo "build-records round $k: shards differ, fail to verify or were left half-written" >>"$log"
  fi
done
wanted build-records &&
  row build-records "$kills" "$landed_total" "$recovered" $((kills - recovered))

step "relabel: $kills kills"
rm -f "$work/journal"
landed_total=0 recovered=0
relabel_kills=0
wanted relabel && relabel_kills=$kills
for ((k = 0; k < relabel_kills; ++k)); do
  kill_after $((20 + RANDOM % 500)) "$loop" run "$work/project" "$work/journal" "$k"
  landed_total=$((landed_total + landed))
  if "$loop" verify "$work/project" "$work/journal" >>"$log" 2>&1; then
    recovered=$((recovered + 1))
  else
    echo "relabel round $k: verify failed" >>"$log"
  fi
done
wanted relabel && row relabel "$kills" "$landed_total" "$recovered" $((kills - recovered))

if wanted train; then
  step "train: $kills kills"
  run=$work/run
  rm -rf "$run"
  max_steps=$((kills * 2 + 10))
  "$taxon" build-records "$work/reference" --output_directory "$work/train-records" \
    --train_shards 2 --validation_shards 1 >>"$log" 2>&1
  train=("$taxon" train --train_dir "$run" --data_dir "$work/train-records" --image_size 75
    --depth_multiplier 0.1 --batch_size 8 --max_steps "$max_steps" --log_every_n_steps 1
    --save_every_n_steps 2 --num_threads 2 --num_preprocess_threads 2 --shuffle_buffer 16)
  newest() {
    ls "$run" 2>/dev/null | sed -n 's/^model\.ckpt-\([0-9]*\)\.taxon$/\1/p' | sort -n | tail -1 ||
      true
  }
  # A run is judged by the line it prints when it starts: "resuming RUN from model.ckpt-N.taxon"
  # with N the newest checkpoint on disk (or "no checkpoint ... yet" when there was none). A run
  # killed before it printed it had written nothing yet: the next run judges that kill too.
  judge() {  # judge NEWEST OUTPUT: 0 right, 1 wrong, 2 no such line
    if grep -q "from model.ckpt-" "$2"; then
      [[ -n $1 ]] && grep -q "from model.ckpt-$1.taxon" "$2" && return 0
      return 1
    fi
    if grep -q "no checkpoint in" "$2" || { [[ -z $1 ]] && grep -q "step 1," "$2"; }; then
      [[ -z $1 ]] && return 0
      return 1
    fi
    return 2
  }
  landed_total=0 recovered=0 unjudged=0 failures=0
  for ((k = 0; k <= kills; ++k)); do
    before=$(newest)
    resume=()
    [[ -f $run/settings.json ]] && resume=(--resume)
    if ((k < kills)); then
      # Line-buffered, so that the line is in the file before the kill.
      kill_after $((3000 + RANDOM % 9000)) stdbuf -oL -eL "${train[@]}" "${resume[@]}"
      landed_total=$((landed_total + landed))
      unjudged=$((unjudged + 1))
    else  # to the end
      "${train[@]}" "${resume[@]}" >"$work/out" 2>&1 || echo "train: the final run failed" >>"$log"
    fi
    verdict=0
    judge "$before" "$work/out" || verdict=$?
    if ((verdict == 0)); then
      recovered=$((recovered + unjudged)) unjudged=0
    elif ((verdict == 1)); then
      echo "train round $k: did not start from model.ckpt-$before.taxon" >>"$log"
      cat "$work/out" >>"$log"
      failures=$((failures + unjudged)) unjudged=0
    fi
  done
  failures=$((failures + unjudged))
  # Each step logged once in metrics.jsonl, and the run finished.
  once=$("$TAXON_VENV/bin/python" -c 'import json, sys
steps = [r["step"] for r in map(json.loads, open(sys.argv[1])) if "loss" in r]
print(steps == list(range(1, int(sys.argv[2]) + 1)))' "$run/metrics.jsonl" "$max_steps" || true)
  if [[ ! -f $run/model.ckpt-$max_steps.taxon || $once != True ]]; then
    echo "train: no final checkpoint, or metrics.jsonl does not log each step once" >>"$log"
    failures=$((failures + 1)) recovered=$((recovered > 0 ? recovered - 1 : 0))
  fi
  row train "$kills" "$landed_total" "$recovered" "$failures"
fi

echo
printf '%-14s %6s %7s %10s %9s\n' command kills landed recovered failures
printf '%s\n' "${rows[@]}"
echo "($(($(date +%s) - started)) s; landed: the kill came while the command ran; details in $log)"
