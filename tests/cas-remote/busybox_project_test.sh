#!/bin/sh
# `storage: plugin: cas-remote` as a user meets it: the bundled example
# project built by whole cairn processes whose store is a real cairn-server
# process on 127.0.0.1, with no cas-local anywhere on the client. The
# checkout is the same as with cas-local; a client with an empty local
# cache finds every artifact on the server; fsck and gc say they are the
# server's business; a server that is down is an error naming it.
#
# Usage: busybox_project_test.sh CAIRN CAIRN_SERVER
server_binary=$(realpath "$2")
. "$(dirname "$0")/../cli/project_fixture.sh"
set +e

. "$(dirname "$0")/../cli/server_fixture.sh"

# The reference: the same project with the default store, cas-local.
export XDG_CACHE_HOME=$work/cache-local
"$cairn" -C "$project" build hello.bst >"$work/build-local.out" 2>&1 ||
  fail "cas-local build: $(cat "$work/build-local.out")"
"$cairn" -C "$project" artifact checkout hello.bst --directory "$work/co-local" \
  >/dev/null 2>"$work/co-local.err" || fail "cas-local checkout: $(cat "$work/co-local.err")"
"$cairn" -C "$project" show --format '%{name} %{full-key}' hello.bst >"$work/keys-local"

# The project's cairn.yaml keeps its store on the server (the issue's
# `storage: plugin: cas-remote`, its options naming the endpoint).
start_server main
export XDG_CACHE_HOME=$work/cache-remote
cat >>"$project/cairn.yaml" <<YAML
storage:
  plugin: cas-remote
  options:
    url: grpc://127.0.0.1:$port
    cache-size: 64M
    connection-config:
      retry-limit: 1
      retry-delay: 100
      request-timeout: 60
YAML
"$cairn" -C "$project" build hello.bst >"$work/build-remote.out" 2>&1 ||
  fail "cas-remote build: $(cat "$work/build-remote.out")"
[ -e "$XDG_CACHE_HOME/cairn/cas" ] && fail "the cas-remote build made a local cas-local store"
grep -q "PushBlob" "$work/main.err" || fail "no artifact was pushed to the server"
"$cairn" -C "$project" artifact checkout hello.bst --directory "$work/co-remote" \
  >/dev/null 2>"$work/co-remote.err" || fail "cas-remote checkout: $(cat "$work/co-remote.err")"
"$cairn" -C "$project" show --format '%{name} %{full-key}' hello.bst >"$work/keys-remote"
cmp -s "$work/keys-local" "$work/keys-remote" || fail "cache keys differ between stores"
diff -r "$work/co-local" "$work/co-remote" >"$work/diff" ||
  fail "checkouts differ: $(cat "$work/diff")"

# Maintenance is the server's: said, not pretended.
for command in fsck gc; do
  "$cairn" -C "$project" cas $command >/dev/null 2>"$work/$command.err" &&
    fail "cairn cas $command succeeded on a remote store"
  grep -q "UNIMPLEMENTED.*server's business" "$work/$command.err" ||
    fail "cairn cas $command: $(cat "$work/$command.err")"
done

# Another machine, as far as the client can tell: nothing local at all.
rm -rf "$XDG_CACHE_HOME"
"$cairn" -C "$project" build hello.bst >"$work/build-again.out" 2>&1 ||
  fail "build with an empty local cache: $(cat "$work/build-again.out")"
grep -q "^0 built, 8 cached" "$work/build-again.out" ||
  fail "the server's artifacts were built again: $(cat "$work/build-again.out")"
"$cairn" -C "$project" artifact checkout hello.bst --directory "$work/co-again" \
  >/dev/null 2>"$work/co-again.err" || fail "checkout from the server: $(cat "$work/co-again.err")"
diff -r "$work/co-local" "$work/co-again" >"$work/diff" ||
  fail "checkout from the server differs: $(cat "$work/diff")"

# The server down: an error naming it, saying UNAVAILABLE.
stop_server main
rm -rf "$XDG_CACHE_HOME"
"$cairn" -C "$project" artifact checkout hello.bst --directory "$work/co-down" \
  >/dev/null 2>"$work/down.err"
code=$?
[ $code -ne 0 ] || fail "a checkout against a stopped server succeeded"
grep -q "grpc://127.0.0.1:$port" "$work/down.err" ||
  fail "the error does not name the server: $(cat "$work/down.err")"
grep -q "UNAVAILABLE" "$work/down.err" ||
  fail "the error does not say UNAVAILABLE: $(cat "$work/down.err")"
echo "PASS"
