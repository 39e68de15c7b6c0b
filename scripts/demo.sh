#!/usr/bin/env bash
# Starts a single-node kvhoard server with embedded defaults (in a temporary data directory),
# shows a put, a get and a lookup against it, prints its stats, and stops it with SIGTERM.
# Run after `mvn -q -B -DskipTests package`. Needs only a JDK 17.
set -euo pipefail
cd "$(dirname "$0")/.."
JAR=cache-server/target/kvhoard.jar
kv() { java -jar "$JAR" "$@"; }
[ -f "$JAR" ] || { echo "demo: $JAR is missing; run: mvn -q -B -DskipTests package" >&2; exit 1; }

DATA=$(mktemp -d)
java -jar "$JAR" serve --data-dir "$DATA/data" --host-capacity 256m --disk-capacity 1g &
PID=$!
cleanup() { kill -TERM "$PID" 2>/dev/null; wait "$PID" 2>/dev/null || true; rm -rf "$DATA"; }
trap cleanup EXIT

for _ in $(seq 100); do # wait for the data port (bash's /dev/tcp: no curl needed)
  if (exec 3<>/dev/tcp/127.0.0.1/7470) 2>/dev/null; then break; fi
  kill -0 "$PID" 2>/dev/null || { echo "demo: the server did not start" >&2; exit 1; }
  sleep 0.2
done

K1=$(printf '%064x' 1) # two block keys of one prompt (64 hex digits each)
K2=$(printf '%064x' 2)
head -c 2097152 /dev/urandom > "$DATA/block" # a 2 MiB block, like 16 tokens of an 8B model
echo "--- put $K1 (2 MiB)"
kv put --key "$K1" < "$DATA/block"
echo "--- get $K1"
kv get --key "$K1" > "$DATA/back"
cmp "$DATA/block" "$DATA/back" && echo "the same 2 MiB came back, bit for bit"
echo "--- lookup: how much of the prompt [$K1, $K2] is cached?"
kv lookup --key "$K1" --key "$K2"
echo "--- stats (http://127.0.0.1:7472/stats; Prometheus metrics at /metrics)"
kv stats
