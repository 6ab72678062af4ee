#!/usr/bin/env bash
# Screenshots of the classroom window under Xvfb, for a person to look at
# (README: "Screenshots"). Usage: .ci/screenshots.sh [OUT_DIR]
# Needs Xvfb, ImageMagick's `import` and xdotool; the release binary must be built.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-screenshots}
bin=target/release/mailscope
mkdir -p "$out/captures"
# Real captures, recorded by the embedded demo on loopback.
$bin demo --tls none -q --speed 0 --net 127.0.50 -w "$out/captures/plaintext.pcapng" > /dev/null
$bin demo --tls starttls --read imap -q --speed 0 --net 127.0.51 -w "$out/captures/starttls.pcapng" > /dev/null
$bin demo --attack strip-starttls -q --speed 0 --net 127.0.52 -w "$out/captures/strip.pcapng" > /dev/null

display=":$((70 + RANDOM % 200))"
Xvfb "$display" -screen 0 1600x900x24 -nolisten tcp > /dev/null 2>&1 &
xvfb=$!
trap 'kill $xvfb 2> /dev/null || true' EXIT
sleep 1
# The pointer starts in the middle of the screen, where it hovers a host
# box and puts its tooltip into every shot: park it in the corner.
DISPLAY="$display" xdotool mousemove 1 1

# shot NAME SECONDS ARGS…: opens the window, waits, photographs the screen.
shot() {
    local name=$1 wait=$2
    shift 2
    DISPLAY="$display" LANG=C "$bin" gui "$@" > "$out/$name.log" 2>&1 &
    local pid=$!
    sleep "$wait"
    if ! kill -0 "$pid" 2> /dev/null; then
        echo "the window for $name exited early:" >&2
        cat "$out/$name.log" >&2
        return 1
    fi
    DISPLAY="$display" import -window root "$out/$name.png"
    kill "$pid"
    wait "$pid" 2> /dev/null || true
    rm -f "$out/$name.log"
    echo "screenshot: $out/$name.png"
}

# 1. The demo mid-animation: playing from Alice's DATA, the message on its way.
shot 1-demo-mid-animation 3 "$out/captures/plaintext.pcapng" --line "DATA" --play --speed 0.4
# 2. The eavesdropper view on a plaintext AUTH PLAIN.
shot 2-eavesdropper-plaintext-auth 3 "$out/captures/plaintext.pcapng" --flow 0 --tab eavesdropper --line "AUTH PLAIN A"
# 3. A STARTTLS connection as an eavesdropper without the keys sees it.
shot 3-tls-connection 3 "$out/captures/starttls.pcapng" --no-decrypt --flow 0 --tab eavesdropper --line "STARTTLS" --at 999
# 4. The classroom set-up: presenter mode, Spanish, dark.
shot 4-presenter-spanish-dark 3 "$out/captures/plaintext.pcapng" --presenter --dark --lang es --flow 2 --line "PASS hungry"

# 12. Zeek's smtp.pcap at 1600×900, presenter mode, dark: the projector's
#     other common size.
zeek=../shared/captures/zeek/smtp/smtp.pcap
if [ -f "$zeek" ]; then
    shot 12-zeek-smtp-presenter-dark-1600x900 3 "$zeek" --presenter --dark --at 999999999
else
    echo "skipped: $zeek is absent" >&2
fi

# The projector's size: 1280×720, on a screen of its own.
kill $xvfb 2> /dev/null || true
wait $xvfb 2> /dev/null || true
Xvfb "$display" -screen 0 1280x720x24 -nolisten tcp > /dev/null 2>&1 &
xvfb=$!
sleep 1
# A new screen puts the pointer back in its middle: park it again (where
# the Xvfb build lets it move at all; where it does not, a box under the
# middle of the screen shows its tooltip).
DISPLAY="$display" xdotool mousemove 1 1
# 5. Presenter mode in Spanish at 1280×720, at the end: every label placed.
shot 5-presenter-spanish-1280x720 3 "$out/captures/plaintext.pcapng" --presenter --lang es --at 999
# 6. Zeek's smtp.pcap (six connections, two years apart), read in place.
zeek=../shared/captures/zeek/smtp/smtp.pcap
if [ -f "$zeek" ]; then
    shot 6-zeek-smtp-1280x720 3 "$zeek" --at 999999999
else
    echo "skipped: $zeek is absent" >&2
fi
# 7. Packet Tracer's step mode: stopped at packet 4 (the 220 greeting) on
#    its edge, the greeting highlighted in the transcript, its PDU detail
#    open (Ethernet, IPv4, TCP, the SMTP line), presenter mode in Spanish.
shot 7-step-mode-pdu-1280x720 3 "$out/captures/plaintext.pcapng" --presenter --lang es --packet 4
# 8. The packet list (Wireshark's columns) at the DNS answer, in English.
shot 8-packet-list-1280x720 3 "$out/captures/plaintext.pcapng" --tab packets --packet 31
# 9. The lesson's punchline: the same session in clear and over STARTTLS,
#    side by side, as an eavesdropper without the keys sees each.
shot 9-compare-clear-tls-1280x720 3 "$out/captures/plaintext.pcapng" --compare "$out/captures/starttls.pcapng"
# 10. "Decrypt with the key log" off: the STARTTLS capture as the wire shows it.
shot 10-no-decrypt-eavesdropper-1280x720 3 "$out/captures/starttls.pcapng" --no-decrypt --flow 0 --tab eavesdropper --at 999
# 11. The Flows tab with the MX lookup as a DNS row.
shot 11-flows-dns-1280x720 3 "$out/captures/plaintext.pcapng" --tab flows --at 999
# 15. Eve on the path (demo --attack strip-starttls), in Spanish: her box
#     red, and crepes.fr → Eve's EHLO line with STARTTLS blanked, marked.
shot 15-eve-strip-starttls-1280x720 3 "$out/captures/strip.pcapng" --presenter --lang es --flow 1 --at 999
# 13. nDPI's pop3.pcap, read in place: one client, one server, several
#     connections.
ndpi=../shared/captures/ndpi/pop3/pop3.pcap
if [ -f "$ndpi" ]; then
    shot 13-ndpi-pop3-1280x720 3 "$ndpi" --at 999999999
else
    echo "skipped: $ndpi is absent" >&2
fi
# 14. A 200 MB capture of real mail flows (../shared/bench's generator,
#     made here and removed after), mid-play: crowd mode gathers the
#     clients of the busiest servers. Its 694 s are half played at 347 s.
bench=../shared/bench/make-mail-pcap.py
if [ -f "$bench" ]; then
    python3 "$bench" --seed 1 --size 200MiB -q --out "$out/captures/bench-200MiB.pcap"
    shot 14-bench-200MB-mid-play-1280x720 25 "$out/captures/bench-200MiB.pcap" --at 347 --play
    rm -f "$out/captures/bench-200MiB.pcap"
else
    echo "skipped: $bench is absent" >&2
fi
