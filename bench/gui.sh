#!/usr/bin/env bash
# The classroom window on a large generated capture (default 100 MiB):
# time until the full scene is ready, and the CPU cost of one frame with
# about 10 000 packets on the way (examples/gui_bench.rs), once with the
# window's default of 80 hosts drawn and once with every host drawn.
#
#   bench/gui.sh [SIZE]
#
# Timings are printed, never asserted.
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-100MiB}
pcap=target/bench/mail-$size.pcap
mkdir -p target/bench
if [ ! -f "$pcap" ]; then
  echo "generating $pcap ..."
  python3 ../shared/bench/make-mail-pcap.py --size "$size" --out "$pcap" --seed 1 -q
fi
cargo build --release --quiet --example gui_bench
cat "$pcap" > /dev/null   # into the page cache
/usr/bin/time -f 'peak RSS %M KB (the scene is built twice: once timed, once for the window)' \
  target/release/examples/gui_bench "$pcap" 120
target/release/examples/gui_bench "$pcap" 120 100000 | tail -2 | head -1
