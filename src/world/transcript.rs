//! The textbook transcript of what the world did, as the endpoints saw it.
//!
//! Each server connection's endpoint view (the plaintext above TLS) goes
//! through the same sans-IO parsers that `mailscope dialog` uses on
//! captures, so the live transcript and the transcript of the recorded
//! capture are written by one piece of code: for clear-text sessions the
//! two must be identical, line for line (a test checks it). Where TLS
//! starts, the transcript says so: from there on, an eavesdropper on the
//! wire sees only encrypted records, while the endpoints go on talking.

use std::fmt::Write as _;
use std::net::SocketAddr;

use super::recorder::{RecordedConnection, Recorder, ViewEvent};
use super::servers::Service;
use super::topology::Topology;
use crate::analysis::read_endpoint_view;
use crate::flow::Direction;
use crate::proto::dns;
use crate::trace::text::printable;
use crate::trace::{DialogueOptions, Protocol};

/// The `C:`/`S:` lines of one piece of a session (between TLS switches).
fn dialogue_lines(protocol: Protocol, pieces: &[(Direction, &[u8])]) -> Vec<String> {
    let options = DialogueOptions {
        transcript: true,
        full: false,
    };
    let Some(out) = read_endpoint_view(protocol, pieces.iter().copied(), options) else {
        return plain_lines(pieces);
    };
    out.transcript
        .iter()
        .map(|l| {
            let who = match l.dir {
                Direction::ClientToServer => "C",
                Direction::ServerToClient => "S",
            };
            format!("{who}: {}", l.text)
        })
        .collect()
}

/// The lines of a session mailscope has no grammar for (the HTTPS fetch
/// of an MTA-STS policy) as they are, made safe to print.
fn plain_lines(pieces: &[(Direction, &[u8])]) -> Vec<String> {
    let mut lines = Vec::new();
    for (dir, bytes) in pieces {
        let who = match dir {
            Direction::ClientToServer => "C",
            Direction::ServerToClient => "S",
        };
        let text = bytes.strip_suffix(b"\n").unwrap_or(bytes);
        for line in text.split(|&b| b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            lines.push(format!("{who}: {}", printable(line)));
        }
    }
    lines
}

/// The transcript lines of one connection, with a marker where TLS began.
pub fn connection_lines(c: &RecordedConnection, protocol: Protocol) -> Vec<String> {
    let mut lines = Vec::new();
    let mut piece: Vec<(Direction, &[u8])> = Vec::new();
    for e in &c.endpoint_view {
        match e {
            ViewEvent::Bytes(d, b) => piece.push((*d, b)),
            ViewEvent::TlsStarted => {
                lines.extend(dialogue_lines(protocol, &piece));
                piece.clear();
                lines.push(
                    "   [TLS handshake. From here on the wire carries only encrypted records; the lines below are what the two endpoints see]"
                        .to_string(),
                );
            }
        }
    }
    lines.extend(dialogue_lines(protocol, &piece));
    lines
}

fn label(topology: &Topology, addr: SocketAddr) -> String {
    match topology.name_of(addr.ip()) {
        Some(name) => name.to_string(),
        None => addr.ip().to_string(),
    }
}

/// One DNS datagram in words.
fn describe_dns(payload: &[u8]) -> String {
    let is_response = payload.get(2).is_some_and(|f| f & 0x80 != 0);
    if !is_response {
        // Question: name and type (the name starts at byte 12).
        let q = dns::parse_question(payload);
        return match q {
            Some((name, qtype)) => format!("Q: {} {name}?", dns::type_name(qtype)),
            None => "Q: (unreadable query)".into(),
        };
    }
    match dns::parse_response(payload) {
        Some((0, records)) if records.is_empty() => "A: no records".into(),
        Some((0, records)) => {
            let parts: Vec<String> = records
                .iter()
                .map(|r| format!("{} {}", r.name().escape_debug(), r.data_text()))
                .collect();
            format!("A: {}", parts.join("; "))
        }
        Some((3, _)) => "A: NXDOMAIN (no such domain)".into(),
        Some((rcode, _)) => format!("A: error, rcode {rcode}"),
        None => "A: (unreadable answer)".into(),
    }
}

/// The whole transcript: every connection and DNS exchange, in the order
/// they began, with host names.
pub fn render(
    recorder: &Recorder,
    topology: &Topology,
    services: &[(SocketAddr, Service)],
) -> String {
    enum Item {
        Tcp(RecordedConnection),
        Dns(SocketAddr, SocketAddr, Vec<Vec<u8>>),
    }
    let mut items: Vec<(u64, Item)> = recorder
        .connections()
        .into_iter()
        .map(|c| (c.opened, Item::Tcp(c)))
        .collect();
    // Pair each DNS query with the datagrams that follow on the same
    // address pair.
    let mut dns_items: Vec<(u64, SocketAddr, SocketAddr, Vec<Vec<u8>>)> = Vec::new();
    for (ts, src, dst, payload) in recorder.datagrams() {
        match dns_items
            .iter_mut()
            .find(|(_, c, s, _)| (*c == src && *s == dst) || (*c == dst && *s == src))
        {
            Some(item) => item.3.push(payload),
            None => dns_items.push((ts, src, dst, vec![payload])),
        }
    }
    items.extend(
        dns_items
            .into_iter()
            .map(|(ts, c, s, p)| (ts, Item::Dns(c, s, p))),
    );
    items.sort_by_key(|(ts, _)| *ts);

    let mut out = String::new();
    for (_, item) in items {
        match item {
            Item::Tcp(c) => {
                let service = services
                    .iter()
                    .find(|(a, _)| *a == c.server)
                    .map(|(_, s)| *s);
                let (name, protocol) = match service {
                    Some(s) => (s.name(), s.protocol()),
                    None => ("?", Protocol::Smtp),
                };
                let tls = if service.is_some_and(Service::implicit_tls) {
                    ", implicit TLS"
                } else if c.endpoint_view.contains(&ViewEvent::TlsStarted) {
                    ", STARTTLS"
                } else {
                    ""
                };
                let _ = writeln!(
                    out,
                    "== {} → {} ({name}{tls}; {} → {}) ==",
                    label(topology, c.client),
                    label(topology, c.server),
                    c.client,
                    c.server
                );
                for l in connection_lines(&c, protocol) {
                    let _ = writeln!(out, "{l}");
                }
            }
            Item::Dns(client, server, payloads) => {
                let _ = writeln!(
                    out,
                    "== {} → {} (DNS over UDP; {client} → {server}) ==",
                    label(topology, client),
                    label(topology, server)
                );
                for p in payloads {
                    let _ = writeln!(out, "{}", describe_dns(&p));
                }
            }
        }
    }
    out
}
