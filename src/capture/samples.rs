//! The course's sample captures: every file in `captures/` is generated here.
//!
//! Each sample is a small, deterministic script played with
//! [`Conversation`](super::builder::Conversation) and written with
//! [`PcapNgWriter`] or [`PcapWriter`]. Regenerating a sample gives the same
//! bytes every time; `tests/fixtures.rs` checks that the committed files
//! match (run it with `MAILSCOPE_UPDATE_FIXTURES=1` to rewrite them).
//!
//! There are three groups:
//!
//! 1. The textbook sessions (Kurose & Ross, "Computer Networking"): Alice at
//!    crepes.fr mails Bob at hamburger.edu over SMTP; Bob reads his mail
//!    with POP3, and then with IMAP.
//! 2. TCP reassembly cases: a short SMTP dialogue with one specific fault
//!    (reordering, retransmission, overlap, loss, sequence wrap-around, a
//!    capture that starts mid-stream, an RST) or over IPv6.
//! 3. Container and link-layer variants: classic pcap in both byte orders
//!    and resolutions, several interfaces, VLAN tags, Linux cooked capture,
//!    BSD loopback, IPv4 fragments, a snapshot length, an unknown block type;
//!    and protocol detection cases (mail protocols on odd ports, non-mail
//!    protocols on mail ports, TLS).
//!
//! [`catalog`] describes every sample, including the exact number of
//! payload bytes an analyzer should reassemble per direction; [`readme`]
//! turns that into `captures/README.md`.
//!
//! All hosts use documentation/private addresses (10.0.0.0/8, 127.0.0.1,
//! 2001:db8::/32); nothing here ever touches a real network.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

use super::builder::{
    Conversation, Dir, ETHERNET_HEADER_LEN, Frame, Segment, drop_frame, duplicate, insert_frame,
    interleave, ipv4_header, mac_for, swap,
};
use super::writer::{PcapNgWriter, PcapWriter, TSRESOL_MICROS};

// ---------------------------------------------------------------------------
// Link types (tcpdump.org "LINK-LAYER HEADER TYPES").
// ---------------------------------------------------------------------------

/// BSD loopback, address family in the capturing host's byte order.
pub const LINKTYPE_NULL: u16 = 0;
/// Ethernet II (and 802.3).
pub const LINKTYPE_ETHERNET: u16 = 1;
/// Raw IP: the packet starts with the IPv4 or IPv6 header.
pub const LINKTYPE_RAW: u16 = 101;
/// OpenBSD loopback, address family in network byte order.
pub const LINKTYPE_LOOP: u16 = 108;
/// Linux "cooked" capture, version 1 (`tcpdump -i any`).
pub const LINKTYPE_LINUX_SLL: u16 = 113;
/// Linux "cooked" capture, version 2.
pub const LINKTYPE_LINUX_SLL2: u16 = 276;

/// Snapshot length used for ordinary samples (tcpdump's default).
const SNAPLEN: u32 = 262_144;

/// When every sample starts: 2024-03-04 09:15:00.123456789 UTC, a Monday.
/// The odd nanoseconds show the difference between nanosecond and
/// microsecond files.
pub const START_NANOS: u64 = 1_709_543_700_123_456_789;

/// How an analyzer should see one TCP connection of a sample.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowSummary {
    /// The application protocol spoken ("SMTP", "POP3", "HTTP", ...).
    pub protocol: &'static str,
    /// The side that opened the connection.
    pub client: SocketAddr,
    /// The side that accepted it.
    pub server: SocketAddr,
    /// Payload bytes of the reassembled client→server stream (SYN and FIN
    /// not counted; bytes missing from the capture not counted).
    pub client_bytes: u64,
    /// Same for server→client.
    pub server_bytes: u64,
}

/// One fixture: its file name, its bytes, and what is in it.
#[derive(Clone, Debug)]
pub struct Sample {
    /// File name inside `captures/`.
    pub file_name: &'static str,
    /// One sentence: what the file contains.
    pub description: String,
    /// The TCP connections in the file.
    pub flows: Vec<FlowSummary>,
    /// Exact details of faults and oddities (packet numbers are 1-based,
    /// counting packet blocks only, as Wireshark numbers them).
    pub notes: Vec<String>,
    /// The file itself.
    pub bytes: Vec<u8>,
}

/// Every fixture as (file name, file bytes).
pub fn all_samples() -> Vec<(&'static str, Vec<u8>)> {
    catalog()
        .into_iter()
        .map(|s| (s.file_name, s.bytes))
        .collect()
}

/// Every fixture with its description.
pub fn catalog() -> Vec<Sample> {
    vec![
        smtp_crepes_hamburger(),
        pop3_bob(),
        imap_bob(),
        tcp_reordered(),
        tcp_retransmission(),
        tcp_overlap(),
        tcp_loss(),
        tcp_wraparound(),
        tcp_midstream(),
        tcp_rst(),
        tcp_ipv6(),
        smtp_classic(true, true),
        smtp_classic(false, false),
        multi_interface(),
        linux_sll(),
        linux_sll2(),
        bsd_null(),
        bsd_loop(),
        ipv4_fragments(),
        snaplen_truncated(),
        unknown_block(),
        non_mail_on_mail_port(),
        mail_on_odd_ports(),
        tls_implicit_465(),
    ]
}

/// The text of `captures/README.md`, generated from [`catalog`].
pub fn readme() -> String {
    let mut out = String::new();
    out.push_str(
        "# Sample captures\n\
         \n\
         Generated by `src/capture/samples.rs` (do not edit by hand: run\n\
         `MAILSCOPE_UPDATE_FIXTURES=1 cargo test --test fixtures` to regenerate\n\
         the captures and this file).\n\
         \n\
         Conventions:\n\
         \n\
         * Byte counts are TCP payload bytes of the reassembled stream per\n\
         \x20 direction (`C->S` client to server, `S->C` server to client); SYN\n\
         \x20 and FIN are not counted, retransmitted or overlapping copies are\n\
         \x20 counted once, bytes missing from the capture are not counted.\n\
         * Packet numbers are 1-based and count packet blocks only (EPB, SPB,\n\
         \x20 classic pcap records), as Wireshark numbers frames.\n\
         * Each data segment is acknowledged by a pure ACK from the peer;\n\
         \x20 packets are 0.5 ms apart (a 1 ms round trip), starting\n\
         \x20 2024-03-04 09:15:00.123456789 UTC.\n\
         * Reassembly policy for overlaps: the first copy of a byte seen in the\n\
         \x20 capture wins.\n",
    );
    for sample in catalog() {
        let _ = writeln!(
            out,
            "\n## `{}`\n\n{}\n",
            sample.file_name, sample.description
        );
        for f in &sample.flows {
            let _ = writeln!(
                out,
                "* {} {} -> {}: C->S {} bytes, S->C {} bytes",
                f.protocol, f.client, f.server, f.client_bytes, f.server_bytes
            );
        }
        for note in &sample.notes {
            let _ = writeln!(out, "* {note}");
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Small helpers.
// ---------------------------------------------------------------------------

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("sample address")
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("sample address")
}

/// Join lines, each terminated by CRLF.
fn crlf_lines(lines: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    for line in lines {
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Summarize a finished, fault-free conversation.
fn summary(protocol: &'static str, c: &Conversation) -> FlowSummary {
    FlowSummary {
        protocol,
        client: c.client(),
        server: c.server(),
        client_bytes: c.payload_sent(Dir::ClientToServer),
        server_bytes: c.payload_sent(Dir::ServerToClient),
    }
}

/// A pcapng file with one Ethernet interface, optional names, all frames.
fn pcapng_ethernet(frames: &[Frame], names: &[(IpAddr, &str)]) -> Vec<u8> {
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
fn pcapng_single(linktype: u16, if_name: &str, frames: &[Frame]) -> Vec<u8> {
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

fn seg(frame: &Frame) -> Segment {
    Segment::parse(&frame.data).expect("a frame built by the builder")
}

/// "seq A..B (stream offsets a..b)" for `len` bytes starting at `seq`, in a
/// direction whose initial sequence number is `isn` (offset 0 = ISN + 1).
fn span(seq: u32, len: usize, isn: u32) -> String {
    let offset = seq.wrapping_sub(isn.wrapping_add(1));
    format!(
        "seq {}..{} = stream offsets {}..{}",
        seq,
        seq.wrapping_add(len as u32),
        offset,
        offset.wrapping_add(len as u32)
    )
}

/// Make a pure ACK acknowledge `ack` instead (checksums recomputed). A
/// receiver that gets a segment beyond a hole repeats its last ACK: a
/// "duplicate ACK" (RFC 9293 section 3.10.7.4, RFC 5681 section 2).
fn set_ack(frame: &mut Frame, ack: u32) {
    let mut s = seg(frame);
    s.ack = ack;
    frame.data = s.to_frame();
}

// ---------------------------------------------------------------------------
// Link-layer re-wrapping. The builder produces Ethernet II frames; other
// link types carry the same IP packet behind a different header.
// ---------------------------------------------------------------------------

/// The IP packet inside one of our Ethernet frames.
pub fn strip_ethernet(frame: &[u8]) -> &[u8] {
    frame.get(ETHERNET_HEADER_LEN..).unwrap_or(&[])
}

/// EtherType of one of our Ethernet frames.
fn ethertype_of(frame: &[u8]) -> [u8; 2] {
    [frame[12], frame[13]]
}

/// Insert 802.1Q VLAN tags after the MAC addresses. `tags` lists
/// (TPID, VLAN id) from the outermost tag inwards: a single tag uses TPID
/// 0x8100; QinQ (IEEE 802.1ad) uses 0x88A8 for the outer "service" tag and
/// 0x8100 for the inner "customer" tag. Each tag is 4 bytes: TPID, then
/// 3 bits priority, 1 bit DEI, 12 bits VLAN id. The original EtherType
/// follows the last tag.
pub fn add_vlan_tags(frame: &[u8], tags: &[(u16, u16)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(frame.len() + 4 * tags.len());
    out.extend_from_slice(&frame[..12]);
    for &(tpid, vid) in tags {
        out.extend_from_slice(&tpid.to_be_bytes());
        out.extend_from_slice(&(vid & 0x0FFF).to_be_bytes());
    }
    out.extend_from_slice(&frame[12..]);
    out
}

/// Linux cooked capture v1 header (16 bytes) in front of the IP packet.
/// `outgoing` frames were sent by the capturing host (packet type 4,
/// "PACKET_OUTGOING"), the others were addressed to it (type 0,
/// "PACKET_HOST"). The address is the link-layer source address.
pub fn to_linux_sll(frame: &[u8], outgoing: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(frame.len() + 2);
    let packet_type: u16 = if outgoing { 4 } else { 0 };
    out.extend_from_slice(&packet_type.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes()); // ARPHRD_ETHER
    out.extend_from_slice(&6u16.to_be_bytes()); // address length
    out.extend_from_slice(&frame[6..12]); // source MAC ...
    out.extend_from_slice(&[0, 0]); // ... padded to 8 bytes
    out.extend_from_slice(&ethertype_of(frame));
    out.extend_from_slice(strip_ethernet(frame));
    out
}

/// Linux cooked capture v2 header (20 bytes): protocol first, then a
/// reserved field, the interface index, ARPHRD type, packet type, address
/// length and an 8-byte address.
pub fn to_linux_sll2(frame: &[u8], outgoing: bool, if_index: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(frame.len() + 6);
    out.extend_from_slice(&ethertype_of(frame));
    out.extend_from_slice(&[0, 0]); // reserved, must be zero
    out.extend_from_slice(&if_index.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes()); // ARPHRD_ETHER
    out.push(if outgoing { 4 } else { 0 });
    out.push(6); // address length
    out.extend_from_slice(&frame[6..12]);
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(strip_ethernet(frame));
    out
}

/// BSD loopback header: the 4-byte address family (AF_INET = 2), in
/// little-endian host order for LINKTYPE_NULL (we write little-endian
/// files) or network order for LINKTYPE_LOOP.
pub fn to_bsd_loopback(frame: &[u8], network_order: bool) -> Vec<u8> {
    const AF_INET: u32 = 2;
    let mut out = Vec::with_capacity(frame.len() - 10);
    if network_order {
        out.extend_from_slice(&AF_INET.to_be_bytes());
    } else {
        out.extend_from_slice(&AF_INET.to_le_bytes());
    }
    out.extend_from_slice(strip_ethernet(frame));
    out
}

/// Re-wrap every frame of a list with `f`, keeping timestamps.
fn rewrap(frames: &[Frame], mut f: impl FnMut(&[u8]) -> Vec<u8>) -> Vec<Frame> {
    frames
        .iter()
        .map(|fr| Frame {
            ts_nanos: fr.ts_nanos,
            data: f(&fr.data),
        })
        .collect()
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

/// Deterministic filler bytes (xorshift64*), for the fake TLS records.
fn pseudo_random(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

// ---------------------------------------------------------------------------
// The textbook messages.
// ---------------------------------------------------------------------------

/// Alice's message as her mail client sends it (headers, blank line, body;
/// CRLF line ends; no terminating "." line).
fn crepes_message() -> Vec<u8> {
    crlf_lines(&[
        "From: alice@crepes.fr",
        "To: bob@hamburger.edu",
        "Subject: Searching for the meaning of life",
        "Message-ID: <20240304091500.4711@crepes.fr>",
        "Date: Mon, 04 Mar 2024 10:15:00 +0100",
        "",
        "Do you like ketchup?",
        "How about pickles?",
    ])
}

/// Trace headers that hamburger.edu's mail server adds on delivery.
fn received_headers(id: u32, time: &str) -> Vec<u8> {
    crlf_lines(&[
        "Return-Path: <alice@crepes.fr>",
        "Received: from crepes.fr (crepes.fr [10.0.0.1])",
        &format!("        by hamburger.edu with SMTP id {id}"),
        &format!("        for <bob@hamburger.edu>; Mon, 04 Mar 2024 {time} +0000"),
    ])
}

/// Bob's first message in his mailbox: Alice's message as stored.
fn mailbox_message_1() -> Vec<u8> {
    let mut m = received_headers(4711, "09:15:00");
    m.extend_from_slice(&crepes_message());
    m
}

/// Bob's second message. Its body has lines starting with "." and a line
/// that is a single "."; POP3 and SMTP "dot-stuff" such lines (RFC 1939
/// section 3, RFC 5321 section 4.5.2) by doubling the dot.
fn mailbox_message_2() -> Vec<u8> {
    let mut m = received_headers(4712, "09:20:00");
    m.extend_from_slice(&crlf_lines(&[
        "From: alice@crepes.fr",
        "To: bob@hamburger.edu",
        "Subject: More about pickles",
        "Message-ID: <20240304092000.4712@crepes.fr>",
        "Date: Mon, 04 Mar 2024 10:20:00 +0100",
        "",
        "Bob,",
        "",
        "Here is the long version:",
        "(blah blah ...",
        ".........blah)",
        ".",
        "The line above this one is a single dot. It is part of the",
        "message: POP3 sends it as \"..\" so that nobody mistakes it",
        "for the end of the message.",
        "",
        "Alice",
    ]));
    m
}

/// A longer message (about 1.9 KB) whose IMAP literal spans two segments.
fn recipe_message() -> Vec<u8> {
    let mut m = received_headers(4713, "09:30:00");
    m.extend_from_slice(&crlf_lines(&[
        "From: Alice <alice@crepes.fr>",
        "To: Bob <bob@hamburger.edu>",
        "Subject: Crepes for the picnic",
        "Message-ID: <20240304093000.4713@crepes.fr>",
        "Date: Mon, 04 Mar 2024 10:30:00 +0100",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=us-ascii",
        "",
    ]));
    m.extend_from_slice(&recipe_body());
    m
}

/// The body of the recipe message, also used by the short SMTP dialogue.
fn recipe_body() -> Vec<u8> {
    crlf_lines(&[
        "Bob,",
        "",
        "As promised, my grandmother's crepe recipe. It makes about",
        "twelve crepes, enough for the picnic if nobody is too hungry.",
        "",
        "Ingredients:",
        "  - 250 g plain flour",
        "  - 4 eggs",
        "  - 500 ml milk",
        "  - 50 g melted butter, plus a little for the pan",
        "  - 1 pinch of salt",
        "  - 1 tablespoon of sugar (leave it out for savoury crepes)",
        "",
        "Method:",
        "  1. Put the flour and the salt in a large bowl and make a well",
        "     in the middle.",
        "  2. Break the eggs into the well and start whisking, slowly",
        "     adding the milk so that no lumps form.",
        "  3. Stir in the melted butter and the sugar. The batter should",
        "     be as thin as single cream; add a little milk if it is not.",
        "  4. Let the batter rest for at least one hour. This is the step",
        "     everybody skips and the reason their crepes tear.",
        "  5. Heat a heavy pan over a medium flame and wipe it with a",
        "     little butter.",
        "  6. Pour in a small ladle of batter and tilt the pan at once so",
        "     that it covers the bottom in a thin layer.",
        "  7. After about a minute, when the edges turn golden, flip the",
        "     crepe and cook the other side for half a minute.",
        "",
        "Fillings: lemon and sugar, chestnut cream, or ham and cheese.",
        "No ketchup, please. And no pickles either.",
        "",
        "See you on Saturday,",
        "Alice",
    ])
}

/// The textbook SMTP dialogue (Kurose & Ross, section 2.3).
fn smtp_crepes_dialogue(c: &mut Conversation) {
    use Dir::{ClientToServer as C, ServerToClient as S};
    c.handshake();
    c.line(S, "220 hamburger.edu");
    c.line(C, "HELO crepes.fr");
    c.line(S, "250 Hello crepes.fr, pleased to meet you");
    c.line(C, "MAIL FROM: <alice@crepes.fr>");
    c.line(S, "250 alice@crepes.fr ... Sender ok");
    c.line(C, "RCPT TO: <bob@hamburger.edu>");
    c.line(S, "250 bob@hamburger.edu ... Recipient ok");
    c.line(C, "DATA");
    c.line(S, "354 Enter mail, end with \".\" on a line by itself");
    c.client_sends(&crepes_message());
    c.line(C, ".");
    c.line(S, "250 Message accepted for delivery");
    c.line(C, "QUIT");
    c.line(S, "221 hamburger.edu closing connection");
    c.close();
}

fn crepes_names() -> Vec<(IpAddr, &'static str)> {
    vec![
        (ip("10.0.0.1"), "crepes.fr"),
        (ip("10.0.0.2"), "hamburger.edu"),
    ]
}

const CREPES_CLIENT: &str = "10.0.0.1:1035";
const HAMBURGER_SMTP: &str = "10.0.0.2:25";

fn crepes_conversation(client: &str, server: &str) -> Conversation {
    let mut c = Conversation::new(addr(client), addr(server), START_NANOS);
    smtp_crepes_dialogue(&mut c);
    c
}

fn smtp_crepes_hamburger() -> Sample {
    let c = crepes_conversation(CREPES_CLIENT, HAMBURGER_SMTP);
    let flows = vec![summary("SMTP", &c)];
    let frames = c.into_frames();
    Sample {
        file_name: "smtp-crepes-hamburger.pcapng",
        description: format!(
            "The textbook SMTP session: crepes.fr hands Alice's message to hamburger.edu \
             (HELO, MAIL, RCPT, DATA, QUIT), with a Name Resolution Block naming both hosts. \
             {} packets; the analyzer should report one SMTP session with one complete \
             transaction from <alice@crepes.fr> to <bob@hamburger.edu> and a {}-byte message.",
            frames.len(),
            crepes_message().len()
        ),
        flows,
        notes: vec![],
        bytes: pcapng_ethernet(&frames, &crepes_names()),
    }
}

/// Dot-stuff a message for transmission (RFC 1939 section 3): every line
/// that starts with "." gets one more ".".
fn dot_stuff(message: &[u8]) -> Vec<u8> {
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

fn pop3_dialogue(c: &mut Conversation) {
    use Dir::{ClientToServer as C, ServerToClient as S};
    let (m1, m2) = (mailbox_message_1(), mailbox_message_2());
    c.handshake();
    c.line(S, "+OK POP3 server ready");
    c.line(C, "user bob");
    c.line(S, "+OK");
    c.line(C, "pass hungry");
    c.line(S, "+OK user successfully logged on");
    c.line(C, "list");
    // A multi-line response: status line, one line per message, ".".
    // The sizes are the exact sizes of the messages (CRLF line ends, before
    // dot-stuffing).
    c.server_sends(&crlf_lines(&[
        &format!("+OK 2 messages ({} octets)", m1.len() + m2.len()),
        &format!("1 {}", m1.len()),
        &format!("2 {}", m2.len()),
        ".",
    ]));
    for (n, m) in [(1, &m1), (2, &m2)] {
        c.line(C, &format!("retr {n}"));
        let mut response = format!("+OK {} octets\r\n", m.len()).into_bytes();
        response.extend_from_slice(&dot_stuff(m));
        response.extend_from_slice(b".\r\n");
        c.server_sends(&response);
        c.line(C, &format!("dele {n}"));
        c.line(S, &format!("+OK message {n} deleted"));
    }
    c.line(C, "quit");
    c.line(S, "+OK POP3 server signing off");
    c.close();
}

fn pop3_bob() -> Sample {
    let mut c = Conversation::new(addr("10.0.0.3:49152"), addr("10.0.0.2:110"), START_NANOS);
    pop3_dialogue(&mut c);
    let flows = vec![summary("POP3", &c)];
    let (m1, m2) = (mailbox_message_1(), mailbox_message_2());
    Sample {
        file_name: "pop3-bob.pcapng",
        description: format!(
            "Bob reads and deletes his two messages with POP3 (USER/PASS, LIST, RETR, DELE, QUIT). \
             The analyzer should see a successful login as bob and two retrieved messages of \
             {} and {} bytes, as announced by LIST.",
            m1.len(),
            m2.len()
        ),
        flows,
        notes: vec![format!(
            "Message 2 contains two lines starting with \".\" (\".........blah)\" and a lone \".\"), \
             sent dot-stuffed: the RETR 2 response carries {} message bytes on the wire for a \
             {}-byte message.",
            dot_stuff(&m2).len(),
            m2.len()
        )],
        bytes: pcapng_ethernet(
            &c.into_frames(),
            &[
                (ip("10.0.0.3"), "bob-pc.hamburger.edu"),
                (ip("10.0.0.2"), "hamburger.edu"),
            ],
        ),
    }
}

fn imap_dialogue(c: &mut Conversation) -> usize {
    use Dir::{ClientToServer as C, ServerToClient as S};
    let message = recipe_message();
    c.handshake();
    c.line(
        S,
        "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN] \
         hamburger.edu IMAP4rev1 ready",
    );
    c.line(C, "a1 LOGIN bob hungry");
    c.line(
        S,
        "a1 OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ UIDPLUS MOVE] \
         Logged in",
    );
    c.line(C, "a2 SELECT INBOX");
    c.server_sends(&crlf_lines(&[
        r"* FLAGS (\Answered \Flagged \Deleted \Seen \Draft)",
        r"* OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags permitted.",
        "* 1 EXISTS",
        "* 1 RECENT",
        "* OK [UNSEEN 1] First unseen.",
        "* OK [UIDVALIDITY 1709543700] UIDs valid",
        "* OK [UIDNEXT 2] Predicted next UID",
        "a2 OK [READ-WRITE] Select completed.",
    ]));
    c.line(C, "a3 FETCH 1 (FLAGS BODY[])");
    // The message travels as a *literal*: "{n}" CRLF, then exactly n bytes
    // (RFC 3501 section 4.3), so it needs no quoting and no dot-stuffing.
    let mut fetch =
        format!("* 1 FETCH (FLAGS (\\Seen) BODY[] {{{}}}\r\n", message.len()).into_bytes();
    fetch.extend_from_slice(&message);
    fetch.extend_from_slice(b")\r\na3 OK Fetch completed.\r\n");
    c.server_sends(&fetch);
    c.line(C, r"a4 STORE 1 +FLAGS (\Deleted)");
    c.server_sends(&crlf_lines(&[
        r"* 1 FETCH (FLAGS (\Seen \Deleted))",
        "a4 OK Store completed.",
    ]));
    c.line(C, "a5 EXPUNGE");
    c.server_sends(&crlf_lines(&["* 1 EXPUNGE", "a5 OK Expunge completed."]));
    c.line(C, "a6 LOGOUT");
    c.server_sends(&crlf_lines(&[
        "* BYE hamburger.edu IMAP4rev1 server logging out",
        "a6 OK Logout completed.",
    ]));
    // After BYE the server closes the connection first (RFC 3501 section 3.4).
    c.close_from(S);
    message.len()
}

fn imap_bob() -> Sample {
    let mut c = Conversation::new(addr("10.0.0.3:49153"), addr("10.0.0.2:143"), START_NANOS);
    let literal = imap_dialogue(&mut c);
    let flows = vec![summary("IMAP", &c)];
    Sample {
        file_name: "imap-bob.pcapng",
        description: format!(
            "Bob reads his mail with IMAP: LOGIN, SELECT INBOX, FETCH 1 (FLAGS BODY[]) with a \
             {literal}-byte literal, STORE +FLAGS (\\Deleted), EXPUNGE, LOGOUT/BYE. The analyzer \
             should see a successful login as bob and one fetched {literal}-byte message."
        ),
        flows,
        notes: vec![format!(
            "The FETCH response (literal {{{literal}}}) is larger than the 1460-byte MSS and spans two segments."
        )],
        bytes: pcapng_ethernet(
            &c.into_frames(),
            &[
                (ip("10.0.0.3"), "bob-pc.hamburger.edu"),
                (ip("10.0.0.2"), "hamburger.edu"),
            ],
        ),
    }
}

// ---------------------------------------------------------------------------
// TCP reassembly cases: a short ESMTP dialogue with an MSS of 536 bytes (the
// default MSS when none is announced, RFC 9293 section 3.7.1), so that the
// message travels in several segments.
// ---------------------------------------------------------------------------

/// The message of the short dialogue, with its terminating "." line.
fn short_message() -> Vec<u8> {
    let mut m = crlf_lines(&[
        "From: alice@crepes.fr",
        "To: bob@hamburger.edu",
        "Subject: Crepes",
        "Message-ID: <20240304091500.4714@crepes.fr>",
        "Date: Mon, 04 Mar 2024 10:15:00 +0100",
        "",
    ]);
    m.extend_from_slice(&recipe_body());
    m.extend_from_slice(b".\r\n");
    m
}

/// Where things are in the short dialogue (0-based frame indices).
struct ShortSmtp {
    conv: Conversation,
    /// The client's "MAIL FROM" data segment.
    mail_frame: usize,
    /// Payload sent per direction before "MAIL FROM" (client, server).
    before_mail: (u64, u64),
    /// The client's "RCPT TO" data segment.
    rcpt_frame: usize,
    /// The data segments carrying the message (each followed by its ACK).
    message_frames: Vec<usize>,
}

const SHORT_MSS: usize = 536;

fn short_smtp(client: &str, server: &str) -> ShortSmtp {
    use Dir::{ClientToServer as C, ServerToClient as S};
    let mut c = Conversation::new(addr(client), addr(server), START_NANOS).mss(SHORT_MSS);
    c.handshake();
    c.line(S, "220 mail.hamburger.edu ESMTP");
    c.line(C, "EHLO client.crepes.fr");
    c.server_sends(&crlf_lines(&[
        "250-mail.hamburger.edu",
        "250-PIPELINING",
        "250-SIZE 10240000",
        "250 8BITMIME",
    ]));
    let mail_frame = c.frames().len();
    let before_mail = (c.payload_sent(C), c.payload_sent(S));
    c.line(C, "MAIL FROM:<alice@crepes.fr>");
    c.line(S, "250 2.1.0 Ok");
    let rcpt_frame = c.frames().len();
    c.line(C, "RCPT TO:<bob@hamburger.edu>");
    c.line(S, "250 2.1.5 Ok");
    c.line(C, "DATA");
    c.line(S, "354 End data with <CR><LF>.<CR><LF>");
    let first = c.frames().len();
    let message = short_message();
    c.client_sends(&message);
    // Data segment, ACK, data segment, ACK, ...
    let message_frames: Vec<usize> = (0..message.len().div_ceil(SHORT_MSS))
        .map(|k| first + 2 * k)
        .collect();
    c.line(S, "250 2.0.0 Ok: queued as 4714");
    c.line(C, "QUIT");
    c.line(S, "221 2.0.0 Bye");
    c.close();
    ShortSmtp {
        conv: c,
        mail_frame,
        before_mail,
        rcpt_frame,
        message_frames,
    }
}

fn tcp_reordered() -> Sample {
    let s = short_smtp("10.0.1.1:40001", "10.0.1.2:25");
    let flows = vec![summary("SMTP", &s.conv)];
    let isn = s.conv.isn_of(Dir::ClientToServer);
    let (a, b) = (s.message_frames[1], s.message_frames[2]);
    let mut frames = s.conv.into_frames();
    let (sa, sb) = (seg(&frames[a]), seg(&frames[b]));
    swap(&mut frames, a, b);
    // The server got the 3rd segment first: it answers with a duplicate ACK
    // for the hole, and acknowledges everything once the 2nd arrives.
    set_ack(&mut frames[a + 1], sa.seq);
    Sample {
        file_name: "tcp-reordered.pcapng",
        description:
            "A short ESMTP session whose message's 2nd and 3rd data segments arrive in the wrong \
                      order; reassembly must put them back so the message is intact."
                .into(),
        flows,
        notes: vec![format!(
            "Packets {} and {} are swapped: packet {} carries client {} ({} bytes), packet {} carries \
             {} ({} bytes). Packet {} is the server's duplicate ACK {} (the hole); packet {} acknowledges \
             both.",
            a + 1,
            b + 1,
            a + 1,
            span(sb.seq, sb.payload.len(), isn),
            sb.payload.len(),
            b + 1,
            span(sa.seq, sa.payload.len(), isn),
            sa.payload.len(),
            a + 2,
            sa.seq,
            b + 2
        )],
        bytes: pcapng_ethernet(&frames, &[]),
    }
}

fn tcp_retransmission() -> Sample {
    let s = short_smtp("10.0.2.1:40002", "10.0.2.2:25");
    let flows = vec![summary("SMTP", &s.conv)];
    let isn = s.conv.isn_of(Dir::ClientToServer);
    let d = s.message_frames[1];
    let mut frames = s.conv.into_frames();
    let sd = seg(&frames[d]);
    // The copy goes after the segment's own ACK: a spurious retransmission,
    // as when a sender's timer fires although the ACK was on its way.
    duplicate(&mut frames, d, d + 1);
    Sample {
        file_name: "tcp-retransmission.pcapng",
        description:
            "A short ESMTP session in which one data segment of the message is sent twice; the \
                      copy must not appear twice in the reassembled stream."
                .into(),
        flows,
        notes: vec![format!(
            "Packet {} (client {}, {} bytes) is retransmitted identically as packet {}, after its ACK \
             (packet {}).",
            d + 1,
            span(sd.seq, sd.payload.len(), isn),
            sd.payload.len(),
            d + 3,
            d + 2
        )],
        bytes: pcapng_ethernet(&frames, &[]),
    }
}

fn tcp_overlap() -> Sample {
    let s = short_smtp("10.0.3.1:40003", "10.0.3.2:25");
    let flows = vec![summary("SMTP", &s.conv)];
    let isn = s.conv.isn_of(Dir::ClientToServer);
    let rcpt = s.rcpt_frame;
    let (d2, d3) = (s.message_frames[1], s.message_frames[2]);
    let mut frames = s.conv.into_frames();
    let mail_line = seg(&frames[s.mail_frame]).payload;

    // Overlap policy (the analyzer's, and Wireshark's): the FIRST copy of a
    // byte seen in the capture wins; later copies of the same sequence
    // numbers are ignored even when their bytes differ. (Operating systems
    // disagree on this, which is what overlap-based IDS evasion exploits;
    // for a capture analyzer "first seen" is the simple, stable choice.)

    // Case 1: the RCPT segment is re-packetized to start 8 bytes early,
    // repeating the end of the already delivered MAIL line with *different*
    // bytes "XXXXXXXX". The stream keeps the original MAIL line.
    const EARLY: usize = 8;
    let mut r = seg(&frames[rcpt]);
    let rcpt_seq = r.seq;
    let rcpt_len = r.payload.len();
    r.seq = r.seq.wrapping_sub(EARLY as u32);
    let mut payload = b"XXXXXXXX".to_vec();
    payload.extend_from_slice(&r.payload);
    r.payload = payload;
    frames[rcpt].data = r.to_frame();

    // Case 2: the 3rd message segment arrives before the 2nd, so it waits in
    // the out-of-order buffer (the server sends a duplicate ACK for the
    // hole). Then a segment arrives that covers the last 10 bytes of the
    // hole (the same bytes the 2nd segment has) and the first 10 bytes of
    // the buffered 3rd segment with *different* bytes "YYYYYYYYYY". Then the
    // 2nd segment fills the hole. First copy wins: the buffered bytes stay.
    const BRIDGE: usize = 10;
    let s2 = seg(&frames[d2]);
    let s3_seq = seg(&frames[d3]).seq;
    swap(&mut frames, d2, d3);
    set_ack(&mut frames[d2 + 1], s2.seq);
    let mut bridge = s2.clone();
    bridge.seq = s3_seq.wrapping_sub(BRIDGE as u32);
    bridge.payload = s2.payload[s2.payload.len() - BRIDGE..].to_vec();
    bridge.payload.extend_from_slice(&[b'Y'; BRIDGE]);
    bridge.ip_id = bridge.ip_id.wrapping_add(0x100); // a packet of its own
    // Insert it just before the (now late) 2nd segment.
    insert_frame(&mut frames, d3, bridge.to_frame());
    let late2 = d3 + 1;

    Sample {
        file_name: "tcp-overlap.pcapng",
        description:
            "A short ESMTP session with overlapping segments whose overlapping bytes differ. \
                      Reassembly policy: the first copy of a byte seen in the capture wins, so the \
                      reassembled streams are exactly the original dialogue (no 'X' or 'Y' bytes)."
                .into(),
        flows,
        notes: vec![
            format!(
                "Packet {} (RCPT TO, {rcpt_len} new bytes) starts {EARLY} bytes early: it carries {} whose \
                 first {EARLY} bytes \"XXXXXXXX\" overlap the end of the MAIL FROM line already delivered \
                 ({}, which keep their original value \"{}\").",
                rcpt + 1,
                span(rcpt_seq.wrapping_sub(EARLY as u32), rcpt_len + EARLY, isn),
                span(rcpt_seq.wrapping_sub(EARLY as u32), EARLY, isn),
                mail_line[mail_line.len() - EARLY..].escape_ascii(),
            ),
            format!(
                "Message segments 2 and 3 are swapped: packet {} carries segment 3, {} ({} bytes), \
                 buffered out of order; packet {} is the server's duplicate ACK {}. Packet {} carries {}: \
                 {BRIDGE} bytes of the hole (same bytes as segment 2) then {BRIDGE} bytes \"YYYYYYYYYY\" over \
                 the buffered segment 3 ({}), which must be ignored. Packet {} (segment 2, {}) fills the \
                 rest of the hole.",
                d2 + 1,
                span(s3_seq, seg(&frames[d2]).payload.len(), isn),
                seg(&frames[d2]).payload.len(),
                d2 + 2,
                s2.seq,
                d3 + 1,
                span(s3_seq.wrapping_sub(BRIDGE as u32), 2 * BRIDGE, isn),
                span(s3_seq, BRIDGE, isn),
                late2 + 1,
                span(s2.seq, s2.payload.len(), isn),
            ),
        ],
        bytes: pcapng_ethernet(&frames, &[]),
    }
}

fn tcp_loss() -> Sample {
    let s = short_smtp("10.0.4.1:40004", "10.0.4.2:25");
    let mut flow = summary("SMTP", &s.conv);
    let isn = s.conv.isn_of(Dir::ClientToServer);
    let d = s.message_frames[1];
    let mut frames = s.conv.into_frames();
    let lost = seg(&frames[d]);
    let whole = flow.client_bytes;
    flow.client_bytes -= lost.payload.len() as u64;
    drop_frame(&mut frames, d);
    Sample {
        file_name: "tcp-loss.pcapng",
        description: format!(
            "A short ESMTP session in which the capture missed one client data segment that the \
             server did receive (its ACK is in the capture): client->server has one gap of {} bytes \
             inside the message.",
            lost.payload.len()
        ),
        flows: vec![flow],
        notes: vec![format!(
            "The missing segment would have been packet {}: client {} ({} bytes). Packet {} (the \
             server's ACK {}) acknowledges it. Without the gap the client stream would be {} bytes.",
            d + 1,
            span(lost.seq, lost.payload.len(), isn),
            lost.payload.len(),
            d + 1,
            lost.seq.wrapping_add(lost.payload.len() as u32),
            whole
        )],
        bytes: pcapng_ethernet(&frames, &[]),
    }
}

fn tcp_wraparound() -> Sample {
    use Dir::{ClientToServer as C, ServerToClient as S};
    const CLIENT_ISN: u32 = 0xFFFF_FA00;
    const SERVER_ISN: u32 = 0xFFFF_FC00;
    let mut c = Conversation::new(addr("10.0.5.1:40005"), addr("10.0.5.2:25"), START_NANOS)
        .isn(CLIENT_ISN, SERVER_ISN);
    c.handshake();
    c.line(S, "220 mail.hamburger.edu ESMTP");
    c.line(C, "EHLO client.crepes.fr");
    c.server_sends(&crlf_lines(&[
        "250-mail.hamburger.edu",
        "250-EXPN",
        "250 8BITMIME",
    ]));
    // EXPN asks for the members of a mailing list (RFC 5321 section 3.5):
    // a long multi-line reply, so the server sends a few KB too.
    c.line(C, "EXPN picnic");
    let members: Vec<String> = (1..=50)
        .map(|i| {
            let sep = if i == 50 { ' ' } else { '-' };
            format!("250{sep}Picnic Member {i:02} <member{i:02}@hamburger.edu>")
        })
        .collect();
    let member_refs: Vec<&str> = members.iter().map(String::as_str).collect();
    let expn_reply = crlf_lines(&member_refs);
    c.server_sends(&expn_reply);
    c.line(C, "MAIL FROM:<alice@crepes.fr>");
    c.line(S, "250 2.1.0 Ok");
    c.line(C, "RCPT TO:<picnic@hamburger.edu>");
    c.line(S, "250 2.1.5 Ok");
    c.line(C, "DATA");
    c.line(S, "354 End data with <CR><LF>.<CR><LF>");
    let mut message = crlf_lines(&[
        "From: alice@crepes.fr",
        "To: picnic@hamburger.edu",
        "Subject: Who brings what",
        "Message-ID: <20240304091500.4715@crepes.fr>",
        "Date: Mon, 04 Mar 2024 10:15:00 +0100",
        "",
    ]);
    for i in 1..=50 {
        message.extend_from_slice(
            format!(
                "Member {i:02}: please bring {} crepes and one jar of jam.\r\n",
                2 + i % 5
            )
            .as_bytes(),
        );
    }
    message.extend_from_slice(b".\r\n");
    c.client_sends(&message);
    c.line(S, "250 2.0.0 Ok: queued as 4715");
    c.line(C, "QUIT");
    c.line(S, "221 2.0.0 Bye");
    c.close();
    let flows = vec![summary("SMTP", &c)];
    // Stream offset at which each direction's sequence numbers wrap to 0:
    // the first data byte has number ISN + 1.
    let wrap_c = 0u32.wrapping_sub(CLIENT_ISN.wrapping_add(1));
    let wrap_s = 0u32.wrapping_sub(SERVER_ISN.wrapping_add(1));
    let frames = c.into_frames();
    // The data segments whose sequence range crosses 2^32.
    let straddling: Vec<String> = frames
        .iter()
        .enumerate()
        .filter_map(|(i, f)| {
            let s = seg(f);
            let end = s.seq.wrapping_add(s.payload.len() as u32);
            (!s.payload.is_empty() && end != 0 && end < s.seq).then(|| {
                format!(
                    "packet {} (seq {}..{}, {} bytes)",
                    i + 1,
                    s.seq,
                    end,
                    s.payload.len()
                )
            })
        })
        .collect();
    Sample {
        file_name: "tcp-wraparound.pcapng",
        description: format!(
            "An ESMTP session (with a {}-byte EXPN reply listing 50 members, and a {}-byte message \
             including its final \".\" line) whose initial sequence numbers are just below 2^32, so both \
             directions' sequence numbers wrap around to 0 in the middle of multi-segment writes.",
            expn_reply.len(),
            message.len()
        ),
        flows,
        notes: vec![format!(
            "Client ISN {CLIENT_ISN:#010x}: client seq wraps after {wrap_c} payload bytes. Server ISN \
             {SERVER_ISN:#010x}: server seq wraps after {wrap_s} payload bytes. Segments straddling the \
             wrap: {}.",
            straddling.join(", ")
        )],
        bytes: pcapng_ethernet(&frames, &[]),
    }
}

fn tcp_midstream() -> Sample {
    let s = short_smtp("10.0.6.1:40006", "10.0.6.2:25");
    let mut flow = summary("SMTP", &s.conv);
    let (skip_c, skip_s) = s.before_mail;
    flow.client_bytes -= skip_c;
    flow.server_bytes -= skip_s;
    let first = s.mail_frame;
    let frames: Vec<Frame> = s.conv.into_frames().split_off(first);
    Sample {
        file_name: "tcp-midstream.pcapng",
        description: "A short ESMTP session captured from the middle: the capture starts with the client's \
                      MAIL FROM segment, after the handshake, the greeting and EHLO. There is no SYN, so \
                      client and server must be inferred (server port 25)."
            .into(),
        flows: vec![flow],
        notes: vec![format!(
            "The first {first} packets of the connection (handshake, 220 greeting, EHLO and its reply: {skip_c} \
             client bytes, {skip_s} server bytes) are not in the capture."
        )],
        bytes: pcapng_ethernet(&frames, &[]),
    }
}

fn tcp_rst() -> Sample {
    use Dir::{ClientToServer as C, ServerToClient as S};
    let mut c = Conversation::new(addr("10.0.7.1:40007"), addr("10.0.7.2:25"), START_NANOS);
    c.handshake();
    c.line(S, "220 mail.hamburger.edu ESMTP");
    c.line(C, "EHLO client.crepes.fr");
    c.line(S, "250 mail.hamburger.edu");
    c.line(C, "MAIL FROM:<alice@crepes.fr>");
    c.line(S, "250 2.1.0 Ok");
    c.line(C, "RCPT TO:<bob@hamburger.edu>");
    c.line(S, "250 2.1.5 Ok");
    c.pause(2_000_000_000);
    c.reset(C);
    let flows = vec![summary("SMTP", &c)];
    let frames = c.into_frames();
    Sample {
        file_name: "tcp-rst.pcapng",
        description:
            "An ESMTP session aborted by the client with a RST (RST+ACK) two seconds after RCPT TO \
                      was accepted, before DATA: no FIN, the transaction is incomplete."
                .into(),
        flows,
        notes: vec![format!("The RST is packet {}, the last one.", frames.len())],
        bytes: pcapng_ethernet(&frames, &[]),
    }
}

fn tcp_ipv6() -> Sample {
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

fn smtp_classic(nanosecond: bool, big_endian: bool) -> Sample {
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

// ---------------------------------------------------------------------------
// Small dialogues for the multi-flow files.
// ---------------------------------------------------------------------------

fn smtp_mini(c: &mut Conversation, banner: &str) {
    use Dir::{ClientToServer as C, ServerToClient as S};
    c.handshake();
    c.line(S, banner);
    c.line(C, "EHLO client.example");
    c.server_sends(&crlf_lines(&["250-mail.example", "250 8BITMIME"]));
    c.line(C, "QUIT");
    c.line(S, "221 2.0.0 Bye");
    c.close();
}

fn pop3_mini(c: &mut Conversation, greeting: &str) {
    use Dir::{ClientToServer as C, ServerToClient as S};
    c.handshake();
    c.line(S, greeting);
    c.line(C, "USER alice");
    c.line(S, "+OK");
    c.line(C, "PASS wonderland");
    c.line(S, "+OK Logged in.");
    c.line(C, "STAT");
    c.line(S, "+OK 0 0");
    c.line(C, "QUIT");
    c.line(S, "+OK Logging out.");
    c.close();
}

fn imap_mini(c: &mut Conversation, greeting: &str) {
    use Dir::{ClientToServer as C, ServerToClient as S};
    c.handshake();
    c.line(S, greeting);
    c.line(C, "a1 LOGIN alice wonderland");
    c.line(S, "a1 OK Logged in");
    c.line(C, "a2 LOGOUT");
    c.server_sends(&crlf_lines(&[
        "* BYE Logging out",
        "a2 OK Logout completed.",
    ]));
    c.close_from(Dir::ServerToClient);
}

fn multi_interface() -> Sample {
    // Four connections starting 0.1 ms apart, so their packets interleave.
    let start = |k: u64| START_NANOS + k * 100_000;
    let mut plain = Conversation::new(addr("10.1.0.1:40010"), addr("10.1.0.2:25"), start(0));
    smtp_mini(&mut plain, "220 mail.example ESMTP");
    let mut raw = Conversation::new(addr("10.8.0.1:40011"), addr("10.8.0.2:110"), start(1));
    pop3_mini(&mut raw, "+OK POP3 ready");
    let mut vlan = Conversation::new(addr("10.100.0.1:40012"), addr("10.100.0.2:143"), start(2));
    imap_mini(&mut vlan, "* OK [CAPABILITY IMAP4rev1] IMAP4rev1 ready");
    let mut qinq = Conversation::new(addr("10.200.0.1:40013"), addr("10.200.0.2:25"), start(3));
    smtp_mini(&mut qinq, "220 mail.example ESMTP");
    let flows = vec![
        summary("SMTP", &plain),
        summary("POP3", &raw),
        summary("IMAP", &vlan),
        summary("SMTP", &qinq),
    ];

    // Which interface and which block each packet goes to.
    #[derive(Clone, Copy, PartialEq)]
    enum Out {
        Eth,
        Spb,
        Raw,
    }
    let tag = |frames: Vec<Frame>, out: Out, f: &dyn Fn(&[u8]) -> Vec<u8>| -> Vec<(Frame, Out)> {
        frames
            .into_iter()
            .map(|fr| {
                let data = f(&fr.data);
                (
                    Frame {
                        ts_nanos: fr.ts_nanos,
                        data,
                    },
                    out,
                )
            })
            .collect()
    };
    let mut plain_frames = tag(plain.into_frames(), Out::Eth, &|d| d.to_vec());
    // The server's EHLO reply (plain flow frame 7: handshake 0-2, banner
    // 3-4, EHLO 5-6) is written as a Simple Packet Block.
    let spb_index = 7;
    plain_frames[spb_index].1 = Out::Spb;
    let all = [
        plain_frames,
        tag(raw.into_frames(), Out::Raw, &|d| strip_ethernet(d).to_vec()),
        tag(vlan.into_frames(), Out::Eth, &|d| {
            add_vlan_tags(d, &[(0x8100, 100)])
        }),
        tag(qinq.into_frames(), Out::Eth, &|d| {
            add_vlan_tags(d, &[(0x88A8, 200), (0x8100, 300)])
        }),
    ];
    let mut merged: Vec<(Frame, Out)> = all.into_iter().flatten().collect();
    merged.sort_by_key(|(f, _)| f.ts_nanos);

    let mut w = PcapNgWriter::new(Vec::new()).expect("write to Vec");
    let eth0 = w
        .add_interface(LINKTYPE_ETHERNET, SNAPLEN, Some("eth0"))
        .expect("write to Vec");
    let tun0 = w
        .add_interface_with_tsresol(LINKTYPE_RAW, SNAPLEN, Some("tun0"), TSRESOL_MICROS)
        .expect("write to Vec");
    let mut spb_packet = 0;
    for (n, (f, out)) in merged.iter().enumerate() {
        match out {
            Out::Eth => w.write_packet(eth0, f.ts_nanos, &f.data),
            Out::Raw => w.write_packet(tun0, f.ts_nanos, &f.data),
            Out::Spb => {
                spb_packet = n + 1;
                w.write_simple_packet(&f.data, f.data.len() as u32)
            }
        }
        .expect("write to Vec");
    }
    Sample {
        file_name: "multi-interface.pcapng",
        description: "Two interfaces with different link types: interface 0 'eth0' (Ethernet, nanosecond \
                      timestamps) carries an untagged SMTP flow, an IMAP flow in VLAN 100 (802.1Q) and an SMTP \
                      flow in QinQ (outer 802.1ad tag VLAN 200, inner 802.1Q tag VLAN 300); interface 1 'tun0' \
                      (raw IPv4, link type 101, if_tsresol 6 = microseconds) carries a POP3 flow."
            .into(),
        flows,
        notes: vec![format!(
            "Packet {spb_packet} (the server's 2-line EHLO reply of the untagged SMTP flow) is a Simple Packet \
             Block: interface 0, no timestamp."
        )],
        bytes: w.into_inner(),
    }
}

fn linux_sll() -> Sample {
    let mut c = Conversation::new(addr("10.0.0.3:49152"), addr("10.0.0.2:110"), START_NANOS);
    pop3_dialogue(&mut c);
    let flows = vec![summary("POP3", &c)];
    let client_mac = mac_for(c.client().ip());
    let frames = rewrap(c.frames(), |d| to_linux_sll(d, d[6..12] == client_mac));
    Sample {
        file_name: "linux-sll.pcapng",
        description: "Bob's POP3 session (as in pop3-bob.pcapng) captured on Bob's machine with \
                      `tcpdump -i any`: Linux cooked capture v1 (link type 113), packet type 4 (outgoing) for \
                      Bob's packets and 0 (to us) for the server's."
            .into(),
        flows,
        notes: vec![],
        bytes: pcapng_single(LINKTYPE_LINUX_SLL, "any", &frames),
    }
}

fn linux_sll2() -> Sample {
    let mut c = Conversation::new(addr("10.0.0.3:49153"), addr("10.0.0.2:143"), START_NANOS);
    imap_dialogue(&mut c);
    let flows = vec![summary("IMAP", &c)];
    let client_mac = mac_for(c.client().ip());
    let frames = rewrap(c.frames(), |d| to_linux_sll2(d, d[6..12] == client_mac, 2));
    Sample {
        file_name: "linux-sll2.pcapng",
        description: "Bob's IMAP session (as in imap-bob.pcapng) in Linux cooked capture v2 (link type 276), \
                      interface index 2."
            .into(),
        flows,
        notes: vec![],
        bytes: pcapng_single(LINKTYPE_LINUX_SLL2, "any", &frames),
    }
}

fn bsd_null() -> Sample {
    let c = crepes_conversation("127.0.0.1:1035", "127.0.0.1:25");
    let flows = vec![summary("SMTP", &c)];
    let mut w = PcapWriter::new(Vec::new(), u32::from(LINKTYPE_NULL), SNAPLEN, false, false)
        .expect("write to Vec");
    for f in c.frames() {
        let data = to_bsd_loopback(&f.data, false);
        w.write_packet(f.ts_nanos, &data, data.len() as u32)
            .expect("write to Vec");
    }
    Sample {
        file_name: "bsd-null.pcap",
        description: "The textbook SMTP session over the loopback interface (127.0.0.1 to itself, port 1035 to \
                      25) in a little-endian classic pcap with link type 0 (BSD loopback): a 4-byte address \
                      family AF_INET = 2 in host (little-endian) byte order before each IPv4 packet."
            .into(),
        flows,
        notes: vec![],
        bytes: w.into_inner(),
    }
}

fn bsd_loop() -> Sample {
    let mut c = Conversation::new(addr("127.0.0.1:49152"), addr("127.0.0.1:110"), START_NANOS);
    pop3_dialogue(&mut c);
    let flows = vec![summary("POP3", &c)];
    let frames = rewrap(c.frames(), |d| to_bsd_loopback(d, true));
    Sample {
        file_name: "bsd-loop.pcapng",
        description: "Bob's POP3 session over the loopback interface (127.0.0.1 to itself, port 49152 to 110) \
                      with link type 108 (OpenBSD loopback): the address family AF_INET = 2 in network byte \
                      order before each IPv4 packet."
            .into(),
        flows,
        notes: vec![],
        bytes: pcapng_single(LINKTYPE_LOOP, "lo0", &frames),
    }
}

fn ipv4_fragments() -> Sample {
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

fn snaplen_truncated() -> Sample {
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

fn unknown_block() -> Sample {
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

fn non_mail_on_mail_port() -> Sample {
    use Dir::{ClientToServer as C, ServerToClient as S};
    let mut http = Conversation::new(addr("10.0.9.1:40020"), addr("10.0.9.2:25"), START_NANOS);
    http.handshake();
    http.client_sends(&crlf_lines(&[
        "GET / HTTP/1.1",
        "Host: 10.0.9.2:25",
        "User-Agent: curl/8.5.0",
        "Accept: */*",
        "",
    ]));
    let mut response = crlf_lines(&[
        "HTTP/1.1 200 OK",
        "Content-Type: text/plain",
        "Content-Length: 13",
        "Connection: close",
        "",
    ]);
    response.extend_from_slice(b"Hello, world\n");
    http.server_sends(&response);
    http.close_from(S);

    let mut redis = Conversation::new(
        addr("10.0.9.1:40021"),
        addr("10.0.9.2:110"),
        START_NANOS + 50_000,
    );
    redis.handshake();
    // RESP, the Redis protocol: an array of one bulk string "PING".
    redis.client_sends(b"*1\r\n$4\r\nPING\r\n");
    // "+PONG" starts with "+", like POP3's "+OK": only the whole exchange
    // tells them apart (the client spoke first; POP3 servers greet first).
    redis.server_sends(b"+PONG\r\n");
    redis.close_from(C);
    let flows = vec![summary("HTTP", &http), summary("Redis", &redis)];
    let frames = interleave(vec![http.into_frames(), redis.into_frames()]);
    Sample {
        file_name: "non-mail-on-mail-port.pcapng",
        description: "An HTTP request/response on port 25 and a Redis PING/+PONG on port 110. Neither is mail: \
                      the analyzer must not report them as SMTP or POP3 (the client speaks first, and the \
                      server never sends a 220 greeting or +OK)."
            .into(),
        flows,
        notes: vec![],
        bytes: pcapng_ethernet(&frames, &[]),
    }
}

fn mail_on_odd_ports() -> Sample {
    let mut smtp = Conversation::new(addr("10.0.10.1:40030"), addr("10.0.10.2:8025"), START_NANOS);
    smtp_mini(&mut smtp, "220 mail.example.net ESMTP Postfix");
    let mut pop3 = Conversation::new(
        addr("10.0.10.1:40031"),
        addr("10.0.10.2:8110"),
        START_NANOS + 100_000,
    );
    pop3_mini(&mut pop3, "+OK Dovecot ready.");
    let mut imap = Conversation::new(
        addr("10.0.10.1:40032"),
        addr("10.0.10.2:8143"),
        START_NANOS + 200_000,
    );
    imap_mini(
        &mut imap,
        "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN] Dovecot ready.",
    );
    let flows = vec![
        summary("SMTP", &smtp),
        summary("POP3", &pop3),
        summary("IMAP", &imap),
    ];
    let frames = interleave(vec![
        smtp.into_frames(),
        pop3.into_frames(),
        imap.into_frames(),
    ]);
    Sample {
        file_name: "smtp-on-odd-port.pcapng",
        description: "Mail protocols on non-standard ports, to be recognized by content: SMTP on 8025 \
                      (\"220 ... ESMTP Postfix\" greeting), POP3 on 8110 (\"+OK Dovecot ready.\"), IMAP on 8143 \
                      (\"* OK [CAPABILITY IMAP4rev1 ...]\")."
            .into(),
        flows,
        notes: vec![],
        bytes: pcapng_ethernet(&frames, &[]),
    }
}

// ---------------------------------------------------------------------------
// A TLS-looking exchange: well-formed record headers (RFC 5246 section 6.2:
// content type, version, 16-bit length) around made-up contents.
// ---------------------------------------------------------------------------

const TLS_HANDSHAKE: u8 = 22;
const TLS_CHANGE_CIPHER_SPEC: u8 = 20;
const TLS_APPLICATION_DATA: u8 = 23;

fn tls_record(content_type: u8, version: u16, body: &[u8]) -> Vec<u8> {
    let mut r = vec![content_type];
    r.extend_from_slice(&version.to_be_bytes());
    r.extend_from_slice(&(body.len() as u16).to_be_bytes());
    r.extend_from_slice(body);
    r
}

/// A handshake message: type, 24-bit length, body.
fn tls_handshake_msg(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![msg_type];
    m.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    m.extend_from_slice(body);
    m
}

/// A TLS extension: type, 16-bit length, data.
fn tls_extension(ext_type: u16, data: &[u8]) -> Vec<u8> {
    let mut e = ext_type.to_be_bytes().to_vec();
    e.extend_from_slice(&(data.len() as u16).to_be_bytes());
    e.extend_from_slice(data);
    e
}

fn client_hello(random: &[u8], server_name: &str) -> Vec<u8> {
    let mut body = vec![0x03, 0x03]; // client_version TLS 1.2
    body.extend_from_slice(random);
    body.push(0); // no session id
    body.extend_from_slice(&[0x00, 0x06, 0xC0, 0x2F, 0xC0, 0x30, 0x00, 0x9C]); // 3 cipher suites
    body.extend_from_slice(&[0x01, 0x00]); // compression: null only
    let mut sni = ((server_name.len() + 3) as u16).to_be_bytes().to_vec();
    sni.push(0); // host_name
    sni.extend_from_slice(&(server_name.len() as u16).to_be_bytes());
    sni.extend_from_slice(server_name.as_bytes());
    let mut extensions = tls_extension(0x0000, &sni); // server_name
    extensions.extend(tls_extension(0x000A, &[0x00, 0x02, 0x00, 0x1D])); // supported_groups: x25519
    extensions.extend(tls_extension(0x000B, &[0x01, 0x00])); // ec_point_formats: uncompressed
    extensions.extend(tls_extension(0x000D, &[0x00, 0x02, 0x04, 0x01])); // signature_algorithms
    body.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
    body.extend_from_slice(&extensions);
    tls_handshake_msg(1, &body)
}

fn server_hello(random: &[u8]) -> Vec<u8> {
    let mut body = vec![0x03, 0x03];
    body.extend_from_slice(random);
    body.push(0); // no session id
    body.extend_from_slice(&[0xC0, 0x2F]); // TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
    body.push(0); // null compression
    let extensions = tls_extension(0xFF01, &[0x00]); // renegotiation_info
    body.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
    body.extend_from_slice(&extensions);
    tls_handshake_msg(2, &body)
}

/// An "encrypted" record of `plain_len` bytes of plaintext: AES-GCM adds
/// an 8-byte explicit nonce and a 16-byte tag in TLS 1.2.
fn fake_encrypted(content_type: u8, plain_len: usize, seed: u64) -> Vec<u8> {
    tls_record(content_type, 0x0303, &pseudo_random(seed, plain_len + 24))
}

fn tls_implicit_465() -> Sample {
    use Dir::{ClientToServer as C, ServerToClient as S};
    let client_random = pseudo_random(1, 32);
    let server_random = pseudo_random(2, 32);
    let mut c = Conversation::new(addr("10.0.0.1:1036"), addr("10.0.0.2:465"), START_NANOS);
    c.handshake();
    // Implicit TLS (RFC 8314): the client starts TLS at once, no greeting.
    c.client_sends(&tls_record(
        TLS_HANDSHAKE,
        0x0301,
        &client_hello(&client_random, "hamburger.edu"),
    ));
    let mut flight = tls_record(TLS_HANDSHAKE, 0x0303, &server_hello(&server_random));
    flight.extend(tls_record(
        TLS_HANDSHAKE,
        0x0303,
        &tls_handshake_msg(14, &[]),
    )); // ServerHelloDone
    c.server_sends(&flight);
    let mut key_exchange = vec![32];
    key_exchange.extend(pseudo_random(3, 32));
    let mut flight = tls_record(TLS_HANDSHAKE, 0x0303, &tls_handshake_msg(16, &key_exchange));
    flight.extend(tls_record(TLS_CHANGE_CIPHER_SPEC, 0x0303, &[1]));
    flight.extend(fake_encrypted(TLS_HANDSHAKE, 16, 4)); // Finished
    c.client_sends(&flight);
    let mut flight = tls_record(TLS_CHANGE_CIPHER_SPEC, 0x0303, &[1]);
    flight.extend(fake_encrypted(TLS_HANDSHAKE, 16, 5));
    c.server_sends(&flight);
    // The SMTP dialogue, encrypted: greeting, EHLO, reply, QUIT, bye.
    let exchanges: [(Dir, usize); 5] = [(S, 30), (C, 21), (S, 60), (C, 6), (S, 15)];
    for (k, (dir, len)) in exchanges.into_iter().enumerate() {
        c.send(
            dir,
            &fake_encrypted(TLS_APPLICATION_DATA, len, 10 + k as u64),
        );
    }
    c.close();
    let flows = vec![summary("TLS", &c)];
    let mut key_log = b"# fake TLS key log: the records below are not real encryption\n".to_vec();
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    key_log.extend_from_slice(
        format!(
            "CLIENT_RANDOM {} {}\n",
            hex(&client_random),
            hex(&pseudo_random(6, 48))
        )
        .as_bytes(),
    );
    let mut w = PcapNgWriter::new(Vec::new()).expect("write to Vec");
    let eth0 = w
        .add_interface(LINKTYPE_ETHERNET, SNAPLEN, Some("eth0"))
        .expect("write to Vec");
    w.write_decryption_secrets(&key_log).expect("write to Vec");
    for f in c.frames() {
        w.write_packet(eth0, f.ts_nanos, &f.data)
            .expect("write to Vec");
    }
    Sample {
        file_name: "tls-implicit-465.pcapng",
        description: "Implicit TLS on port 465 (SMTPS, RFC 8314): a well-formed TLS 1.2 record exchange \
                      (ClientHello with SNI hamburger.edu, ServerHello, key exchange, ChangeCipherSpec, then \
                      application-data records) whose contents are pseudo-random bytes, and a Decryption \
                      Secrets Block with a (fake) TLS key log. The analyzer should report encrypted mail \
                      (SMTPS), not plaintext SMTP."
            .into(),
        flows,
        notes: vec![],
        bytes: w.into_inner(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::builder::HALF_RTT_NANOS;

    #[test]
    fn samples_are_deterministic_and_unique() {
        let a = all_samples();
        let b = all_samples();
        assert_eq!(a, b);
        let mut names: Vec<&str> = a.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), a.len());
    }

    #[test]
    fn dot_stuffing_doubles_leading_dots_only() {
        assert_eq!(dot_stuff(b".\r\na.b\r\n..x\r\n"), b"..\r\na.b\r\n...x\r\n");
    }

    #[test]
    fn pop3_list_sizes_are_real_sizes() {
        let mut c = Conversation::new(addr("10.0.0.3:49152"), addr("10.0.0.2:110"), START_NANOS);
        pop3_dialogue(&mut c);
        let stream: Vec<u8> = c
            .frames()
            .iter()
            .map(seg)
            .filter(|s| s.src.port() == 110)
            .flat_map(|s| s.payload)
            .collect();
        let text = String::from_utf8(stream).unwrap();
        let m1 = mailbox_message_1();
        let m2 = mailbox_message_2();
        assert!(text.contains(&format!("\r\n1 {}\r\n2 {}\r\n.\r\n", m1.len(), m2.len())));
        // Undo the dot-stuffing of RETR 2 and compare with the message.
        let start = text.find(&format!("+OK {} octets\r\n", m2.len())).unwrap();
        let body = &text[start..];
        let body = &body[body.find("\r\n").unwrap() + 2..body.find("\r\n.\r\n").unwrap() + 2];
        let unstuffed: String = body
            .split_inclusive("\r\n")
            .map(|l| l.strip_prefix('.').unwrap_or(l))
            .collect();
        assert_eq!(unstuffed.as_bytes(), m2.as_slice());
        assert!(body.contains("\r\n..\r\n"));
        assert!(body.contains("\r\n..........blah)\r\n"));
    }

    #[test]
    fn imap_literal_length_is_exact() {
        let mut c = Conversation::new(addr("10.0.0.3:49153"), addr("10.0.0.2:143"), START_NANOS);
        let n = imap_dialogue(&mut c);
        let stream: Vec<u8> = c
            .frames()
            .iter()
            .map(seg)
            .filter(|s| s.src.port() == 143)
            .flat_map(|s| s.payload)
            .collect();
        let marker = format!("BODY[] {{{n}}}\r\n");
        let pos = stream
            .windows(marker.len())
            .position(|w| w == marker.as_bytes())
            .unwrap();
        let literal = &stream[pos + marker.len()..pos + marker.len() + n];
        assert_eq!(literal, recipe_message().as_slice());
        assert_eq!(
            &stream[pos + marker.len() + n..pos + marker.len() + n + 3],
            b")\r\n"
        );
        assert!(n > 1460, "the literal should span segments");
    }

    #[test]
    fn short_dialogue_message_spans_several_segments() {
        let s = short_smtp("10.0.1.1:40001", "10.0.1.2:25");
        assert!(s.message_frames.len() >= 3);
        for &i in &s.message_frames {
            let sg = seg(&s.conv.frames()[i]);
            assert!(!sg.payload.is_empty() && sg.payload.len() <= SHORT_MSS);
        }
        assert_eq!(
            seg(&s.conv.frames()[s.rcpt_frame]).payload,
            b"RCPT TO:<bob@hamburger.edu>\r\n"
        );
        assert_eq!(
            seg(&s.conv.frames()[s.mail_frame]).payload,
            b"MAIL FROM:<alice@crepes.fr>\r\n"
        );
    }

    #[test]
    fn fragments_reassemble_to_the_original_packet() {
        let c = crepes_conversation(CREPES_CLIENT, HAMBURGER_SMTP);
        let f = &c.frames()[3];
        let frags = fragment_ipv4(&f.data, &[8]);
        assert_eq!(frags.len(), 2);
        let mut payload = strip_ethernet(&frags[0])[20..].to_vec();
        payload.extend_from_slice(&strip_ethernet(&frags[1])[20..]);
        assert_eq!(payload, strip_ethernet(&f.data)[20..]);
        let h0 = etherparse::Ipv4Header::from_slice(strip_ethernet(&frags[0]))
            .unwrap()
            .0;
        let h1 = etherparse::Ipv4Header::from_slice(strip_ethernet(&frags[1]))
            .unwrap()
            .0;
        assert!(h0.more_fragments && !h1.more_fragments);
        assert_eq!(h1.fragment_offset.value(), 1);
        assert_eq!(h0.header_checksum, h0.calc_header_checksum());
        assert_eq!(h1.header_checksum, h1.calc_header_checksum());
    }

    #[test]
    fn link_layer_wrappers() {
        let c = crepes_conversation(CREPES_CLIENT, HAMBURGER_SMTP);
        let f = &c.frames()[0].data;
        let ip = strip_ethernet(f);
        assert_eq!(&to_linux_sll(f, true)[..2], &[0, 4]);
        assert_eq!(&to_linux_sll(f, true)[14..16], &[0x08, 0x00]);
        assert_eq!(&to_linux_sll(f, false)[16..], ip);
        assert_eq!(
            &to_linux_sll2(f, true, 2)[..12],
            &[0x08, 0, 0, 0, 0, 0, 0, 2, 0, 1, 4, 6]
        );
        assert_eq!(&to_linux_sll2(f, true, 2)[20..], ip);
        assert_eq!(&to_bsd_loopback(f, false)[..4], &[2, 0, 0, 0]);
        assert_eq!(&to_bsd_loopback(f, true)[..4], &[0, 0, 0, 2]);
        let qinq = add_vlan_tags(f, &[(0x88A8, 200), (0x8100, 300)]);
        assert_eq!(
            &qinq[12..22],
            &[0x88, 0xA8, 0x00, 200, 0x81, 0x00, 0x01, 0x2C, 0x08, 0x00]
        );
        assert_eq!(&qinq[22..], ip);
    }

    #[test]
    fn readme_mentions_every_file() {
        let text = readme();
        for (name, _) in all_samples() {
            assert!(
                text.contains(&format!("## `{name}`")),
                "{name} missing from README"
            );
        }
    }

    /// pcap-parser (the library the reader builds on) must accept every
    /// block of every fixture, and see the packets the catalog promises.
    #[test]
    fn pcap_parser_reads_every_sample() {
        use pcap_parser::pcap::{parse_pcap_frame, parse_pcap_frame_be, parse_pcap_header};
        use pcap_parser::pcapng::{Block, parse_block_le};
        for sample in catalog() {
            let bytes = &sample.bytes[..];
            let mut packets = 0;
            if sample.file_name.ends_with(".pcapng") {
                let mut rest = bytes;
                while !rest.is_empty() {
                    let (r, block) = parse_block_le(rest)
                        .unwrap_or_else(|e| panic!("{}: {e:?}", sample.file_name));
                    if matches!(block, Block::EnhancedPacket(_) | Block::SimplePacket(_)) {
                        packets += 1;
                    }
                    rest = r;
                }
            } else {
                let (mut rest, header) = parse_pcap_header(bytes).unwrap();
                while !rest.is_empty() {
                    let (r, _) = if header.is_bigendian() {
                        parse_pcap_frame_be(rest).unwrap()
                    } else {
                        parse_pcap_frame(rest).unwrap()
                    };
                    packets += 1;
                    rest = r;
                }
            }
            // Every flow has at least a handshake-or-data worth of packets.
            assert!(
                packets >= 3 * sample.flows.len(),
                "{}: {packets} packets",
                sample.file_name
            );
        }
    }

    #[test]
    fn half_rtt_leaves_room_for_inserted_frames() {
        // The fragments are 10 us apart and must stay before the next packet.
        const { assert!(3 * 10_000 < HALF_RTT_NANOS) };
    }
}
