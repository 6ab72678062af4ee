//! The same IP packets behind other link-layer headers.
//!
//! The builder produces Ethernet II frames; these functions re-wrap the IP
//! packet inside for other link types (tcpdump.org "LINK-LAYER HEADER
//! TYPES"), and the captures teach how a reader finds the IP packet:
//!
//! * `multi-interface.pcapng`: two interfaces of different link types in one
//!   file (Ethernet, raw IP with microsecond timestamps), 802.1Q VLAN and
//!   802.1ad QinQ tags, and a Simple Packet Block.
//! * `linux-sll.pcapng`, `linux-sll2.pcapng`: Linux cooked capture v1 and v2
//!   (`tcpdump -i any`), with packet types "outgoing" and "to us".
//! * `bsd-null.pcap`, `bsd-loop.pcapng`: BSD loopback, whose 4-byte address
//!   family is in host byte order (link type 0) or network order (108).

use mailscope::capture::builder::{Conversation, ETHERNET_HEADER_LEN, Frame, mac_for};
use mailscope::capture::link::{
    LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, LINKTYPE_LOOP, LINKTYPE_NULL,
    LINKTYPE_RAW,
};
use mailscope::capture::writer::{PcapNgWriter, PcapWriter, TSRESOL_MICROS};

use super::Sample;
use super::imap::{imap_dialogue, imap_mini};
use super::pop3::{pop3_dialogue, pop3_mini};
use super::smtp::{crepes_conversation, smtp_mini};
use super::toolkit::{SNAPLEN, START_NANOS, addr, pcapng_single, summary};

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

pub fn multi_interface() -> Sample {
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

pub fn linux_sll() -> Sample {
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

pub fn linux_sll2() -> Sample {
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

pub fn bsd_null() -> Sample {
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

pub fn bsd_loop() -> Sample {
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
