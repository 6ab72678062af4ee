#!/usr/bin/env bash
# Soak test of `mailscope serve`: SESSIONS concurrent sessions sending,
# reading and deleting for SECONDS, with the server killed (SIGKILL) and
# restarted every 5–15 s; then the store is checked against what the
# clients were told (lost and duplicated messages must both be 0).
# Usage: bench/soak.sh [SESSIONS] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
SESSIONS="${1:-1000}"
SECONDS_="${2:-600}"
# Client and server sockets of every session.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
cargo build --release --quiet --bin mailscope --example soak
./target/release/examples/soak --sessions "$SESSIONS" --seconds "$SECONDS_"
