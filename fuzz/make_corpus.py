#!/usr/bin/env python3
"""Writes the seed corpora into fuzz/corpus/<target>/ (git-ignored).

* capture_reader, pipeline: the project's own fixtures, ../captures/*.pcap*
* smtp, pop3, imap: the readable dialogues in seeds/<proto>/*.txt, encoded
  in the script format of src/lib.rs. A dialogue line is "C: text" or
  "S: text" (CRLF added), "GAPC n" / "GAPS n" (a gap of about n bytes), or
  "TLS" (a TLS handshake in both directions, as after STARTTLS).
* tls_records: generated TLS records (hellos with SNI/ALPN/versions, CCS,
  alerts, application data), cut into pieces.
* mime: seeds/mime/*.eml, plus the message bodies of the dialogues.
* tcp_assembler: no seeds (its input is `arbitrary`-structured).

Run from anywhere: python3 fuzz/make_corpus.py
"""
import hashlib
import pathlib
import shutil
import struct

FUZZ = pathlib.Path(__file__).resolve().parent
CORPUS = FUZZ / "corpus"


def put(target, data, name=None):
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    name = name or hashlib.sha1(data).hexdigest()
    (d / name).write_bytes(data)


def u16(n):
    return struct.pack(">H", n)


def u24(n):
    return struct.pack(">I", n)[1:]


def record(ct, body, version=0x0303):
    return bytes([ct]) + u16(version) + u16(len(body)) + body


def ext(kind, body):
    return u16(kind) + u16(len(body)) + body


def client_hello(sni=b"mail.example.org"):
    sni_ext = ext(0, u16(len(sni) + 3) + b"\x00" + u16(len(sni)) + sni)
    alpn = b"\x04imap\x08http/1.1"
    alpn_ext = ext(16, u16(len(alpn)) + alpn)
    versions = ext(43, b"\x04\x03\x04\x03\x03")
    groups = ext(10, u16(4) + u16(0x001D) + u16(0x0017))
    key_share = ext(51, u16(36) + u16(0x001D) + u16(32) + b"\x11" * 32)
    exts = sni_ext + alpn_ext + versions + groups + key_share
    suites = u16(0x1301) + u16(0xC02F) + u16(0x009C)
    body = (u16(0x0303) + b"\x01" * 32 + b"\x20" + b"\x02" * 32 + u16(len(suites)) + suites
            + b"\x01\x00" + u16(len(exts)) + exts)
    return b"\x01" + u24(len(body)) + body


def server_hello(tls13=True):
    exts = ext(43, u16(0x0304)) + ext(51, u16(0x001D) + u16(32) + b"\x22" * 32) if tls13 else b""
    body = (u16(0x0303) + b"\x03" * 32 + b"\x20" + b"\x02" * 32 + u16(0x1301 if tls13 else 0xC02F)
            + b"\x00" + u16(len(exts)) + exts)
    return b"\x02" + u24(len(body)) + body


def handshake_flights(tls13=True):
    c = record(22, client_hello(), 0x0301) + record(20, b"\x01") + record(23, b"\xaa" * 40)
    s = (record(22, server_hello(tls13)) + record(20, b"\x01") + record(23, b"\xbb" * 60)
         + record(21, b"\x02\x28"))
    return c, s


def encode(pieces, options=0x07):
    """pieces: list of (dir, bytes) with dir 'C'/'S', or (dir, int) for a gap."""
    out = bytearray([options])
    for d, data in pieces:
        hi = 0x80 if d == "S" else 0
        if isinstance(data, int):
            n = max(1, data)
            scale = 64 if n > 256 else 1
            out += bytes([hi | 0x7F, min(255, (n // scale) - 1 if n // scale else 0), scale == 64])
            continue
        while data:
            chunk, data = data[:128], data[128:]
            out += bytes([hi | (len(chunk) - 1)]) + chunk
    return bytes(out)


def dialogue(path):
    pieces = []
    for line in path.read_text().splitlines():
        if line.startswith(("C:", "S:")):
            text = line[2:]
            text = text[1:] if text.startswith(" ") else text
            pieces.append((line[0], text.encode() + b"\r\n"))
        elif line.startswith("GAP"):
            pieces.append((line[3], int(line.split()[1])))
        elif line == "TLS":
            c, s = handshake_flights()
            pieces += [("C", c), ("S", s)]
    return pieces


def demo_captures():
    """The demo's TLS captures, with their key logs in a Decryption Secrets
    Block, for the pipeline target (which decrypts as `analyze` does).
    Needs a built ../target/release/mailscope; skipped without it."""
    binary = FUZZ.parent / "target" / "release" / "mailscope"
    if not binary.exists():
        print("no target/release/mailscope: the demo TLS seeds are skipped")
        return
    import subprocess
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        for i, (tls, read) in enumerate([("starttls", "pop3"), ("implicit", "imap")]):
            out = pathlib.Path(tmp) / f"demo-{tls}-{read}.pcapng"
            subprocess.run(
                [str(binary), "demo", "--tls", tls, "--read", read, "--speed", "0",
                 "--net", f"127.0.{120 + i}", "-w", str(out)],
                check=True, stdout=subprocess.DEVNULL)
            put("pipeline", out.read_bytes(), out.name)


def main():
    if CORPUS.exists():
        for t in ["capture_reader", "pipeline", "smtp", "pop3", "imap", "tls_records", "mime"]:
            shutil.rmtree(CORPUS / t, ignore_errors=True)
    for cap in sorted((FUZZ.parent / "captures").glob("*.pcap*")):
        for t in ("capture_reader", "pipeline"):
            put(t, cap.read_bytes(), cap.name)
    demo_captures()
    for proto in ("smtp", "pop3", "imap"):
        for f in sorted((FUZZ / "seeds" / proto).glob("*.txt")):
            pieces = dialogue(f)
            put(proto, encode(pieces), f.stem)
            put(proto, encode(pieces, options=0), f.stem + "-quiet")
            # The same dialogue merged into one piece per direction run.
            merged = []
            for d, data in pieces:
                if merged and merged[-1][0] == d and isinstance(data, bytes) and isinstance(merged[-1][1], bytes):
                    merged[-1] = (d, merged[-1][1] + data)
                else:
                    merged.append((d, data))
            put(proto, encode(merged, options=3), f.stem + "-merged")
            # With a TLS handshake after it (STARTTLS accepted).
            c, s = handshake_flights()
            put(proto, encode(pieces + [("C", c), ("S", s)]), f.stem + "-tls")
    for tls13 in (True, False):
        c, s = handshake_flights(tls13)
        put("tls_records", encode([("C", c), ("S", s)]), f"handshake-tls13-{tls13}")
        # Cut into small pieces, headers split.
        pieces = [("C", c[i:i + 3]) for i in range(0, len(c), 3)]
        pieces += [("S", s[i:i + 7]) for i in range(0, len(s), 7)]
        put("tls_records", encode(pieces), f"handshake-split-{tls13}")
    c, s = handshake_flights()
    put("tls_records", encode([("C", c[:20]), ("C", 50), ("C", c[20:]), ("S", s)]), "with-gap")
    for f in sorted((FUZZ / "seeds" / "mime").glob("*.eml")):
        put("mime", f.read_bytes(), f.stem)
    for f in sorted((FUZZ / "seeds" / "smtp").glob("*.txt")):
        body = [l[3:] for l in f.read_text().splitlines() if l.startswith("C: ") or l == "C:"]
        put("mime", "\r\n".join(body).encode(), "from-" + f.stem)
    for t in sorted(p.name for p in CORPUS.iterdir()):
        print(f"{t}: {len(list((CORPUS / t).iterdir()))} seeds")


if __name__ == "__main__":
    main()
