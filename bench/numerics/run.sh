#!/usr/bin/env bash
# How far apart two correct float computations of one training step of the tests' tiny
# Inception-v3 are: oneDNN's kernels under two instruction sets (this CPU's own and a second one),
# ATen's own convolutions (oneDNN off), and a double-precision reference, for a few seeds and
# batch sizes. Prints the relative difference per tensor (median and largest over the 292
# gradients). Not a test: it explains why the numeric tests compare what they compare.
#
#   bash bench/numerics/run.sh            # after the dev build (cmake --build --preset dev)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../packaging/env.sh"
probe=$taxon_root/build/dev/bench/numerics/taxon_isa_probe
need_built "$taxon_root/build/dev" taxon_isa_probe:bench/numerics/taxon_isa_probe
if grep -qw avx512f /proc/cpuinfo; then first=AVX512_CORE; second=AVX2
elif grep -qw avx2 /proc/cpuinfo; then first=AVX2; second=SSE41
else first=SSE41; second=SSE41; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for depth in 0.25 0.1; do
  for batch in 8 16; do
    for seed in 1 2 3 4; do
      export TAXON_PROBE_DEPTH=$depth TAXON_PROBE_BATCH=$batch
      "$probe" init "$work/init.pt" "$seed"
      ONEDNN_MAX_CPU_ISA=$first "$probe" step "$work/init.pt" "$work/a.pt" > /dev/null
      ONEDNN_MAX_CPU_ISA=$second "$probe" step "$work/init.pt" "$work/b.pt" > /dev/null
      TAXON_PROBE_NO_ONEDNN=1 "$probe" step "$work/init.pt" "$work/c.pt" > /dev/null
      echo "== depth $depth, batch $batch, seed $seed: $first against $second"
      "$probe" compare "$work/a.pt" "$work/b.pt" | awk '
        /^float: /{s="float " "'$first'" " vs " "'$second'"} /^double: /{s="skip"}
        /^float against double: .*a.pt/{s="'$first'" " vs double"}
        /^float against double: .*b.pt/{s="'$second'" " vs double"}
        /^double, input changed/{s="double vs double with the input changed by 1e-7"}
        /gradients/ && s!="skip" {printf "  %-48s median %s 90th %s largest %s\n", s, $5, $8, $10}'
      "$probe" compare "$work/c.pt" "$work/b.pt" | awk '
        /^float against double: .*c.pt/{s="ATen without oneDNN vs double"} /^float against double: .*b.pt/{s=""}
        /^float: |^double/{s=""}
        /gradients/ && s!="" {printf "  %-48s median %s 90th %s largest %s\n", s, $5, $8, $10}'
    done
  done
done
