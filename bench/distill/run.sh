#!/usr/bin/env bash
# Distillation on Fashion-MNIST on this machine's CPU cores (not a test: about an hour with the
# defaults).
#   bash bench/distill/run.sh [WORKDIR=build/bench-distill]
#   TEACHER_MINUTES (24) STUDENT_MINUTES (12) TEACHER_DEPTH (0.5) STUDENT_DEPTH (0.2) SEEDS ("1 2 3")
#   TEMPERATURE (4) DISTILL_WEIGHT (0.9)
# 1. The full Fashion-MNIST (60,000 training / 10,000 test images) as a project and shards.
# 2. A teacher (Inception-v3, TEACHER_DEPTH, 75 px) trained for TEACHER_MINUTES; a student at
#    STUDENT_DEPTH (about a quarter of the teacher's multiply-adds: `taxon info --model` says) taught
#    by it for STUDENT_MINUTES, and the same student trained alone for as long, once per seed of
#    SEEDS (single runs differ by about as much as the effect). "For as long": each
#    kind of run's step time is measured first, all three before any long run (median of 100 steps
#    after 20 of warm-up), and its --max_steps set to fill its minutes, so that every schedule ends at its last step; the
#    distilled student pays for its teacher's forward pass in fewer steps. The table gives the
#    time each run really spent in its steps (the sum of metrics.jsonl's sec_per_batch), which
#    the probe only predicts. All with the recipe of bench/train's accuracy run
#    (small-data, no aux head, no label smoothing or dropout, weight decay 5e-4, 0.2 per 256,
#    batch 64), evaluated on all 10,000 test images at the end.
# 3. Per model: parameters, multiply-adds per image, CPU latency at batch 1 (2 threads, median,
#    bench/infer's program), precision@1 on the test split; and the distilled student's int8 ONNX
#    export (precision@1 and batch-1 latency in ONNX Runtime).
# The goal: the student within 1 point of the teacher, and at least 1 point above itself alone.
# Step times must be measured on an idle machine; a busy one later only makes the runs take longer
# (their length in steps is fixed by then; the table's "time in steps" then says more than planned).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$root/packaging/env.sh"
work=$(realpath -m "${1:-$root/build/bench-distill}")  # absolute: the int8 timing runs in bench/infer
teacher_minutes=${TEACHER_MINUTES:-24}
student_minutes=${STUDENT_MINUTES:-12}
teacher_depth=${TEACHER_DEPTH:-0.5}
student_depth=${STUDENT_DEPTH:-0.2}
seeds=${SEEDS:-1 2 3}
temperature=${TEMPERATURE:-4}
weight=${DISTILL_WEIGHT:-0.9}
build=$root/build/dev
taxon=$build/app/taxon
python=$TAXON_VENV/bin/python
project=$work/fashion-mnist
records=$project/records
mkdir -p "$work"
need_built "$build" taxon:app/taxon taxon_bench_infer:bench/infer/taxon_bench_infer

if [[ ! -f $records/manifest.json ]]; then
  step "import Fashion-MNIST (all of train for training, t10k as test)"
  rm -rf "$project"
  "$taxon" import "$project" /usr/share/datasets/fashion-mnist --validation_fraction 0
  "$taxon" build-records "$project" --train_shards 8
fi

common=(--data_dir "$records" --recipe small-data --no_aux_logits --label_smoothing 0
  --dropout 0 --learning_rate_per_256 0.2 --warmup_epochs 0.3 --weight_decay 5e-4
  --image_size 75 --batch_size 64 --num_threads 2 --num_preprocess_threads 1
  --eval_subset test --save_every_n_steps 1000000)

# Seconds per step of COMMAND... (a `taxon train` or `distill`) in probe dir NAME: the median of
# 100 steps after 20 of warm-up (30 steps were off by up to 20 % from the whole run's mean).
seconds_per_step() {
  local dir=$work/$1
  shift
  rm -rf "$dir"
  "$taxon" "$@" --train_dir "$dir" --max_steps 120 --eval_examples 64 --log_every_n_steps 1 \
    --recalibrate_batch_norm 0 >"$dir.log" 2>&1
  "$python" - "$dir/metrics.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if "sec_per_batch" in l]
timed = sorted(r["sec_per_batch"] for r in rows if r["step"] > 20)
print(f"{timed[len(timed) // 2]:.4f}")
PY
}

teacher_args=(train "${common[@]}" --depth_multiplier "$teacher_depth" --seed 1)
student_args=("${common[@]}" --depth_multiplier "$student_depth")
distill_args=(--teacher_dir "$work/teacher" --temperature "$temperature" --distill_weight "$weight")

# All step times are measured first, one after the other on a still idle machine, so that what runs
# beside the long runs later only makes them take longer. The distilled student's probe learns from
# the teacher's probe (the same network, so the same cost per step).
if [[ ! -f $work/probes.txt ]]; then
  step "step times (probes of 120 steps)"
  teacher_probe=$(seconds_per_step probe-teacher "${teacher_args[@]}")
  distilled_probe=$(seconds_per_step probe-distilled distill "${student_args[@]}" --seed 1 \
    --teacher_dir "$work/probe-teacher" --temperature "$temperature" --distill_weight "$weight")
  alone_probe=$(seconds_per_step probe-alone train "${student_args[@]}" --seed 1)
  echo "$teacher_probe $distilled_probe $alone_probe" >"$work/probes.txt"
fi
read -r teacher_probe distilled_probe alone_probe <"$work/probes.txt"
cat "$work/probes.txt"

# NAME MINUTES SECONDS_PER_STEP COMMAND...: trains dir NAME for MINUTES of step time (once).
train_for() {
  local name=$1 minutes=$2 per_step=$3
  shift 3
  local dir=$work/$name
  if [[ -f $dir/done ]]; then
    return
  fi
  local steps
  steps=$("$python" -c "print(int($minutes * 60 / $per_step))")
  step "$name: $steps steps of ${per_step} s (${minutes} minutes)"
  rm -rf "$dir"
  local started=$SECONDS
  "$taxon" "$@" --train_dir "$dir" --max_steps "$steps" --eval_examples 0 \
    --log_every_n_steps 100 >"$dir.log" 2>&1
  echo "$per_step $steps $((SECONDS - started))" >"$dir/done"
  grep -E "^Inception-v3|^distilling|precision @ 1" "$dir.log" || true
}

train_for teacher "$teacher_minutes" "$teacher_probe" "${teacher_args[@]}"
# The students of each seed (the teacher is seed 1's); a seed's pair is trained before the next.
students=()
for seed in $seeds; do
  train_for "student-distilled-$seed" "$student_minutes" "$distilled_probe" distill \
    "${student_args[@]}" --seed "$seed" "${distill_args[@]}"
  train_for "student-alone-$seed" "$student_minutes" "$alone_probe" train "${student_args[@]}" \
    --seed "$seed"
  students+=("student-distilled-$seed" "student-alone-$seed")
done
first_seed=${seeds%% *}

step "the distilled student's int8 export (ONNX Runtime, seed $first_seed)"
student=$work/student-distilled-$first_seed
[[ -f $work/student-fp32.onnx ]] ||
  "$taxon" export --checkpoint_dir "$student" --format onnx --output "$work/student-fp32.onnx"
[[ -f $work/student-int8.onnx ]] ||
  "$taxon" export --checkpoint_dir "$student" --format onnx --quantize int8 \
    --data_dir "$records" --output "$work/student-int8.onnx"
"$python" "$root/bench/infer/peers.py" accuracy "$project" test "$work/student-fp32.onnx" \
  "$work/student-int8.onnx" | tee "$work/int8-accuracy.txt"
int8_ms=$(cd "$root/bench/infer" && "$python" - "$work/student-int8.onnx" <<'PY'
import sys
import numpy as np
from peers import median_ms, session
s = session(sys.argv[1], 2)
name = s.get_inputs()[0].name
x = np.random.default_rng(0).uniform(-1, 1, (1, 3, 75, 75)).astype(np.float32)
print(f"{median_ms(lambda: s.run(None, {name: x}), 200):.2f}")
PY
)

step "table"
rows=()
for name in teacher "${students[@]}"; do
  dir=$work/$name
  latency=$("$build/bench/infer/taxon_bench_infer" "$dir" 2 1 2>/dev/null | awk '$1 == "taxon-fp32" && $2 == 1 {print $3; exit}')
  rows+=("$name" "$("$taxon" info --model "$dir" --format json)" "$(cat "$dir/done")" "$latency"
    "$(tail -200 "$dir/metrics.jsonl" | grep '"eval"' | tail -1)")
done
"$python" - "$work" "$int8_ms" "${rows[@]}" <<'PY' | tee "$work/table.md"
import json, re, sys
work, int8_ms = sys.argv[1], sys.argv[2]
int8_text = open(f"{work}/int8-accuracy.txt").read()
args = sys.argv[3:]
print("| model | depth | parameters | multiply-adds | batch-1 CPU latency | steps | time in steps (probe's s/step) | precision@1 |")
print("|---|---|---|---|---|---|---|---|")
p = {}
for i in range(0, len(args), 5):
    name, info, done, latency, last = args[i:i + 5]
    info, last = json.loads(info), json.loads(last)
    per_step, steps, wall = done.split()
    stepping = sum(json.loads(l)["sec_per_batch"]
                   for l in open(f"{work}/{name}/metrics.jsonl") if "sec_per_batch" in l)
    p[name] = last["eval"]["precision_at_1"]
    print(f"| {name} | {info['depth_multiplier']} | {info['inference_parameters'] / 1e6:.2f} M "
          f"| {info['multiply_adds'] / 1e6:.1f} M | {latency} ms | {steps} "
          f"| {stepping / 60:.1f} min ({float(per_step):.3f}) | {p[name]:.4f} |")
m = re.search(r"precision@1 int8 (0\.\d+)", int8_text)
print(f"| student-distilled int8 (ONNX Runtime) | | | | {int8_ms} ms | | | "
      f"{m.group(1) if m else '?'} |")
print()
seeds = [n.rsplit("-", 1)[1] for n in p if n.startswith("student-distilled-")]
gaps = [100 * (p[f"student-distilled-{s}"] - p[f"student-alone-{s}"]) for s in seeds]
distilled = sum(p[f"student-distilled-{s}"] for s in seeds) / len(seeds)
alone = sum(p[f"student-alone-{s}"] for s in seeds) / len(seeds)
print(f"seeds {', '.join(seeds)}: student distilled {distilled:.4f}, alone {alone:.4f} (means)")
print(f"student - teacher: {100 * (distilled - p['teacher']):+.2f} points (goal: within 1); "
      f"student - student alone: {100 * (distilled - alone):+.2f} points (goal: at least +1; "
      f"per seed {', '.join(f'{g:+.2f}' for g in gaps)})")
PY
