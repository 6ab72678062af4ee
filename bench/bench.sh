#!/usr/bin/env bash
# Throughput and memory of the analyzer on a large generated capture
# (default 1 GiB): `flows --json` (reassembly only), `analyze --json` (the
# mail dialogues, messages, hashes) and `extract` (the same, writing every
# message and attachment to disk), compared with tshark reading the file.
#
#   bench/bench.sh [SIZE]        e.g. bench/bench.sh 200MiB
#
# The capture is made once by ../shared/bench/make-mail-pcap.py into target/
# and reused. Timings are printed, never asserted.
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1GiB}
pcap=target/bench/mail-$size.pcap
mkdir -p target/bench
if [ ! -f "$pcap" ]; then
  echo "generating $pcap ..."
  python3 ../shared/bench/make-mail-pcap.py --size "$size" --out "$pcap" --seed 1 -q
fi
cargo build --release --quiet
bytes=$(stat -c %s "$pcap")
cat "$pcap" > /dev/null   # into the page cache

measure() { # label, command...
  local label=$1; shift
  local t0 t1 rss
  t0=$(date +%s.%N)
  rss=$( { /usr/bin/time -f '%M' "$@" > /dev/null; } 2>&1 | tail -1 )
  t1=$(date +%s.%N)
  python3 - "$label" "$t0" "$t1" "$bytes" "$rss" <<'PY'
import sys
label, t0, t1, size, rss = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
secs = t1 - t0
print(f"{label:<28} {secs:8.2f} s  {size/secs/1e9:6.2f} GB/s  peak RSS {rss/1024:7.1f} MiB")
PY
}

echo "input: $pcap ($bytes bytes)"
measure "mailscope flows --json" target/release/mailscope flows --json --quiet "$pcap"
measure "mailscope analyze --json" target/release/mailscope analyze --json --quiet "$pcap"
out=target/bench/extract
rm -rf "$out"
measure "mailscope extract" target/release/mailscope extract --quiet "$pcap" -o "$out"
echo "extract wrote $(find "$out/messages" -type f | wc -l) messages, $(du -sh "$out" | cut -f1)"
rm -rf "$out"
if command -v tshark > /dev/null && [ "${BENCH_TSHARK:-1}" = 1 ]; then
  measure "tshark -q -z conv,tcp" tshark -r "$pcap" -q -z conv,tcp
fi
