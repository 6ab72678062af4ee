#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 600), JOBS at a time
# (default 2), and prints one line per target: executions, coverage and
# what it found. Crashing inputs land in artifacts/<target>/.
# Usage: fuzz/run-all.sh [SECONDS] [JOBS]   (after `cargo fuzz build -O`)
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_="${1:-600}"
JOBS="${2:-2}"
BIN="${CARGO_TARGET_DIR:-target}/x86_64-unknown-linux-gnu/release"
LOGS=logs
mkdir -p "$LOGS"
run() {
    local t="$1"
    mkdir -p "artifacts/$t" "corpus/$t"
    nice -n 19 "$BIN/$t" -max_total_time="$SECONDS_" -rss_limit_mb=2048 -timeout=10 \
        -print_final_stats=1 -artifact_prefix="artifacts/$t/" "corpus/$t" > "$LOGS/$t.log" 2>&1 || true
    local execs cov found
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$LOGS/$t.log" | grep -o '[0-9]*$' || echo "?")
    cov=$(grep -o 'cov: [0-9]*' "$LOGS/$t.log" | tail -1 | grep -o '[0-9]*' || echo "?")
    found=$(ls "artifacts/$t" | wc -l)
    echo "$t: $execs executions, coverage $cov, $found artifact(s)"
}
export -f run
export BIN SECONDS_ LOGS
printf '%s\n' capture_reader pipeline tcp_assembler smtp pop3 imap imap_grammar tls_records mime packet_filter |
    xargs -P "$JOBS" -I{} bash -c 'run {}'
