#!/usr/bin/env bash
# Runs clang-tidy with the repository's .clang-tidy over the C++ files a
# change touches (default: everything changed since origin/main, or the
# files given). Needs a configured build directory with
# compile_commands.json (tools/setup.sh makes one in build/).
#
#   tools/check-tidy.sh                       # files changed since origin/main
#   BASE=HEAD~3 tools/check-tidy.sh           # files changed since HEAD~3
#   tools/check-tidy.sh runtime/src/config.cc # these files
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=${BUILD_DIR:-build}
clang_tidy=${CLANG_TIDY:-clang-tidy}
command -v "$clang_tidy" >/dev/null || { echo "check-tidy: $clang_tidy is not installed" >&2; exit 2; }
[ -f "$build_dir/compile_commands.json" ] ||
  { echo "check-tidy: no $build_dir/compile_commands.json; run tools/setup.sh first" >&2; exit 2; }

if [ $# -gt 0 ]; then
  files=("$@")
else
  base=${BASE:-origin/main}
  git rev-parse --verify -q "$base" >/dev/null || base=$(git rev-list --max-parents=0 HEAD | tail -n 1)
  mapfile -t files < <(git diff --name-only --diff-filter=d "$base" -- '*.cc' | grep -v '^proto/' || true)
fi
if [ ${#files[@]} -eq 0 ]; then
  echo "check-tidy: no C++ files to check"
  exit 0
fi

status=0
for file in "${files[@]}"; do
  # Only files the build compiles have a command to check them with.
  grep -q "\"file\": \"$(pwd)/$file\"" "$build_dir/compile_commands.json" || continue
  if ! "$clang_tidy" -p "$build_dir" --quiet --warnings-as-errors='*' "$file" 2>/dev/null; then
    status=1
  fi
done
[ $status -eq 0 ] && echo "check-tidy: ${#files[@]} file(s) clean"
exit $status
