#!/usr/bin/env bash
# Checks the server's ahead-of-time cache (JDK 25+): a first `server start-dev` records what it
# uses when it stops, the next one turns that into the cache and starts from it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
JAVA_HOME="$(./perdura java-home)"
version="$("$JAVA_HOME/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | sed -n 1p)"
if (( version < 25 )); then
  echo "launcher-aot-test: not applicable, the launcher's JDK is $version"
  exit 0
fi
work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid"
    wait "$server_pid" || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "launcher-aot-test: $*" >&2
  for log in "$work"/*.log; do
    echo "--- $log" >&2
    cat "$log" >&2
  done
  exit 1
}

# Starts a server on a free port and waits until it listens; sets server_pid.
start_server() {
  local log="$1"
  PERDURA_AOT_MIN_TRAINING_SECONDS=1 ./perdura server start-dev --port 0 --in-memory >"$log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 600); do
    grep -q "listening on" "$log" && return 0
    kill -0 "$server_pid" 2>/dev/null || fail "the server of $log exited"
    sleep 0.2
  done
  fail "the server of $log did not start"
}

stop_server() {
  kill "$server_pid"
  wait "$server_pid" || true
}

# Builds what is stale first, so that the waits below are for the server alone.
./perdura server --help >/dev/null
rm -rf target/aot
start_server "$work/first.log"
grep -q "this run records" "$work/first.log" || fail "the first run did not say it records"
[[ "$(tr '\0' ' ' <"/proc/$server_pid/cmdline")" == *"-XX:AOTMode=record"* ]] || fail "the first run does not record"
sleep 2
stop_server
ls target/aot/recorded-*.aotconf >/dev/null 2>&1 || fail "nothing was recorded when the first run stopped"

start_server "$work/second.log"
cmdline="$(tr '\0' ' ' <"/proc/$server_pid/cmdline")"
grep -q "ahead-of-time cache written" "$work/second.log" || fail "the second run did not write the cache"
[[ "$cmdline" == *"-XX:AOTCache=$PWD/target/aot/perdura-server-"* ]] || fail "the second run does not use the cache: $cmdline"
if grep -q "\[error" "$work/second.log"; then
  fail "the JVM could not use the cache"
fi
stop_server

# Other JVM options record a cache of their own; the recording of an ended run with other options
# is dropped when the launcher next looks.
PERDURA_SERVER_JAVA_OPTS="-Xmx96m -Dperdura.aot.check=other" start_server "$work/other.log"
grep -q "this run records" "$work/other.log" || fail "a run with other options did not record its own"
stop_server
ls target/aot/recording-*-* >/dev/null 2>&1 || fail "the run with other options left no marker"
start_server "$work/third.log"
cmdline="$(tr '\0' ' ' <"/proc/$server_pid/cmdline")"
[[ "$cmdline" == *"-XX:AOTCache=$PWD/target/aot/perdura-server-"* ]] || fail "the third run does not use the cache: $cmdline"
stop_server
if ls target/aot/recording-*-* target/aot/recorded-* >/dev/null 2>&1; then
  fail "the ended recording with other options was not dropped: $(ls target/aot)"
fi
echo "launcher-aot-test: ok ($(ls target/aot))"
