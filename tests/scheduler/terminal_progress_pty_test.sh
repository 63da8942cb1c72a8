#!/bin/sh
# The progress display in a real terminal: runs progress_demo (a scripted
# build) in a detached tmux pane of 100x30 and reads the screen back, while
# it runs and after it ends. Proves what a byte-level test cannot: that a
# terminal shows at most one status line at any time, never wrapped, that
# every scrolled line is there once, that the summary replaces the status
# line, that nothing of an escape sequence is left on screen, and that the
# colours follow NO_COLOR.
#
# usage: terminal_progress_pty_test.sh PROGRESS_DEMO
# Exits 77 (skipped) when tmux is not installed.
set -eu
demo=$1
command -v tmux > /dev/null 2>&1 || { echo "SKIP: tmux is not installed"; exit 77; }

work=$(mktemp -d /tmp/cairn-progress-pty-XXXXXX)
socket=cairn-progress-$$
tmux_() { tmux -L "$socket" -f /dev/null "$@"; }
cleanup() {
  tmux_ kill-server > /dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*"
  echo "--- screen:"
  cat "$work/screen"
  exit 1
}

status_re='^\[[0-9]+/[0-9]+\] building: '

# run NAME ENV-ARGS...: runs the demo in a fresh session NAME under
# `env ENV-ARGS`, checking the screen every 0.1 s until it ends; leaves the
# final screen in $work/screen and, with colours, in $work/screen.e.
run() {
  name=$1
  shift
  rm -f "$work/rc"
  # The pane stays open after the demo, so its last screen can be read.
  tmux_ new-session -d -s "$name" -x 100 -y 30 \
    "env $* '$demo'; echo \$? > '$work/rc'; exec sleep 600"
  seen_status=0
  seen_named=0
  tries=0
  while [ ! -s "$work/rc" ]; do
    tries=$((tries + 1))
    [ $tries -le 300 ] || fail "the demo did not end within 30 s"
    tmux_ capture-pane -p -t "$name" > "$work/screen"
    count=$(grep -Ec "$status_re" "$work/screen" || true)
    [ "$count" -le 1 ] || fail "$count status lines on screen at once"
    if [ "$count" -eq 1 ]; then
      seen_status=1
      # The status line is the last one written, and fits in 99 columns.
      last=$(grep -v '^$' "$work/screen" | tail -n 1)
      echo "$last" | grep -Eq "$status_re" || fail "the status line is not the bottom line"
      [ ${#last} -le 99 ] || fail "a status line of ${#last} columns on a 100-column terminal"
      # ...and names a running build with its time, the oldest first.
      if echo "$last" | grep -Eq '^\[[0-9]+/6\] building: [^ ]+\.bst \([0-9]+s\)'; then
        seen_named=1
      fi
    fi
    sleep 0.1
  done
  [ "$(cat "$work/rc")" = 0 ] || fail "the demo exited with $(cat "$work/rc")"
  [ $seen_status = 1 ] || fail "no status line was seen while the demo ran"
  [ $seen_named = 1 ] || fail "no status line named a running build"
  tmux_ capture-pane -p -t "$name" > "$work/screen"
  tmux_ capture-pane -p -e -t "$name" > "$work/screen.e"
}

# once TEXT: TEXT is on exactly one line of the screen.
once() {
  count=$(grep -Fxc -- "$1" "$work/screen" || true)
  [ "$count" = 1 ] || fail "expected once, found $count times: $1"
}

check_final_screen() {
  once "[WARNING] demo: a scripted build, nothing is built"
  once "[00:00:00] CACHED  base/alpine.bst (5e6f7a8b)"
  once "[00:00:00] START   base/busybox-with-a-rather-long-element-name.bst (1a2b3c4d)"
  once "[00:00:00] START   components/gcc-toolchain-stage1.bst (2b3c4d5e)"
  once "[00:00:00] START   components/zlib.bst (3c4d5e6f)"
  once "[00:00:00] START   components/openssl.bst (4d5e6f7a)"
  once "[00:00:01] SUCCESS components/zlib.bst (3c4d5e6f)"
  once "[00:00:02] FAILURE components/openssl.bst (4d5e6f7a)"
  once "    install-commands[2] \`make install\` exited with code 2"
  once "    Log file: /tmp/cairn-demo/logs/openssl.log"
  once "    cp: cannot create regular file '/usr/lib': Read-only file system"
  once "    make: *** [install] Error 2"
  once "[00:00:02] SKIPPED app/curl.bst (5f6a7b8c)"
  once "[00:00:03] SUCCESS components/gcc-toolchain-stage1.bst (2b3c4d5e)"
  once "[00:00:03] SUCCESS base/busybox-with-a-rather-long-element-name.bst (1a2b3c4d)"
  count=$(grep -Ec '^3 built, 1 cached, 1 failed, 1 skipped in [0-9]+\.[0-9] s$' "$work/screen" || true)
  [ "$count" = 1 ] || fail "the summary line is not on screen once"
  # The summary is the last line: the status line is gone, and no piece of
  # it (from a wrap, or a clear that missed) is left anywhere.
  last=$(grep -v '^$' "$work/screen" | tail -n 1)
  echo "$last" | grep -q '^3 built, ' || fail "the last line is not the summary: $last"
  if grep -Eq 'building:|cached: [0-9]|failed: [0-9]' "$work/screen"; then
    fail "a status line or a piece of one is left on screen"
  fi
  # Pieces of escape sequences shown as text ("[K", "[0m", "^[", "\033").
  # The demo prints no other "[" followed by one of these letters.
  if grep -E '\[[0-9;]*[A-HJKSTfhlmnsu]|\^\[|\\033' "$work/screen"; then
    fail "escape sequence debris on screen"
  fi
}

esc=$(printf '\033')

run colours -u NO_COLOR
check_final_screen
grep -q "${esc}\[32mSUCCESS" "$work/screen.e" || fail "SUCCESS is not green with NO_COLOR unset"
grep -q "${esc}\[31mFAILURE" "$work/screen.e" || fail "FAILURE is not red with NO_COLOR unset"
grep -q "${esc}\[36mCACHED" "$work/screen.e" || fail "CACHED is not cyan with NO_COLOR unset"

run plain NO_COLOR=1
check_final_screen
if grep -q "${esc}\[3[0-9]m" "$work/screen.e"; then
  fail "colours on screen with NO_COLOR=1"
fi

echo "PASS"
