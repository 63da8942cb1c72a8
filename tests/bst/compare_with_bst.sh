#!/bin/sh
# Builds one project with BuildStream 1.6 (`bst`) and with Cairn, checks out
# the same target with both, and compares the two trees: names, file types,
# file contents, executable bits and symlink targets (not mtimes, owners or
# other mode bits). Prints the differences.
#
# Usage: compare_with_bst.sh [options] [PROJECT_DIR [TARGET.bst]]
#   PROJECT_DIR   default: examples/busybox-project (TARGET: hello.bst)
#   --cairn PATH  the cairn binary (default: $CAIRN, else build/bin/cairn)
#   -o NAME VALUE a project option, passed to both tools (repeatable)
#   --no-integrate  check out without running integration commands (both)
#   --keep        keep the temporary directory (caches, checkouts, logs)
#
# The project is copied into a temporary directory, and its prepare.sh, if
# any, is run there, so the checkout stays untouched. Both tools keep their
# caches in that directory, which is removed at the end.
#
# Exit status: 0 same trees, 1 differences or a failed build/checkout,
# 2 bad usage, 77 bst is not installed or cannot run here: no /dev/fuse (skip).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

cairn=${CAIRN:-$repo/build/bin/cairn}
project=
target=
integrate=yes
keep=no
options=

usage() {
  sed -n '2,20s/^# \{0,1\}//p' "$0" >&2
  exit 2
}

while [ $# -gt 0 ]; do
  case $1 in
    --cairn) [ $# -ge 2 ] || usage; cairn=$2; shift 2 ;;
    -o|--option)
      [ $# -ge 3 ] || usage
      options="$options -o $2 $3"
      shift 3 ;;
    --no-integrate) integrate=no; shift ;;
    --keep) keep=yes; shift ;;
    -h|--help) usage ;;
    -*) echo "compare_with_bst.sh: unknown option $1" >&2; usage ;;
    *)
      if [ -z "$project" ]; then project=$1
      elif [ -z "$target" ]; then target=$1
      else usage
      fi
      shift ;;
  esac
done

if ! command -v bst >/dev/null 2>&1; then
  echo "compare_with_bst.sh: SKIP: bst (BuildStream 1.x) is not installed" >&2
  exit 77
fi
# bst 1.6 mounts a FUSE file system for every sandbox with a writable root
# (integration commands, script elements): without /dev/fuse it cannot
# build the example at all.
if [ ! -c /dev/fuse ]; then
  echo "compare_with_bst.sh: SKIP: /dev/fuse is missing, which bst 1.6 needs" >&2
  exit 77
fi

if [ -z "$project" ]; then
  project=$repo/examples/busybox-project
  target=${target:-hello.bst}
fi
if [ -z "$target" ]; then
  echo "compare_with_bst.sh: name the target element after PROJECT_DIR" >&2
  exit 2
fi
if [ ! -f "$project/project.conf" ]; then
  echo "compare_with_bst.sh: $project/project.conf not found" >&2
  exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/compare-bst.XXXXXX")
cleanup() {
  if [ "$keep" = yes ]; then
    echo "kept $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# The project, prepared in the temporary directory.
mkdir -p "$work/project"
(cd "$project" && tar -cf - --exclude=./.bst .) | (cd "$work/project" && tar -xf -)
if [ -x "$work/project/prepare.sh" ]; then
  "$work/project/prepare.sh" >"$work/prepare.log" 2>&1 || {
    cat "$work/prepare.log" >&2
    echo "compare_with_bst.sh: prepare.sh failed" >&2
    exit 1
  }
fi

# bst: every cache under $work, no prompts.
cat >"$work/bst.conf" <<EOF
sourcedir: $work/bst-cache/sources
builddir: $work/bst-cache/build
artifactdir: $work/bst-cache/artifacts
logdir: $work/bst-cache/logs
EOF
# cairn: caches and user configuration under $work too.
mkdir -p "$work/cairn-cache" "$work/cairn-config"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fs", b - a }'; }

# run NAME COMMAND...: runs a step with its output in $work/NAME.log.
run() {
  name=$1
  shift
  start=$(now)
  if "$@" >"$work/$name.log" 2>&1; then
    echo "  $name: $(elapsed "$start" "$(now)")"
  else
    status=$?
    echo "  $name: FAILED (exit $status); last lines of its log:" >&2
    tail -n 30 "$work/$name.log" | sed 's/^/    /' >&2
    return 1
  fi
}

bst_() {
  # shellcheck disable=SC2086 # options are word lists on purpose
  bst --no-interactive -c "$work/bst.conf" -C "$work/project" $options "$@"
}
# cairn takes -o after the command, bst before it.
cairn_() {
  XDG_CACHE_HOME="$work/cairn-cache" XDG_CONFIG_HOME="$work/cairn-config" \
    "$cairn" -C "$work/project" "$@"
}

if [ "$integrate" = yes ]; then
  bst_integrate=
  cairn_integrate=
else
  bst_integrate=--no-integrate
  cairn_integrate=--no-integrate
fi

echo "project $project, target $target"
bst_ok=yes
# shellcheck disable=SC2086
run bst-build bst_ build "$target" &&
  run bst-checkout bst_ checkout $bst_integrate "$target" "$work/out-bst" ||
  bst_ok=no
cairn_ok=yes
# shellcheck disable=SC2086
run cairn-build cairn_ build $options "$target" &&
  run cairn-checkout cairn_ artifact checkout $options $cairn_integrate \
    "$target" --directory "$work/out-cairn" ||
  cairn_ok=no
if [ "$bst_ok" = no ] || [ "$cairn_ok" = no ]; then
  echo "compare_with_bst.sh: a build or checkout failed (bst: $bst_ok, cairn: $cairn_ok)" >&2
  exit 1
fi

# manifest DIR: one line per entry, sorted by path:
#   PATH<TAB>dir | file x|- SHA256 | link TARGET | other TYPE
manifest() {
  (
    cd "$1"
    find . -mindepth 1 -type d -printf '%p\tdir\n'
    find . -mindepth 1 -type l -printf '%p\tlink %l\n'
    find . -mindepth 1 ! -type d ! -type l ! -type f -printf '%p\tother %y\n'
    find . -mindepth 1 -type f -perm /111 -exec sha256sum {} + |
      sed -E 's/^([0-9a-f]{64})  (.*)$/\2\tfile x \1/'
    find . -mindepth 1 -type f ! -perm /111 -exec sha256sum {} + |
      sed -E 's/^([0-9a-f]{64})  (.*)$/\2\tfile - \1/'
  ) | LC_ALL=C sort
}

manifest "$work/out-bst" >"$work/bst.manifest"
manifest "$work/out-cairn" >"$work/cairn.manifest"
entries=$(wc -l <"$work/bst.manifest")

if diff -u --label bst --label cairn "$work/bst.manifest" \
  "$work/cairn.manifest" >"$work/manifest.diff"; then
  echo "same trees: $entries entries"
  exit 0
fi

echo "DIFFERENT trees (bst: $entries entries, cairn: $(wc -l <"$work/cairn.manifest"))"
echo "lines: -bst +cairn; PATH<TAB>dir | file x|- SHA256 | link TARGET"
cat "$work/manifest.diff"
# For files in both trees with different contents, show a text diff.
awk -F'\t' '$2 ~ /^file / { print $1 }' "$work/bst.manifest" |
  while IFS= read -r path; do
  if [ -f "$work/out-cairn/$path" ] && [ ! -L "$work/out-cairn/$path" ] &&
    ! cmp -s "$work/out-bst/$path" "$work/out-cairn/$path"; then
    echo "--- contents of $path"
    diff -u --label "bst/$path" --label "cairn/$path" \
      "$work/out-bst/$path" "$work/out-cairn/$path" | head -n 40 || true
  fi
done
exit 1
