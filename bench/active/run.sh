#!/usr/bin/env bash
# Active learning on Fashion-MNIST with a simulated labeler: bench/active/run.py with the torch
# venv's Python (which gets matplotlib for the plot if it lacks it), on build/dev's `taxon`
# (built first). Arguments go to run.py (--help lists them).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../packaging/env.sh"
cd "$taxon_root"
need_built "$taxon_root/build/dev" taxon:app/taxon
exec "$TAXON_VENV/bin/python" bench/active/run.py "$@"
