//! The course's sample captures: every file in `captures/` is generated
//! here, by test support code (the library only provides the packet
//! builder and the pcap/pcapng writers these scripts use).
//!
//! Each sample is a small, deterministic script played with
//! [`Conversation`](mailscope::capture::builder::Conversation) and written
//! with the project's pcapng or pcap writer. Regenerating a sample gives the
//! same bytes every time; `tests/fixtures.rs` checks that the committed
//! files match (run it with `MAILSCOPE_UPDATE_FIXTURES=1` to rewrite them).
//!
//! One family of captures per file, each saying what its captures teach:
//!
//! * [`smtp`], [`pop3`], [`imap`]: the textbook sessions (Kurose & Ross,
//!   "Computer Networking"): Alice at crepes.fr mails Bob at hamburger.edu
//!   over SMTP; Bob reads his mail with POP3, and then with IMAP. The mail
//!   and host names they carry are in [`textbook`].
//! * [`tcp_edge_cases`]: a short SMTP dialogue with one TCP fault each
//!   (reordering, retransmission, overlap, loss, sequence wrap-around, a
//!   capture that starts mid-stream, an RST), made with [`frame_edits`].
//! * [`ip_layer`]: IPv6 and IPv4 fragments.
//! * [`link_layers`]: several interfaces, VLAN tags, Linux cooked capture,
//!   BSD loopback.
//! * [`file_formats`]: classic pcap in both byte orders and resolutions, a
//!   snapshot length, an unknown block type.
//! * [`protocol_detection`]: mail protocols on odd ports, non-mail protocols
//!   on mail ports; [`tls`]: implicit TLS.
//! * [`real_traffic`]: mail as real networks carry it: recognised from the
//!   client's side, inside proxy tunnels, in clear where TLS was expected.
//! * [`mail_path`]: one message from Alice's laptop to Bob's mailbox;
//!   [`hostile_names`]: attachment names that try to escape a directory.
//! * [`mime_edge_cases`]: messages as a mail client reads them: messages
//!   inside messages and encapsulation tricks, attachments cut by the
//!   capture, header text in raw 8-bit bytes and folded around encoded
//!   words.
//! * [`session_traffic`]: what the server's replies decide: every RCPT
//!   with its reply, message text sent before the 354, the reply on every
//!   credential.
//! * [`relay_traffic`]: servers that break a rule and servers that only
//!   look as if they did: POP3 responses without their final ".", an open
//!   relay, a relay for an authenticated user, an MX taking inbound mail.
//! * [`smuggling`]: SMTP smuggling, as the world's server refuses it.
//! * [`investigation`]: password guessing across SMTP, POP3 and IMAP, and
//!   the phishing message the guessed account then sends.
//!
//! [`catalog`] describes every sample, including the exact number of
//! payload bytes an analyzer should reassemble per direction; [`readme`]
//! turns that into `captures/README.md`. [`toolkit`] holds the small tools
//! every script uses.
//!
//! All hosts use documentation/private addresses (10.0.0.0/8, 127.0.0.1,
//! 2001:db8::/32); nothing here ever touches a real network.
//!
//! Integration tests include this module with `mod support;`; each uses
//! only part of it, hence `dead_code` is allowed.
#![allow(dead_code)]

pub mod file_formats;
pub mod frame_edits;
pub mod hostile_names;
pub mod imap;
pub mod investigation;
pub mod ip_layer;
pub mod link_layers;
pub mod mail_path;
pub mod mime_edge_cases;
pub mod pop3;
pub mod protocol_detection;
pub mod real_traffic;
pub mod relay_traffic;
pub mod session_traffic;
pub mod smtp;
pub mod smuggling;
pub mod tcp_edge_cases;
pub mod textbook;
pub mod tls;
pub mod toolkit;

use std::fmt::Write as _;
use std::net::SocketAddr;

use file_formats::{smtp_classic, snaplen_truncated, unknown_block};
use hostile_names::smtp_hostile_names;
use imap::imap_bob;
use investigation::auth_guessing;
use ip_layer::{ipv4_fragments, tcp_ipv6};
use link_layers::{bsd_loop, bsd_null, linux_sll, linux_sll2, multi_interface};
use mail_path::alice_to_bob_path;
use mime_edge_cases::{smtp_attached_messages, smtp_cut_attachments, smtp_header_text};
use pop3::pop3_bob;
use protocol_detection::{mail_on_odd_ports, non_mail_on_mail_port};
use real_traffic::{
    mail_in_proxy_tunnels, mail_recognised_by_client, terminal_escapes, tls_expected_plaintext_seen,
};
use relay_traffic::{pop3_unterminated, smtp_inbound_mx, smtp_open_relay, smtp_relay_after_auth};
use session_traffic::{auth_replies, smtp_recipient_replies, smtp_text_before_354};
use smtp::smtp_crepes_hamburger;
use smuggling::smtp_smuggling;
use tcp_edge_cases::{
    tcp_loss, tcp_midstream, tcp_overlap, tcp_reordered, tcp_retransmission, tcp_rst,
    tcp_wraparound,
};
use tls::tls_implicit_465;

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
        alice_to_bob_path(),
        smtp_hostile_names(),
        mail_recognised_by_client(),
        mail_in_proxy_tunnels(),
        tls_expected_plaintext_seen(),
        terminal_escapes(),
        smtp_attached_messages(),
        smtp_cut_attachments(),
        smtp_header_text(),
        smtp_recipient_replies(),
        smtp_text_before_354(),
        auth_replies(),
        pop3_unterminated(),
        smtp_open_relay(),
        smtp_relay_after_auth(),
        smtp_inbound_mx(),
        smtp_smuggling(),
        auth_guessing(),
    ]
}

/// The text of `captures/README.md`, generated from [`catalog`].
pub fn readme() -> String {
    let mut out = String::new();
    out.push_str(
        "# Sample captures\n\
         \n\
         Generated by the scripts in `tests/support/` (do not edit by hand:\n\
         run `MAILSCOPE_UPDATE_FIXTURES=1 cargo test --test fixtures` to\n\
         regenerate the captures and this file).\n\
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
