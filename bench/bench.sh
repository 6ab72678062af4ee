#!/usr/bin/env bash
# Throughput and memory of the analyzer on a large generated capture
# (default 1 GiB): `cat` (the ceiling), `flows --json` (reassembly only),
# `analyze --json` on 1 and on N threads (the mail dialogues, messages,
# hashes; THREADS=N, default the machine's cores) and `extract` on 1 and N
# threads (the same, writing every message and attachment into EXTRACT_DIR,
# default target/bench/extract; a tmpfs such as /dev/shm/x takes the disk's
# write-back out of the figure), `shard -n N` into the same place, compared
# with tshark
# dissecting the mail protocols; then the ratios between them.
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
bytes=$(stat -L -c %s "$pcap")
cat "$pcap" > /dev/null   # into the page cache

threads=${THREADS:-$(nproc)}
declare -A secs
measure() { # key, label, command...
  local key=$1 label=$2; shift 2
  local t0 t1 rss
  t0=$(date +%s.%N)
  rss=$( { /usr/bin/time -f '%M' "$@" > /dev/null; } 2>&1 | tail -1 )
  t1=$(date +%s.%N)
  secs[$key]=$(python3 -c "print($t1 - $t0)")
  python3 - "$label" "${secs[$key]}" "$bytes" "$rss" <<'PY'
import sys
label, secs, size, rss = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
print(f"{label:<44} {secs:8.2f} s  {size/secs/1e9:6.2f} GB/s  peak RSS {rss/1024:7.1f} MiB")
PY
}
ratio() { # label, numerator key, denominator key
  [ -n "${secs[$2]:-}" ] && [ -n "${secs[$3]:-}" ] || return 0
  python3 -c "print(f'{\"$1\":<44} {${secs[$2]} / ${secs[$3]}:8.2f}x')"
}

echo "input: $pcap ($bytes bytes), $threads threads, $(nproc) cores"
measure cat "cat (the ceiling)" cat "$pcap"
measure flows "mailscope flows --json --threads 1" \
  target/release/mailscope flows --json --quiet --threads 1 "$pcap"
measure analyze1 "mailscope analyze --json --threads 1" \
  target/release/mailscope analyze --json --quiet --threads 1 "$pcap"
measure analyzeN "mailscope analyze --json --threads $threads" \
  target/release/mailscope analyze --json --quiet --threads "$threads" "$pcap"
out=${EXTRACT_DIR:-target/bench/extract}
rm -rf "$out"
measure extract1 "mailscope extract --threads 1" \
  target/release/mailscope extract --quiet --threads 1 "$pcap" -o "$out"
echo "extract wrote $(find "$out/messages" -type f | wc -l) messages, $(du -sh "$out" | cut -f1)"
rm -rf "$out"
measure extractN "mailscope extract --threads $threads" \
  target/release/mailscope extract --quiet --threads "$threads" "$pcap" -o "$out"
rm -rf "$out"
# shard (issue 19): the capture split into THREADS pcapng files by the
# flow hash, in one pass; it must keep up with `flows`.
measure shard "mailscope shard -n $threads" \
  target/release/mailscope shard --quiet -n "$threads" -o "$out" "$pcap"
rm -rf "$out"
# tshark dissecting the mail protocols (what a person would run to see the
# same dialogues); minutes on a large file, BENCH_TSHARK=0 skips it.
if command -v tshark > /dev/null && [ "${BENCH_TSHARK:-1}" = 1 ]; then
  measure tshark "tshark -Y 'smtp || pop || imap'" \
    tshark -r "$pcap" -Y "smtp || pop || imap" -T fields -e frame.number
fi
echo
echo "ratios (time over time)"
ratio "analyze, 1 thread / flows" analyze1 flows
ratio "analyze, $threads threads / flows" analyzeN flows
ratio "analyze, 1 thread / cat" analyze1 cat
ratio "analyze, 1 thread / $threads threads (speed-up)" analyze1 analyzeN
ratio "extract, 1 thread / $threads threads (speed-up)" extract1 extractN
ratio "shard / flows" shard flows
ratio "tshark / analyze, 1 thread" tshark analyze1
ratio "tshark / analyze, $threads threads" tshark analyzeN
