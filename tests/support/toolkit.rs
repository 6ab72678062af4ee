//! The small tools every capture script uses: the common start time,
//! addresses, CRLF lines, dot-stuffing, base64 body lines, what a flow
//! should look like to an analyzer, and one-interface pcapng files.

use std::net::{IpAddr, SocketAddr};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use mailscope::capture::builder::{Conversation, Dir, Frame, Segment};
use mailscope::capture::link::LINKTYPE_ETHERNET;
use mailscope::capture::writer::PcapNgWriter;

use super::FlowSummary;

/// Snapshot length used for ordinary samples (tcpdump's default).
pub const SNAPLEN: u32 = 262_144;

/// When every sample starts: 2024-03-04 09:15:00.123456789 UTC, a Monday.
/// The odd nanoseconds show the difference between nanosecond and
/// microsecond files.
pub const START_NANOS: u64 = 1_709_543_700_123_456_789;

/// A socket address written as text ("10.0.0.1:25", "[2001:db8::1]:25").
pub fn addr(s: &str) -> SocketAddr {
    s.parse().expect("sample address")
}

/// An IP address written as text.
pub fn ip(s: &str) -> IpAddr {
    s.parse().expect("sample address")
}

/// Join lines, each terminated by CRLF.
pub fn crlf_lines(lines: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    for line in lines {
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Summarize a finished, fault-free conversation.
pub fn summary(protocol: &'static str, c: &Conversation) -> FlowSummary {
    FlowSummary {
        protocol,
        client: c.client(),
        server: c.server(),
        client_bytes: c.payload_sent(Dir::ClientToServer),
        server_bytes: c.payload_sent(Dir::ServerToClient),
    }
}

/// A pcapng file with one Ethernet interface, optional names, all frames.
pub fn pcapng_ethernet(frames: &[Frame], names: &[(IpAddr, &str)]) -> Vec<u8> {
    let mut w = PcapNgWriter::new(Vec::new()).expect("write to Vec");
    let eth0 = w
        .add_interface(LINKTYPE_ETHERNET, SNAPLEN, Some("eth0"))
        .expect("write to Vec");
    if !names.is_empty() {
        w.write_name_resolution(names).expect("write to Vec");
    }
    for f in frames {
        w.write_packet(eth0, f.ts_nanos, &f.data)
            .expect("write to Vec");
    }
    w.into_inner()
}

/// A pcapng file with one interface of `linktype` holding already-wrapped
/// frames.
pub fn pcapng_single(linktype: u16, if_name: &str, frames: &[Frame]) -> Vec<u8> {
    let mut w = PcapNgWriter::new(Vec::new()).expect("write to Vec");
    let id = w
        .add_interface(linktype, SNAPLEN, Some(if_name))
        .expect("write to Vec");
    for f in frames {
        w.write_packet(id, f.ts_nanos, &f.data)
            .expect("write to Vec");
    }
    w.into_inner()
}

/// Dot-stuff a message for transmission (RFC 5321 section 4.5.2, RFC 1939
/// section 3): every line that starts with "." gets one more ".", so that
/// no line of the message can be mistaken for the final "." line.
pub fn dot_stuff(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 8);
    let mut at_line_start = true;
    for &b in message {
        if at_line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        at_line_start = b == b'\n';
    }
    out
}

/// Base64 body lines of at most 76 characters (RFC 2045 §6.8).
pub fn base64_lines(data: &[u8]) -> Vec<String> {
    let text = STANDARD.encode(data);
    text.as_bytes()
        .chunks(76)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect()
}

/// The TCP segment inside one of our frames.
pub fn seg(frame: &Frame) -> Segment {
    Segment::parse(&frame.data).expect("a frame built by the builder")
}

/// "seq A..B (stream offsets a..b)" for `len` bytes starting at `seq`, in a
/// direction whose initial sequence number is `isn` (offset 0 = ISN + 1).
pub fn span(seq: u32, len: usize, isn: u32) -> String {
    let offset = seq.wrapping_sub(isn.wrapping_add(1));
    format!(
        "seq {}..{} = stream offsets {}..{}",
        seq,
        seq.wrapping_add(len as u32),
        offset,
        offset.wrapping_add(len as u32)
    )
}
