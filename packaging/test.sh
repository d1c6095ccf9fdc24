#!/usr/bin/env bash
# The README's test command. On a fresh Debian 12 machine it installs what is missing, builds,
# and runs the whole suite: the format check, every CTest label but gpu (unit, e2e, ui, slow),
# the numeric label again under a second oneDNN instruction set, then the engine's unit tests
# and the non-training CLI tests again under AddressSanitizer and UBSan, and the fuzz targets (each
# replays its corpus and fuzzes for 20 s, clang with ASan and UBSan).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$taxon_root"

step "setup: Debian packages and the torch venv"
bash packaging/setup-deps.sh

step "format check"
bash packaging/check-format.sh

step "configure (preset dev)"
cmake --preset dev
step "build (preset dev)"
cmake --build --preset dev
step "tests: all labels but gpu"
ctest --preset dev -j2

# oneDNN picks its kernels by instruction set, and float rounding differs between them: the tests
# that train and compare (label numeric) run again under a second one, so that every machine
# checks two (AVX-512 machines also AVX2, AVX2 machines also SSE4.1).
if grep -qw avx512f /proc/cpuinfo; then
  second_isa=AVX2
elif grep -qw avx2 /proc/cpuinfo; then
  second_isa=SSE41
else
  second_isa=""
fi
if [[ -n $second_isa ]]; then
  step "tests: label numeric again with ONEDNN_MAX_CPU_ISA=$second_isa"
  ONEDNN_MAX_CPU_ISA=$second_isa ctest --preset dev -L numeric -j2
else
  step "tests: no second instruction set on this CPU (neither AVX-512 nor AVX2)"
fi

step "configure (preset asan: engine and CLI, no GUI, sanitizers on)"
cmake --preset asan
step "build (preset asan)"
cmake --build --preset asan
step "tests under ASan+UBSan: labels unit and cli (leak detection on in the CLI processes)"
ctest --preset asan -j2

step "configure (preset fuzz: libFuzzer targets, clang, sanitizers on)"
cmake --preset fuzz
step "build (preset fuzz)"
cmake --build --preset fuzz
step "fuzz targets: corpus replay, then 20 s of fuzzing each"
ctest --preset fuzz -j2

ccache --show-stats 2>/dev/null | grep -iE 'hit|miss' | head -4 || true
step "all tests passed"
