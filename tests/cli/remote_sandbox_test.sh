#!/bin/sh
# `--sandbox remote` as a user meets it: whole cairn processes against a
# real cairn-server process on 127.0.0.1. The same `cairn run` gives the
# same digests as bwrap; the example project built remotely checks out the
# same files with the same cache keys; `cairn config` shows the endpoint;
# a server that is down costs a bounded retry sequence and an error naming
# it; Ctrl-C stops a remote run at once.
#
# Usage: remote_sandbox_test.sh CAIRN CAIRN_SERVER
server_binary=$(realpath "$2")
. "$(dirname "$0")/project_fixture.sh"
set +e

. "$(dirname "$0")/server_fixture.sh"

start_server main
mkdir -p "$XDG_CONFIG_HOME/cairn"
cat >"$XDG_CONFIG_HOME/cairn/config.yaml" <<YAML
remote-execution:
  url: grpc://127.0.0.1:$port
  connection-config:
    retry-limit: 2
    retry-delay: 100
YAML

# The same Action in both sandboxes: the same outputs, byte for byte.
root=$work/root
mkdir -p "$root/bin" && cp /bin/busybox "$root/bin/"
for sandbox in bwrap remote; do
  "$cairn" --sandbox $sandbox run --root "$root" --format json --output out.txt --output dir \
    -- /bin/busybox sh -c 'echo to-stdout; echo to-stderr >&2; echo file > out.txt;
                          /bin/busybox mkdir -p dir/a; echo nested > dir/a/b' \
    >"$work/run-$sandbox.json" 2>"$work/run-$sandbox.err" ||
    fail "cairn run --sandbox $sandbox: $(cat "$work/run-$sandbox.err")"
done
cmp -s "$work/run-bwrap.json" "$work/run-remote.json" ||
  fail "remote and bwrap results differ: $(cat "$work/run-bwrap.json") vs $(cat "$work/run-remote.json")"
grep -q '"tree-digest"' "$work/run-remote.json" || fail "no output directory: $(cat "$work/run-remote.json")"

# The example project: built remotely, the same keys and the same checkout.
"$cairn" -C "$project" --sandbox remote build hello.bst >"$work/build-remote.out" 2>&1 ||
  fail "remote build: $(cat "$work/build-remote.out")"
grep -q "Execute" "$work/main.err" || fail "the remote build executed nothing on the server"
"$cairn" -C "$project" --sandbox remote artifact checkout hello.bst --directory "$work/co-remote" \
  >/dev/null 2>"$work/co-remote.err" || fail "checkout: $(cat "$work/co-remote.err")"
"$cairn" -C "$project" show --format '%{name} %{full-key}' hello.bst >"$work/keys-remote"
export XDG_CACHE_HOME=$work/cache-bwrap
"$cairn" -C "$project" --sandbox bwrap build hello.bst >"$work/build-bwrap.out" 2>&1 ||
  fail "bwrap build: $(cat "$work/build-bwrap.out")"
"$cairn" -C "$project" artifact checkout hello.bst --directory "$work/co-bwrap" >/dev/null 2>&1 ||
  fail "bwrap checkout"
"$cairn" -C "$project" show --format '%{name} %{full-key}' hello.bst >"$work/keys-bwrap"
cmp -s "$work/keys-remote" "$work/keys-bwrap" || fail "cache keys differ between sandboxes"
diff -r "$work/co-remote" "$work/co-bwrap" >"$work/diff" || fail "checkouts differ: $(cat "$work/diff")"

# cairn config shows where execution goes, including a storage-service.
cat >>"$XDG_CONFIG_HOME/cairn/config.yaml" <<YAML
  storage-service:
    url: grpc://127.0.0.1:$port
YAML
"$cairn" config >"$work/config.out" 2>&1 || fail "cairn config: $(cat "$work/config.out")"
grep -q "storage-service:" "$work/config.out" || fail "cairn config: no storage-service: $(cat "$work/config.out")"
"$cairn" --sandbox remote run --root "$root" -- /bin/busybox true >/dev/null 2>"$work/split.err" ||
  fail "run with a storage-service: $(cat "$work/split.err")"

# A misspelt option is named with its place in the file.
printf '  bogus: 1\n' >>"$XDG_CONFIG_HOME/cairn/config.yaml"
"$cairn" --sandbox remote run --root "$root" -- /bin/busybox true >/dev/null 2>"$work/bogus.err"
[ $? -eq 3 ] || fail "an unknown key did not exit 3: $(cat "$work/bogus.err")"
grep -q "config.yaml:[0-9]*:[0-9]*" "$work/bogus.err" || fail "no FILE:LINE:COLUMN: $(cat "$work/bogus.err")"
sed -i '/bogus/d' "$XDG_CONFIG_HOME/cairn/config.yaml"

# Ctrl-C during a remote execution: cairn stops at once with 130, and its
# CancelOperation stops the command on the server too (a sleep of a length
# no other test uses, so a parallel test cannot look like it).
"$cairn" -v --sandbox remote run --root "$root" -- /bin/busybox sleep 4711 >"$work/int.out" 2>&1 &
pid=$!
i=0
until grep -q "remote: executing" "$work/int.out"; do
  i=$((i + 1)); [ $i -lt 200 ] || fail "the remote sleep never started: $(cat "$work/int.out")"
  sleep 0.1
done
kill -INT $pid
i=0
while kill -0 $pid 2>/dev/null; do
  i=$((i + 1)); [ $i -lt 50 ] || fail "cairn still runs 5 s after Ctrl-C"
  sleep 0.1
done
code=0; wait $pid || code=$?
[ $code -eq 130 ] || fail "Ctrl-C: exit code $code, not 130: $(cat "$work/int.out")"
i=0
while pgrep -f "sleep 4711" >/dev/null; do
  i=$((i + 1)); [ $i -lt 100 ] || fail "the server still runs the cancelled command after 10 s"
  sleep 0.1
done

# The server down: a bounded retry sequence, then an error naming it.
stop_server main
"$cairn" --sandbox remote run --root "$root" -- /bin/busybox echo new-action >/dev/null \
  2>"$work/down.err"
code=$?
[ $code -ne 0 ] || fail "a run against a stopped server succeeded"
grep -q "grpc://127.0.0.1:$port" "$work/down.err" || fail "the error does not name the server: $(cat "$work/down.err")"
grep -q "UNAVAILABLE" "$work/down.err" || fail "the error does not say UNAVAILABLE: $(cat "$work/down.err")"
echo "PASS"
