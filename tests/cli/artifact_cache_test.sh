#!/bin/sh
# Remote artifact caches as a user meets them: whole cairn processes and
# real cairn-server processes on 127.0.0.1. A build pushes; another cache
# directory (another user) builds nothing and pulls every element, with an
# identical checkout; split index and storage servers; a cache that is down
# is reported once and the build goes on; a push cut off before its name
# names nothing and the next push completes it; a read-only token is
# refused for push with a message that says so; --no-remote.
#
# Usage: artifact_cache_test.sh CAIRN CAIRN_SERVER
server_binary=$(realpath "$2")
. "$(dirname "$0")/project_fixture.sh"
set +e

. "$(dirname "$0")/server_fixture.sh"

config=$XDG_CONFIG_HOME/cairn/config.yaml
mkdir -p "$XDG_CONFIG_HOME/cairn"
use_caches() { printf 'artifact-caches:\n%s' "$1" >"$config"; }
as_user() { export XDG_CACHE_HOME=$work/cache-$1; }

# One server for everything: push from one user, pull as another.
start_server all
all=$port
use_caches "  - url: grpc://127.0.0.1:$all
    push: true
"
as_user one
"$cairn" -C "$project" build hello.bst >"$work/b1.out" 2>&1 || fail "first build: $(cat "$work/b1.out")"
grep -q "pushed hello.bst" "$work/b1.out" || fail "nothing pushed: $(cat "$work/b1.out")"
"$cairn" -C "$project" artifact checkout hello.bst --directory "$work/co-one" >/dev/null 2>&1 ||
  fail "checkout one"
as_user two
"$cairn" -C "$project" show --deps none --format '%{state}' hello.bst >"$work/show.out" 2>&1
[ "$(cat "$work/show.out")" = downloadable ] || fail "show: $(cat "$work/show.out")"
"$cairn" -C "$project" build hello.bst >"$work/b2.out" 2>&1 || fail "second build: $(cat "$work/b2.out")"
grep -q "^0 built, 0 cached, 8 pulled" "$work/b2.out" || fail "not all pulled: $(cat "$work/b2.out")"
"$cairn" -C "$project" artifact checkout hello.bst --directory "$work/co-two" >/dev/null 2>&1 ||
  fail "checkout two"
diff -r "$work/co-one" "$work/co-two" >"$work/diff" || fail "checkouts differ: $(cat "$work/diff")"
"$cairn" -C "$project" artifact log hello.bst >/dev/null 2>&1 || fail "the pulled log is missing"

# --no-remote: nothing asked, everything built.
as_user three
"$cairn" -C "$project" build --no-remote hello.bst >"$work/b3.out" 2>&1 || fail "--no-remote build"
grep -q "^8 built" "$work/b3.out" || fail "--no-remote did not build: $(cat "$work/b3.out")"

# Split index and storage servers.
start_server index
index=$port
start_server storage
storage=$port
use_caches "  - url: grpc://127.0.0.1:$index
    type: index
    push: true
  - url: grpc://127.0.0.1:$storage
    type: storage
    push: true
"
as_user four
"$cairn" -C "$project" build hello.bst >"$work/b4.out" 2>&1 || fail "split push build: $(cat "$work/b4.out")"
as_user five
"$cairn" -C "$project" build hello.bst >"$work/b5.out" 2>&1 || fail "split pull build: $(cat "$work/b5.out")"
grep -q "^0 built, 0 cached, 8 pulled" "$work/b5.out" || fail "split: not all pulled: $(cat "$work/b5.out")"

# A cache that is down comes first: one warning naming it, and the build
# pulls from the next.
use_caches "  - url: grpc://127.0.0.1:1
    connection-config: {retry-limit: 1, retry-delay: 10}
  - url: grpc://127.0.0.1:$all
"
as_user six
"$cairn" -C "$project" build hello.bst >"$work/b6.out" 2>&1 || fail "build with a cache down: $(cat "$work/b6.out")"
[ "$(grep -c "grpc://127.0.0.1:1 (UNAVAILABLE)" "$work/b6.out")" -eq 1 ] ||
  fail "the cache that is down is not reported exactly once: $(cat "$work/b6.out")"
grep -q "8 pulled" "$work/b6.out" || fail "the build did not pull from the next cache: $(cat "$work/b6.out")"

# A push cut off after the blobs, before the name: the index is down.
# Nothing is named; the next push, with the index back, completes it.
stop_server index
use_caches "  - url: grpc://127.0.0.1:$index
    type: index
    push: true
    connection-config: {retry-limit: 1, retry-delay: 10}
  - url: grpc://127.0.0.1:$storage
    type: storage
    push: true
"
printf 'kind: manual\nbuild-depends:\n- base.bst\nconfig:\n  install-commands:\n  - echo new > %%{install-root}/new\n' \
  >"$project/elements/new.bst"
as_user seven
"$cairn" -C "$project" build new.bst >"$work/b7.out" 2>&1 || fail "build with the index down"
"$cairn" -C "$project" artifact push new.bst >"$work/p7.out" 2>&1
[ $? -eq 1 ] || fail "a push with the index down did not exit 1: $(cat "$work/p7.out")"
start_server index
# The index restarted on another port: point the configuration there.
sed -i "s/127.0.0.1:$index/127.0.0.1:$port/" "$config"
as_user eight
"$cairn" -C "$project" show --deps none --format '%{state}' new.bst >"$work/show8.out" 2>&1
[ "$(cat "$work/show8.out")" = buildable ] || fail "a half-pushed artifact is named: $(cat "$work/show8.out")"
as_user seven
"$cairn" -C "$project" artifact push new.bst >"$work/p9.out" 2>&1 || fail "the second push: $(cat "$work/p9.out")"
as_user eight
"$cairn" -C "$project" show --deps none --format '%{state}' new.bst >"$work/show9.out" 2>&1
[ "$(cat "$work/show9.out")" = downloadable ] || fail "after the second push: $(cat "$work/show9.out")"

# A read-only token: pulling works, pushing is refused and says why.
printf 'tokens:\n  - token: reader\n    permissions: [read]\n' >"$work/tokens.yaml"
printf 'tokens: %s\n' "$work/tokens.yaml" >"$work/server-auth.yaml"
start_server auth --config "$work/server-auth.yaml"
printf 'reader\n' >"$work/reader-token"
use_caches "  - url: grpc://127.0.0.1:$port
    push: true
    access-token: $work/reader-token
"
as_user one
"$cairn" -C "$project" artifact push hello.bst >"$work/p10.out" 2>&1
[ $? -eq 1 ] || fail "a read-only token pushed: $(cat "$work/p10.out")"
grep -q "PERMISSION_DENIED" "$work/p10.out" || fail "no PERMISSION_DENIED: $(cat "$work/p10.out")"
grep -q "127.0.0.1:$port" "$work/p10.out" || fail "the refusing cache is not named: $(cat "$work/p10.out")"
echo "PASS"
