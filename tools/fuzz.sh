#!/usr/bin/env bash
# Builds Cairn's libFuzzer targets (fuzz/) with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer in a build directory of their own, then runs
# each for a bounded time, two at a time. Fails on the first crash, leak,
# timeout or out-of-memory, printing the reproducer's path.
#
#   tools/fuzz.sh                        # every target, 60 s each, a new seed each time
#   tools/fuzz.sh --seconds 10 digest    # one target (with or without _fuzzer)
#   tools/fuzz.sh --seed 1 --runs 300000 # the same inputs every time (the test suite's run)
#   FUZZ_BUILD_DIR=/tmp/f tools/fuzz.sh  # default: ./build-fuzz
#
# The corpus of each target grows in BUILD/fuzz-corpus/TARGET between runs
# (not with --seed, which starts from fuzz/corpus/ alone each time);
# crashes land in BUILD/fuzz-artifacts/TARGET/. To replay a reproducer:
#   BUILD/bin/TARGET BUILD/fuzz-artifacts/TARGET/crash-...
# Exit status: 0 clean, 1 a target failed, 2 usage or build error, 77
# clang or libFuzzer is not installed (ctest reports the test as skipped).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${FUZZ_BUILD_DIR:-$here/build-fuzz}
seconds=60
seed=0
runs=-1
jobs=2
all_targets=(digest_fuzzer resource_name_fuzzer plugin_descriptor_fuzzer config_fuzzer
             directory_fuzzer)
targets=()

usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=${2:?--seconds needs a number}; shift 2 ;;
    --seed) seed=${2:?--seed needs a number}; shift 2 ;;
    --runs) runs=${2:?--runs needs a number}; shift 2 ;;
    --jobs) jobs=${2:?--jobs needs a number}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "fuzz: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) name=${1%_fuzzer}_fuzzer
       if ! printf '%s\n' "${all_targets[@]}" | grep -qx "$name"; then
         echo "fuzz: unknown target $1 (known: ${all_targets[*]})" >&2; exit 2
       fi
       targets+=("$name"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")

if ! command -v clang++ >/dev/null; then
  echo "fuzz: SKIPPED: clang++ is not installed (apt-get install clang libfuzzer-14-dev)"
  exit 77
fi
if ! ls "$(clang++ -print-runtime-dir)"/libclang_rt.fuzzer*.a >/dev/null 2>&1; then
  echo "fuzz: SKIPPED: clang has no libFuzzer runtime (apt-get install libfuzzer-14-dev)"
  exit 77
fi

# -O1 with line tables: quick to build (the generated protobuf code is
# most of it), fast enough to fuzz, and stack traces name lines.
flags="-O1 -gline-tables-only -fsanitize=address,undefined -fno-sanitize-recover=undefined"
flags="$flags -fsanitize=fuzzer-no-link"
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  CC=clang CXX=clang++ cmake -S "$here" -B "$build_dir" -DCMAKE_BUILD_TYPE=None \
    -DCAIRN_FUZZ=ON -DCAIRN_BUILD_TESTS=OFF -DCAIRN_BUILD_BENCHMARKS=OFF \
    -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" >/dev/null \
    || { echo "fuzz: configuring $build_dir failed" >&2; exit 2; }
fi
echo "fuzz: building ${targets[*]} in $build_dir"
cmake --build "$build_dir" -j"$jobs" --target "${targets[@]}" >"$build_dir/fuzz-build.log" 2>&1 \
  || { tail -n 40 "$build_dir/fuzz-build.log" >&2; echo "fuzz: build failed" >&2; exit 2; }

# Runs one target; its output goes to a log, its verdict to the exit code.
run_target() {
  local target=$1
  local corpus=$build_dir/fuzz-corpus/$target
  local artifacts=$build_dir/fuzz-artifacts/$target
  local seeds=$here/fuzz/corpus/${target%_fuzzer}
  # A fixed seed repeats its inputs only from the same starting corpus: the
  # checked-in seeds, with what the run finds kept aside and dropped.
  if [ "$seed" -ne 0 ]; then
    corpus=$build_dir/fuzz-corpus-seed-$seed/$target
    rm -rf "$corpus"
  fi
  mkdir -p "$corpus" "$artifacts"
  local inputs=("$corpus")
  [ -d "$seeds" ] && inputs+=("$seeds")
  # cairn_common is linked into the host and, hidden, into each plugin by
  # design: the same class in both is not an ODR violation here.
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:detect_odr_violation=0} \
    "$build_dir/bin/$target" -max_total_time="$seconds" -seed="$seed" -runs="$runs" \
    -timeout=20 -rss_limit_mb=2048 \
    -max_len=65536 -artifact_prefix="$artifacts/" -print_final_stats=1 "${inputs[@]}" \
    >"$build_dir/fuzz-$target.log" 2>&1
}

failed=0
running=()
report() {
  local target=$1 status=$2
  local log=$build_dir/fuzz-$target.log
  if [ "$status" -eq 0 ]; then
    echo "fuzz: $target: clean ($(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$log" \
      | grep -o '[0-9]*$' || echo '?') runs, seed $seed)"
    return
  fi
  failed=1
  echo "fuzz: $target FAILED (exit $status); the end of $log:" >&2
  tail -n 30 "$log" >&2
  local reproducer
  reproducer=$(grep -o 'Test unit written to [^ ]*' "$log" | tail -n 1 | sed 's/.* to //' || true)
  if [ -n "$reproducer" ]; then
    echo "fuzz: $target: reproducer: $reproducer" >&2
    echo "fuzz: replay with: $build_dir/bin/$target $reproducer" >&2
  fi
}
for target in "${targets[@]}"; do
  run_target "$target" &
  running+=("$!:$target")
  if [ ${#running[@]} -ge "$jobs" ]; then
    entry=${running[0]}
    running=("${running[@]:1}")
    status=0
    wait "${entry%%:*}" || status=$?
    report "${entry#*:}" "$status"
  fi
done
for entry in "${running[@]}"; do
  status=0
  wait "${entry%%:*}" || status=$?
  report "${entry#*:}" "$status"
done
exit $failed
