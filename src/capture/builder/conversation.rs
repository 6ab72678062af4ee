//! One scripted TCP connection: both ends' sequence numbers, the handshake,
//! writes cut at the MSS and acknowledged, the close and the reset.

use std::net::SocketAddr;

use super::segment::{Segment, TcpFlags};

/// Time between two consecutive packets of a conversation: half of our
/// 1 ms round-trip time.
pub const HALF_RTT_NANOS: u64 = 500_000;
/// Default maximum segment size: 1500-byte Ethernet MTU minus 20 bytes of
/// IPv4 header and 20 bytes of TCP header.
const DEFAULT_MSS: usize = 1460;
/// Receive window advertised by both ends. We do not use the window scale
/// option (RFC 7323), so 65535 is the largest window we can announce.
const WINDOW: u16 = 65_535;
/// Default initial sequence numbers. Real stacks pick them (pseudo-)randomly
/// (RFC 6528); fixed values keep the fixtures reproducible.
const DEFAULT_CLIENT_ISN: u32 = 0x1000_0000;
/// See [`DEFAULT_CLIENT_ISN`].
const DEFAULT_SERVER_ISN: u32 = 0x2000_0000;

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

    /// Maximum payload bytes per segment (default 1460, `DEFAULT_MSS`). Both
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::builder::framing::TTL;
    use etherparse::{NetSlice, SlicedPacket, TransportSlice};
    use std::net::IpAddr;

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
}
