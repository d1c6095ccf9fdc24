#!/usr/bin/env bash
# The prepared GPU check, for one call of a machine with a CUDA GPU, PyTorch (so LibTorch), CMake
# and ninja (no Qt, no OpenCV): builds taxon-gpu-bench against that PyTorch from the engine's
# sources (bench/gpu/CMakeLists.txt), runs its checks (CUDA kernel, pinned side-stream copies,
# loss decreasing on CUDA, bf16 against fp32, synchronized batch norm's CUDA path against the
# portable one) and the training benchmark (the trainer's own step on the full Inception-v3,
# 299 x 299, batch 256, bf16, channels-last), then the PyTorch-in-Python peer
# (bench/gpu/peer_train.py: torchvision inception_v3, same settings) in the same run, and prints
# the ratio. Results also go to $OUT (the device tool's folder) or build/gpu-out.
#
# Every stage has its own time limit (a hang costs that stage, not the whole call), a failed stage
# does not stop the later ones, and the summary is always printed; the exit status is that of the
# first failed stage.
#
#   bash bench/gpu/run.sh [--batch_size 256] [--steps 60]
#   limits in seconds: BUILD_LIMIT=360 CHECKS_LIMIT=120 BENCH_LIMIT=150 PEER_LIMIT=150
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
out=${OUT:-build/gpu-out}
mkdir -p "$out"
batch=256
steps=60
while (($#)); do
  case $1 in
    --batch_size) batch=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
say() { printf '\n==> [%4ds] %s\n' "$SECONDS" "$*"; }
status=0
failed=()
# stage NAME LIMIT COMMAND...: runs COMMAND with a time limit, output to the terminal and
# $out/NAME.txt; records a failure (exit status, or "timed out after LIMIT s") and goes on.
stage() {
  local name=$1 limit=$2
  shift 2
  say "$name (limit ${limit} s)"
  timeout --kill-after=10 "$limit" "$@" 2>&1 | tee "$out/$name.txt"
  local code=${PIPESTATUS[0]}
  if ((code != 0)); then
    if ((code == 124 || code == 137)); then
      failed+=("$name: timed out after ${limit} s")
    else
      failed+=("$name: exit status $code")
    fi
    ((status == 0)) && status=$code
  fi
  return 0
}

py=${TAXON_PYTHON:-python3}
prefix=$("$py" -c 'import torch, torch.utils; print(torch.utils.cmake_prefix_path)')
say "machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | tee "$out/gpu.txt"
"$py" -c 'import torch; print("torch", torch.__version__, "CUDA", torch.version.cuda)' | tee -a "$out/gpu.txt"

nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
build() {
  cmake -S bench/gpu -B build/gpu -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_CUDA_COMPILER="$nvcc" -DCMAKE_CUDA_ARCHITECTURES=90 \
    > "$out/configure.log" 2>&1 || { tail -40 "$out/configure.log"; return 1; }
  cmake --build build/gpu -j "$(nproc)" > "$out/build.log" 2>&1 || { tail -40 "$out/build.log"; return 1; }
  echo "built build/gpu/taxon-gpu-bench"
}
export -f build
export prefix nvcc out
stage build "${BUILD_LIMIT:-360}" bash -c build

if [[ -x build/gpu/taxon-gpu-bench ]]; then
  stage checks "${CHECKS_LIMIT:-120}" build/gpu/taxon-gpu-bench --checks_only
  stage taxon "${BENCH_LIMIT:-150}" build/gpu/taxon-gpu-bench --bench_only \
    --batch_size "$batch" --steps "$steps" --warmup_steps 15
fi
stage peer "${PEER_LIMIT:-150}" "$py" bench/gpu/peer_train.py --batch_size "$batch" \
  --steps "$steps" --warmup_steps 15

say "summary"
"$py" - "$out" "${failed[@]+"${failed[@]}"}" <<'PY'
import json, os, sys

out, failures = sys.argv[1], sys.argv[2:]


def last_json(name):
    """The last line of out/name.txt that is a JSON object, or None."""
    path = os.path.join(out, f"{name}.txt")
    if not os.path.exists(path):
        return None
    for line in reversed(open(path, errors="replace").read().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict):
                return value
    return None


checks, taxon, peer = last_json("checks"), last_json("taxon"), last_json("peer")
summary = {"checks": checks, "taxon": taxon, "peer": peer, "failed_stages": failures}
for name, value in sorted((checks or {}).items()):
    if name.startswith("check_"):
        print(f"{name[6:]:>8}: {'ok' if value else 'FAILED'}")
rate = (peer or {}).get("images_per_sec")
for key in ("images_per_sec_device", "images_per_sec_pipeline"):
    ours = (taxon or {}).get(key)
    if ours is None:
        print(f"{key}: no figure (the taxon stage gave none: see taxon.txt)")
    elif rate:
        print(f"{key}: taxon {ours:.1f}, peer {rate:.1f}, ratio {ours / rate:.3f}")
        summary[f"ratio_{key[len('images_per_sec_'):]}"] = ours / rate
    else:
        print(f"{key}: taxon {ours:.1f}, no peer figure")
for failure in failures:
    print(f"failed stage: {failure}")
json.dump(summary, open(os.path.join(out, "summary.json"), "w"), indent=1)
PY
exit "$status"
