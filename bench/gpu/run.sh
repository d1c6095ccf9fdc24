#!/usr/bin/env bash
# The prepared GPU check, for one call of a machine with a CUDA GPU, PyTorch (so LibTorch), CMake
# and ninja (no Qt, no OpenCV): builds taxon-gpu-bench against that PyTorch from the engine's
# sources (bench/gpu/CMakeLists.txt), runs its checks (CUDA kernel, pinned side-stream copies,
# loss decreasing on CUDA, bf16 against fp32) and the training benchmark (the full Inception-v3,
# 299 x 299, batch 256, bf16, channels-last), then the PyTorch-in-Python peer
# (bench/gpu/peer_train.py: torchvision inception_v3, same settings) in the same run, and prints
# the ratio. Results also go to $OUT (the device tool's folder) or build/gpu-out.
#
#   bash bench/gpu/run.sh [--batch_size 256] [--steps 60]
set -euo pipefail
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

py=${TAXON_PYTHON:-python3}
prefix=$("$py" -c 'import torch, torch.utils; print(torch.utils.cmake_prefix_path)')
say "machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpu.txt"
"$py" -c 'import torch; print("torch", torch.__version__, "CUDA", torch.version.cuda)' | tee -a "$out/gpu.txt"

say "build taxon-gpu-bench against this PyTorch"
nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
cmake -S bench/gpu -B build/gpu -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_CUDA_COMPILER="$nvcc" -DCMAKE_CUDA_ARCHITECTURES=90 \
  > "$out/configure.log" 2>&1 || { tail -40 "$out/configure.log"; exit 1; }
cmake --build build/gpu -j "$(nproc)" > "$out/build.log" 2>&1 || { tail -40 "$out/build.log"; exit 1; }

say "checks and benchmark (taxon-gpu-bench)"
set +e
build/gpu/taxon-gpu-bench --batch_size "$batch" --steps "$steps" --warmup_steps 15 | tee "$out/taxon.txt"
status=${PIPESTATUS[0]}
set -e

say "the peer: PyTorch in Python, torchvision inception_v3"
"$py" bench/gpu/peer_train.py --batch_size "$batch" --steps "$steps" --warmup_steps 15 | tee "$out/peer.json"

say "ratio"
"$py" - "$out" <<'PY'
import json, sys
out = sys.argv[1]
taxon = json.loads(open(f"{out}/taxon.txt").read().strip().splitlines()[-1])
peer = json.loads(open(f"{out}/peer.json").read().strip().splitlines()[-1])
for key in ("images_per_sec_device", "images_per_sec_pipeline"):
    if key in taxon and "images_per_sec" in peer:
        print(f"{key}: taxon {taxon[key]:.1f}, peer {peer['images_per_sec']:.1f}, "
              f"ratio {taxon[key] / peer['images_per_sec']:.3f}")
json.dump({"taxon": taxon, "peer": peer}, open(f"{out}/summary.json", "w"), indent=1)
PY
exit "$status"
