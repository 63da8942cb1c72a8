#!/bin/sh
# cairn-server's command line: help, version, bad options and
# configuration (exit 2), an address in use (exit 1), the bound port
# printed, the gRPC health service, and SIGTERM letting a call in flight
# (a ByteStream read) finish before exiting 0.
#
# Usage: cli_test.sh CAIRN_SERVER PLUGIN_DIR
set -u
server=$1
plugins=$2
# bytestream_client.py, beside this script, for the Python steps.
CAIRN_TEST_DIR=$(cd "$(dirname "$0")" && pwd)
export CAIRN_TEST_DIR
work=$(mktemp -d /tmp/cairn-server-cli-XXXXXX)
pids=""
cleanup() {
  for pid in $pids; do kill -KILL "$pid" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# The python with grpcio (the system one; a pyenv shim may lack it).
python=""
for candidate in /usr/bin/python3 python3; do
  if "$candidate" -c 'import grpc' 2>/dev/null; then
    python=$candidate
    break
  fi
done

# expect_exit CODE NAME -- COMMAND...: runs COMMAND (bounded), output in
# $work/NAME.out and $work/NAME.err; fails unless it exits with CODE.
expect_exit() {
  code=$1 name=$2
  shift 3
  timeout 30 "$@" >"$work/$name.out" 2>"$work/$name.err"
  got=$?
  [ "$got" = "$code" ] || fail "$name: exit $got, expected $code; stderr: $(cat "$work/$name.err")"
}
# expect_in FILE TEXT NAME: fails unless FILE holds TEXT.
expect_in() {
  grep -qF -- "$2" "$1" || fail "$3: '$2' not in $(basename "$1"): $(cat "$1")"
}

# start_server NAME ARGS...: starts the server in the background; sets
# $pid and $port from its "listening on" line (waits up to 30 s).
start_server() {
  name=$1
  shift
  "$server" --plugin-path "$plugins" "$@" >"$work/$name.out" 2>"$work/$name.err" &
  pid=$!
  pids="$pids $pid"
  port=""
  for _ in $(seq 300); do
    port=$(sed -n 's|^cairn-server: listening on grpc://127\.0\.0\.1:\([0-9]*\)$|\1|p' \
      "$work/$name.out")
    [ -n "$port" ] && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  fail "$name: no 'listening on' line; stderr: $(cat "$work/$name.err")"
  return 1
}

# wait_exit PID: waits for PID to end (up to 60 s); sets $status.
wait_exit() {
  for _ in $(seq 600); do
    kill -0 "$1" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$1" 2>/dev/null; then
    fail "process $1 did not exit"
    kill -KILL "$1"
  fi
  wait "$1"
  status=$?
}

# --help and --version
expect_exit 0 help -- "$server" --help
expect_in "$work/help.out" "Usage: cairn-server [OPTIONS]" help
expect_in "$work/help.out" "--listen URL" help
expect_exit 0 version -- "$server" --version
grep -qE '^cairn-server [0-9]+\.[0-9]+' "$work/version.out" ||
  fail "version: $(cat "$work/version.out")"

# Bad options: exit 2 with a message naming the problem.
expect_exit 2 unknown -- "$server" --frobnicate
expect_in "$work/unknown.err" "unknown option '--frobnicate'" unknown
expect_exit 2 no-value -- "$server" --listen
expect_in "$work/no-value.err" "--listen needs a value" no-value
expect_exit 2 bad-url -- "$server" --listen http://127.0.0.1:1 --cache-dir "$work/cache"
expect_in "$work/bad-url.err" "http://127.0.0.1:1" bad-url
expect_exit 2 bad-executions -- "$server" --listen grpc://127.0.0.1:0 --executions 0
expect_in "$work/bad-executions.err" "--executions" bad-executions
expect_exit 2 bad-log-level -- "$server" --listen grpc://127.0.0.1:0 --cache-dir "$work/cache" \
  --log-level loud
expect_in "$work/bad-log-level.err" "loud" bad-log-level
expect_exit 2 bad-metrics -- "$server" --listen grpc://127.0.0.1:0 --cache-dir "$work/cache" \
  --metrics-listen 127.0.0.1
expect_in "$work/bad-metrics.err" "'127.0.0.1'" bad-metrics
expect_exit 2 no-listen -- "$server" --cache-dir "$work/cache"
expect_in "$work/no-listen.err" "no listen address" no-listen

# A configuration error names FILE:LINE:COLUMN.
printf 'listen: [grpc://127.0.0.1:0]\nsandbx: {plugin: none}\n' >"$work/bad.yaml"
expect_exit 2 bad-config -- "$server" --config "$work/bad.yaml"
expect_in "$work/bad-config.err" "$work/bad.yaml:2:1: " bad-config
expect_in "$work/bad-config.err" "sandbx" bad-config
printf 'listen: [grpcs://127.0.0.1:0]\n' >"$work/no-tls.yaml"
expect_exit 2 grpcs-without-tls -- "$server" --config "$work/no-tls.yaml"
expect_in "$work/grpcs-without-tls.err" "tls.certificate" grpcs-without-tls
expect_exit 2 missing-config -- "$server" --config "$work/missing.yaml"
expect_in "$work/missing-config.err" "$work/missing.yaml" missing-config

# Port 0: the bound port is printed. Flags override the file.
printf 'listen: [grpc://127.0.0.1:1]\ncache-dir: cache\nsandbox: {plugin: none}\n' \
  >"$work/server.yaml"
if start_server first --config "$work/server.yaml" --listen grpc://127.0.0.1:0; then
  [ "$port" -gt 0 ] || fail "port 0: printed port $port"
  [ -d "$work/cache" ] || fail "cache-dir: relative to the file: no $work/cache"

  # An address in use: exit 1, naming it.
  expect_exit 1 in-use -- "$server" --plugin-path "$plugins" --config "$work/server.yaml" \
    --listen "grpc://127.0.0.1:$port"
  expect_in "$work/in-use.err" "grpc://127.0.0.1:$port" in-use

  if [ -n "$python" ]; then
    # The health service says SERVING (HealthCheckResponse status=1 is
    # the bytes 08 01; the request is an empty message).
    health=$(timeout 30 "$python" - "$port" <<'EOF'
import sys, grpc
channel = grpc.insecure_channel("127.0.0.1:" + sys.argv[1])
check = channel.unary_unary("/grpc.health.v1.Health/Check")
print(check(b"", timeout=10).hex())
EOF
    )
    [ "$health" = "0801" ] || fail "health: Check answered '$health', expected 0801 (SERVING)"

    # SIGTERM while a ByteStream read is in flight (its first chunk has
    # arrived, so the server is inside the call): the read still
    # completes, then the server exits 0.
    timeout 60 "$python" - "$port" "$pid" "$work/first.err" >"$work/drain.out" 2>&1 <<'EOF'
import os, signal, sys, grpc
sys.path.insert(0, os.environ["CAIRN_TEST_DIR"])
from bytestream_client import data_of, open_read, upload_random, wait_for_log

port, pid, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
channel = grpc.insecure_channel("127.0.0.1:" + port)
data, digest = upload_random(channel, 16 << 20, "5b7e2a30-8c1d-4e8f-9a6b-0c1d2e3f4a5b")
responses = open_read(channel, digest, timeout=30)
received = data_of(next(responses))
os.kill(pid, signal.SIGTERM)
wait_for_log(log, "SIGTERM")
for response in responses:
    received += data_of(response)
print("complete" if received == data else "got %d of %d bytes" % (len(received), len(data)))
EOF
    grep -qx complete "$work/drain.out" ||
      fail "drain: the read in flight did not complete: $(cat "$work/drain.out")"
  else
    echo "note: no python3 with grpcio; health and drain checks skipped" >&2
    kill -TERM "$pid"
  fi
  wait_exit "$pid"
  [ "$status" = 0 ] || fail "SIGTERM: exit $status, expected 0; stderr: $(cat "$work/first.err")"
  expect_in "$work/first.err" "stopped" sigterm
fi

# A second signal while a call holds the drain up stops the server at
# once with status 1: the client keeps a ByteStream read open without
# reading, and stays until the server is gone.
if [ -n "$python" ] &&
  start_server third --config "$work/server.yaml" --listen grpc://127.0.0.1:0; then
  timeout 60 "$python" - "$port" "$pid" "$work/third.err" >"$work/force.out" 2>&1 <<'EOF'
import os, signal, sys, time, grpc
sys.path.insert(0, os.environ["CAIRN_TEST_DIR"])
from bytestream_client import open_read, upload_random, wait_for_log

def gone(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[1][0] == "Z"
    except FileNotFoundError:
        return True

port, pid, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
channel = grpc.insecure_channel("127.0.0.1:" + port)
data, digest = upload_random(channel, 16 << 20, "0f1e2d3c-4b5a-4697-8877-665544332211")
responses = open_read(channel, digest, timeout=50)
next(responses)
os.kill(pid, signal.SIGTERM)
wait_for_log(log, "SIGTERM")
os.kill(pid, signal.SIGINT)
deadline = time.time() + 20
while not gone(pid):
    if time.time() > deadline:
        raise SystemExit("the server is still running 20 s after the second signal")
    time.sleep(0.05)
print("gone")
EOF
  grep -qx gone "$work/force.out" || fail "second signal: $(cat "$work/force.out")"
  wait_exit "$pid"
  [ "$status" = 1 ] || fail "second signal: exit $status, expected 1"
  expect_in "$work/third.err" "second signal" second-signal
fi

# SIGINT stops it too.
if start_server second --listen grpc://127.0.0.1:0 --cache-dir "$work/cache2"; then
  kill -INT "$pid"
  wait_exit "$pid"
  [ "$status" = 0 ] || fail "SIGINT: exit $status, expected 0"
fi

if [ "$failures" -gt 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "all cairn-server command-line checks passed"
