//! `flow_uid`: a name for a connection that holds across captures and runs
//! (issue 19), where `flow` (0, 1, 2…) only numbers the flows of one run.
//!
//! Zeek's `uid` is random per run; mailscope's is derived from what
//! identifies a TCP connection on the wire: its client and server
//! endpoints and the time of its first packet (RFC 9293 §3.4: a
//! connection is its socket pair, and a pair is reused only after the old
//! connection is gone). So the same input gives the same uids on every
//! run and every machine, the pieces of a rotated capture or the shards
//! of a big one give a connection the uid the whole gives it, and two
//! captures of one connection taken at one tap agree, while different
//! connections differ (96 bits of SHA-256: a collision is not expected
//! before some 10^14 flows).

use std::net::{IpAddr, SocketAddr};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::capture::Timestamp;

/// Written `F` and 24 hex digits: `F3c9e…`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowUid([u8; 12]);

impl FlowUid {
    pub fn of(client: SocketAddr, server: SocketAddr, start: Timestamp) -> Self {
        let mut h = Sha256::new();
        h.update(b"mailscope flow uid 1\0");
        for end in [client, server] {
            // IPv4 as its IPv4-mapped IPv6 form: one layout for both.
            let ip = match end.ip() {
                IpAddr::V4(v4) => v4.to_ipv6_mapped(),
                IpAddr::V6(v6) => v6,
            };
            h.update(ip.octets());
            h.update(end.port().to_be_bytes());
        }
        h.update(start.as_nanos().to_be_bytes());
        let digest = h.finalize();
        let mut uid = [0u8; 12];
        uid.copy_from_slice(&digest[..12]);
        FlowUid(uid)
    }
}

impl FlowUid {
    /// Calls `f` with the written form, `F` and 24 hex digits, made on
    /// the stack without the formatting machinery: every record of a flow
    /// carries it, so on a big capture it is written millions of times.
    fn with_text<T>(&self, f: impl FnOnce(&str) -> T) -> T {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut text = [b'F'; 25];
        for (i, b) in self.0.iter().enumerate() {
            text[1 + 2 * i] = DIGITS[(b >> 4) as usize];
            text[2 + 2 * i] = DIGITS[(b & 15) as usize];
        }
        // Only ASCII was written, so this is never the empty default.
        f(std::str::from_utf8(&text).unwrap_or_default())
    }
}

impl std::fmt::Display for FlowUid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.with_text(|t| f.write_str(t))
    }
}

impl Serialize for FlowUid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.with_text(|t| s.serialize_str(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uid(c: &str, s: &str, ns: i64) -> String {
        FlowUid::of(
            c.parse().unwrap(),
            s.parse().unwrap(),
            Timestamp::from_nanos(ns),
        )
        .to_string()
    }

    #[test]
    fn the_same_connection_gets_the_same_uid_and_others_differ() {
        let a = uid("10.0.0.1:1035", "10.0.0.2:25", 1_709_543_700_123_456_700);
        assert_eq!(a, "F6e44b93de2246f5ac00bb130");
        assert_eq!(
            a,
            uid("10.0.0.1:1035", "10.0.0.2:25", 1_709_543_700_123_456_700)
        );
        assert_eq!(a.len(), 25);
        for other in [
            uid("10.0.0.1:1036", "10.0.0.2:25", 1_709_543_700_123_456_700),
            uid("10.0.0.2:25", "10.0.0.1:1035", 1_709_543_700_123_456_700),
            uid("10.0.0.1:1035", "10.0.0.2:25", 1_709_543_700_123_456_701),
            uid(
                "[::ffff:10.0.0.3]:1035",
                "10.0.0.2:25",
                1_709_543_700_123_456_700,
            ),
        ] {
            assert_ne!(a, other);
        }
        // An IPv4 address and its IPv4-mapped IPv6 form are one endpoint.
        assert_eq!(
            a,
            uid(
                "[::ffff:10.0.0.1]:1035",
                "10.0.0.2:25",
                1_709_543_700_123_456_700
            )
        );
    }
}
