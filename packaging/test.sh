#!/usr/bin/env bash
# The README's test command. On a fresh Debian 12 machine it installs what is missing, builds,
# and runs the whole suite: the format check, every CTest label but gpu (unit, e2e, ui, slow),
# then the engine's unit tests again under AddressSanitizer and UBSan.
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

step "configure (preset asan: engine and CLI, no GUI, sanitizers on)"
cmake --preset asan
step "build (preset asan)"
cmake --build --preset asan
step "tests under ASan+UBSan: label unit"
ctest --preset asan -j2

ccache --show-stats 2>/dev/null | grep -iE 'hit|miss' | head -4 || true
step "all tests passed"
