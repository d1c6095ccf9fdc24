#!/usr/bin/env bash
# Fails, listing the files, when a C++ or CUDA source differs from .clang-format's style.
# Fix with: git ls-files '*.cpp' '*.hpp' '*.cu' | xargs clang-format -i
set -euo pipefail
cd "$(dirname "$0")/.."
bad=()
while IFS= read -r file; do
  clang-format --dry-run -Werror "$file" >/dev/null 2>&1 || bad+=("$file")
done < <(git ls-files '*.cpp' '*.hpp' '*.cu')
if ((${#bad[@]})); then
  echo "Not formatted with .clang-format (run clang-format -i on them):" >&2
  printf '  %s\n' "${bad[@]}" >&2
  exit 1
fi
echo "format: $(git ls-files '*.cpp' '*.hpp' '*.cu' | wc -l) files clean"
