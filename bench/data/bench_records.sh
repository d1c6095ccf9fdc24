#!/usr/bin/env bash
# Record building: `taxon build-records` (the seed's flags, 2 threads, 16 shards) against a plain
# copy of the same files (`cp -r`), both from a warm page cache to the same disk.
#   bash bench/data/bench_records.sh [WORKDIR=build/bench-data] [IMAGES=2000] [THREADS=2]
# The images are the loader benchmark's (bench/data/make_images.py, photo-like JPEGs of
# 500x375 to 1024x768 in category folders); the taxon binary is build/dev/app/taxon (or $TAXON).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
taxon=${TAXON:-$root/build/dev/app/taxon}
[[ -n ${TAXON:-} ]] || need_built "$root/build/dev" taxon:app/taxon

make_images_once
find "$work/images" -type f -exec cat {} + >/dev/null  # warm the page cache

seconds() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); echo "$t1 - $t0" | bc -l; }
best() {  # best of 3 runs
  local b=999999 t
  for _ in 1 2 3; do
    rm -rf "$work/copy" "$work/shards"
    t=$(seconds "$@")
    b=$(echo "if ($t < $b) $t else $b" | bc -l)
  done
  echo "$b"
}
step "plain copy (cp -r), best of 3"
copy=$(best cp -r "$work/images" "$work/copy")
step "taxon build-records --num_threads=$threads --train_shards=16, best of 3"
records=$(best "$taxon" build-records --train_directory "$work/images" \
  --output_directory "$work/shards" --train_shards 16 --num_threads "$threads")
step "taxon build-records --verify=header --num_threads=$threads --train_shards=16, best of 3"
fast=$(best "$taxon" build-records --train_directory "$work/images" --verify=header \
  --output_directory "$work/shards" --train_shards 16 --num_threads "$threads")
"$taxon" build-records --train_directory "$work/images" --output_directory "$work/shards" \
  --train_shards 16 --num_threads "$threads" | tail -2
mb=$(du -sm "$work/images" | cut -f1)
step "result ($count images, $mb MB)"
printf 'plain copy      %6.2f s  %7.0f images/s\n' "$copy" "$(echo "$count / $copy" | bc -l)"
printf 'build-records   %6.2f s  %7.0f images/s\n' "$records" "$(echo "$count / $records" | bc -l)"
printf 'build-records --verify=header %6.2f s  %7.0f images/s\n' "$fast" "$(echo "$count / $fast" | bc -l)"
printf 'build-records takes %.2fx the time of a plain copy (%.2fx with --verify=header)\n' \
  "$(echo "$records / $copy" | bc -l)" "$(echo "$fast / $copy" | bc -l)"
rm -rf "$work/copy" "$work/shards"
