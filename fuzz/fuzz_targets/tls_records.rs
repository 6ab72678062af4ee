//! TLS record layer: fuzzer bytes → (direction, chunk | gap) pieces →
//! `TlsTracker::feed` / `gap`, then everything the tracker reports.
//! Format: see `fuzz/src/lib.rs` (the options byte is ignored).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailscope::proto::tls::{TlsTracker, cipher_name, looks_like_handshake, looks_like_record};
use mailscope_fuzz::{Piece, script};

fuzz_target!(|data: &[u8]| {
    let (_, pieces) = script(data);
    let mut tls = TlsTracker::default();
    for piece in &pieces {
        match *piece {
            Piece::Data(dir, bytes) => {
                std::hint::black_box(looks_like_record(bytes, None));
                std::hint::black_box(looks_like_handshake(bytes));
                tls.feed(dir, bytes);
            }
            Piece::Gap(dir, len) => tls.gap(dir, len),
        }
    }
    let summary = tls.summary();
    serde_json::to_writer(std::io::sink(), summary).unwrap();
    // `TlsTracker::params()` (the hello randoms for decryption) is not in
    // the committed library yet; the summary covers the same parsing.
    for suite in [0x1301u16, 0xc02f, 0x0000, 0xffff] {
        std::hint::black_box(cipher_name(suite));
    }
    std::hint::black_box((tls.active(), &summary.cipher, &summary.version));
});
