#!/bin/sh
# Times Cairn against BuildStream 1.6 (`bst`) on the same projects, in pairs
# of runs, and prints the ratio bst time / cairn time (above 1: Cairn is
# faster) with Cairn's peak memory:
#   cached-build-100   `build all.bst` of 100 layered elements, all cached
#   show-100/1000/5000 `show all.bst` of 100, 1,000 and 5,000 elements
#   cold-example       `build hello.bst` of examples/busybox-project, empty caches
#   cold-import-20k    an `import` of 20,000 small files and an element that
#                      builds with them staged, empty caches
# Projects come from bench/gen_project.py; everything lives in a temporary
# directory that is removed at the end.
#
# Usage: build_vs_bst.sh [--cairn PATH] [--runs N] [--skip-5000]
#                        [--no-hyperfine] [--keep]
#   --cairn PATH  the cairn binary (default: $CAIRN, else build/bin/cairn)
#   --runs N      runs per tool for the quick cases (default 5; slow cases
#                 use fewer)
#   --skip-5000   leave out show-5000 (bst takes about a minute or two)
#   --no-hyperfine  time with the loop even if hyperfine is installed
#   --keep        keep the temporary directory
# Uses hyperfine when it is installed, else a loop that alternates the two
# tools and times each run with `date +%s.%N`. Peak memory needs GNU time
# (/usr/bin/time, Debian package `time`).
# Exit status: 0 done (a failing cairn is reported, not fatal), 2 bad usage,
# 77 bst is not installed.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)

cairn=${CAIRN:-$repo/build/bin/cairn}
runs=5
skip_5000=no
keep=no
use_hyperfine=yes

usage() {
  sed -n '2,29s/^# \{0,1\}//p' "$0" >&2
  exit 2
}

while [ $# -gt 0 ]; do
  case $1 in
    --cairn) [ $# -ge 2 ] || usage; cairn=$2; shift 2 ;;
    --runs) [ $# -ge 2 ] || usage; runs=$2; shift 2 ;;
    --skip-5000) skip_5000=yes; shift ;;
    --keep) keep=yes; shift ;;
    --no-hyperfine) use_hyperfine=no; shift ;;
    *) usage ;;
  esac
done
case $runs in
  '' | *[!0-9]* | 0) echo "build_vs_bst.sh: --runs takes a positive number" >&2; exit 2 ;;
esac

if ! command -v bst >/dev/null 2>&1; then
  echo "build_vs_bst.sh: SKIP: bst (BuildStream 1.x) is not installed" >&2
  exit 77
fi
if [ "$use_hyperfine" = yes ] && command -v hyperfine >/dev/null 2>&1; then
  timer=hyperfine
else
  timer=loop
fi
if [ -x /usr/bin/time ] && /usr/bin/time -v true >/dev/null 2>&1; then
  gnu_time=yes
else
  gnu_time=no
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/build-vs-bst.XXXXXX")
cleanup() {
  if [ "$keep" = yes ]; then
    echo "kept $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

echo "bst $(bst --version 2>/dev/null), cairn $cairn, timing with $timer"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "preparing projects in $work"
gen() {
  python3 "$here/gen_project.py" "$@" >/dev/null
}
gen "$work/p100" --elements 100 --big-files 20000
gen "$work/p1000" --elements 1000
if [ "$skip_5000" = no ]; then
  gen "$work/p5000" --elements 5000
fi
mkdir -p "$work/example"
(cd "$repo/examples/busybox-project" && tar -cf - --exclude=./.bst \
  --exclude=./files/base --exclude=./include/local-aliases.yml .) |
  (cd "$work/example" && tar -xf -)
"$work/example/prepare.sh" >/dev/null

# Command lines, as strings for sh -c: each case has its own caches.
# bst_cmd CACHE PROJECT ARGS...
bst_cmd() {
  conf=$work/$1.bst.conf
  cat >"$conf" <<EOF
sourcedir: $work/cache/$1/bst/sources
builddir: $work/cache/$1/bst/build
artifactdir: $work/cache/$1/bst/artifacts
logdir: $work/cache/$1/bst/logs
EOF
  project=$2
  shift 2
  echo "bst --no-interactive -c $conf -C $project $*"
}
# cairn_cmd CACHE PROJECT ARGS...
cairn_cmd() {
  mkdir -p "$work/config"
  cache=$1
  project=$2
  shift 2
  echo "env XDG_CACHE_HOME=$work/cache/$cache/cairn XDG_CONFIG_HOME=$work/config $cairn -C $project $*"
}
wipe_bst() { echo "rm -rf $work/cache/$1/bst"; }
wipe_cairn() { echo "rm -rf $work/cache/$1/cairn"; }

now() { date +%s.%N; }

# median FILE: the median of the numbers in FILE, one a line.
median() {
  sort -g "$1" | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "nan"; exit }
    if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# timed FILE PREPARE COMMAND: runs PREPARE, then COMMAND with its output in
# FILE.log; appends its seconds to FILE.times and, with GNU time, keeps the
# largest peak memory in KiB in FILE.peak. Fails if COMMAND fails.
timed() {
  sh -c "$2" >/dev/null 2>&1
  if [ "$gnu_time" = yes ]; then
    start=$(now)
    /usr/bin/time -v -o "$1.tv" sh -c "$3" >"$1.log" 2>&1 || return 1
    end=$(now)
    kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$1.tv")
    if [ ! -s "$1.peak" ] || [ "$kb" -gt "$(cat "$1.peak")" ]; then
      echo "$kb" >"$1.peak"
    fi
  else
    start=$(now)
    sh -c "$3" >"$1.log" 2>&1 || return 1
    end=$(now)
  fi
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.4f\n", b - a }' >>"$1.times"
}

# peak FILE: FILE.peak in MiB, or n/a.
peak() {
  if [ -s "$1.peak" ]; then
    echo "$(($(cat "$1.peak") / 1024)) MiB"
  else
    echo n/a
  fi
}

# hyperfine_times FILE RUNS PREPARE COMMAND: RUNS timings into FILE.times.
hyperfine_times() {
  hyperfine --style none --runs "$2" --prepare "$3" \
    --export-json "$1.json" "$4" >"$1.log" 2>&1 || return 1
  python3 -c 'import json, sys
for t in json.load(open(sys.argv[1]))["results"][0]["times"]:
    print(f"{t:.4f}")' "$1.json" >"$1.times"
}

failed_log() {
  echo "  $2 FAILED; last lines of its log:" >&2
  tail -n "$3" "$1.log" | sed 's/^/    /' >&2
}

results=$work/results
: >"$results"

# pair CASE RUNS WARMUP BST_PREPARE BST_COMMAND CAIRN_PREPARE CAIRN_COMMAND
# With WARMUP=yes, one untimed run of each tool comes first (it fills the
# caches of cached cases). The loop alternates the tools run by run.
pair() {
  name=$1 n=$2 warmup=$3 bprep=$4 bcmd=$5 cprep=$6 ccmd=$7
  b=$work/$name-bst c=$work/$name-cairn
  rm -f "$b.times" "$c.times" "$b.peak" "$c.peak"
  cairn_ok=yes
  if [ "$warmup" = yes ]; then
    sh -c "$bprep" >/dev/null 2>&1
    if ! sh -c "$bcmd" >"$b.log" 2>&1; then
      failed_log "$b" "$name: bst" 20
      return 0
    fi
    sh -c "$cprep" >/dev/null 2>&1
    sh -c "$ccmd" >"$c.log" 2>&1 || cairn_ok=no
  fi

  if [ "$timer" = hyperfine ]; then
    if ! hyperfine_times "$b" "$n" "$bprep" "$bcmd"; then
      failed_log "$b" "$name: bst" 20
      return 0
    fi
    if [ "$cairn_ok" = yes ]; then
      hyperfine_times "$c" "$n" "$cprep" "$ccmd" || cairn_ok=no
    fi
    # Peak memory on one more run; bst's only where runs are cheap.
    if [ "$gnu_time" = yes ]; then
      if [ "$cairn_ok" = yes ]; then
        cp "$c.times" "$c.keep"
        timed "$c" "$cprep" "$ccmd" || cairn_ok=no
        mv "$c.keep" "$c.times"
      fi
      if [ "$n" -ge 3 ]; then
        cp "$b.times" "$b.keep"
        timed "$b" "$bprep" "$bcmd" || true
        mv "$b.keep" "$b.times"
      fi
    fi
  else
    i=0
    while [ "$i" -lt "$n" ]; do
      if [ $((i % 2)) -eq 1 ] && [ "$cairn_ok" = yes ]; then
        timed "$c" "$cprep" "$ccmd" || cairn_ok=no
      fi
      if ! timed "$b" "$bprep" "$bcmd"; then
        failed_log "$b" "$name: bst" 20
        return 0
      fi
      if [ $((i % 2)) -eq 0 ] && [ "$cairn_ok" = yes ]; then
        timed "$c" "$cprep" "$ccmd" || cairn_ok=no
      fi
      i=$((i + 1))
    done
  fi

  bst_s=$(printf '%.3f' "$(median "$b.times")")
  if [ "$cairn_ok" = yes ] && [ -s "$c.times" ]; then
    cairn_s=$(printf '%.3f' "$(median "$c.times")")
    ratio=$(awk -v b="$bst_s" -v c="$cairn_s" 'BEGIN { printf "%.1f", (c > 0 ? b / c : 0) }')
    mem=$(peak "$c")
  else
    cairn_s=failed ratio=n/a mem=n/a
    failed_log "$c" "$name: cairn" 5
  fi
  printf '%-18s %5s %10s %10s %9s %11s %11s\n' "$name" "$n" "$bst_s" "$cairn_s" \
    "$ratio" "$mem" "$(peak "$b")" | tee -a "$results"
}

slow=$((runs > 3 ? 3 : runs))
heavy=$((runs > 2 ? 2 : runs))
printf '%-18s %5s %10s %10s %9s %11s %11s\n' case runs "bst s" "cairn s" \
  bst/cairn "cairn peak" "bst peak"

# Fully cached: the untimed first run (warm-up) builds everything.
pair cached-build-100 "$runs" yes \
  true "$(bst_cmd p100 "$work/p100" build all.bst)" \
  true "$(cairn_cmd p100 "$work/p100" build all.bst)"

# show: the p100 caches are full; the others are empty.
pair show-100 "$runs" yes \
  true "$(bst_cmd p100 "$work/p100" show all.bst)" \
  true "$(cairn_cmd p100 "$work/p100" show all.bst)"
pair show-1000 "$slow" no \
  true "$(bst_cmd p1000 "$work/p1000" show all.bst)" \
  true "$(cairn_cmd p1000 "$work/p1000" show all.bst)"
if [ "$skip_5000" = no ]; then
  pair show-5000 1 no \
    true "$(bst_cmd p5000 "$work/p5000" show all.bst)" \
    true "$(cairn_cmd p5000 "$work/p5000" show all.bst)"
fi

pair cold-example "$slow" no \
  "$(wipe_bst example)" "$(bst_cmd example "$work/example" build hello.bst)" \
  "$(wipe_cairn example)" "$(cairn_cmd example "$work/example" build hello.bst)"

pair cold-import-20k "$heavy" no \
  "$(wipe_bst big)" "$(bst_cmd big "$work/p100" build big/consumer.bst)" \
  "$(wipe_cairn big)" "$(cairn_cmd big "$work/p100" build big/consumer.bst)"

if [ "$gnu_time" = no ]; then
  echo "peak memory not measured: install GNU time (Debian package \`time\`)"
fi
echo "times are medians in seconds; bst/cairn above 1 means Cairn is faster;"
echo "peak is the largest resident set of one process of one run"
