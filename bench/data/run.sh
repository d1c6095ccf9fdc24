#!/usr/bin/env bash
# Decode + preprocess throughput: Taxon's loader vs torchvision (PIL, DataLoader), 2 threads each,
# on the same photo-like JPEGs at the same output size (299 x 299, Inception training transforms).
#   bash bench/data/run.sh [WORKDIR=build/bench-data] [IMAGES=2000] [THREADS=2] [ROUNDS=3]
# Builds its two targets in build/bench (or $TAXON_BENCH_BUILD), makes the images once (kept in
# WORKDIR), writes them to 16 TFRecord shards for ours and reads the files for torchvision.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
rounds=${4:-3}
build=${TAXON_BENCH_BUILD:-$root/build/bench}
python=$TAXON_VENV/bin/python

step "build"
if [[ ! -f $build/CMakeCache.txt ]]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTAXON_BUILD_GUI=OFF \
    -DTAXON_WITH_CUDA=OFF >/dev/null
fi
cmake --build "$build" --target taxon_bench_loader taxon

make_images_once
if [[ ! -d $work/records ]]; then
  step "write TFRecord shards"
  "$build/app/taxon" build-records --train_directory "$work/images" --output_directory \
    "$work/records" --train_shards 16 --num_threads "$threads"
fi
du -sh "$work/images" "$work/records"

# Warm the page cache for both.
cat "$work"/records/* >/dev/null
find "$work/images" -name '*.jpg' -exec cat {} + >/dev/null

# Alternate the two, `rounds` times, and keep each one's best: on a shared machine other work
# only ever slows a run down.
rate() { sed -n "s/^$1 .*images_per_sec=\([0-9.]*\).*/\1/p" <<<"$2"; }
best() { if [[ -z $1 ]] || (($(echo "$2 > $1" | bc -l))); then echo "$2"; else echo "$1"; fi; }
uint8="" float="" tv=""
for round in $(seq "$rounds"); do
  step "round $round/$rounds: ours ($threads decode threads)"
  ours=$("$build/bench/data/taxon_bench_loader" "$work/records" "$threads" 32 299)
  echo "$ours"
  step "round $round/$rounds: torchvision ($threads DataLoader workers)"
  peer=$("$python" "$root/bench/data/bench_loader_torchvision.py" "$work/images" "$threads" 32 299)
  echo "$peer"
  uint8=$(best "$uint8" "$(rate ours-uint8 "$ours")")
  float=$(best "$float" "$(rate ours-float "$ours")")
  tv=$(best "$tv" "$(rate torchvision "$peer")")
done

step "result (best of $rounds rounds, 299 x 299, batch 32, $threads threads, $(nproc) cores)"
printf 'ours (uint8 batches)          %7.1f images/sec  %.2fx torchvision\n' "$uint8" \
  "$(echo "$uint8 / $tv" | bc -l)"
printf 'ours (+ float [-1,1] on CPU)  %7.1f images/sec  %.2fx torchvision\n' "$float" \
  "$(echo "$float / $tv" | bc -l)"
printf 'torchvision + PIL             %7.1f images/sec\n' "$tv"
