//! Building TCP conversations packet by packet, the way a real stack would
//! put them on the wire.
//!
//! The fixtures in `captures/` are not recorded from a network: they are
//! *scripted* (by `tests/support/`), and the embedded mail world's recorder
//! turns its socket writes into packets the same way. A [`Conversation`]
//! plays both ends of one TCP connection and records every packet as an
//! Ethernet II frame (pcap link type 1):
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
//! # The parts
//!
//! * `conversation`: [`Conversation`], the TCP state of both ends (sequence
//!   numbers, handshake, segmentation at the MSS, ACKs, close and reset).
//! * `segment`: [`Segment`], one TCP segment turned into an IP packet and an
//!   Ethernet frame, and read back with [`Segment::parse`] so a frame can be
//!   edited and rebuilt with fresh checksums.
//! * `framing`: what every frame needs below TCP: the IPv4 header, the
//!   Internet checksum, the Ethernet header and the made-up MAC addresses.
//! * `udp`: [`udp_frame`], one UDP datagram (the recorder's DNS packets).
//!
//! # Faults
//!
//! Real captures are messy. The fixture scripts in `tests/support/` edit the
//! clean list of frames a conversation gives (swap, duplicate, drop, insert
//! frames, or rebuild one from an edited [`Segment`]) into the reordered,
//! retransmitted, lossy or overlapping traffic that the reassembly code has
//! to survive.

mod conversation;
mod framing;
mod segment;
mod udp;

pub use conversation::{Conversation, Dir, Frame, HALF_RTT_NANOS};
pub use framing::{ETHERNET_HEADER_LEN, ipv4_header, mac_for};
pub use segment::{Segment, TcpFlags};
pub use udp::udp_frame;
