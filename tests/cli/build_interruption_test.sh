#!/bin/sh
# Ctrl-C during a build: the running sandbox stops, cairn exits 130 at
# once, nothing is recorded for the interrupted element, nothing is left
# running (its sleep has a length no other test uses, so a parallel
# test cannot look like it), and the next build finishes it.
. "$(dirname "$0")/project_fixture.sh"
cat > "$project/elements/slow.bst" <<'BST'
kind: manual
build-depends:
- base.bst
config:
  install-commands:
  - touch /tmp/started-slow; sleep 5917
  - mkdir -p %{install-root}/x && echo done > %{install-root}/x/y
BST
"$cairn" -C "$project" build base.bst >/dev/null 2>&1 || fail "building base.bst"
: >"$work/out"
"$cairn" -C "$project" build slow.bst >"$work/out" 2>&1 &
pid=$!
i=0
until grep -q "START   slow.bst" "$work/out"; do
  i=$((i + 1)); [ $i -lt 300 ] || fail "slow.bst never started"; sleep 0.1
done
sleep 1
kill -INT $pid
code=0; wait $pid || code=$?
[ $code -eq 130 ] || { cat "$work/out"; fail "exit code $code, not 130"; }
grep -q "interrupted" "$work/out" || fail "no word of the interruption: $(cat "$work/out")"
if pgrep -f "sleep 5917" >/dev/null; then fail "the build's sleep is still running"; fi
state=$("$cairn" -C "$project" show --deps none --format '%{state}' slow.bst)
[ "$state" = buildable ] || fail "slow.bst is '$state' after the interruption, not buildable"
sed -i 's/sleep 5917/true/' "$project/elements/slow.bst"
"$cairn" -C "$project" build slow.bst >"$work/out2" 2>&1 || { cat "$work/out2"; fail "the next build"; }
state=$("$cairn" -C "$project" show --deps none --format '%{state}' slow.bst)
[ "$state" = cached ] || fail "slow.bst is '$state' after the next build"
echo "PASS"
