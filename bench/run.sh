#!/usr/bin/env bash
# Benchmarks guestissuer against the Node.js peer on loopback and prints a
# Markdown table of requests per second, p50 and p99 latency, peak resident
# memory and ratios. docs/benchmarks.md explains the method and the results.
#
#   bench/run.sh                      # 64 connections, 10 s, 3 rounds
#   DURATION=30s CONNECTIONS=64 bench/run.sh
#   PROFILE=guests-mint bench/run.sh  # also records that target with perf
#
# Needs cargo, node with npm, and wrk (installed with apt-get when missing).
# Every server listens on 127.0.0.1 only, and each one is stopped when its
# run ends.
set -euo pipefail
cd "$(dirname "$0")/.."

CONNECTIONS=${CONNECTIONS:-64}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-3s}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-3}
CONFIG=${CONFIG:-config/production.example.toml}
WORK=${BENCH_DIR:-target/bench}

# Prints a loopback port that is free now.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
SERVER_PORT=${SERVER_PORT:-$(free_port)}
EMULATOR_PORT=${EMULATOR_PORT:-$(free_port)}
PEER_PORT=${PEER_PORT:-$(free_port)}
METRICS_PORT=${METRICS_PORT:-$(free_port)}
# Demo issuer from config/default.toml, which the emulator accepts; the
# peer signs with the same secret.
ISSUER_ID="Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi82ZjFjMmE0ZS04YjNkLTRjN2EtOWU1Zi0yZDFiMGE5YzhlN2Y"
SECRET_BASE64="X6WncCJD+d4V9DXM4yTgdVzFNi4P7Jzbh5tTGvLmiQw="
# The userId matches the production example's user_id_pattern "www-[0-9]+".
GUEST_BODY='{"userId":"www-1001","userName":"Bench Guest"}'
BINARY=target/release/guestissuer

PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT

fail() {
  echo "bench: $*" >&2
  exit 1
}

# Installs wrk from Debian's packages when it is missing.
ensure_wrk() {
  command -v wrk >/dev/null && return
  command -v apt-get >/dev/null || fail "wrk is missing; install it with your package manager"
  echo "bench: installing wrk with apt-get" >&2
  apt-get install -y wrk >/dev/null || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; } \
    || fail "apt-get could not install wrk; install it by hand"
}

# Fails when something already accepts connections on 127.0.0.1:$1, so
# that the benchmark never measures a server it did not start.
ensure_port_free() {
  if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
    fail "port $1 is already in use; set SERVER_PORT, EMULATOR_PORT or PEER_PORT"
  fi
}

# Waits until something accepts connections on 127.0.0.1:$1.
wait_for_port() {
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return
    sleep 0.1
  done
  fail "nothing listens on 127.0.0.1:$1 after 10 s; see $WORK/*.err"
}

# Prints the summed peak resident memory (VmHWM, KiB) of a process and its
# children.
peak_rss_kib() {
  local total=0 pid kib
  for pid in "$1" $(pgrep -P "$1" || true); do
    kib=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    total=$((total + ${kib:-0}))
  done
  echo "$total"
}

# Prints the CPU time (user + system, clock ticks) that a process and its
# children have used so far.
cpu_ticks() {
  local total=0 pid ticks
  for pid in "$1" $(pgrep -P "$1" || true); do
    ticks=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)
    total=$((total + ${ticks:-0}))
  done
  echo "$total"
}

# Prints how busy the CPUs are (percent of all cores over one second)
# while the benchmark itself sends no load: the share other programs take.
background_cpu_percent() {
  local before after
  before=$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6}' /proc/stat)
  sleep 1
  after=$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6}' /proc/stat)
  awk -v b="$before" -v a="$after" 'BEGIN {
    split(b, x, " "); split(a, y, " ")
    busy = y[1] - x[1]; idle = y[2] - x[2]
    printf("%.0f", (busy + idle > 0) ? 100 * busy / (busy + idle) : 0)
  }'
}

# Converts a wrk latency such as 812.00us, 1.20ms or 1.02s to milliseconds.
to_ms() {
  awk -v value="$1" 'BEGIN {
    number = value + 0
    if (value ~ /us$/) number /= 1000
    else if (value ~ /ms$/) number *= 1
    else if (value ~ /s$/) number *= 1000
    printf "%.3f", number
  }'
}

# Runs wrk against one target: warm-up first, then the measured run.
# Arguments: name, pid, method, path, body. Appends a result line.
measure() {
  local name=$1 pid=$2 method=$3 path=$4 body=$5 port=${6:-$SERVER_PORT}
  local url="http://127.0.0.1:$port$path" output
  export BENCH_METHOD=$method BENCH_BODY=$body
  local background
  background=$(background_cpu_percent)
  wrk -t "$THREADS" -c "$CONNECTIONS" -d "$WARMUP" -s bench/post.lua "$url" >/dev/null
  local perf_pid=""
  if [ "${PROFILE:-}" = "$name" ]; then
    command -v perf >/dev/null || fail "PROFILE needs perf (Debian package linux-perf)"
    perf record -F 499 -g -p "$pid" -o "$WORK/$name.perf.data" -- sleep "$DURATION" >/dev/null 2>&1 &
    perf_pid=$!
  fi
  local ticks_before ticks_after
  ticks_before=$(cpu_ticks "$pid")
  output=$(wrk -t "$THREADS" -c "$CONNECTIONS" -d "$DURATION" --latency -s bench/post.lua "$url")
  ticks_after=$(cpu_ticks "$pid")
  echo "$output" >"$WORK/$name.wrk.txt"
  if [ -n "$perf_pid" ]; then
    wait "$perf_pid" || true
    summarize_profile "$WORK/$name.perf.data" >"$WORK/$name.profile.txt"
    echo "bench: profile of $name in $WORK/$name.profile.txt" >&2
  fi

  local rps p50 p99 errors rss requests cpu_us
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$output")
  requests=$(awk '/ requests in / {print $1}' <<<"$output")
  cpu_us=$(awk -v ticks=$((ticks_after - ticks_before)) -v hz="$(getconf CLK_TCK)" -v n="$requests" \
    'BEGIN { printf("%.1f", (n > 0) ? ticks * 1000000 / hz / n : 0) }')
  p50=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$output")")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$output")")
  errors=$(awk '/Non-2xx or 3xx responses:/ {print $5}' <<<"$output")
  rss=$(peak_rss_kib "$pid")
  echo "$name $rps $p50 $p99 $rss ${errors:-0} $cpu_us $background" >>"$WORK/results.txt"
  echo "bench: $name: $rps req/s, p50 $p50 ms, p99 $p99 ms, peak RSS $((rss / 1024)) MiB," \
    "server CPU $cpu_us us/request, non-2xx ${errors:-0}, background CPU $background%" >&2
}

# Prints where a perf recording spent its samples: by binary, then the
# functions with the most samples of their own.
# `head` closes the pipe early, which pipefail would report as a failure.
summarize_profile() {
  perf report -i "$1" --stdio --no-children --sort dso 2>/dev/null | grep -E '^ +[0-9]' | head -8 || true
  echo
  perf report -i "$1" --stdio --no-children --sort dso,symbol -g none 2>/dev/null \
    | grep -E '^ +[0-9]' | sed 's/ \{2,\}/ /g' | head -40 || true
}

# Writes $WORK/bench.toml: the production example with a fresh API key in
# place of its placeholder hash, and that key's own rate limit raised so
# that the limiter runs on every request without rejecting any. Exports
# the key for bench/post.lua.
prepare_config() {
  grep -q '^sha256 = "REPLACE_ME' "$CONFIG" || fail "$CONFIG has no api key entry with a REPLACE_ME sha256"
  local key hash
  key=$("$BINARY" keygen --client bench 2>/dev/null)
  hash=$(printf %s "$key" | sha256sum | cut -d' ' -f1)
  sed -e "s/^sha256 = \"REPLACE_ME[^\"]*\"/sha256 = \"$hash\"/" \
    -e 's/^per_minute = .*/per_minute = 600000000/' \
    -e 's/^burst = .*/burst = 10000000/' \
    "$CONFIG" >"$WORK/bench.toml"
  printf %s "$SECRET_BASE64" >"$WORK/issuer-secret"
  export BENCH_AUTHORIZATION="Bearer $key"
}

# Stops a process and waits until it has exited.
stop() {
  kill "$1" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "$1" 2>/dev/null || true
}

# Runs one guestissuer target on a fresh process, so its peak memory is its
# own. Arguments: name, method, path, body.
run_ours() {
  local pid
  ensure_port_free "$SERVER_PORT"
  GUESTISSUER__SERVER__LISTEN="127.0.0.1:$SERVER_PORT" \
    GUESTISSUER__WEBEX__BASE_URL="http://127.0.0.1:$EMULATOR_PORT/v1" \
    GUESTISSUER__METRICS__LISTEN="127.0.0.1:$METRICS_PORT" \
    GUESTISSUER__ISSUER__ID="$ISSUER_ID" \
    GUESTISSUER__ISSUER__SECRET_FILE="$WORK/issuer-secret" \
    "$BINARY" serve --config "$WORK/bench.toml" >/dev/null 2>>"$WORK/server.err" &
  pid=$!
  PIDS+=("$pid")
  wait_for_port "$SERVER_PORT"
  measure "$1" "$pid" "$2" "$3" "$4"
  stop "$pid"
}

# Runs the Node.js peer with $1 workers.
run_peer() {
  local workers=$1 pid
  ensure_port_free "$PEER_PORT"
  PORT=$PEER_PORT ISSUER=$ISSUER_ID SECRET=$SECRET_BASE64 WORKERS=$workers \
    node "$WORK/node-mint/server.js" >/dev/null 2>"$WORK/peer.err" &
  pid=$!
  PIDS+=("$pid")
  wait_for_port "$PEER_PORT"
  sleep 0.5
  measure "node-$workers-worker" "$pid" POST /guests "$GUEST_BODY" "$PEER_PORT"
  for child in $(pgrep -P "$pid" || true); do
    stop "$child"
  done
  stop "$pid"
}

main() {
  [ -f "$CONFIG" ] || fail "configuration $CONFIG not found; set CONFIG=FILE"
  ensure_wrk
  command -v npm >/dev/null || fail "npm is missing; install Node.js with npm"
  mkdir -p "$WORK"
  : >"$WORK/results.txt"
  : >"$WORK/server.err"

  echo "bench: building the release binary" >&2
  cargo build --release --locked --quiet
  prepare_config

  echo "bench: installing the Node.js peer's dependencies in $WORK/node-mint" >&2
  rm -rf "$WORK/node-mint"
  cp -r bench/peers/node-mint "$WORK/node-mint"
  (cd "$WORK/node-mint" && npm install --no-audit --no-fund --silent >/dev/null)

  ensure_port_free "$EMULATOR_PORT"
  "$BINARY" emulate --listen "127.0.0.1:$EMULATOR_PORT" >/dev/null 2>"$WORK/emulator.err" &
  PIDS+=("$!")
  wait_for_port "$EMULATOR_PORT"

  # Rounds interleave the targets, so a burst of load from other programs
  # on the machine hits one round of each rather than every round of one.
  for round in $(seq 1 "$ROUNDS"); do
    echo "bench: round $round of $ROUNDS" >&2
    run_ours ceiling-healthz GET /healthz ""
    run_ours guests-mint POST /guests "$GUEST_BODY"
    run_ours guests-login-cached POST /guests/login "$GUEST_BODY"
    run_peer 1
    run_peer 2
  done

  bench/report.sh "$WORK/results.txt"
}

main "$@"
