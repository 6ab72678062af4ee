//! The journeys of the messages: each message's hops (submission, relay,
//! retrieval) with the times its envelope leaves, is first on the wire and
//! arrives, for the picture to move it along.

use super::{Hop, Journey, Msg, Scene};
use crate::flow::Direction;
use crate::trace::{LineKind, MessagePaths, PathKey, Via};

/// The paths of the messages (`trace::paths`, the same definition as
/// `analyze`'s `message_path` records): submission → relay → retrieval,
/// and messages seen on one connection only.
pub(super) fn journeys(scene: &Scene) -> Vec<Journey> {
    let mut paths = MessagePaths::default();
    for (i, m) in scene.messages.iter().enumerate() {
        let c = &scene.conns[m.conn];
        paths.add(&m.record, i, c.client, c.server);
    }
    paths
        .all()
        .into_iter()
        .map(|path| {
            let mut hops: Vec<Hop> = path
                .hops
                .iter()
                .map(|h| {
                    let m = &scene.messages[h.message];
                    let upstream = matches!(m.record.via, Via::Data | Via::Bdat | Via::Append);
                    let t_start = transfer_start(scene, m);
                    Hop {
                        msg: h.message,
                        conn: m.conn,
                        t_start,
                        t_end: m.t,
                        t_first: first_data_packet(scene, m.conn, upstream, t_start, m.t),
                        upstream,
                    }
                })
                .collect();
            hops.sort_by(|a, b| a.t_end.total_cmp(&b.t_end));
            Journey {
                key: match path.key {
                    PathKey::MessageId(id) => id,
                    PathKey::Sha256(h) => h,
                },
                subject: path.subject,
                hops,
            }
        })
        .collect()
}

/// When the transfer of `m` began: the last command on its connection
/// that starts a transfer, at or before the message's last byte.
fn transfer_start(scene: &Scene, m: &Msg) -> f64 {
    let conn = &scene.conns[m.conn];
    let before = conn.lines.partition_point(|&i| scene.lines[i].t <= m.t);
    conn.lines[..before]
        .iter()
        .rev()
        .map(|&i| &scene.lines[i])
        .filter(|l| l.kind == LineKind::Command)
        .find(|l| starts_transfer(&l.text))
        .map_or(m.t, |l| l.t)
}

/// Whether a client command starts a message transfer: SMTP DATA/BDAT
/// (RFC 5321 §4.1.1.4, RFC 3030), POP3 RETR/TOP (RFC 1939), IMAP FETCH,
/// UID FETCH and APPEND (RFC 9051), the IMAP ones after their tag.
pub(super) fn starts_transfer(command: &str) -> bool {
    let mut words = command.split_whitespace();
    let first = words.next().unwrap_or_default().to_ascii_uppercase();
    if matches!(first.as_str(), "DATA" | "BDAT" | "RETR" | "TOP") {
        return true;
    }
    let second = words.next().unwrap_or_default().to_ascii_uppercase();
    let third = words.next().unwrap_or_default().to_ascii_uppercase();
    matches!(second.as_str(), "FETCH" | "APPEND") || (second == "UID" && third == "FETCH")
}

/// Time of the first packet with payload from the message's sender on
/// `conn` in `(after, until]`; `until` when there is none.
fn first_data_packet(scene: &Scene, conn: usize, upstream: bool, after: f64, until: f64) -> f64 {
    let dir = if upstream {
        Direction::ClientToServer
    } else {
        Direction::ServerToClient
    };
    let from = scene.packets.partition_point(|p| p.t <= after);
    scene.packets[from..]
        .iter()
        .take_while(|p| p.t <= until)
        .find(|p| p.conn as usize == conn && p.dir == dir && p.len > 0)
        .map_or(until, |p| p.t)
}
