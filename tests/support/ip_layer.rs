//! The network layer under the textbook SMTP session.
//!
//! * `tcp-ipv6.pcapng`: the session over IPv6 (RFC 8200), so addresses,
//!   checksums and name records are the 128-bit kind.
//! * `ipv4-fragments.pcapng`: the IPv4 packet carrying the message cut into
//!   three fragments (RFC 791 section 2.3) that arrive out of order; the IP
//!   layer must put the packet back together before TCP sees the segment.

use std::net::SocketAddr;

use mailscope::capture::builder::{Dir, ETHERNET_HEADER_LEN, Frame, Segment, ipv4_header};

use super::Sample;
use super::link_layers::strip_ethernet;
use super::smtp::{CREPES_CLIENT, HAMBURGER_SMTP, crepes_conversation};
use super::textbook::crepes_names;
use super::toolkit::{addr, ip, pcapng_ethernet, seg, summary};

pub fn tcp_ipv6() -> Sample {
    let c = crepes_conversation("[2001:db8::1]:1035", "[2001:db8::2]:25");
    let flows = vec![summary("SMTP", &c)];
    Sample {
        file_name: "tcp-ipv6.pcapng",
        description:
            "The textbook SMTP session (as in smtp-crepes-hamburger.pcapng) over IPv6, with a Name \
                      Resolution Block holding IPv6 records."
                .into(),
        flows,
        notes: vec![],
        bytes: pcapng_ethernet(
            &c.into_frames(),
            &[
                (ip("2001:db8::1"), "crepes.fr"),
                (ip("2001:db8::2"), "hamburger.edu"),
            ],
        ),
    }
}

/// Split the IPv4 packet in an Ethernet frame into fragments (RFC 791
/// section 2.3): every fragment repeats the IP header with the same
/// identification, `more fragments` set on all but the last, and the
/// position of its data in the original payload in units of 8 bytes. So
/// all cut points except the end must be multiples of 8. Returns Ethernet
/// frames, first fragment first.
///
/// # Panics
/// If the frame is not one of our IPv4 frames or a cut is not a multiple of 8.
pub fn fragment_ipv4(frame: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let ip = strip_ethernet(frame);
    assert_eq!(ip[0], 0x45, "IPv4 without options expected");
    let payload = &ip[20..];
    let src: [u8; 4] = ip[12..16].try_into().expect("4 bytes");
    let dst: [u8; 4] = ip[16..20].try_into().expect("4 bytes");
    let id = u16::from_be_bytes([ip[4], ip[5]]);
    let mut bounds = vec![0];
    bounds.extend_from_slice(cuts);
    bounds.push(payload.len());
    bounds
        .windows(2)
        .map(|w| {
            let (start, end) = (w[0], w[1]);
            assert_eq!(start % 8, 0, "fragment offsets are in 8-byte units");
            let more_fragments = if end < payload.len() { 0x2000 } else { 0 };
            let flags_and_offset = more_fragments | (start / 8) as u16;
            let mut out = frame[..ETHERNET_HEADER_LEN].to_vec();
            out.extend_from_slice(&ipv4_header(src, dst, id, flags_and_offset, end - start));
            out.extend_from_slice(&payload[start..end]);
            out
        })
        .collect()
}

/// Indices (0-based) of the frames that carry payload in direction `dir`.
fn data_frames(frames: &[Frame], client: SocketAddr, dir: Dir) -> Vec<usize> {
    frames
        .iter()
        .enumerate()
        .filter(|(_, f)| {
            Segment::parse(&f.data).is_some_and(|s| {
                !s.payload.is_empty() && (s.src == client) == (dir == Dir::ClientToServer)
            })
        })
        .map(|(i, _)| i)
        .collect()
}

pub fn ipv4_fragments() -> Sample {
    let c = crepes_conversation(CREPES_CLIENT, HAMBURGER_SMTP);
    let flows = vec![summary("SMTP", &c)];
    let mut frames = c.into_frames();
    let msg_frame = data_frames(&frames, addr(CREPES_CLIENT), Dir::ClientToServer)
        .into_iter()
        .find(|&i| seg(&frames[i]).payload.starts_with(b"From:"))
        .expect("the message segment");
    let original = frames.remove(msg_frame);
    let ip_payload = strip_ethernet(&original.data).len() - 20;
    let cuts = [72, 144];
    let mut fragments = fragment_ipv4(&original.data, &cuts);
    // Delivered out of order: the last fragment first, then the first, then
    // the middle one.
    let order = [2, 0, 1];
    for (k, &which) in order.iter().enumerate() {
        frames.insert(
            msg_frame + k,
            Frame {
                ts_nanos: original.ts_nanos + k as u64 * 10_000,
                data: std::mem::take(&mut fragments[which]),
            },
        );
    }
    let n = msg_frame + 1;
    Sample {
        file_name: "ipv4-fragments.pcapng",
        description: "The textbook SMTP session where the IPv4 packet carrying the message (TCP header + \
                      message) was fragmented into 3 fragments that arrive out of order; IP reassembly is \
                      needed before TCP sees the segment."
            .into(),
        flows,
        notes: vec![format!(
            "Packets {}, {}, {} are the fragments (same IP id, DF clear) in the order: offset {} (last, MF=0), \
             offset 0 (MF=1, holds the TCP header), offset {} (MF=1); the IP payload is {ip_payload} bytes \
             (20 TCP header + {} message).",
            n,
            n + 1,
            n + 2,
            cuts[1],
            cuts[0],
            ip_payload - 20
        )],
        bytes: pcapng_ethernet(&frames, &crepes_names()),
    }
}
