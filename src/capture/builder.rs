//! Building TCP conversations packet by packet, the way a real stack would
//! put them on the wire.
//!
//! The fixtures in `captures/` are not recorded from a network: they are
//! *scripted*. A [`Conversation`] plays both ends of one TCP connection and
//! records every packet as an Ethernet II frame (pcap link type 1):
//!
//! ```text
//! +----------------+------------------+----------------+-----------------+
//! | Ethernet II    | IPv4 (RFC 791)   | TCP (RFC 9293) | payload         |
//! | 14 bytes       | 20 bytes, or     | 20 bytes (+    | (SMTP, POP3 ... |
//! |                | IPv6 (RFC 8200)  | options)       |  bytes)         |
//! |                | 40 bytes         |                |                 |
//! +----------------+------------------+----------------+-----------------+
//! ```
//!
//! Everything is deterministic: same script, same bytes. Time does not come
//! from a clock but advances by [`HALF_RTT_NANOS`] after every packet, so a
//! request and the packet answering it are one round-trip time (1 ms) apart.
//!
//! # Sequence numbers in one paragraph
//!
//! TCP numbers every byte it sends (RFC 9293, section 3.4). Each side picks
//! an *initial sequence number* (ISN) and announces it in its SYN; the SYN
//! itself occupies one sequence number, so the first data byte has number
//! ISN + 1. A segment's `seq` is the number of its first byte; its `ack`
//! says "I have received everything before this number". FIN also occupies
//! one number. All this is arithmetic modulo 2^32: a long (or cleverly
//! started) connection wraps from 4294967295 back to 0, which analyzers
//! must handle (RFC 9293, section 3.4, "comparisons ... modulo 2^32").
//!
//! Below, a *stream offset* is a byte's position in one direction's byte
//! stream: offset 0 is the first data byte (sequence number ISN + 1).
//!
//! # Faults
//!
//! Real captures are messy. The free functions at the end ([`swap`],
//! [`duplicate`], [`drop_frame`], [`insert_frame`], [`interleave`]) and
//! [`Segment`] (parse a frame, change it, rebuild it with fresh checksums)
//! turn a clean list of frames into the reordered, retransmitted, lossy or
//! overlapping traffic that the reassembly code has to survive.

use std::net::{IpAddr, SocketAddr};
use std::ops::BitOr;

/// Time between two consecutive packets of a conversation: half of our
/// 1 ms round-trip time.
pub const HALF_RTT_NANOS: u64 = 500_000;
/// Default maximum segment size: 1500-byte Ethernet MTU minus 20 bytes of
/// IPv4 header and 20 bytes of TCP header.
pub const DEFAULT_MSS: usize = 1460;
/// Receive window advertised by both ends. We do not use the window scale
/// option (RFC 7323), so 65535 is the largest window we can announce.
pub const WINDOW: u16 = 65_535;
/// IPv4 time-to-live / IPv6 hop limit, the Linux default.
pub const TTL: u8 = 64;
/// Default initial sequence numbers. Real stacks pick them (pseudo-)randomly
/// (RFC 6528); fixed values keep the fixtures reproducible.
pub const DEFAULT_CLIENT_ISN: u32 = 0x1000_0000;
/// See [`DEFAULT_CLIENT_ISN`].
pub const DEFAULT_SERVER_ISN: u32 = 0x2000_0000;

// EtherTypes of IPv4 and IPv6 inside an Ethernet frame.
pub use super::link::{ETHERTYPE_IPV4, ETHERTYPE_IPV6};
/// Length of an Ethernet II header: destination MAC, source MAC, EtherType.
pub const ETHERNET_HEADER_LEN: usize = 14;
/// IP protocol number of TCP.
const IPPROTO_TCP: u8 = 6;
/// IP protocol number of UDP.
const IPPROTO_UDP: u8 = 17;

/// One captured packet: a complete Ethernet II frame and when it was seen
/// (nanoseconds since the Unix epoch).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Capture timestamp, nanoseconds since 1970-01-01 00:00:00 UTC.
    pub ts_nanos: u64,
    /// The frame, starting with the Ethernet header.
    pub data: Vec<u8>,
}

/// Direction of a packet within a conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dir {
    /// From the side that sent the first SYN (the client) to the server.
    ClientToServer,
    /// From the server back to the client.
    ServerToClient,
}

impl Dir {
    /// The other direction.
    pub fn reverse(self) -> Dir {
        match self {
            Dir::ClientToServer => Dir::ServerToClient,
            Dir::ServerToClient => Dir::ClientToServer,
        }
    }
}

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

/// The MAC address we give to a host: the locally administered prefix
/// `02:00` followed by the last four bytes of its IP address. Real MACs
/// come from the hardware; ours only need to be stable and distinct.
pub fn mac_for(ip: IpAddr) -> [u8; 6] {
    let tail = match ip {
        IpAddr::V4(a) => a.octets(),
        IpAddr::V6(a) => {
            let o = a.octets();
            [o[12], o[13], o[14], o[15]]
        }
    };
    [0x02, 0x00, tail[0], tail[1], tail[2], tail[3]]
}

/// The Internet checksum (RFC 1071): the one's complement of the one's
/// complement sum of all 16-bit words. The parts are summed as if they
/// were one contiguous byte string (an odd-length part shifts the word
/// boundaries of the following parts).
pub fn internet_checksum(parts: &[&[u8]]) -> u16 {
    let mut sum: u32 = 0;
    let mut odd_byte: Option<u8> = None;
    for byte in parts.iter().flat_map(|p| p.iter().copied()) {
        match odd_byte.take() {
            None => odd_byte = Some(byte),
            Some(high) => sum += u32::from(u16::from_be_bytes([high, byte])),
        }
    }
    if let Some(high) = odd_byte {
        // A trailing odd byte is padded with a zero byte.
        sum += u32::from(u16::from_be_bytes([high, 0]));
    }
    // Fold the carries back in ("end-around carry").
    while sum > 0xFFFF {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    !(sum as u16)
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
    pub fn to_tcp_bytes(&self) -> Vec<u8> {
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
    pub fn to_ip_packet(&self) -> Vec<u8> {
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
        frame.extend_from_slice(&mac_for(self.dst.ip()));
        frame.extend_from_slice(&mac_for(self.src.ip()));
        frame.extend_from_slice(&ethertype.to_be_bytes());
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

/// An IPv4 header without options (RFC 791 section 3.1), with a correct
/// header checksum. `flags_and_offset` holds the 3 flag bits (0x4000 = DF,
/// 0x2000 = MF) and the fragment offset in 8-byte units.
pub fn ipv4_header(
    src: [u8; 4],
    dst: [u8; 4],
    id: u16,
    flags_and_offset: u16,
    payload_len: usize,
) -> Vec<u8> {
    let total_len = (20 + payload_len) as u16;
    let mut h = Vec::with_capacity(20);
    h.push(0x45); // version 4, header length 5 words = 20 bytes
    h.push(0); // DSCP/ECN: best effort
    h.extend_from_slice(&total_len.to_be_bytes());
    h.extend_from_slice(&id.to_be_bytes());
    h.extend_from_slice(&flags_and_offset.to_be_bytes());
    h.push(TTL);
    h.push(IPPROTO_TCP);
    h.extend_from_slice(&[0, 0]); // checksum placeholder
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    let checksum = internet_checksum(&[&h]);
    h[10..12].copy_from_slice(&checksum.to_be_bytes());
    h
}

/// What one end of the connection remembers while sending.
#[derive(Clone, Debug)]
struct Endpoint {
    addr: SocketAddr,
    /// Initial sequence number.
    isn: u32,
    /// SND.NXT in RFC 9293 terms: the sequence number of the next byte
    /// (or SYN/FIN) this end will send.
    snd_nxt: u32,
    /// Next IPv4 identification value; each host numbers its own packets.
    ip_id: u16,
    /// Data bytes sent so far (SYN and FIN not counted).
    payload_sent: u64,
}

/// One scripted TCP connection between a client and a server.
///
/// ```
/// use mailscope::capture::builder::{Conversation, Dir};
/// let mut c = Conversation::new(
///     "10.0.0.1:40000".parse().unwrap(),
///     "10.0.0.2:25".parse().unwrap(),
///     1_709_543_700_000_000_000,
/// );
/// c.handshake();                                  // 3 frames
/// c.line(Dir::ServerToClient, "220 hamburger.edu"); // data + ACK
/// c.close();                                      // 4 frames
/// assert_eq!(c.frames().len(), 9);
/// ```
#[derive(Clone, Debug)]
pub struct Conversation {
    client: Endpoint,
    server: Endpoint,
    mss: usize,
    /// Timestamp the next frame will get.
    clock: u64,
    /// Time between one frame and the next (half a round trip).
    half_rtt: u64,
    frames: Vec<Frame>,
}

impl Conversation {
    /// A new, not yet opened connection. Client and server must both be
    /// IPv4 or both IPv6; the frames use that IP version.
    ///
    /// # Panics
    /// If the two addresses are of different IP versions.
    pub fn new(client: SocketAddr, server: SocketAddr, start_ts_nanos: u64) -> Self {
        assert_eq!(
            client.is_ipv4(),
            server.is_ipv4(),
            "client and server must use the same IP version"
        );
        Conversation {
            client: Endpoint {
                addr: client,
                isn: DEFAULT_CLIENT_ISN,
                snd_nxt: DEFAULT_CLIENT_ISN,
                ip_id: 0x1000,
                payload_sent: 0,
            },
            server: Endpoint {
                addr: server,
                isn: DEFAULT_SERVER_ISN,
                snd_nxt: DEFAULT_SERVER_ISN,
                ip_id: 0x8000,
                payload_sent: 0,
            },
            mss: DEFAULT_MSS,
            clock: start_ts_nanos,
            half_rtt: HALF_RTT_NANOS,
            frames: Vec::new(),
        }
    }

    /// Choose the initial sequence numbers (before [`handshake`](Self::handshake)).
    /// Values close to 2^32 (e.g. `0xFFFF_FF00`) make the sequence numbers
    /// wrap around during the conversation.
    pub fn isn(mut self, client_isn: u32, server_isn: u32) -> Self {
        self.client.isn = client_isn;
        self.client.snd_nxt = client_isn;
        self.server.isn = server_isn;
        self.server.snd_nxt = server_isn;
        self
    }

    /// Maximum payload bytes per segment (default [`DEFAULT_MSS`]). Both
    /// ends announce it in their SYN.
    ///
    /// # Panics
    /// If `mss` is 0.
    pub fn mss(mut self, mss: usize) -> Self {
        assert!(mss > 0, "MSS must be positive");
        self.mss = mss;
        self
    }

    /// Time between consecutive frames (default [`HALF_RTT_NANOS`]). The
    /// recorder of the embedded mail world uses a few microseconds, the
    /// delay of loopback, so that synthesized ACKs stay close to the real
    /// times of the writes.
    pub fn half_rtt(mut self, nanos: u64) -> Self {
        self.half_rtt = nanos;
        self
    }

    /// Move the clock forward to `ts_nanos` (never backwards: frames stay
    /// in time order). The recorder calls this with the real time of each
    /// write before replaying it.
    pub fn advance_to(&mut self, ts_nanos: u64) {
        self.clock = self.clock.max(ts_nanos);
    }

    /// One side closes its direction: a FIN (with ACK), acknowledged by
    /// the peer. Two calls, one per side, make the four-way close of
    /// [`close_from`](Self::close_from) with real times in between.
    pub fn half_close(&mut self, dir: Dir) {
        self.fin(dir);
        self.pure_ack(dir.reverse());
    }

    /// The client's address.
    pub fn client(&self) -> SocketAddr {
        self.client.addr
    }

    /// The server's address.
    pub fn server(&self) -> SocketAddr {
        self.server.addr
    }

    /// Timestamp the next frame will get.
    pub fn now(&self) -> u64 {
        self.clock
    }

    /// Data bytes sent in direction `dir` so far: also the stream offset of
    /// the next byte that direction will send.
    pub fn payload_sent(&self, dir: Dir) -> u64 {
        self.sender(dir).payload_sent
    }

    /// Initial sequence number of the side sending in direction `dir`.
    pub fn isn_of(&self, dir: Dir) -> u32 {
        self.sender(dir).isn
    }

    /// The three-way handshake (RFC 9293 section 3.5):
    ///
    /// ```text
    /// client                                   server
    ///   SYN      seq=ISNc              -->
    ///            <--   SYN,ACK seq=ISNs ack=ISNc+1
    ///   ACK      seq=ISNc+1 ack=ISNs+1 -->
    /// ```
    ///
    /// Both SYNs carry the MSS option (kind 2, length 4, value).
    pub fn handshake(&mut self) {
        let mss = u16::try_from(self.mss).unwrap_or(u16::MAX).to_be_bytes();
        let mss_option = [2, 4, mss[0], mss[1]];

        let seq = self.client.snd_nxt;
        self.emit(Dir::ClientToServer, seq, 0, TcpFlags::SYN, &mss_option, &[]);
        self.client.snd_nxt = seq.wrapping_add(1); // the SYN takes one number

        let seq = self.server.snd_nxt;
        let ack = self.client.snd_nxt;
        self.emit(
            Dir::ServerToClient,
            seq,
            ack,
            TcpFlags::SYN | TcpFlags::ACK,
            &mss_option,
            &[],
        );
        self.server.snd_nxt = seq.wrapping_add(1);

        self.pure_ack(Dir::ClientToServer);
    }

    /// The client writes `bytes` to its socket. See [`send`](Self::send).
    pub fn client_sends(&mut self, bytes: &[u8]) {
        self.send(Dir::ClientToServer, bytes);
    }

    /// The server writes `bytes` to its socket. See [`send`](Self::send).
    pub fn server_sends(&mut self, bytes: &[u8]) {
        self.send(Dir::ServerToClient, bytes);
    }

    /// One application write in direction `dir`: the bytes are cut into
    /// segments of at most MSS bytes, the last one carrying PSH. The peer
    /// acknowledges every segment with a pure ACK right away (real stacks
    /// often delay ACKs and acknowledge every second segment, RFC 9293
    /// section 3.8.6.3; one ACK per segment keeps the fixtures simple).
    pub fn send(&mut self, dir: Dir, bytes: &[u8]) {
        let count = bytes.len().div_ceil(self.mss);
        for (i, chunk) in bytes.chunks(self.mss).enumerate() {
            let flags = if i + 1 == count {
                TcpFlags::ACK | TcpFlags::PSH
            } else {
                TcpFlags::ACK
            };
            let seq = self.sender(dir).snd_nxt;
            let ack = self.sender(dir.reverse()).snd_nxt;
            self.emit(dir, seq, ack, flags, &[], chunk);
            let sender = self.sender_mut(dir);
            sender.snd_nxt = seq.wrapping_add(chunk.len() as u32);
            sender.payload_sent += chunk.len() as u64;
            self.pure_ack(dir.reverse());
        }
    }

    /// Convenience for line-based protocols: sends `text` followed by CRLF
    /// (the line terminator of SMTP, POP3 and IMAP) as one write.
    pub fn line(&mut self, dir: Dir, text: &str) {
        let mut bytes = Vec::with_capacity(text.len() + 2);
        bytes.extend_from_slice(text.as_bytes());
        bytes.extend_from_slice(b"\r\n");
        self.send(dir, &bytes);
    }

    /// Let time pass (e.g. a user typing, a server looking up a mailbox).
    pub fn pause(&mut self, nanos: u64) {
        self.clock += nanos;
    }

    /// Orderly close started by the client: see [`close_from`](Self::close_from).
    pub fn close(&mut self) {
        self.close_from(Dir::ClientToServer);
    }

    /// The four-way close (RFC 9293 section 3.6), started by the side that
    /// sends in direction `first`:
    ///
    /// ```text
    /// A  FIN,ACK seq=x          -->      B
    ///    <--  ACK ack=x+1
    ///    <--  FIN,ACK seq=y ack=x+1
    ///    ACK  ack=y+1           -->
    /// ```
    pub fn close_from(&mut self, first: Dir) {
        self.fin(first);
        self.pure_ack(first.reverse());
        self.fin(first.reverse());
        self.pure_ack(first);
    }

    /// Abort the connection: a RST (with ACK) from the side sending in
    /// direction `from` (RFC 9293 section 3.5.2). No more packets follow.
    pub fn reset(&mut self, from: Dir) {
        let seq = self.sender(from).snd_nxt;
        let ack = self.sender(from.reverse()).snd_nxt;
        self.emit(from, seq, ack, TcpFlags::RST | TcpFlags::ACK, &[], &[]);
    }

    /// Send one segment with any payload at any stream offset (0 = first
    /// data byte), *without* changing the connection state: the next
    /// regular send continues where it would have anyway. The ack number is
    /// the peer's current SND.NXT. Use it for retransmissions, overlaps and
    /// other oddities.
    pub fn raw_segment(&mut self, from: Dir, stream_offset: u32, payload: &[u8], flags: TcpFlags) {
        let seq = self
            .sender(from)
            .isn
            .wrapping_add(1)
            .wrapping_add(stream_offset);
        let ack = self.sender(from.reverse()).snd_nxt;
        self.emit(from, seq, ack, flags, &[], payload);
    }

    /// The frames built so far.
    pub fn frames(&self) -> &[Frame] {
        &self.frames
    }

    /// Consume the conversation, keeping its frames.
    pub fn into_frames(self) -> Vec<Frame> {
        self.frames
    }

    // --- internals -------------------------------------------------------

    fn sender(&self, dir: Dir) -> &Endpoint {
        match dir {
            Dir::ClientToServer => &self.client,
            Dir::ServerToClient => &self.server,
        }
    }

    fn sender_mut(&mut self, dir: Dir) -> &mut Endpoint {
        match dir {
            Dir::ClientToServer => &mut self.client,
            Dir::ServerToClient => &mut self.server,
        }
    }

    /// An ACK without data from the side sending in direction `dir`,
    /// acknowledging everything the other side has sent.
    fn pure_ack(&mut self, dir: Dir) {
        let seq = self.sender(dir).snd_nxt;
        let ack = self.sender(dir.reverse()).snd_nxt;
        self.emit(dir, seq, ack, TcpFlags::ACK, &[], &[]);
    }

    /// A FIN (with ACK) from the side sending in direction `dir`.
    fn fin(&mut self, dir: Dir) {
        let seq = self.sender(dir).snd_nxt;
        let ack = self.sender(dir.reverse()).snd_nxt;
        self.emit(dir, seq, ack, TcpFlags::FIN | TcpFlags::ACK, &[], &[]);
        self.sender_mut(dir).snd_nxt = seq.wrapping_add(1); // FIN takes one number
    }

    /// Build one frame, stamp it with the clock and advance the clock.
    fn emit(
        &mut self,
        dir: Dir,
        seq: u32,
        ack: u32,
        flags: TcpFlags,
        options: &[u8],
        payload: &[u8],
    ) {
        let (src, dst) = (self.sender(dir).addr, self.sender(dir.reverse()).addr);
        let ip_id = self.sender(dir).ip_id;
        self.sender_mut(dir).ip_id = ip_id.wrapping_add(1);
        let segment = Segment {
            src,
            dst,
            ip_id,
            dont_fragment: true,
            seq,
            ack,
            flags,
            window: WINDOW,
            options: options.to_vec(),
            payload: payload.to_vec(),
        };
        self.frames.push(Frame {
            ts_nanos: self.clock,
            data: segment.to_frame(),
        });
        self.clock += self.half_rtt;
    }
}

/// An Ethernet/IPv4/UDP frame (RFC 768) with correct IP and UDP checksums.
/// The recorder of the embedded mail world writes the DNS queries and
/// answers with it.
///
/// # Panics
/// If an address is not IPv4 or the payload does not fit a UDP datagram.
pub fn udp_frame(src: SocketAddr, dst: SocketAddr, ip_id: u16, payload: &[u8]) -> Vec<u8> {
    let (IpAddr::V4(s), IpAddr::V4(d)) = (src.ip(), dst.ip()) else {
        panic!("udp_frame builds IPv4 frames only");
    };
    let udp_len = u16::try_from(8 + payload.len()).expect("UDP payload too large");
    let mut udp = Vec::with_capacity(8 + payload.len());
    udp.extend_from_slice(&src.port().to_be_bytes());
    udp.extend_from_slice(&dst.port().to_be_bytes());
    udp.extend_from_slice(&udp_len.to_be_bytes());
    udp.extend_from_slice(&[0, 0]); // checksum placeholder
    udp.extend_from_slice(payload);
    // The UDP checksum covers a pseudo-header (RFC 768): addresses, zero,
    // protocol 17 and the UDP length.
    let pseudo = [
        &s.octets()[..],
        &d.octets()[..],
        &[0, IPPROTO_UDP],
        &udp_len.to_be_bytes(),
    ]
    .concat();
    let mut checksum = internet_checksum(&[&pseudo, &udp]);
    if checksum == 0 {
        checksum = 0xFFFF; // 0 means "no checksum" in UDP over IPv4
    }
    udp[6..8].copy_from_slice(&checksum.to_be_bytes());
    let mut ip = ipv4_header(s.octets(), d.octets(), ip_id, 0x4000, udp.len());
    ip[9] = IPPROTO_UDP;
    ip[10..12].copy_from_slice(&[0, 0]);
    let ip_checksum = internet_checksum(&[&ip]);
    ip[10..12].copy_from_slice(&ip_checksum.to_be_bytes());
    let mut frame = Vec::with_capacity(ETHERNET_HEADER_LEN + ip.len() + udp.len());
    frame.extend_from_slice(&mac_for(dst.ip()));
    frame.extend_from_slice(&mac_for(src.ip()));
    frame.extend_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
    frame.extend_from_slice(&ip);
    frame.extend_from_slice(&udp);
    frame
}

// ---------------------------------------------------------------------------
// Fault helpers: they edit a list of frames the way a network (or a capture
// point) can mangle traffic. Timestamps always stay in ascending order, as
// in a real capture file: we move packet *contents*, never time.
// ---------------------------------------------------------------------------

/// Reordering: frames `i` and `j` exchange their contents but keep their
/// timestamps, so the capture still runs forward in time.
///
/// # Panics
/// If an index is out of range.
pub fn swap(frames: &mut [Frame], i: usize, j: usize) {
    let data_i = std::mem::take(&mut frames[i].data);
    frames[i].data = std::mem::replace(&mut frames[j].data, data_i);
}

/// Insert `data` so that it becomes frame number `at`, with a timestamp
/// halfway between its new neighbours.
///
/// # Panics
/// If `at > frames.len()`.
pub fn insert_frame(frames: &mut Vec<Frame>, at: usize, data: Vec<u8>) {
    let prev = if at > 0 {
        Some(frames[at - 1].ts_nanos)
    } else {
        None
    };
    let next = frames.get(at).map(|f| f.ts_nanos);
    let ts_nanos = match (prev, next) {
        (Some(p), Some(n)) => p + (n.saturating_sub(p)) / 2,
        (Some(p), None) => p + HALF_RTT_NANOS,
        (None, Some(n)) => n.saturating_sub(HALF_RTT_NANOS),
        (None, None) => 0,
    };
    frames.insert(at, Frame { ts_nanos, data });
}

/// Retransmission: a copy of frame `i` is inserted right after frame
/// `after` (which must not come before `i`), with its own timestamp.
///
/// # Panics
/// If `after < i` or an index is out of range.
pub fn duplicate(frames: &mut Vec<Frame>, i: usize, after: usize) {
    assert!(after >= i, "a retransmission comes after the original");
    let copy = frames[i].data.clone();
    insert_frame(frames, after + 1, copy);
}

/// Loss: frame `i` never reached the capture point.
///
/// # Panics
/// If `i` is out of range.
pub fn drop_frame(frames: &mut Vec<Frame>, i: usize) {
    frames.remove(i);
}

/// Several conversations captured on one link: merge their frames by
/// timestamp. The sort is stable, so frames with equal timestamps keep the
/// order of `convs` (and their order within a conversation).
pub fn interleave(convs: Vec<Vec<Frame>>) -> Vec<Frame> {
    let mut all: Vec<Frame> = convs.into_iter().flatten().collect();
    all.sort_by_key(|f| f.ts_nanos);
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::{NetSlice, SlicedPacket, TransportSlice};

    const T0: u64 = 1_709_543_700_000_000_000;

    /// What the tests look at in a frame, decoded by etherparse (an
    /// implementation independent of ours), with checksums verified.
    #[derive(Debug, PartialEq)]
    struct Seen {
        from_client: bool,
        seq: u32,
        ack: u32,
        flags: &'static str,
        payload: Vec<u8>,
    }

    fn flag_string(tcp: &etherparse::TcpSlice<'_>) -> &'static str {
        match (tcp.syn(), tcp.ack(), tcp.psh(), tcp.fin(), tcp.rst()) {
            (true, false, false, false, false) => "S",
            (true, true, false, false, false) => "SA",
            (false, true, false, false, false) => "A",
            (false, true, true, false, false) => "PA",
            (false, true, false, true, false) => "FA",
            (false, true, false, false, true) => "RA",
            _ => "?",
        }
    }

    fn decode(frame: &Frame, client: SocketAddr) -> Seen {
        let p = SlicedPacket::from_ethernet(&frame.data).expect("etherparse rejects frame");
        let Some(TransportSlice::Tcp(tcp)) = &p.transport else {
            panic!("not TCP")
        };
        let (src_ip, checksum) = match p.net.as_ref().unwrap() {
            NetSlice::Ipv4(v4) => {
                let h = v4.header().to_header();
                assert_eq!(h.header_checksum, h.calc_header_checksum(), "IPv4 checksum");
                assert_eq!(h.time_to_live, TTL);
                let sum = tcp
                    .to_header()
                    .calc_checksum_ipv4(&h, tcp.payload())
                    .unwrap();
                (IpAddr::V4(h.source.into()), sum)
            }
            NetSlice::Ipv6(v6) => {
                let h = v6.header().to_header();
                assert_eq!(h.hop_limit, TTL);
                let sum = tcp
                    .to_header()
                    .calc_checksum_ipv6(&h, tcp.payload())
                    .unwrap();
                (IpAddr::V6(h.source.into()), sum)
            }
            _ => panic!("not IP"),
        };
        assert_eq!(tcp.checksum(), checksum, "TCP checksum");
        assert_eq!(tcp.window_size(), WINDOW);
        let from_client = src_ip == client.ip() && tcp.source_port() == client.port();
        Seen {
            from_client,
            seq: tcp.sequence_number(),
            ack: tcp.acknowledgment_number(),
            flags: flag_string(tcp),
            payload: tcp.payload().to_vec(),
        }
    }

    fn seen(from_client: bool, seq: u32, ack: u32, flags: &'static str, payload: &[u8]) -> Seen {
        Seen {
            from_client,
            seq,
            ack,
            flags,
            payload: payload.to_vec(),
        }
    }

    #[test]
    fn checksum_matches_rfc1071_example() {
        // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(internet_checksum(&[&data]), !0xddf2);
        // Split at an odd boundary: same result.
        assert_eq!(internet_checksum(&[&data[..3], &data[3..]]), !0xddf2);
    }

    #[test]
    fn a_whole_connection_has_exact_numbers() {
        let client: SocketAddr = "10.0.0.1:40000".parse().unwrap();
        let server: SocketAddr = "10.0.0.2:25".parse().unwrap();
        let mut c = Conversation::new(client, server, T0).isn(1000, 5000);
        c.handshake();
        c.line(Dir::ServerToClient, "220 hi");
        c.line(Dir::ClientToServer, "QUIT");
        c.close();
        let got: Vec<Seen> = c.frames().iter().map(|f| decode(f, client)).collect();
        let expected = vec![
            seen(true, 1000, 0, "S", b""),
            seen(false, 5000, 1001, "SA", b""),
            seen(true, 1001, 5001, "A", b""),
            seen(false, 5001, 1001, "PA", b"220 hi\r\n"),
            seen(true, 1001, 5009, "A", b""),
            seen(true, 1001, 5009, "PA", b"QUIT\r\n"),
            seen(false, 5009, 1007, "A", b""),
            seen(true, 1007, 5009, "FA", b""),
            seen(false, 5009, 1008, "A", b""),
            seen(false, 5009, 1008, "FA", b""),
            seen(true, 1008, 5010, "A", b""),
        ];
        assert_eq!(got, expected);
        // Timestamps: one half-RTT apart.
        for (i, f) in c.frames().iter().enumerate() {
            assert_eq!(f.ts_nanos, T0 + i as u64 * HALF_RTT_NANOS);
        }
        assert_eq!(c.payload_sent(Dir::ServerToClient), 8);
        assert_eq!(c.payload_sent(Dir::ClientToServer), 6);
    }

    #[test]
    fn syns_carry_mss_and_ip_fields_are_realistic() {
        let client: SocketAddr = "10.0.0.1:40000".parse().unwrap();
        let mut c = Conversation::new(client, "10.0.0.2:25".parse().unwrap(), T0).mss(536);
        c.handshake();
        c.line(Dir::ClientToServer, "x");
        let frames = c.frames();
        for f in &frames[..2] {
            let p = SlicedPacket::from_ethernet(&f.data).unwrap();
            let Some(TransportSlice::Tcp(tcp)) = p.transport else {
                panic!()
            };
            assert_eq!(tcp.options(), &[2, 4, 0x02, 0x18]); // MSS 536
        }
        // Ethernet addresses derived from the IPs.
        assert_eq!(&frames[0].data[0..6], &[2, 0, 10, 0, 0, 2]);
        assert_eq!(&frames[0].data[6..12], &[2, 0, 10, 0, 0, 1]);
        // IPv4 ids count up per sending host; DF is set.
        let ids: Vec<(u16, bool)> = frames
            .iter()
            .map(|f| {
                let p = SlicedPacket::from_ethernet(&f.data).unwrap();
                let Some(NetSlice::Ipv4(v4)) = p.net else {
                    panic!()
                };
                assert!(v4.header().dont_fragment());
                (v4.header().identification(), decode(f, client).from_client)
            })
            .collect();
        assert_eq!(
            ids,
            vec![
                (0x1000, true),
                (0x8000, false),
                (0x1001, true),
                (0x1002, true),
                (0x8001, false)
            ]
        );
    }

    #[test]
    fn long_writes_are_cut_at_the_mss() {
        let client: SocketAddr = "10.0.0.1:40000".parse().unwrap();
        let mut c = Conversation::new(client, "10.0.0.2:25".parse().unwrap(), T0)
            .isn(0, 0)
            .mss(1000);
        c.handshake();
        let data: Vec<u8> = (0..2500u32).map(|i| (i % 251) as u8).collect();
        c.client_sends(&data);
        let got: Vec<Seen> = c.frames()[3..].iter().map(|f| decode(f, client)).collect();
        assert_eq!(
            got,
            vec![
                seen(true, 1, 1, "A", &data[..1000]),
                seen(false, 1, 1001, "A", b""),
                seen(true, 1001, 1, "A", &data[1000..2000]),
                seen(false, 1, 2001, "A", b""),
                seen(true, 2001, 1, "PA", &data[2000..]),
                seen(false, 1, 2501, "A", b""),
            ]
        );
    }

    #[test]
    fn sequence_numbers_wrap_around() {
        let client: SocketAddr = "10.0.0.1:40000".parse().unwrap();
        let mut c = Conversation::new(client, "10.0.0.2:25".parse().unwrap(), T0)
            .isn(0xFFFF_FF00, 0xFFFF_FFFF)
            .mss(200);
        c.handshake();
        // The server's SYN takes the last number, its data starts at 0.
        let synack = decode(&c.frames()[1], client);
        assert_eq!((synack.seq, synack.ack), (0xFFFF_FFFF, 0xFFFF_FF01));
        let data: Vec<u8> = (0..600u32).map(|i| (i % 256) as u8).collect();
        c.client_sends(&data);
        c.line(Dir::ServerToClient, "ok");
        let got: Vec<Seen> = c.frames()[3..].iter().map(|f| decode(f, client)).collect();
        let client_seqs: Vec<u32> = got
            .iter()
            .filter(|s| s.from_client && !s.payload.is_empty())
            .map(|s| s.seq)
            .collect();
        assert_eq!(client_seqs, vec![0xFFFF_FF01, 0xFFFF_FFC9, 0x91]);
        let reassembled: Vec<u8> = got
            .iter()
            .filter(|s| s.from_client)
            .flat_map(|s| s.payload.clone())
            .collect();
        assert_eq!(reassembled, data);
        assert_eq!(
            got.last().unwrap().ack,
            4,
            "ack of the 4 bytes \"ok\\r\\n\" sent at seq 0"
        );
        assert_eq!(got.last().unwrap().seq, 600 - 0xFF);
    }

    #[test]
    fn ipv6_frames() {
        let client: SocketAddr = "[2001:db8::1]:40000".parse().unwrap();
        let server: SocketAddr = "[2001:db8::2]:25".parse().unwrap();
        let mut c = Conversation::new(client, server, T0).isn(7, 9);
        c.handshake();
        c.line(Dir::ServerToClient, "220 v6");
        c.reset(Dir::ClientToServer);
        let f = &c.frames()[3];
        assert_eq!(&f.data[12..14], &[0x86, 0xDD]);
        assert_eq!(&f.data[0..6], &[2, 0, 0, 0, 0, 1]);
        let got: Vec<Seen> = c.frames().iter().map(|f| decode(f, client)).collect();
        assert_eq!(got[3], seen(false, 10, 8, "PA", b"220 v6\r\n"));
        assert_eq!(got[5], seen(true, 8, 18, "RA", b""));
    }

    #[test]
    fn raw_segments_leave_the_state_alone() {
        let client: SocketAddr = "10.0.0.1:40000".parse().unwrap();
        let mut c = Conversation::new(client, "10.0.0.2:25".parse().unwrap(), T0).isn(100, 200);
        c.handshake();
        c.line(Dir::ClientToServer, "HELO x");
        c.raw_segment(Dir::ClientToServer, 2, b"LO", TcpFlags::ACK | TcpFlags::PSH);
        c.line(Dir::ClientToServer, "QUIT");
        let got: Vec<Seen> = c.frames()[5..].iter().map(|f| decode(f, client)).collect();
        assert_eq!(got[0], seen(true, 103, 201, "PA", b"LO"));
        assert_eq!(got[1], seen(true, 109, 201, "PA", b"QUIT\r\n"));
    }

    #[test]
    fn segment_parse_and_rebuild_round_trip() {
        let client: SocketAddr = "10.0.0.1:40000".parse().unwrap();
        let mut c = Conversation::new(client, "10.0.0.2:25".parse().unwrap(), T0);
        c.handshake();
        c.line(Dir::ClientToServer, "HELO crepes.fr");
        for f in c.frames() {
            let s = Segment::parse(&f.data).unwrap();
            assert_eq!(s.to_frame(), f.data);
        }
        // Editing a field gives a frame with valid checksums again.
        let mut s = Segment::parse(&c.frames()[3].data).unwrap();
        s.seq = s.seq.wrapping_sub(4);
        s.payload = b"XXXXHELO crepes.fr\r\n".to_vec();
        let edited = Frame {
            ts_nanos: 0,
            data: s.to_frame(),
        };
        let seen_edit = decode(&edited, client);
        assert_eq!(seen_edit.payload, s.payload);
        assert_eq!(seen_edit.seq, DEFAULT_CLIENT_ISN + 1 - 4);
    }

    #[test]
    fn fault_helpers_keep_time_moving_forward() {
        let client: SocketAddr = "10.0.0.1:40000".parse().unwrap();
        let mut c = Conversation::new(client, "10.0.0.2:25".parse().unwrap(), T0);
        c.handshake();
        c.line(Dir::ClientToServer, "one");
        c.line(Dir::ClientToServer, "two");
        let original = c.into_frames();

        let mut frames = original.clone();
        swap(&mut frames, 3, 5);
        assert_eq!(frames[3].data, original[5].data);
        assert_eq!(frames[5].data, original[3].data);
        assert_eq!(frames[3].ts_nanos, original[3].ts_nanos);

        let mut frames = original.clone();
        duplicate(&mut frames, 3, 4);
        assert_eq!(frames.len(), original.len() + 1);
        assert_eq!(frames[5].data, original[3].data);
        assert_eq!(
            frames[5].ts_nanos,
            original[4].ts_nanos + HALF_RTT_NANOS / 2
        );
        assert!(frames.windows(2).all(|w| w[0].ts_nanos <= w[1].ts_nanos));

        let mut frames = original.clone();
        drop_frame(&mut frames, 3);
        assert_eq!(frames[3], original[4]);

        let mut other = Conversation::new(
            "10.0.0.3:40001".parse().unwrap(),
            "10.0.0.2:25".parse().unwrap(),
            T0 + 1,
        );
        other.handshake();
        let other = other.into_frames();
        let merged = interleave(vec![original.clone(), other.clone()]);
        assert_eq!(merged.len(), original.len() + other.len());
        assert!(merged.windows(2).all(|w| w[0].ts_nanos <= w[1].ts_nanos));
        assert_eq!(merged[0], original[0]);
        assert_eq!(merged[1], other[0]);
    }
}
