#!/usr/bin/env bash
# The README's first command: set up, build, then run `taxon demo` on the built-in Fashion-MNIST
# project; with a display, open taxon-studio on it afterwards. Extra arguments go to `taxon demo`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$taxon_root"

step "setup: Debian packages and the torch venv"
bash packaging/setup-deps.sh
step "configure (preset dev)"
cmake --preset dev
step "build taxon and taxon-studio"
cmake --build --preset dev --target taxon taxon-studio

project=${TAXON_DEMO_PROJECT:-$HOME/taxon-projects/fashion-mnist}
step "taxon demo --project $project"
build/dev/app/taxon demo --project "$project" "$@"

if [[ -n ${DISPLAY:-}${WAYLAND_DISPLAY:-} && -z ${CI:-} ]]; then
  step "opening taxon-studio on $project"
  exec build/dev/app/taxon-studio "$project"
fi
