//! IP fragment reassembly (RFC 791 §3.2 for IPv4, RFC 8200 §4.5 for IPv6).
//!
//! A datagram too big for a link is cut into fragments that share an
//! identification number; each carries its offset (in 8-byte units) and a
//! "more fragments" flag, and only the last one tells the total size. We
//! collect the pieces per (source, destination, protocol, id) and hand the
//! datagram's payload on once every byte is present.
//!
//! Hostile captures can open endless half-datagrams, so the pool is bounded:
//! at most [`MAX_PENDING`] datagrams, each at most 64 KiB, dropped after
//! [`TIMEOUT_NANOS`] of capture time (the figure Linux uses). Overlapping
//! fragments keep the first copy of each byte, the same rule as our TCP
//! reassembly.

use std::collections::HashMap;
use std::net::IpAddr;

use super::Timestamp;

/// How many datagrams may be half-assembled at once.
pub const MAX_PENDING: usize = 4096;
/// A datagram is at most 65535 bytes (IPv4 total length, IPv6 without
/// jumbograms).
pub const MAX_DATAGRAM: usize = 65_535;
/// Incomplete datagrams older than this (capture time) are dropped.
pub const TIMEOUT_NANOS: i64 = 30_000_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FragmentKey {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub protocol: u8,
    pub id: u32,
}

/// One piece of a datagram.
#[derive(Clone, Copy, Debug)]
pub struct Fragment<'a> {
    /// Offset of this piece in the datagram payload, in bytes.
    pub offset: usize,
    pub more_fragments: bool,
    pub data: &'a [u8],
}

#[derive(Debug)]
struct Pending {
    data: Vec<u8>,
    /// Byte ranges already filled, sorted and disjoint.
    filled: Vec<(usize, usize)>,
    total: Option<usize>,
    first_seen: Timestamp,
}

impl Pending {
    fn is_complete(&self) -> bool {
        matches!(self.total, Some(t) if self.filled.len() == 1 && self.filled[0] == (0, t))
    }

    /// Copies the parts of `[start, end)` not yet filled (first copy wins)
    /// and records them.
    fn insert(&mut self, start: usize, bytes: &[u8]) {
        let end = start + bytes.len();
        if self.data.len() < end {
            self.data.resize(end, 0);
        }
        let mut cursor = start;
        let mut holes = Vec::new();
        for &(s, e) in &self.filled {
            if e <= cursor || s >= end {
                continue;
            }
            if s > cursor {
                holes.push((cursor, s));
            }
            cursor = cursor.max(e);
        }
        if cursor < end {
            holes.push((cursor, end));
        }
        for (s, e) in holes {
            self.data[s..e].copy_from_slice(&bytes[s - start..e - start]);
            self.filled.push((s, e));
        }
        // Re-normalise: sort and merge touching ranges.
        self.filled.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(self.filled.len());
        for &(s, e) in &self.filled {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        self.filled = merged;
    }
}

/// What became of a fragment.
#[derive(Debug, PartialEq, Eq)]
pub enum DefragResult {
    /// Kept; the datagram is not complete yet.
    Held,
    /// The fragment completed its datagram: here is the whole payload.
    Complete(Vec<u8>),
    /// Rejected (impossible offset or length, or the pool is full).
    Dropped,
}

#[derive(Debug, Default)]
pub struct DefragPool {
    pending: HashMap<FragmentKey, Pending>,
    /// Datagrams dropped because they never completed or were impossible.
    pub dropped: u64,
    pub reassembled: u64,
}

impl DefragPool {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of datagrams waiting for more fragments.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    pub fn add(&mut self, key: FragmentKey, frag: Fragment<'_>, now: Timestamp) -> DefragResult {
        let end = frag.offset + frag.data.len();
        if end > MAX_DATAGRAM {
            self.dropped += 1;
            return DefragResult::Dropped;
        }
        if !self.pending.contains_key(&key) {
            if self.pending.len() >= MAX_PENDING {
                self.expire(now);
            }
            if self.pending.len() >= MAX_PENDING {
                self.dropped += 1;
                return DefragResult::Dropped;
            }
        }
        let entry = self.pending.entry(key).or_insert_with(|| Pending {
            data: Vec::new(),
            filled: Vec::new(),
            total: None,
            first_seen: now,
        });
        if !frag.more_fragments {
            entry.total = Some(end);
        }
        entry.insert(frag.offset, frag.data);
        if entry.is_complete() {
            let mut done = self.pending.remove(&key).expect("entry exists");
            let total = done.total.unwrap_or(done.data.len());
            done.data.truncate(total);
            self.reassembled += 1;
            DefragResult::Complete(done.data)
        } else {
            DefragResult::Held
        }
    }

    /// Drops datagrams that have waited longer than [`TIMEOUT_NANOS`].
    pub fn expire(&mut self, now: Timestamp) {
        let before = self.pending.len();
        self.pending
            .retain(|_, p| now.as_nanos() - p.first_seen.as_nanos() <= TIMEOUT_NANOS);
        self.dropped += (before - self.pending.len()) as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> FragmentKey {
        FragmentKey {
            src: "10.0.0.1".parse().unwrap(),
            dst: "10.0.0.2".parse().unwrap(),
            protocol: 6,
            id: 7,
        }
    }

    fn frag(offset: usize, more: bool, data: &[u8]) -> Fragment<'_> {
        Fragment {
            offset,
            more_fragments: more,
            data,
        }
    }

    #[test]
    fn out_of_order_fragments_reassemble() {
        let mut pool = DefragPool::new();
        let t = Timestamp::from_nanos(0);
        assert_eq!(
            pool.add(key(), frag(16, false, b"CCCC"), t),
            DefragResult::Held
        );
        assert_eq!(
            pool.add(key(), frag(0, true, b"AAAAAAAA"), t),
            DefragResult::Held
        );
        assert_eq!(
            pool.add(key(), frag(8, true, b"BBBBBBBB"), t),
            DefragResult::Complete(b"AAAAAAAABBBBBBBBCCCC".to_vec())
        );
        assert_eq!(pool.pending(), 0);
    }

    #[test]
    fn overlap_keeps_first_copy() {
        let mut pool = DefragPool::new();
        let t = Timestamp::from_nanos(0);
        pool.add(key(), frag(0, true, b"AAAAAAAA"), t);
        assert_eq!(
            pool.add(key(), frag(0, false, b"XXXXXXXXYYYY"), t),
            DefragResult::Complete(b"AAAAAAAAYYYY".to_vec())
        );
    }

    #[test]
    fn stale_and_impossible_fragments_are_dropped() {
        let mut pool = DefragPool::new();
        assert_eq!(
            pool.add(
                key(),
                frag(65_530, false, b"0123456789"),
                Timestamp::from_nanos(0)
            ),
            DefragResult::Dropped
        );
        pool.add(key(), frag(0, true, b"AAAAAAAA"), Timestamp::from_nanos(0));
        pool.expire(Timestamp::from_nanos(TIMEOUT_NANOS + 1));
        assert_eq!(pool.pending(), 0);
        assert_eq!(pool.dropped, 2);
    }
}
