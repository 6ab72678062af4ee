//! Variants of the capture file itself, around the textbook SMTP session or
//! the short ESMTP session: what a reader must handle besides packets.
//!
//! * `smtp-classic-be-nsec.pcap`, `smtp-classic-le-usec.pcap`: classic
//!   libpcap files in both byte orders and both timestamp resolutions (the
//!   magic number tells which).
//! * `snaplen-truncated.pcapng`: a 60-byte snapshot length, so packets keep
//!   only their first bytes and the streams have holes.
//! * `unknown-block.pcapng`: a pcapng block of a type nobody assigned, which
//!   readers must skip.

use mailscope::capture::link::LINKTYPE_ETHERNET;
use mailscope::capture::writer::{PcapNgWriter, PcapWriter};

use super::Sample;
use super::smtp::{CREPES_CLIENT, HAMBURGER_SMTP, crepes_conversation};
use super::tcp_edge_cases::short_smtp;
use super::toolkit::{SNAPLEN, seg, summary};

pub fn smtp_classic(nanosecond: bool, big_endian: bool) -> Sample {
    let c = crepes_conversation(CREPES_CLIENT, HAMBURGER_SMTP);
    let flows = vec![summary("SMTP", &c)];
    let mut w = PcapWriter::new(
        Vec::new(),
        u32::from(LINKTYPE_ETHERNET),
        SNAPLEN,
        nanosecond,
        big_endian,
    )
    .expect("write to Vec");
    for f in c.frames() {
        w.write_packet(f.ts_nanos, &f.data, f.data.len() as u32)
            .expect("write to Vec");
    }
    let (file_name, what) = match (nanosecond, big_endian) {
        (true, true) => (
            "smtp-classic-be-nsec.pcap",
            "big-endian, nanosecond timestamps (magic a1 b2 3c 4d)",
        ),
        (false, false) => (
            "smtp-classic-le-usec.pcap",
            "little-endian, microsecond timestamps (magic d4 c3 b2 a1)",
        ),
        _ => unreachable!("only two classic variants are generated"),
    };
    Sample {
        file_name,
        description: format!(
            "The textbook SMTP session (as in smtp-crepes-hamburger.pcapng) in a classic libpcap file, {what}."
        ),
        flows,
        notes: vec![if nanosecond {
            "The first packet is at 1709543700.123456789.".to_string()
        } else {
            "The first packet is at 1709543700.123456 (nanoseconds dropped).".to_string()
        }],
        bytes: w.into_inner(),
    }
}

pub fn snaplen_truncated() -> Sample {
    const SNAP: u32 = 60;
    let s = short_smtp("10.0.8.1:40008", "10.0.8.2:25");
    let full = summary("SMTP", &s.conv);
    let frames = s.conv.into_frames();
    // Ethernet 14 + IPv4 20 + TCP 20 = 54 bytes of headers: 6 payload bytes fit.
    let mut flow = full.clone();
    let (mut cut_c, mut cut_s, mut truncated) = (0u64, 0u64, 0usize);
    for f in &frames {
        let s = seg(f);
        let lost = f.data.len().saturating_sub(SNAP as usize) as u64;
        if lost > 0 {
            truncated += 1;
            if s.src == full.client {
                cut_c += lost;
            } else {
                cut_s += lost;
            }
        }
    }
    flow.client_bytes -= cut_c;
    flow.server_bytes -= cut_s;
    let mut w = PcapNgWriter::new(Vec::new()).expect("write to Vec");
    let eth0 = w
        .add_interface(LINKTYPE_ETHERNET, SNAP, Some("eth0"))
        .expect("write to Vec");
    for f in &frames {
        // The writer stores only the first 60 bytes, orig_len stays the full length.
        w.write_packet(eth0, f.ts_nanos, &f.data)
            .expect("write to Vec");
    }
    Sample {
        file_name: "snaplen-truncated.pcapng",
        description: "A short ESMTP session captured with a 60-byte snapshot length (IDB snaplen 60): every \
                      packet longer than 60 bytes keeps only its first 60 bytes, i.e. at most 6 payload bytes \
                      (\"QUIT\\r\\n\" and \"DATA\\r\\n\" fit exactly). The byte counts are the captured payload \
                      bytes; the rest is missing."
            .into(),
        flows: vec![flow],
        notes: vec![format!(
            "{truncated} packets are truncated (captured length 60 < original length). On the wire the streams \
             were C->S {} and S->C {} bytes; {cut_c} and {cut_s} bytes are missing.",
            full.client_bytes, full.server_bytes
        )],
        bytes: w.into_inner(),
    }
}

/// Block type of the unknown block: not assigned by the pcapng draft (nor
/// in its local-use range 0x80000000 and up).
pub const UNKNOWN_BLOCK_TYPE: u32 = 0x0000_0042;

pub fn unknown_block() -> Sample {
    let c = crepes_conversation(CREPES_CLIENT, HAMBURGER_SMTP);
    let flows = vec![summary("SMTP", &c)];
    let frames = c.into_frames();
    let middle = frames.len() / 2;
    let mut w = PcapNgWriter::new(Vec::new()).expect("write to Vec");
    let eth0 = w
        .add_interface(LINKTYPE_ETHERNET, SNAPLEN, Some("eth0"))
        .expect("write to Vec");
    for (i, f) in frames.iter().enumerate() {
        if i == middle {
            // 21 bytes, so the body needs 3 bytes of padding.
            w.write_raw_block(UNKNOWN_BLOCK_TYPE, b"mailscope: skip me :)")
                .expect("write to Vec");
        }
        w.write_packet(eth0, f.ts_nanos, &f.data)
            .expect("write to Vec");
    }
    Sample {
        file_name: "unknown-block.pcapng",
        description: format!(
            "The textbook SMTP session with a block of unknown type {UNKNOWN_BLOCK_TYPE:#010x} (21-byte body, \
             padded to 24) between packets {middle} and {}: readers must skip it and see the same session as \
             in smtp-crepes-hamburger.pcapng.",
            middle + 1
        ),
        flows,
        notes: vec![],
        bytes: w.into_inner(),
    }
}
