#!/usr/bin/env bash
# Reading per replica: each data-parallel rank's bytes of shard files read and images/sec over one
# training epoch, with records strided over every shard (before: every rank reads every shard) and
# with whole shards per rank (after), for several world sizes.
#   bash bench/data/per_replica.sh RECORDS_DIR [THREADS=2] [SIZE=75] [WORLD_SIZES="1 2 4 8"]
#                                  [EPOCH=0]
# RECORDS_DIR: a build-records folder (its manifest gives the shards' record counts). The ranks run
# one after another, each with THREADS decode threads, as each would on a machine of its own.
# Uses build/dev's taxon_bench_loader, or $TAXON_BENCH_LOADER. Prints every rank's line, then a
# table: the mean over the ranks (bytes in MB of 10^6).
# SHARDS=K: only the first K training shards of RECORDS_DIR (linked into a folder of their own
# with a manifest listing them), for a set too large to read 15 times here (1,000,000 images).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
records=${1:?usage: per_replica.sh RECORDS_DIR [THREADS] [SIZE] [WORLD_SIZES] [EPOCH]}
threads=${2:-2}
size=${3:-75}
worlds=${4:-1 2 4 8}
epoch=${5:-0}
bench=${TAXON_BENCH_LOADER:-$root/build/dev/bench/data/taxon_bench_loader}

if [[ -n ${SHARDS:-} ]]; then
  subset=$(mktemp -d)
  trap 'rm -rf "$subset"' EXIT
  python3 - "$records" "$subset" "$SHARDS" <<'PY'
import json, os, sys
source, subset, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
manifest = json.load(open(os.path.join(source, "manifest.json")))
shards = manifest["splits"]["train"]["shards"][:k]
for shard in shards:
    os.symlink(os.path.join(os.path.abspath(source), shard["file"]), os.path.join(subset, shard["file"]))
os.symlink(os.path.join(os.path.abspath(source), "labels.txt"), os.path.join(subset, "labels.txt"))
manifest["splits"] = {"train": {"records": sum(s["records"] for s in shards), "shards": shards}}
json.dump(manifest, open(os.path.join(subset, "manifest.json"), "w"), indent=2)
PY
  echo "the first $SHARDS training shards of $records"
  records=$subset
fi

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }
declare -A bytes rate
for world in $worlds; do
  for mode in stride whole; do
    flag=""
    [[ $mode == stride ]] && flag=--stride
    total_bytes=0 total_rate=0
    for ((rank = 0; rank < world; ++rank)); do
      line=$("$bench" "$records" "$threads" 32 "$size" --rank "$rank" --world_size "$world" \
        --epoch "$epoch" $flag)
      echo "$mode $line"
      total_bytes=$((total_bytes + $(field bytes_read "$line")))
      total_rate=$(echo "$total_rate + $(field images_per_sec "$line")" | bc -l)
    done
    bytes[$world,$mode]=$(echo "$total_bytes / $world / 1000000" | bc -l)
    rate[$world,$mode]=$(echo "$total_rate / $world" | bc -l)
  done
done

echo
echo "epoch $epoch of $records, $threads decode threads, $size x $size, batch 32, $(nproc) cores"
echo "| world size | MB read per rank, strided | whole shards | images/s per rank, strided | whole shards |"
echo "|---:|---:|---:|---:|---:|"
for world in $worlds; do
  printf '| %d | %.1f | %.1f | %.0f | %.0f |\n' "$world" "${bytes[$world,stride]}" \
    "${bytes[$world,whole]}" "${rate[$world,stride]}" "${rate[$world,whole]}"
done
