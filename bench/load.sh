#!/usr/bin/env bash
# Load benchmark of the embedded SMTP server: N concurrent sessions sending
# for a fixed time; prints messages/s, p50/p99 latency and lost/duplicated
# messages (both must be 0). Usage: bench/load.sh [SESSIONS] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
SESSIONS="${1:-1000}"
SECONDS_="${2:-10}"
# Each session needs two sockets in this process (client and server side).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
cargo build --release --quiet --example smtp_load
echo "== disk store =="
./target/release/examples/smtp_load --sessions "$SESSIONS" --seconds "$SECONDS_"
echo "== memory store =="
./target/release/examples/smtp_load --sessions "$SESSIONS" --seconds "$SECONDS_" --memory
