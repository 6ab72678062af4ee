//! From a captured frame to a TCP segment: link layer, IP (v4 or v6, with
//! extension headers and fragments), TCP header.
//!
//! This runs once per packet, so it borrows: the segment's payload points into
//! the reader's buffer (or, for a reassembled fragmented datagram, into the
//! decoder's own scratch buffer) and nothing is copied.

use std::net::{IpAddr, SocketAddr};

use etherparse::{LaxIpSlice, TcpSlice};

use super::Timestamp;
use super::defrag::{DefragPool, DefragResult, Fragment, FragmentKey};
use super::link::{self, LinkError};
use super::reader::Packet;

const IP_PROTO_TCP: u8 = 6;

/// The TCP header flags a reassembler needs (RFC 9293 §3.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpFlags {
    pub syn: bool,
    pub ack: bool,
    pub fin: bool,
    pub rst: bool,
    pub psh: bool,
}

/// A UDP datagram borrowed from a captured packet.
#[derive(Clone, Copy, Debug)]
pub struct UdpDatagram<'a> {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub payload: &'a [u8],
}

/// IP protocol number of UDP (RFC 768).
const IP_PROTO_UDP: u8 = 17;

/// A TCP segment borrowed from a captured packet.
#[derive(Clone, Copy, Debug)]
pub struct TcpSegment<'a> {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    pub window: u16,
    /// The captured payload bytes.
    pub payload: &'a [u8],
    /// Payload length on the wire, from the IP length fields. Larger than
    /// `payload.len()` when the capture's snaplen cut the packet.
    pub wire_len: u32,
}

impl TcpSegment<'_> {
    /// Sequence space the segment occupies: payload plus one for SYN and FIN
    /// (RFC 9293 §3.4).
    pub fn seq_len(&self) -> u32 {
        self.wire_len + self.flags.syn as u32 + self.flags.fin as u32
    }
}

/// Why a packet gave no TCP segment, for the capture's statistics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Skipped {
    /// Not IP, or IP but not TCP (UDP, ICMP, ARP…).
    NotTcp,
    /// A fragment kept until its datagram is complete.
    FragmentHeld,
    /// A fragment that could not be used (impossible, or pool full).
    FragmentDropped,
    /// Cut short before the end of the TCP header.
    Truncated,
    /// The IP or TCP header is malformed.
    Malformed,
    UnsupportedLinktype(u16),
}

pub enum DecodeOutcome<'a> {
    Tcp(TcpSegment<'a>),
    Skipped(Skipped),
}

/// Stateful decoder: it owns the IP fragment pool.
#[derive(Debug, Default)]
pub struct Decoder {
    pub defrag: DefragPool,
    /// Holds the last reassembled datagram, which the returned segment borrows.
    scratch: Vec<u8>,
}

impl Decoder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn decode<'a>(&'a mut self, packet: &Packet<'a>) -> DecodeOutcome<'a> {
        let net = match link::network_packet(packet.linktype, packet.data) {
            Ok(net) => net,
            Err(LinkError::Truncated) => return DecodeOutcome::Skipped(Skipped::Truncated),
            Err(LinkError::UnsupportedLinktype(l)) => {
                return DecodeOutcome::Skipped(Skipped::UnsupportedLinktype(l));
            }
        };
        if net.ether_type != link::ETHERTYPE_IPV4 && net.ether_type != link::ETHERTYPE_IPV6 {
            return DecodeOutcome::Skipped(Skipped::NotTcp);
        }
        let ip = match LaxIpSlice::from_slice(net.data) {
            Ok((ip, _ext_error)) => ip,
            Err(etherparse::err::ip::LaxHeaderSliceError::Len(_)) => {
                return DecodeOutcome::Skipped(Skipped::Truncated);
            }
            Err(_) => return DecodeOutcome::Skipped(Skipped::Malformed),
        };
        let payload = ip.payload();
        if payload.ip_number.0 != IP_PROTO_TCP {
            return DecodeOutcome::Skipped(Skipped::NotTcp);
        }
        let (src, dst) = (ip.source_addr(), ip.destination_addr());
        let ip_payload_wire_len = wire_payload_len(&ip);

        if payload.fragmented {
            let Some((id, offset, more)) = fragment_info(&ip) else {
                return DecodeOutcome::Skipped(Skipped::Malformed);
            };
            if payload.incomplete {
                // A fragment cut by the snaplen can never complete a datagram.
                self.defrag.dropped += 1;
                return DecodeOutcome::Skipped(Skipped::FragmentDropped);
            }
            let key = FragmentKey {
                src,
                dst,
                protocol: IP_PROTO_TCP,
                id,
            };
            let frag = Fragment {
                offset,
                more_fragments: more,
                data: payload.payload,
            };
            return match self.defrag.add(key, frag, packet.ts) {
                DefragResult::Held => DecodeOutcome::Skipped(Skipped::FragmentHeld),
                DefragResult::Dropped => DecodeOutcome::Skipped(Skipped::FragmentDropped),
                DefragResult::Complete(datagram) => {
                    self.scratch = datagram;
                    let len = self.scratch.len();
                    tcp_segment(src, dst, &self.scratch, len)
                }
            };
        }
        tcp_segment(src, dst, payload.payload, ip_payload_wire_len)
    }

    /// The UDP datagram in `packet`, when it carries an unfragmented one
    /// (the GUI shows the DNS question and answer of the mail path; the
    /// analyzer itself only reads TCP).
    pub fn udp<'a>(packet: &Packet<'a>) -> Option<UdpDatagram<'a>> {
        let net = link::network_packet(packet.linktype, packet.data).ok()?;
        if net.ether_type != link::ETHERTYPE_IPV4 && net.ether_type != link::ETHERTYPE_IPV6 {
            return None;
        }
        let (ip, _) = LaxIpSlice::from_slice(net.data).ok()?;
        let payload = ip.payload();
        if payload.ip_number.0 != IP_PROTO_UDP || payload.fragmented {
            return None;
        }
        let udp = etherparse::UdpSlice::from_slice_lax(payload.payload).ok()?;
        Some(UdpDatagram {
            src: SocketAddr::new(ip.source_addr(), udp.source_port()),
            dst: SocketAddr::new(ip.destination_addr(), udp.destination_port()),
            payload: udp.payload(),
        })
    }

    /// Drops stale half-assembled datagrams (call now and then).
    pub fn expire(&mut self, now: Timestamp) {
        self.defrag.expire(now);
    }
}

fn tcp_segment<'a>(
    src: IpAddr,
    dst: IpAddr,
    bytes: &'a [u8],
    wire_len: usize,
) -> DecodeOutcome<'a> {
    let tcp = match TcpSlice::from_slice(bytes) {
        Ok(tcp) => tcp,
        Err(etherparse::err::tcp::HeaderSliceError::Len(_)) => {
            return DecodeOutcome::Skipped(Skipped::Truncated);
        }
        Err(_) => return DecodeOutcome::Skipped(Skipped::Malformed),
    };
    let header_len = tcp.header_slice().len();
    let payload = tcp.payload();
    let wire_len = wire_len.saturating_sub(header_len).max(payload.len());
    DecodeOutcome::Tcp(TcpSegment {
        src: SocketAddr::new(src, tcp.source_port()),
        dst: SocketAddr::new(dst, tcp.destination_port()),
        seq: tcp.sequence_number(),
        ack: tcp.acknowledgment_number(),
        flags: TcpFlags {
            syn: tcp.syn(),
            ack: tcp.ack(),
            fin: tcp.fin(),
            rst: tcp.rst(),
            psh: tcp.psh(),
        },
        window: tcp.window_size(),
        payload,
        wire_len: wire_len.min(u32::MAX as usize) as u32,
    })
}

/// Length of the IP payload as the IP header declares it (the captured
/// slice may be shorter when a snaplen cut the packet).
fn wire_payload_len(ip: &LaxIpSlice<'_>) -> usize {
    let captured = ip.payload().payload.len();
    if !ip.payload().incomplete {
        return captured;
    }
    match ip {
        LaxIpSlice::Ipv4(v4) => {
            let h = v4.header();
            (h.total_len() as usize).saturating_sub(
                h.slice().len() + v4.extensions().auth.map_or(0, |a| a.slice().len()),
            )
        }
        LaxIpSlice::Ipv6(v6) => {
            (v6.header().payload_length() as usize).saturating_sub(v6.extensions().slice().len())
        }
    }
    .max(captured)
}

/// (identification, byte offset, more-fragments) of a fragment.
fn fragment_info(ip: &LaxIpSlice<'_>) -> Option<(u32, usize, bool)> {
    match ip {
        LaxIpSlice::Ipv4(v4) => {
            let h = v4.header();
            Some((
                h.identification() as u32,
                h.fragments_offset().value() as usize * 8,
                h.more_fragments(),
            ))
        }
        LaxIpSlice::Ipv6(v6) => v6
            .extensions()
            .clone()
            .into_iter()
            .find_map(|ext| match ext {
                etherparse::Ipv6ExtensionSlice::Fragment(f) => Some((
                    f.identification(),
                    f.fragment_offset().value() as usize * 8,
                    f.more_fragments(),
                )),
                _ => None,
            }),
    }
}

/// Packet counts by what became of them.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct DecodeStats {
    pub tcp: u64,
    pub not_tcp: u64,
    /// Fragments held for reassembly (the datagram, once whole, counts as
    /// one TCP packet).
    pub fragments: u64,
    pub fragments_dropped: u64,
    /// Packets cut before the end of their TCP header.
    pub truncated: u64,
    pub malformed: u64,
    pub unsupported_linktype: u64,
    /// Frames left out by `--filter`, `--since` or `--until` (the key is
    /// absent when nothing was left out).
    #[serde(skip_serializing_if = "is_zero")]
    pub filtered_out: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}
