# Sourced by the data benchmarks (run.sh, bench_records.sh) with their arguments: the repository
# root, the environment, the arguments they share and the images they share.
#   WORKDIR (default build/bench-data), IMAGES (2000), THREADS (2)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$root/packaging/env.sh"
work=${1:-$root/build/bench-data}
count=${2:-2000}
threads=${3:-2}

# The photo-like images under $work/images, made once per count; a new set drops the records
# written from the last one.
make_images_once() {
  [[ -f $work/images.done-$count ]] && return
  step "make $count images under $work/images"
  rm -rf "$work/images" "$work/records" "$work"/images.done-*
  "$TAXON_VENV/bin/python" "$root/bench/data/make_images.py" "$work/images" "$count"
  touch "$work/images.done-$count"
}
