#!/bin/sh
# What a person sees, read off a real terminal (a tmux pane, 100x30):
#   - `cairn build` shows one live status line while it builds, scrolled
#     lines above it once each, and a summary at the end with no debris;
#   - `cairn shell` is interactive: a command typed at its prompt runs in
#     the sandbox (the target's files are there), and `exit` ends it with
#     the shell's exit code.
. "$(dirname "$0")/project_fixture.sh"
command -v tmux >/dev/null || { echo "SKIPPED: tmux is not installed"; exit 77; }
tmux_socket=cairn-test-$$
screen() { tmux -L "$tmux_socket" capture-pane -p -t cairn; }
wait_for() {  # TEXT SECONDS
  i=0
  until screen | grep -qF -- "$1"; do
    i=$((i + 1)); [ $i -lt $(($2 * 10)) ] || { screen; fail "never saw '$1'"; }; sleep 0.1
  done
}
cat > "$project/elements/slow.bst" <<'BST'
kind: manual
depends:
- base.bst
config:
  install-commands:
  - sleep 3; mkdir -p %{install-root}/x
BST
tmux -L "$tmux_socket" -f /dev/null new-session -d -s cairn -x 100 -y 30 \
  "env XDG_CACHE_HOME=$XDG_CACHE_HOME XDG_CONFIG_HOME=$XDG_CONFIG_HOME $cairn -C $project build slow.bst; echo BUILD-EXIT=\$?; sleep 60"
wait_for "START   slow.bst" 60
sleep 1.5
during=$(screen)
echo "$during" | grep -q "^\[[0-9]*/3\] building: slow.bst ([0-9]*s)" \
  || { echo "$during"; fail "no status line naming the running element"; }
lines=$(echo "$during" | grep -c "building:" || true)
[ "$lines" -eq 1 ] || { echo "$during"; fail "$lines status lines on the screen"; }
wait_for "BUILD-EXIT=0" 60
after=$(screen)
echo "$after" | grep -q "building:" && { echo "$after"; fail "a status line was left behind"; }
[ "$(echo "$after" | grep -c "SUCCESS slow.bst")" -eq 1 ] || { echo "$after"; fail "SUCCESS slow.bst not exactly once"; }
echo "$after" | grep -q "3 built, 0 cached, 0 failed, 0 skipped" || { echo "$after"; fail "no summary"; }
tmux -L "$tmux_socket" kill-server
# A server of its own: the first may still be going away.
tmux_socket=cairn-test-shell-$$
tmux -L "$tmux_socket" -f /dev/null new-session -d -s cairn -x 100 -y 30 \
  "env XDG_CACHE_HOME=$XDG_CACHE_HOME XDG_CONFIG_HOME=$XDG_CONFIG_HOME $cairn -C $project shell slow.bst; echo SHELL-EXIT=\$?; sleep 60"
wait_for "#" 60
tmux -L "$tmux_socket" send-keys -t cairn 'echo answer-$((6*7)); ls /x; exit 3' Enter
wait_for "SHELL-EXIT=3" 30
shell_screen=$(screen)
echo "$shell_screen" | grep -q "^answer-42" || { echo "$shell_screen"; fail "the typed command did not run"; }
echo "PASS"
