# Sourced by the scripts in packaging/: where the venv and the compiler cache live (outside the
# clone, so fresh clones and CI reuse them) and how ccache treats precompiled headers.
taxon_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export TAXON_CACHE=${TAXON_CACHE:-$HOME/.cache/taxon}
export TAXON_VENV=${TAXON_VENV:-$TAXON_CACHE/venv}
export CCACHE_DIR=${CCACHE_DIR:-$TAXON_CACHE/ccache}
export CCACHE_BASEDIR=$taxon_root          # hash paths relative to the clone: any clone hits
export CCACHE_NOHASHDIR=1
export CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-8G}

taxon_step_start=$(date +%s)
# step "what": prints a header with the time since the script started.
step() {
  local now
  now=$(date +%s)
  printf '\n==> [%4ds] %s\n' "$((now - taxon_step_start))" "$*"
}

# need_built BUILD TARGET:PATH...: the benchmarks' programs. Each PATH (under the build folder
# BUILD) must exist; missing ones are built when BUILD is the dev preset's (build/dev), else the
# script stops and says how to build them.
need_built() {
  local build=$1 spec targets=()
  shift
  for spec in "$@"; do
    [[ -x $build/${spec#*:} ]] || targets+=("${spec%%:*}")
  done
  ((${#targets[@]} == 0)) && return 0
  if [[ $build == "$taxon_root/build/dev" ]]; then
    step "build ${targets[*]} (preset dev)"
    (cd "$taxon_root" && cmake --preset dev >/dev/null && cmake --build --preset dev --target "${targets[@]}")
    return 0
  fi
  echo "missing in $build: ${targets[*]}; build them with" \
    "cmake --build --preset dev --target ${targets[*]}" >&2
  exit 1
}
