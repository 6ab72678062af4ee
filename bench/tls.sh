#!/usr/bin/env bash
# Decryption benchmark: Python's smtplib submits MESSAGES messages of
# SIZE_KB KiB each over implicit TLS (SMTP_SSL, port 10465) to
# `mailscope serve -w`, which records the sessions with its key log in a
# Decryption Secrets Block. Then `analyze --json` reads the capture with
# and without decryption (time, throughput, peak RSS).
# Usage: bench/tls.sh [MESSAGES] [SIZE_KB]
set -euo pipefail
cd "$(dirname "$0")/.."
MESSAGES="${1:-200}"
SIZE_KB="${2:-512}"
cargo build --release --quiet
BIN=./target/release/mailscope
DIR="$(mktemp -d)"
trap 'kill "$SERVER" 2>/dev/null || true; rm -rf "$DIR"' EXIT
CAP="$DIR/tls.pcapng"
"$BIN" serve --listen 127.0.91.1 --ports offset --memory --max-message 100000000 \
    -w "$CAP" > "$DIR/serve.out" 2> "$DIR/serve.err" &
SERVER=$!
for _ in $(seq 100); do grep -q '^ready' "$DIR/serve.out" 2>/dev/null && break; sleep 0.1; done
python3 - "$MESSAGES" "$SIZE_KB" <<'PY'
import smtplib, ssl, sys, base64, os
n, kb = int(sys.argv[1]), int(sys.argv[2])
ctx = ssl._create_unverified_context()
body = base64.encodebytes(os.urandom(kb * 768)).decode()
msg = ("From: alice@crepes.fr\r\nTo: bob@hamburger.edu\r\nSubject: bench\r\n"
       "Content-Type: application/octet-stream; name=blob.bin\r\n"
       "Content-Transfer-Encoding: base64\r\n\r\n" + body.replace("\n", "\r\n"))
for i in range(n):
    with smtplib.SMTP_SSL("127.0.91.1", 10465, context=ctx) as s:
        s.login("alice", "secret")
        s.sendmail("alice@crepes.fr", ["bob@hamburger.edu"], msg)
PY
kill -TERM "$SERVER"; wait "$SERVER" || true
SIZE=$(stat -c %s "$CAP")
echo "capture: $SIZE bytes, $MESSAGES sessions of ${SIZE_KB} KiB"
for mode in "--no-decrypt" ""; do
    for run in 1 2 3; do
        /usr/bin/time -f "%e %M" -o "$DIR/time" "$BIN" analyze --json $mode "$CAP" > "$DIR/out.json"
        read -r secs kib < "$DIR/time"
        msgs=$(grep -c '"type":"message"' "$DIR/out.json" || true)
        echo "analyze --json ${mode:-(decrypting)}: ${secs}s, $(python3 -c "print(round($SIZE/1e6/max($secs,0.001)))") MB/s, peak RSS $((kib / 1024)) MiB, messages $msgs"
    done
done
