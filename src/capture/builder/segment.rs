//! One TCP segment (RFC 9293 section 3.1) inside an IPv4 or IPv6 packet
//! inside an Ethernet II frame, built with correct lengths and checksums,
//! and read back from such a frame.

use std::net::{IpAddr, SocketAddr};
use std::ops::BitOr;

use super::framing::{
    ETHERNET_HEADER_LEN, IPPROTO_TCP, TTL, ethernet_header, internet_checksum, ipv4_header,
};
use crate::capture::link::{ETHERTYPE_IPV4, ETHERTYPE_IPV6};

/// The TCP control bits (RFC 9293, section 3.1), with their bit values in
/// the 13th byte of the TCP header. Combine them with `|`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    /// No flags at all.
    pub const NONE: TcpFlags = TcpFlags(0);
    /// "No more data from sender."
    pub const FIN: TcpFlags = TcpFlags(0x01);
    /// "Synchronize sequence numbers": opens a connection.
    pub const SYN: TcpFlags = TcpFlags(0x02);
    /// "Reset the connection": aborts it.
    pub const RST: TcpFlags = TcpFlags(0x04);
    /// "Push": deliver to the application now; set on the last segment of
    /// a write.
    pub const PSH: TcpFlags = TcpFlags(0x08);
    /// "The acknowledgment field is significant": set on every segment
    /// except the very first SYN.
    pub const ACK: TcpFlags = TcpFlags(0x10);

    /// True when every bit of `other` is set in `self`.
    pub fn contains(self, other: TcpFlags) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for TcpFlags {
    type Output = TcpFlags;
    fn bitor(self, rhs: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 | rhs.0)
    }
}

/// Everything needed to build one TCP/IP packet. [`Segment::parse`] reads
/// one back from a frame, so faults can be made by editing a field and
/// calling [`Segment::to_frame`] again (lengths and checksums are always
/// recomputed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Sender address and port.
    pub src: SocketAddr,
    /// Receiver address and port (same IP version as `src`).
    pub dst: SocketAddr,
    /// IPv4 identification field (RFC 791); unused for IPv6.
    pub ip_id: u16,
    /// IPv4 "don't fragment" bit. Modern stacks set it (path MTU
    /// discovery, RFC 1191).
    pub dont_fragment: bool,
    /// Sequence number of the first byte (or of the SYN/FIN).
    pub seq: u32,
    /// Acknowledgment number; only meaningful with [`TcpFlags::ACK`].
    pub ack: u32,
    /// Control bits.
    pub flags: TcpFlags,
    /// Receive window.
    pub window: u16,
    /// Raw TCP options, padded to a multiple of 4 bytes when built.
    pub options: Vec<u8>,
    /// The data carried by the segment.
    pub payload: Vec<u8>,
}

impl Segment {
    /// The TCP header and payload (what the IP header's payload is).
    fn to_tcp_bytes(&self) -> Vec<u8> {
        let mut options = self.options.clone();
        // Options are padded with zero bytes (end-of-option-list) to a
        // 32-bit boundary, because the header length counts 32-bit words.
        options.resize(options.len().div_ceil(4) * 4, 0);
        let header_len = 20 + options.len();
        let mut tcp = Vec::with_capacity(header_len + self.payload.len());
        tcp.extend_from_slice(&self.src.port().to_be_bytes());
        tcp.extend_from_slice(&self.dst.port().to_be_bytes());
        tcp.extend_from_slice(&self.seq.to_be_bytes());
        tcp.extend_from_slice(&self.ack.to_be_bytes());
        // Data offset (header length in 32-bit words) in the high nibble.
        tcp.push(((header_len / 4) as u8) << 4);
        tcp.push(self.flags.0);
        tcp.extend_from_slice(&self.window.to_be_bytes());
        tcp.extend_from_slice(&[0, 0]); // checksum, filled in below
        tcp.extend_from_slice(&[0, 0]); // urgent pointer
        tcp.extend_from_slice(&options);
        tcp.extend_from_slice(&self.payload);

        // The TCP checksum also covers a "pseudo-header" made of the IP
        // addresses, the protocol and the TCP length (RFC 9293 section
        // 3.1; RFC 8200 section 8.1 for IPv6), so that a segment delivered
        // to the wrong host is detected.
        let tcp_len = tcp.len() as u32;
        let checksum = match (self.src.ip(), self.dst.ip()) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                let mut pseudo = Vec::with_capacity(12);
                pseudo.extend_from_slice(&s.octets());
                pseudo.extend_from_slice(&d.octets());
                pseudo.extend_from_slice(&[0, IPPROTO_TCP]);
                pseudo.extend_from_slice(&(tcp_len as u16).to_be_bytes());
                internet_checksum(&[&pseudo, &tcp])
            }
            (s, d) => {
                let mut pseudo = Vec::with_capacity(40);
                pseudo.extend_from_slice(&ipv6_octets(s));
                pseudo.extend_from_slice(&ipv6_octets(d));
                pseudo.extend_from_slice(&tcp_len.to_be_bytes());
                pseudo.extend_from_slice(&[0, 0, 0, IPPROTO_TCP]);
                internet_checksum(&[&pseudo, &tcp])
            }
        };
        tcp[16..18].copy_from_slice(&checksum.to_be_bytes());
        tcp
    }

    /// The complete IP packet (IPv4 or IPv6 header + TCP), without any
    /// link-layer header. This is what "raw IP" link types carry.
    ///
    /// # Panics
    /// If `src` and `dst` are of different IP versions.
    fn to_ip_packet(&self) -> Vec<u8> {
        let tcp = self.to_tcp_bytes();
        match (self.src.ip(), self.dst.ip()) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                let flags = if self.dont_fragment { 0x4000u16 } else { 0 };
                let mut ip = ipv4_header(s.octets(), d.octets(), self.ip_id, flags, tcp.len());
                ip.extend_from_slice(&tcp);
                ip
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                // IPv6 header (RFC 8200 section 3): version 6, traffic class
                // 0, flow label 0, payload length, next header, hop limit.
                let mut ip = Vec::with_capacity(40 + tcp.len());
                ip.extend_from_slice(&[0x60, 0, 0, 0]);
                ip.extend_from_slice(&(tcp.len() as u16).to_be_bytes());
                ip.push(IPPROTO_TCP);
                ip.push(TTL);
                ip.extend_from_slice(&s.octets());
                ip.extend_from_slice(&d.octets());
                ip.extend_from_slice(&tcp);
                ip
            }
            _ => panic!("segment mixes IPv4 and IPv6 addresses"),
        }
    }

    /// The complete Ethernet II frame.
    pub fn to_frame(&self) -> Vec<u8> {
        let ip = self.to_ip_packet();
        let ethertype = if self.src.is_ipv4() {
            ETHERTYPE_IPV4
        } else {
            ETHERTYPE_IPV6
        };
        let mut frame = Vec::with_capacity(ETHERNET_HEADER_LEN + ip.len());
        frame.extend_from_slice(&ethernet_header(self.src.ip(), self.dst.ip(), ethertype));
        frame.extend_from_slice(&ip);
        frame
    }

    /// Read back an unfragmented Ethernet/IPv4-or-IPv6/TCP frame (as built
    /// by this module). Returns `None` for anything else.
    pub fn parse(frame: &[u8]) -> Option<Segment> {
        use etherparse::{NetSlice, SlicedPacket, TransportSlice};
        let packet = SlicedPacket::from_ethernet(frame).ok()?;
        let (src_ip, dst_ip, ip_id, dont_fragment) = match packet.net? {
            NetSlice::Ipv4(v4) => {
                let h = v4.header();
                (
                    IpAddr::V4(h.source_addr()),
                    IpAddr::V4(h.destination_addr()),
                    h.identification(),
                    h.dont_fragment(),
                )
            }
            NetSlice::Ipv6(v6) => {
                let h = v6.header();
                (
                    IpAddr::V6(h.source_addr()),
                    IpAddr::V6(h.destination_addr()),
                    0,
                    false,
                )
            }
            _ => return None,
        };
        let Some(TransportSlice::Tcp(tcp)) = packet.transport else {
            return None;
        };
        // Byte 13 of the TCP header holds CWR ECE URG ACK PSH RST SYN FIN.
        let flags = TcpFlags(tcp.header_slice()[13] & 0x1F);
        Some(Segment {
            src: SocketAddr::new(src_ip, tcp.source_port()),
            dst: SocketAddr::new(dst_ip, tcp.destination_port()),
            ip_id,
            dont_fragment,
            seq: tcp.sequence_number(),
            ack: tcp.acknowledgment_number(),
            flags,
            window: tcp.window_size(),
            options: tcp.options().to_vec(),
            payload: tcp.payload().to_vec(),
        })
    }
}

/// The 16 bytes of an IPv6 address (IPv4 is mapped, which only happens for
/// mixed families and is rejected by `to_ip_packet`).
fn ipv6_octets(ip: IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
        IpAddr::V6(a) => a.octets(),
    }
}
