# Sourced after project_fixture.sh by the tests that need real cairn-server
# processes on 127.0.0.1:
#   server_binary=$(realpath "$2"); . project_fixture.sh; . server_fixture.sh
# start_server NAME [FLAGS...]  starts one (store in $work/server-NAME, its
#                               output in $work/NAME.out and NAME.err), waits
#                               until it listens, sets $port and $pid_NAME
# stop_server NAME              stops it (SIGTERM, then waits)
# Every server still running is stopped on exit.
server_pids=""
start_server() {
  name=$1
  shift
  : >"$work/$name.out"
  "$server_binary" --listen grpc://127.0.0.1:0 --cache-dir "$work/server-$name" "$@" \
    >"$work/$name.out" 2>"$work/$name.err" &
  eval "pid_$name=$!"
  server_pids="$server_pids $!"
  i=0
  until grep -q "listening on" "$work/$name.out"; do
    i=$((i + 1))
    [ $i -lt 100 ] || fail "cairn-server $name did not start: $(cat "$work/$name.err")"
    sleep 0.1
  done
  port=$(sed -n 's/.*grpc:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/$name.out" | head -1)
}
stop_server() {
  eval "pid=\$pid_$1"
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
}
stop_servers() {
  for pid in $server_pids; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
}
trap 'stop_servers; cleanup' EXIT
