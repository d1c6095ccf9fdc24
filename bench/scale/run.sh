#!/usr/bin/env bash
# Scale benchmark (not a test): the seed's data set is ~1,000,000 product photos in ~1,000
# three-level categories. Makes N such images (make_catalog.py) and measures time and peak RSS of
# each step a user goes through, then prints a Markdown table (also saved to WORKDIR/scale.md).
#   bash bench/scale/run.sh [N=1000000] [WORKDIR=build/bench-scale/nN] [THREADS=2]
# Uses the binaries of build/dev (or $TAXON_SCALE_BUILD), copied into WORKDIR/bin first so that a
# rebuild during the run changes nothing:
#   cmake --build --preset dev --target taxon taxon_bench_loader taxon_bench_scale
# The images are made once per WORKDIR (WORKDIR/images); the 1% change is applied once too, so a
# second run's first import already includes it. Everything else is redone. Disk: about 17 KB
# per image for the images and as much again for the shards (build-records); the copy of the
# images for the `cp -r` reference and the header-only shards are removed right after, so the most
# on disk at once is twice the images (about 33 GiB at 1,000,000). Checked before starting.
source "$(dirname "${BASH_SOURCE[0]}")/../../packaging/env.sh"
set -euo pipefail
root=$taxon_root
n=${1:-1000000}
work=$(mkdir -p "${2:-$root/build/bench-scale/n$n}" && cd "${2:-$root/build/bench-scale/n$n}" && pwd)
threads=${3:-2}
build=${TAXON_SCALE_BUILD:-$root/build/dev}
python=$TAXON_VENV/bin/python
project=$work/project
bin=$work/bin
rows=()

mkdir -p "$bin" "$work/logs"
need_kb=$((n * 17 * 2 + 2 * 1024 * 1024))
[[ -d $work/images ]] && need_kb=$((need_kb - $(du -sk "$work/images" | cut -f1)))
free_kb=$(df -Pk "$work" | awk 'NR == 2 { print $4 }')
if ((free_kb < need_kb)); then
  echo "$work: $((free_kb / 1048576)) GiB free, this run needs about $((need_kb / 1048576)) GiB" >&2
  exit 1
fi
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
[[ -x $build/bench/scale/taxon_bench_studio ]] && cp "$build/bench/scale/taxon_bench_studio" "$bin/"
need_built "$build" taxon:app/taxon taxon_bench_loader:bench/data/taxon_bench_loader \
  taxon_bench_scale:bench/scale/taxon_bench_scale
for tool in app/taxon bench/data/taxon_bench_loader bench/scale/taxon_bench_scale; do
  cp "$build/$tool" "$bin/"
done

# row STEP SECONDS RSS_KB NOTE: one line of the table.
row() {
  local rss=$3
  [[ $rss == - ]] || rss=$(awk -v k="$3" 'BEGIN { printf "%.0f", k / 1024 }')
  rows+=("| $1 | $2 | $rss | $4 |")
}
# measure NAME COMMAND...: runs it under /usr/bin/time, output in logs/NAME.log; sets sec, kb.
# Exit status 1 is allowed (taxon import reports "nothing new" that way), anything else stops.
measure() {
  local name=$1 rc=0
  shift
  step "$name: $*"
  /usr/bin/time -f '%e %M' -o "$work/logs/$name.time" "$@" >"$work/logs/$name.log" 2>&1 || rc=$?
  tail -n 4 "$work/logs/$name.log"
  if ((rc > 1)); then
    echo "$name failed (exit $rc), see $work/logs/$name.log" >&2
    exit 1
  fi
  read -r sec kb < <(tail -n 1 "$work/logs/$name.time")
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }
mib() { awk -v b="$1" 'BEGIN { printf "%.0f", b / 1048576 }'; }

# --- the images ---
# An interrupted generation (a million images take over an hour on 2 cores) is continued by the
# next run: generate.txt gets one line per run, and the table adds them up.
if [[ ! -f $work/images.done ]]; then
  step "make $n images under $work/images ($threads processes)"
  resume=()
  if [[ -d $work/images ]]; then
    resume=(--resume)
  else
    rm -f "$work/generate.txt" "$work/changed.done"
  fi
  nice -n 10 "$python" "$root/bench/scale/make_catalog.py" "$work/images" "$n" \
    --processes "$threads" "${resume[@]}" | tee -a "$work/generate.txt"
  touch "$work/images.done"
fi
read -r gen_sec gen_rate gen_bytes < <(awk '/^images=/ {
    for (f = 1; f <= NF; f++) { split($f, kv, "="); v[kv[1]] = kv[2] }
    made += v["images"]; sec += v["seconds"]; bytes += v["bytes"] }
  END { printf "%.1f %.1f %.0f\n", sec, made / (sec > 0 ? sec : 1), bytes / (made > 0 ? made : 1) }' \
  "$work/generate.txt")
disk_kb=$(du -sk "$work/images" | cut -f1)
files=$(find "$work/images" -type f | wc -l)
image_bytes=$(du -sb --apparent-size "$work/images" | cut -f1)
row "generate $n images ($threads processes)" "$gen_sec" - \
  "$gen_rate images/s; $gen_bytes bytes/image in the files, $((disk_kb * 1024 / n)) on disk; 1,000,000: $(awk -v k="$disk_kb" -v n="$n" 'BEGIN { printf "%.1f", k / n * 1e6 / 1048576 }') GiB"

# --- import ---
rm -rf "$project"
measure import "$bin/taxon" import "$project" "$work/images" --num_threads "$threads"
first=$sec
imported=$(sed -n 's/^Imported \([0-9,]*\) new.*/\1/p' "$work/logs/import.log" | tr -d ,)
row "import into a new project ($files files)" "$sec" "$kb" \
  "$(ratio "$files" "$sec") files/s; $imported imported; $(grep -c . "$work/logs/import.log" || true) lines of output"

measure import-again "$bin/taxon" import "$project" "$work/images" --num_threads "$threads"
row "import the same folder again (nothing new)" "$sec" "$kb" \
  "$(awk -v a="$sec" -v b="$first" 'BEGIN { printf "%.1f", 100 * a / b }')% of the first import (target < 10%)"
again=$sec

if [[ ! -f $work/changed.done ]]; then
  step "change 1% of the images: rewrite half of them, add the other half"
  nice -n 10 "$python" "$root/bench/scale/make_catalog.py" "$work/images" "$n" --change 0.01 \
    --processes "$threads" | tee "$work/change.txt"
  touch "$work/changed.done"
fi
measure import-changed "$bin/taxon" import "$project" "$work/images" --num_threads "$threads"
added=$(sed -n 's/^Imported \([0-9,]*\) new.*/\1/p' "$work/logs/import-changed.log" | tr -d ,)
row "import after 1% changed (0.5% rewritten, 0.5% added)" "$sec" "$kb" \
  "$added added; rewritten files keep their catalog rows (a known path is not read again)"

# The split is part of every import (stratified, --validation_fraction 0.1; a test split only
# comes from train/validation/test folders). --resplit draws every image again: its time less a
# re-import's is the split's.
measure split "$bin/taxon" import "$project" "$work/images" --num_threads "$threads" --resplit
row "re-draw the split of every image (import --resplit)" "$sec" "$kb" \
  "the split itself about $(awk -v a="$sec" -v b="$again" 'BEGIN { printf "%.1f", a - b }') s; $(tail -n 1 "$work/logs/split.log")"

# --- records ---
image_bytes=$(du -sb --apparent-size "$work/images" | cut -f1)
rm -rf "$work/copy"
measure cp "cp" -r "$work/images" "$work/copy"
cp_sec=$sec
row "cp -r of the images (reference; page cache warm)" "$sec" "$kb" \
  "$(mib "$image_bytes") MiB, $(ratio "$(mib "$image_bytes")" "$sec") MB/s"
rm -rf "$work/copy"

train_shards=$((n / 1000 > 2 ? n / 1000 : 2))
validation_shards=$((n / 10000 > 1 ? n / 10000 : 1))
# The header-only build first, removed before the full one: never two shard sets on disk.
rm -rf "$work/records-header" "$project/records"
measure build-records-header "$bin/taxon" build-records "$project" --num_threads "$threads" \
  --train_shards "$train_shards" --validation_shards "$validation_shards" --verify header \
  --output_directory "$work/records-header"
row "build-records --verify header" "$sec" "$kb" \
  "$(ratio "$(mib "$image_bytes")" "$sec") MB/s = $(ratio "$cp_sec" "$sec")x cp -r"
rm -rf "$work/records-header"
measure build-records "$bin/taxon" build-records "$project" --num_threads "$threads" \
  --train_shards "$train_shards" --validation_shards "$validation_shards"
row "build-records (--verify decode, $train_shards + $validation_shards shards)" "$sec" "$kb" \
  "$(ratio "$(mib "$image_bytes")" "$sec") MB/s = $(ratio "$cp_sec" "$sec")x cp -r; $(du -sh "$project/records" | cut -f1) of shards"

measure info "$bin/taxon" info "$project"
row "info PROJECT" "$sec" "$kb" "$(grep -m1 'categories, ' "$work/logs/info.log" || true)"
measure info-records "$bin/taxon" info "$project/records"
row "info RECORDS (every checksum verified)" "$sec" "$kb" \
  "$(ratio "$(mib "$(du -sb "$project/records" | cut -f1)")" "$sec") MB/s"
baseline=$("$bin/taxon" --version >/dev/null; /usr/bin/time -f '%e %M' "$bin/taxon" --version 2>&1 >/dev/null | tail -n 1)
row "taxon --version (start-up: LibTorch loaded)" "${baseline% *}" "${baseline#* }" \
  "every command's floor"

# --- the loader: about 10,000 training images (the first shards) ---
rm -rf "$work/loader-shards"
mkdir -p "$work/loader-shards"
per_shard=$(((n * 9 / 10) / train_shards))
for shard in $(ls "$project/records" | grep '^train-' | head -n $((10000 / per_shard + 1))); do
  ln -s "$project/records/$shard" "$work/loader-shards/$shard"
done
measure loader "$bin/taxon_bench_loader" "$work/loader-shards" "$threads" 32 299
row "loader, 299 x 299 training batches ($threads threads)" "$sec" "$kb" \
  "$(sed -n 's/^ours-uint8 .*images=\([0-9]*\) images_per_sec=\([0-9.]*\).*/\2 images\/s uint8 (\1 images)/p' "$work/logs/loader.log"); $(sed -n 's/^ours-float .*images_per_sec=\([0-9.]*\).*/\1/p' "$work/logs/loader.log") float"

# --- evaluation: a tiny model (75 px, depth 0.25) trained for a few steps, then a 1,000-class
# report over up to 100,000 predictions of the training split (the one with that many images) ---
rm -rf "$work/model"
measure train "$bin/taxon" train --train_dir "$work/model" --data_dir "$project/records" \
  --recipe small-data --image_size 75 --depth_multiplier 0.25 --max_steps 30 --batch_size 32 \
  --num_preprocess_threads "$threads" --recalibrate_batch_norm 256 --eval_examples 256 \
  --log_every_n_steps 10
row "train a tiny model (30 steps, batch 32, 75 px, depth 0.25)" "$sec" "$kb" "for the evaluation below"
examples=$((n < 100000 ? n * 9 / 10 : 100000))
measure eval "$bin/taxon" eval --checkpoint_dir "$work/model" --data_dir "$project/records" \
  --subset train --num_examples "$examples" --batch_size 128 --num_preprocess_threads "$threads"
evaluated=$(sed -n 's/.*), \([0-9,]*\) of the .*/\1/p' "$work/logs/eval.log" | head -n 1 | tr -d ,)
row "eval, $evaluated predictions, 1,000-class report" "$sec" "$kb" \
  "$(ratio "${evaluated:-0}" "$sec") images/s; $(grep -m1 'precision @ 1' "$work/logs/eval.log" || true)"
measure report "$bin/taxon_bench_scale" report "$work/report" 1000 100000
report_line=$(grep '^report ' "$work/logs/report.log")
row "the report alone: 100,000 synthetic predictions, 1,000 classes" "$sec" "$kb" \
  "$(sed 's/^report classes=1000 examples=100000 //' <<<"$report_line") (accumulate, report(), write files)"

# --- relabeling ---
relabel_count=$((n / 2 < 10000 ? n / 2 : 10000))
measure relabel "$bin/taxon_bench_scale" relabel "$project" "$relabel_count"
line=$(grep '^relabel ' "$work/logs/relabel.log")
row "relabel $relabel_count images in one edit, then undo" "$sec" "$kb" "${line#relabel }"

# --- the app: open, tree, the largest first-level subtree, the heat map of the report above ---
if [[ -x $bin/taxon_bench_studio ]]; then
  measure studio env QT_QPA_PLATFORM=offscreen "$bin/taxon_bench_studio" "$project" \
    "$work/model/eval"
  while read -r _ name ms stall note; do
    row "app: ${name#step=}" "$(awk -v m="${ms#ms=}" 'BEGIN { printf "%.3f", m / 1000 }')" \
      "$kb" "longest event-loop stall ${stall#longest_stall_ms=} ms (limit 100); $note"
  done < <(grep '^studio ' "$work/logs/studio.log")
else
  row "app" - - "not measured: no taxon_bench_studio (a build with the GUI makes it)"
fi

# --- the table ---
{
  echo "Scale benchmark, N = $n images ($files files), $(nproc) cores, $threads threads," \
    "$(date -u +%Y-%m-%d); load average at the start $load_start, at the end" \
    "$(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine slows every figure)"
  echo
  echo "| step | seconds | peak RSS (MiB) | figures |"
  echo "|---|---:|---:|---|"
  printf '%s\n' "${rows[@]}"
} >"$work/scale.md"
step "result"
cat "$work/scale.md"
