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
  cat "$work/screen" 2> /dev/null || true
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
      # At some point it names a running build with its time.
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

# The screen after the demo, line for line, times replaced by T (the unit
# tests check them; here a loaded machine may stretch the demo's pauses).
# Each scrolled line is there once; the summary replaced the status line,
# leaving no piece of it (from a wrap, or a clear that missed) and no piece
# of an escape sequence shown as text.
check_final_screen() {
  sed -e 's/^\[[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\] /[T] /' \
      -e 's/ skipped in [0-9]*\.[0-9] s$/ skipped in T s/' "$work/screen" |
    sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' > "$work/screen.normal"
  cat > "$work/expected" << 'END'
[WARNING] demo: a scripted build, nothing is built
[T] CACHED  base/alpine.bst (5e6f7a8b)
[T] START   base/busybox-with-a-rather-long-element-name.bst (1a2b3c4d)
[T] START   components/gcc-toolchain-stage1.bst (2b3c4d5e)
[T] START   components/zlib.bst (3c4d5e6f)
[T] START   components/openssl.bst (4d5e6f7a)
[T] SUCCESS components/zlib.bst (3c4d5e6f)
[T] FAILURE components/openssl.bst (4d5e6f7a)
    install-commands[2] `make install` exited with code 2
    Log file: /tmp/cairn-demo/logs/openssl.log
    Printing the last 3 lines from the log file:
    ======================================================================
    cp libcrypto.so /usr/lib
    cp: cannot create regular file '/usr/lib': Read-only file system
    make: *** [install] Error 2
    ======================================================================

[T] SKIPPED app/curl.bst (5f6a7b8c)
[T] SUCCESS components/gcc-toolchain-stage1.bst (2b3c4d5e)
[T] SUCCESS base/busybox-with-a-rather-long-element-name.bst (1a2b3c4d)
3 built, 1 cached, 1 failed, 1 skipped in T s
END
  diff -u "$work/expected" "$work/screen.normal" || fail "the screen is not as expected"
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
