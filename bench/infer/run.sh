#!/usr/bin/env bash
# Inference on this machine's CPU (not a test: about 15 minutes, 25 with the training below).
#   bash bench/infer/run.sh [WORKDIR=build/bench-infer] [THREADS=2]
# 1. A full-width Inception-v3 at 299 x 299 with 1,000 categories as a Taxon checkpoint (random
#    weights, batch-norm statistics measured on pictures: speed does not depend on the values), its
#    ONNX export, and its int8 export calibrated on Fashion-MNIST training images.
# 2. Batch 1 and 32, median latency and images/sec, THREADS threads each: Taxon in-process in fp32
#    and bf16 (where the CPU has it), the module tree Taxon ran before, torch eager in Python
#    (torchvision's inception_v3), ONNX Runtime fp32 on Taxon's export and on torch.onnx.export of
#    torchvision's model, ONNX Runtime int8 on Taxon's int8 export.
# 3. Time to first prediction: `taxon classify` of one image, from process start to exit.
# 4. Accuracy of a trained model (ACCURACY_RUN, a Fashion-MNIST run; default: one trained here,
#    depth multiplier 0.25 at 75 x 75, 1.5 epochs): precision@1 of its fp32 and int8 exports in ONNX
#    Runtime on the test split (minmax and percentile calibration), and how often `taxon classify`
#    in bf16 and in fp32 agree on the top-1.
# Keep the machine otherwise idle: timings are wall-clock.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$root/packaging/env.sh"
work=${1:-$root/build/bench-infer}
threads=${2:-2}
build=$root/build/dev
taxon=$build/app/taxon
python=$TAXON_VENV/bin/python
export OMP_NUM_THREADS=$threads
mkdir -p "$work"

step "build (preset dev)"
[[ -f $build/CMakeCache.txt ]] || cmake --preset dev >/dev/null
cmake --build "$build" --target taxon taxon_bench_infer taxon_write_onnx_reference

fm=${FM_PROJECT:-$work/fashion-mnist}  # a Fashion-MNIST project with records
if [[ ! -f $fm/records/manifest.json ]]; then
  step "Fashion-MNIST as a project and records"
  rm -rf "$fm"
  "$taxon" import "$fm" /usr/share/datasets/fashion-mnist
  "$taxon" build-records "$fm"
fi

full=$work/full
if [[ ! -d $full/run ]]; then
  step "a full-width Inception-v3 at 299 (1,000 categories) and its exports"
  "$build/tests/engine/taxon_write_onnx_reference" "$full" 1.0 299 1000 0 2 >/dev/null
fi
[[ -f $full/fp32.onnx ]] ||
  "$taxon" export --checkpoint_dir "$full/run" --format onnx --output "$full/fp32.onnx"
[[ -f $full/int8.onnx ]] ||
  "$taxon" export --checkpoint_dir "$full/run" --format onnx --quantize int8 \
    --data_dir "$fm/records" --output "$full/int8.onnx"

step "latency, batch 1 and 32, $threads threads (form batch median_ms images/s)"
"$build/bench/infer/taxon_bench_infer" "$full/run" "$threads" 1 32 | tee "$work/speed.txt"
"$python" "$root/bench/infer/peers.py" speed "$full/fp32.onnx" "$full/int8.onnx" "$full" \
  "$threads" 1 32 2>/dev/null | tee -a "$work/speed.txt"

step "time to first prediction: taxon classify, one image, full width (5 runs)"
for precision in fp32 auto; do
  for _ in 1 2 3 4 5; do
    /usr/bin/time -f "%e" "$taxon" classify --checkpoint_dir "$full/run" --precision "$precision" \
      "$full/images/00.jpg" 2>&1 >/dev/null | tail -1
  done | sort -n | awk -v p="$precision" '{t[NR] = $1} END {print "precision " p ": median " t[3] " s (" t[1] " to " t[5] ")"}'
done

run=${ACCURACY_RUN:-$work/fm-run}
if [[ ! -d $run ]] || ! ls "$run"/model.ckpt-* >/dev/null 2>&1; then
  step "train the accuracy model (depth 0.25, 75 px, 1.5 epochs)"
  "$taxon" train --train_dir "$run" --data_dir "$fm/records" --recipe small-data --no_aux_logits \
    --label_smoothing 0 --dropout 0 --learning_rate_per_256 0.2 --warmup_epochs 0.3 \
    --weight_decay 5e-4 --image_size 75 --depth_multiplier 0.25 --batch_size 64 \
    --num_epochs 1.5 --log_every_n_steps 200 --eval_examples 2000
fi
step "accuracy on the test split: ONNX Runtime fp32 and int8"
"$taxon" export --checkpoint_dir "$run" --format onnx --output "$work/fm-fp32.onnx"
for method in percentile minmax; do
  "$taxon" export --checkpoint_dir "$run" --format onnx --quantize int8 --calibration "$method" \
    --data_dir "$fm/records" --output "$work/fm-int8-$method.onnx"
  echo "calibration $method:"
  "$python" "$root/bench/infer/peers.py" accuracy "$fm" test "$work/fm-fp32.onnx" \
    "$work/fm-int8-$method.onnx"
done
step "top-1 agreement of taxon classify in bf16 and fp32 on the test split"
for precision in fp32 bf16; do
  "$taxon" classify --checkpoint_dir "$run" --precision "$precision" --top_k 1 \
    --csv "$work/classify-$precision.csv" "$fm/images/fashion-mnist/test" >/dev/null
done
"$python" - "$work/classify-fp32.csv" "$work/classify-bf16.csv" <<'PY'
import csv, sys
a, b = ({r["path"]: r["class"] for r in csv.DictReader(open(f))} for f in sys.argv[1:3])
same = sum(a[p] == b[p] for p in a)
print(f"bf16 agrees with fp32 on {same} of {len(a)} test images ({same / len(a):.4f})")
PY
