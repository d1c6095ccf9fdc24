#!/usr/bin/env bash
# Installs everything Taxon needs to build and test on Debian 12: Debian packages and a Python
# venv holding the pinned torch wheel (LibTorch). Idempotent: when nothing is missing it only
# checks and returns in about a second.
#
# Environment:
#   TAXON_CACHE   where the venv and ccache live (default ~/.cache/taxon), outside any clone
#   TAXON_VENV    the venv (default $TAXON_CACHE/venv)
#   TAXON_PYTHON  interpreter that creates the venv (default /usr/bin/python3 when present)
#   TAXON_NO_GUI  set to 1 to skip the Qt packages (headless servers)
#   TAXON_NO_TF   set to 1 to skip the TensorFlow venv (only the interoperability tests use it)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${TAXON_CACHE:-$HOME/.cache/taxon}
venv=${TAXON_VENV:-$cache/venv}
python=${TAXON_PYTHON:-}
if [[ -z $python ]]; then
  if [[ -x /usr/bin/python3 ]]; then python=/usr/bin/python3; else python=python3; fi
fi

say() { printf '[setup] %s\n' "$*"; }

packages=(
  build-essential cmake ninja-build ccache pkg-config git clang-format bc
  clang libclang-rt-14-dev
  python3 python3-venv python3-dev
  libopencv-dev libprotobuf-dev protobuf-compiler libsqlite3-dev sqlite3
  libcli11-dev nlohmann-json3-dev libgtest-dev libgmock-dev libbenchmark-dev libxxhash-dev zlib1g-dev
  libutf8proc-dev
  libgloo-dev libonnx-dev libhnswlib-dev libfaiss-dev
  dataset-fashion-mnist
)
if [[ ${TAXON_NO_GUI:-0} != 1 ]]; then
  packages+=(
    qt6-base-dev qt6-base-dev-tools libqt6opengl6-dev qt6-charts-dev qt6-svg-dev qt6-tools-dev
    libgl-dev libxkbcommon-dev qt6-qpa-plugins xvfb xauth desktop-file-utils appstream
  )
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$p")
done
if ((${#missing[@]})); then
  say "installing Debian packages: ${missing[*]}"
  sudo=""
  [[ $(id -u) == 0 ]] || sudo=sudo
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  say "Debian packages: all ${#packages[@]} present"
fi

# CUDA toolkit: needed for the GPU paths to compile and link; the build also works without it
# (TAXON_WITH_CUDA=OFF) but then says so.
if command -v nvcc >/dev/null 2>&1 || [[ -x /usr/local/cuda/bin/nvcc ]]; then
  say "CUDA toolkit: $( (command -v nvcc || echo /usr/local/cuda/bin/nvcc) | head -1)"
else
  say "WARNING: no CUDA toolkit (nvcc) found; the CUDA build of LibTorch needs one to link"
fi

# The venv is reused while its stamp matches the requirements file.
req="$here/requirements-torch.txt"
stamp="$venv/.taxon-requirements"
if [[ -x $venv/bin/python && -f $stamp ]] && cmp -s "$req" "$stamp"; then
  say "venv: $venv (up to date)"
else
  say "creating venv $venv with $("$python" --version 2>&1) (downloads the torch wheel, a few GB)"
  mkdir -p "$(dirname "$venv")"
  [[ -x $venv/bin/python ]] || "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip
  "$venv/bin/python" -m pip install --progress-bar off -r "$req"
  cp "$req" "$stamp"
  say "venv ready: torch $("$venv/bin/python" -c 'import torch; print(torch.__version__, "CUDA", torch.version.cuda)')"
fi
# TensorFlow, for the interoperability tests only (TAXON_NO_TF=1 skips it).
tf_venv=${TAXON_TF_VENV:-$cache/tf-venv}
tf_req="$here/requirements-tf.txt"
if [[ ${TAXON_NO_TF:-0} == 1 ]]; then
  say "TensorFlow venv: skipped (TAXON_NO_TF=1)"
elif [[ -x $tf_venv/bin/python && -f $tf_venv/.taxon-requirements ]] &&
  cmp -s "$tf_req" "$tf_venv/.taxon-requirements"; then
  say "TensorFlow venv: $tf_venv (up to date)"
else
  say "creating the TensorFlow venv $tf_venv for the interoperability tests"
  [[ -x $tf_venv/bin/python ]] || "$python" -m venv "$tf_venv"
  "$tf_venv/bin/python" -m pip install -q --upgrade pip
  "$tf_venv/bin/python" -m pip install -q --progress-bar off -r "$tf_req"
  cp "$tf_req" "$tf_venv/.taxon-requirements"
fi
mkdir -p "$cache/ccache"
