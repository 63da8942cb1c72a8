#!/bin/sh
# Two `cairn build`s of the same target on one cache at once: both finish
# with success, the element is built by one of them only, and the other
# reports it cached after waiting for the first.
. "$(dirname "$0")/project_fixture.sh"
cat > "$project/elements/slow.bst" <<'BST'
kind: manual
build-depends:
- base.bst
config:
  install-commands:
  - sleep 2; mkdir -p %{install-root}/x && date +%s%N > %{install-root}/x/stamp
BST
"$cairn" -C "$project" build base.bst >/dev/null 2>&1 || fail "building base.bst"
"$cairn" -C "$project" build slow.bst >"$work/a" 2>&1 & a=$!
"$cairn" -C "$project" build slow.bst >"$work/b" 2>&1 & b=$!
code_a=0; wait $a || code_a=$?
code_b=0; wait $b || code_b=$?
[ $code_a -eq 0 ] && [ $code_b -eq 0 ] || { cat "$work/a" "$work/b"; fail "exit codes $code_a and $code_b"; }
built=$(cat "$work/a" "$work/b" | grep -c "SUCCESS slow.bst" || true)
cached=$(cat "$work/a" "$work/b" | grep -c "CACHED  slow.bst" || true)
[ "$built" -eq 1 ] && [ "$cached" -eq 1 ] || {
  cat "$work/a" "$work/b"; fail "slow.bst built $built times and found cached $cached times"; }
grep -q "waiting for another cairn process building slow.bst" "$work/a" "$work/b" \
  || fail "neither build said it waited for the other"
echo "PASS"
