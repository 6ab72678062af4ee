//! The path of one message across flows: Alice's agent submits it to her
//! server, her server relays it to Bob's, Bob's agent retrieves it. Each
//! of those transfers is a `message` record on its own flow; they are the
//! same message when they carry the same Message-ID (RFC 5322 §3.6.4: "a
//! unique message identifier that refers to a particular version of a
//! particular message"), or, for a message without one, the same bytes.
//!
//! This is the one definition `analyze` (its `message_path` records) and
//! the window (the envelope riding hop by hop) both use.

use std::collections::HashMap;
use std::net::SocketAddr;

use serde::Serialize;

use super::records::{MessageRecord, Part, Via};
use crate::capture::Timestamp;

/// Hops listed per path.
pub const MAX_HOPS: usize = 64;
/// Paths followed; beyond this new ones are not (memory stays bounded on
/// captures with millions of messages).
pub const MAX_PATHS: usize = 200_000;

/// What ties the hops of one path together.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PathKey {
    MessageId(String),
    /// A whole message without a Message-ID: the SHA-256 of its bytes.
    Sha256(String),
}

impl PathKey {
    /// The key of a message record, when it has one: its Message-ID, else
    /// for a whole message (not a header or a section) its SHA-256.
    pub fn of(record: &MessageRecord) -> Option<PathKey> {
        match &record.message_id {
            Some(id) => Some(PathKey::MessageId(id.clone())),
            None if record.part == Part::Full && record.size > 0 => {
                Some(PathKey::Sha256(record.sha256.clone()))
            }
            None => None,
        }
    }
}

/// One hop of a message's path.
#[derive(Clone, Debug, Serialize)]
pub struct Hop {
    pub flow: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow_uid: Option<super::FlowUid>,
    pub via: Via,
    /// Index of the `message` record (in the output, or in the window's
    /// list of messages).
    pub message: usize,
    pub ts: Timestamp,
    /// Serialized as `address:port` text, like every endpoint in the
    /// records (serde writes socket addresses with `Display` in JSON).
    pub client: SocketAddr,
    pub server: SocketAddr,
}

/// One message's path, as collected.
#[derive(Clone, Debug)]
pub struct MessagePath {
    pub key: PathKey,
    pub subject: Option<String>,
    /// In capture time order (then by flow).
    pub hops: Vec<Hop>,
    /// Hops seen in all (only the first [`MAX_HOPS`] are listed).
    pub hops_total: u64,
}

impl MessagePath {
    /// Whether the message crossed more than one flow.
    pub fn is_multi_flow(&self) -> bool {
        self.hops
            .first()
            .is_some_and(|f| self.hops.iter().any(|h| h.flow != f.flow))
    }

    /// The `message_path` record of this path.
    pub fn record(&self) -> MessagePathRecord<'_> {
        let (message_id, sha256) = match &self.key {
            PathKey::MessageId(id) => (Some(id.as_str()), None),
            PathKey::Sha256(h) => (None, Some(h.as_str())),
        };
        MessagePathRecord {
            message_id,
            sha256,
            subject: self.subject.as_deref(),
            hops: &self.hops,
            hops_total: self.hops_total,
        }
    }
}

/// The `message_path` record.
#[derive(Debug, Serialize)]
pub struct MessagePathRecord<'a> {
    /// None when the path is tied by the message's bytes (`sha256`).
    pub message_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<&'a str>,
    pub subject: Option<&'a str>,
    pub hops: &'a [Hop],
    pub hops_total: u64,
}

/// Collects where each message was seen.
#[derive(Default)]
pub struct MessagePaths {
    // The key lives once, in the map: a big capture holds up to
    // MAX_PATHS of them until the end.
    paths: HashMap<PathKey, Collected>,
}

/// A path while it is collected (its key is the map's).
#[derive(Debug)]
struct Collected {
    subject: Option<String>,
    hops: Vec<Hop>,
    hops_total: u64,
}

impl MessagePaths {
    /// Message `index` (in the output), seen on the flow from `client` to
    /// `server`.
    pub fn add(
        &mut self,
        record: &MessageRecord,
        index: usize,
        client: SocketAddr,
        server: SocketAddr,
    ) {
        let Some(key) = PathKey::of(record) else {
            return;
        };
        if !self.paths.contains_key(&key) && self.paths.len() >= MAX_PATHS {
            return;
        }
        let path = self.paths.entry(key).or_insert_with(|| Collected {
            subject: record.subject.clone(),
            hops: Vec::new(),
            hops_total: 0,
        });
        path.hops_total += 1;
        if path.hops.len() < MAX_HOPS {
            path.hops.push(Hop {
                flow: record.flow,
                flow_uid: record.flow_uid,
                via: record.via,
                message: index,
                ts: record.ts,
                client,
                server,
            });
        }
    }

    /// Every path, its hops in time order, sorted by the time of the first
    /// hop.
    pub fn all(mut self) -> Vec<MessagePath> {
        let mut out: Vec<MessagePath> = self
            .paths
            .drain()
            .map(|(key, p)| MessagePath {
                key,
                subject: p.subject,
                hops: p.hops,
                hops_total: p.hops_total,
            })
            .collect();
        for p in &mut out {
            p.hops.sort_by_key(|h| (h.ts, h.flow, h.message));
        }
        out.sort_by(|a, b| {
            let (x, y) = (&a.hops[0], &b.hops[0]);
            (x.ts, x.flow, x.message).cmp(&(y.ts, y.flow, y.message))
        });
        out
    }

    /// The paths of messages seen on more than one flow (the
    /// `message_path` records), in the order of [`all`](Self::all).
    pub fn multi_flow(self) -> Vec<MessagePath> {
        let mut all = self.all();
        all.retain(MessagePath::is_multi_flow);
        all
    }
}
