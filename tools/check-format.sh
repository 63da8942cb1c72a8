#!/usr/bin/env bash
# Fails (exit 1) when a C or C++ file tracked by git is not formatted as
# .clang-format says, listing each such file and how to fix it.
#
#   tools/check-format.sh          # check every tracked file
#   tools/check-format.sh --fix    # reformat them in place
set -euo pipefail
cd "$(dirname "$0")/.."

clang_format=${CLANG_FORMAT:-clang-format}
command -v "$clang_format" >/dev/null || { echo "check-format: $clang_format is not installed" >&2; exit 2; }

mapfile -t files < <(git ls-files '*.c' '*.cc' '*.h' | grep -v '^proto/')
if [ "${1:-}" = "--fix" ]; then
  "$clang_format" -i "${files[@]}"
  exit 0
fi

bad=()
for file in "${files[@]}"; do
  if ! "$clang_format" --dry-run --Werror "$file" >/dev/null 2>&1; then
    bad+=("$file")
  fi
done
if [ ${#bad[@]} -gt 0 ]; then
  echo "check-format: ${#bad[@]} file(s) are not formatted by .clang-format:" >&2
  printf '  %s\n' "${bad[@]}" >&2
  echo "Run tools/check-format.sh --fix (or clang-format -i FILE) and commit the result." >&2
  exit 1
fi
echo "check-format: ${#files[@]} files formatted"
