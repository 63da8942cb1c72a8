#!/usr/bin/env bash
# Conformance with Bazel (Debian's bazel-bootstrap package): this folder's
# workspace of a dozen genrules is built against the real cairn-server in two
# modes, each with a fresh server cache and a fresh Bazel output root:
#
#   remote-executor  --remote_executor: every genrule runs on the server
#                    (--host-tools: the input root is the working directory
#                    on a read-only view of this machine's tools); after
#                    `bazel clean` the rebuild is served entirely from the
#                    remote cache;
#   remote-cache     --remote_cache alone: genrules run locally and their
#                    results are uploaded; after `bazel clean` every one is
#                    a remote cache hit.
#
# Every build's outputs are compared with expected/, and Bazel's own summary
# ("INFO: 13 processes: 1 internal, 12 remote cache hit.") says where each
# genrule ran. Bazel runs --batch, so no Bazel server outlives a command, and
# offline: no downloads, no user or workspace rc files, a workspace with no
# external repositories (@bazel_tools is embedded in Bazel).
#
# usage: bazel_conformance_test.sh [CAIRN_SERVER [PLUGIN_DIR]]
#   CAIRN_SERVER defaults to $CAIRN_SERVER_BINARY; PLUGIN_DIR, when given,
#   is passed to the server as --plugin-path.
# Exit status: 0 passed, 1 failed, 77 skipped (no bazel or no bwrap here).
set -euo pipefail

source_dir=$(cd "$(dirname "$0")" && pwd)
server_binary=${1:-${CAIRN_SERVER_BINARY:-}}
plugin_dir=${2:-}

if ! command -v bazel >/dev/null 2>&1; then
  echo "SKIP: no bazel on PATH (Debian's bazel-bootstrap package provides it)"
  exit 77
fi
if ! command -v bwrap >/dev/null 2>&1; then
  echo "SKIP: no bwrap on PATH (cairn-server's sandbox plugin runs actions with it)"
  exit 77
fi
if [ -z "$server_binary" ] || [ ! -x "$server_binary" ]; then
  echo "FAIL: no cairn-server executable at '$server_binary' (give it as \$1 or in CAIRN_SERVER_BINARY)"
  exit 1
fi

# The whole test stays well inside CTest's TIMEOUT (900 s): CTest kills with
# no chance to clean up, so every wait below is bounded by what is left.
readonly budget_seconds=780
readonly bazel_command_seconds=240
readonly server_start_seconds=30
# After SIGTERM the server finishes calls in flight for up to 30 s.
readonly server_stop_seconds=40

genrule_count=$(grep -c '^genrule(' "$source_dir/BUILD")
work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bazel.XXXXXX")
server_pid=
bazel_pid=
server_log=
bazel_log=
port=
bound=
timings=()

cleanup() {
  local status=$?
  trap - EXIT
  if [ -n "$bazel_pid" ]; then
    kill -TERM "$bazel_pid" 2>/dev/null || true
    wait "$bazel_pid" || true
  fi
  stop_server || true
  # Bazel makes parts of its output root read-only.
  chmod -R u+w "$work" 2>/dev/null || true
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'echo "FAIL: interrupted by a signal"; exit 1' INT TERM HUP

fail() {
  echo "FAIL: $*"
  if [ -n "$bazel_log" ] && [ -f "$bazel_log" ]; then
    # Bazel's ERROR lines name the failed action; a stack trace may follow.
    local errors
    errors=$(grep -E -A2 '^ERROR: ' "$bazel_log" | head -n 30 || true)
    [ -z "$errors" ] || printf -- "--- Bazel's errors ---\n%s\n" "$errors"
    echo "--- last 40 lines of Bazel's output ---"
    tail -n 40 "$bazel_log"
  fi
  if [ -n "$server_log" ] && [ -f "$server_log" ]; then
    echo "--- last 40 lines of cairn-server's log ---"
    tail -n 40 "$server_log"
  fi
  exit 1
}

seconds_left() {
  echo $((budget_seconds - SECONDS))
}

# Sets bound to the shorter of LIMIT and what is left of the budget; fails
# when nothing is left.
bounded() {
  local limit=$1 left
  left=$(seconds_left)
  [ "$left" -gt 0 ] || fail "the test ran out of its ${budget_seconds} s budget"
  if [ "$left" -lt "$limit" ]; then bound=$left; else bound=$limit; fi
}

now_milliseconds() {
  date +%s%3N
}

record_time() {
  local label=$1 started=$2 elapsed
  elapsed=$(($(now_milliseconds) - started))
  timings+=("$(printf '%-40s %4d.%03d s' "$label" $((elapsed / 1000)) $((elapsed % 1000)))")
  echo "${timings[-1]}"
}

# Starts cairn-server with its cache in DIR/cache and sets port.
start_server() {
  local dir=$1 options started deadline
  mkdir -p "$dir/cache"
  server_log=$dir/server.log
  options=(--listen grpc://127.0.0.1:0 --cache-dir "$dir/cache" --host-tools)
  [ -z "$plugin_dir" ] || options+=(--plugin-path "$plugin_dir")
  # Created here, not by the background job's redirection, which may come
  # after the first look at it.
  : >"$dir/server.out"
  started=$(now_milliseconds)
  "$server_binary" "${options[@]}" >"$dir/server.out" 2>"$server_log" </dev/null &
  server_pid=$!
  bounded "$server_start_seconds"
  deadline=$((SECONDS + bound))
  port=
  while :; do
    port=$(sed -n 's|^cairn-server: listening on grpc://127\.0\.0\.1:\([0-9][0-9]*\)$|\1|p' \
      "$dir/server.out")
    [ -z "$port" ] || break
    if ! kill -0 "$server_pid" 2>/dev/null; then
      local status=0
      wait "$server_pid" || status=$?
      server_pid=
      fail "cairn-server exited with status $status before listening: $(cat "$dir/server.out")"
    fi
    [ "$SECONDS" -lt "$deadline" ] ||
      fail "cairn-server printed no 'listening on grpc://127.0.0.1:PORT' within ${server_start_seconds} s"
    sleep 0.1
  done
  record_time "$mode: cairn-server start" "$started"
}

# Stops the server with SIGTERM; returns its exit status (137 when it had
# to be killed).
stop_server() {
  [ -n "$server_pid" ] || return 0
  local pid=$server_pid status=0 deadline=$((SECONDS + server_stop_seconds))
  server_pid=
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" || status=$?
  return "$status"
}

# Runs `bazel COMMAND OPTIONS...` in the workspace, its output in LABEL.log.
run_bazel() {
  local label=$1 started limit
  shift
  bazel_log=$mode_dir/$label.log
  bounded "$bazel_command_seconds"
  limit=$bound
  started=$(now_milliseconds)
  # timeout(1) signals its whole process group, so Bazel's JVM goes too,
  # and passes on a signal it gets. In the background, so that a signal to
  # this script runs cleanup now, not once Bazel is done (bash's `wait`
  # returns on a trapped signal; a foreground command does not).
  (cd "$workspace" && exec env -u TEST_TMPDIR timeout --kill-after=10 "$limit" \
    bazel "${startup_options[@]}" "$@" </dev/null >"$bazel_log" 2>&1) &
  bazel_pid=$!
  local status=0
  wait "$bazel_pid" || status=$?
  bazel_pid=
  [ "$status" -eq 0 ] ||
    fail "$label: 'bazel $*' exited with status $status (124: over $limit s)"
  record_time "$mode: $label" "$started"
}

# Fails unless Bazel's process summary counts every genrule as KIND
# ("remote", "local", "remote cache hit"); "internal" actions are Bazel's own.
expect_every_genrule_as() {
  local label=$1 kind=$2 summary body part count part_kind counted=0
  summary=$(grep -E '^INFO: [0-9]+ process(es)?: ' "$bazel_log" | tail -n 1) ||
    fail "$label: Bazel printed no 'INFO: N processes: ...' summary"
  body=$(echo "$summary" | sed -E 's/^INFO: [0-9]+ process(es)?: //; s/\.$//')
  IFS=',' read -ra parts <<<"$body"
  for part in "${parts[@]}"; do
    part=${part# }
    count=${part%% *}
    part_kind=${part#* }
    if [ "$part_kind" = "$kind" ]; then
      counted=$count
    elif [ "$part_kind" != internal ]; then
      fail "$label: expected all $genrule_count genrules as '$kind', but $count were '$part_kind' ($summary)"
    fi
  done
  [ "$counted" -eq "$genrule_count" ] ||
    fail "$label: expected all $genrule_count genrules as '$kind', but $counted were ($summary)"
  echo "  $summary"
}

# Bazel only warns when it cannot read or write the remote cache and goes on
# without it; here that is a failure of the server.
expect_no_remote_warnings() {
  local label=$1 warnings
  warnings=$(grep -E -A3 '^(WARNING|ERROR): .*[Rr]emote' "$bazel_log" || true)
  [ -z "$warnings" ] || fail "$label: Bazel reported trouble with the remote server:
$warnings"
}

expect_outputs() {
  local label=$1 expected name actual
  for expected in "$source_dir"/expected/*; do
    name=${expected##*/}
    actual=$workspace/bazel-bin/$name
    [ -f "$actual" ] || fail "$label: Bazel left no bazel-bin/$name"
    cmp -s "$expected" "$actual" ||
      fail "$label: bazel-bin/$name differs from expected/$name:
$(diff "$expected" "$actual" || true)"
  done
}

# The two builds of one mode, MODE then the build options that select it.
# The first build must run every genrule as FIRST_KIND.
run_mode() {
  mode=$1
  local first_kind=$2
  shift 2
  mode_dir=$work/$mode
  workspace=$mode_dir/workspace
  mkdir -p "$workspace"
  cp -R "$source_dir/WORKSPACE" "$source_dir/BUILD" "$source_dir/greeting.in" \
    "$source_dir/frame.sh" "$workspace/"
  # The system rc file stays: Debian's (/etc/bazel/bazelrc) says where its
  # Bazel is installed (--install_base), which Bazel cannot find without it.
  startup_options=(--output_user_root="$mode_dir/bazel-root" --batch
    --nohome_rc --noworkspace_rc)
  echo "== $mode"
  start_server "$mode_dir"
  local build_options=(--experimental_repository_disable_download
    --color=no --curses=no --verbose_failures --jobs=4 --remote_timeout=60
    --incompatible_strict_action_env "$@")
  # The server's port is known only now: put it in the URLs given as
  # grpc://127.0.0.1:PORT.
  build_options=("${build_options[@]//127.0.0.1:PORT/127.0.0.1:$port}")

  run_bazel first-build build "${build_options[@]}" //:all
  expect_no_remote_warnings first-build
  expect_every_genrule_as first-build "$first_kind"
  expect_outputs first-build

  run_bazel clean clean

  run_bazel rebuild-after-clean build "${build_options[@]}" //:all
  expect_no_remote_warnings rebuild-after-clean
  expect_every_genrule_as rebuild-after-clean "remote cache hit"
  expect_outputs rebuild-after-clean

  bazel_log=
  local status=0
  stop_server || status=$?
  [ "$status" -eq 0 ] || fail "$mode: cairn-server exited with status $status on SIGTERM"
}

run_mode remote-executor remote \
  --remote_executor=grpc://127.0.0.1:PORT --spawn_strategy=remote
run_mode remote-cache local \
  --remote_cache=grpc://127.0.0.1:PORT --spawn_strategy=local

echo "PASS: Bazel built $genrule_count genrules with cairn-server as remote executor and as remote cache"
echo "Times:"
printf '  %s\n' "${timings[@]}"
