//! Reassembly of one direction of a TCP connection into an ordered byte
//! stream.
//!
//! TCP numbers every byte (RFC 9293 §3.4). A capture shows segments as they
//! crossed the wire: possibly out of order, repeated (retransmissions),
//! overlapping, or missing (dropped by the capturing host, not by the
//! network). The assembler turns them into a stream of [`StreamEvent`]s:
//! in-order data, and explicit gaps where bytes are known to be missing.
//!
//! Positions are *stream offsets*: 0 is the first byte after the SYN (or the
//! first byte we saw, when the capture started mid-connection). Offsets are
//! `u64`, so they never wrap; sequence numbers are converted with wrap-safe
//! arithmetic ([`SeqNumber`]) relative to the next expected byte.
//!
//! # Policies
//! * **First copy wins.** When two segments carry the same stream bytes
//!   (retransmission or overlap), the bytes that reached the capture first
//!   are kept and later copies are counted, not used. Bytes already delivered
//!   can no longer change, so this is also the only policy that lets us
//!   deliver in-order data straight from the packet buffer without copying.
//!   If the later copy differs from buffered data, it is counted as an
//!   `overlap_conflict` (a possible evasion attempt, see RFC 9293 §3.10.7.4
//!   on retransmission checks).
//! * **Gaps are declared on evidence:** when the peer acknowledges bytes we
//!   never saw (they reached the receiver, so they will not be resent), when
//!   the captured part of a snaplen-truncated segment ends, when the
//!   out-of-order buffer reaches its limit, or when the flow ends with data
//!   still waiting behind a hole. Data after a gap is still delivered.
//! * **Bounded memory:** only out-of-order data is copied, and at most
//!   `limit` bytes of it per direction; hitting the limit declares a gap
//!   (counted in `limit_hits`) rather than growing.

use std::collections::BTreeMap;

use super::seq::SeqNumber;
use super::{Piece, StreamEvent};
use crate::capture::Timestamp;

/// Default out-of-order buffer per direction: 4 MiB, several maximal
/// windows of a fast link.
pub const DEFAULT_OOO_LIMIT: usize = 4 << 20;

/// Counters for one direction.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct AssemblerStats {
    /// Payload bytes delivered in order.
    pub delivered: u64,
    /// Number of gaps declared, and the bytes they cover.
    pub gaps: u64,
    pub gap_bytes: u64,
    /// Payload bytes received again after a first copy (retransmissions and
    /// overlaps).
    pub retransmitted: u64,
    /// Overlapping bytes whose contents differed from the first copy.
    pub overlap_conflicts: u64,
    /// Times the out-of-order limit forced a gap.
    pub limit_hits: u64,
    /// Payload bytes that lay before the start of the stream (picked up
    /// mid-stream, then older data arrived) and could not be placed.
    pub before_start: u64,
}

#[derive(Debug)]
struct Pending {
    data: Vec<u8>,
    /// Sequence space on the wire: more than `data.len()` when a snaplen cut
    /// the segment; the rest is a known gap.
    wire_len: u64,
    packet: u64,
    ts: Timestamp,
}

/// Reassembles one direction of one connection.
#[derive(Debug)]
pub struct Assembler {
    /// Sequence number of stream offset `next_off`; `None` until the first
    /// SYN or data segment fixes the origin.
    next_seq: Option<SeqNumber>,
    next_off: u64,
    /// Out-of-order data, keyed by stream offset; ranges never overlap.
    pending: BTreeMap<u64, Pending>,
    pending_bytes: usize,
    limit: usize,
    /// Highest offset the peer has acknowledged (evidence for gaps).
    acked_off: u64,
    /// Stream offset of the FIN, once seen.
    fin_off: Option<u64>,
    stats: AssemblerStats,
}

impl Default for Assembler {
    fn default() -> Self {
        Self::new(DEFAULT_OOO_LIMIT)
    }
}

impl Assembler {
    pub fn new(limit: usize) -> Self {
        Assembler {
            next_seq: None,
            next_off: 0,
            pending: BTreeMap::new(),
            pending_bytes: 0,
            limit,
            acked_off: 0,
            fin_off: None,
            stats: AssemblerStats::default(),
        }
    }

    pub fn stats(&self) -> &AssemblerStats {
        &self.stats
    }

    /// Next stream offset expected (all bytes before it are delivered or
    /// declared missing).
    pub fn next_offset(&self) -> u64 {
        self.next_off
    }

    /// Bytes currently held out of order.
    pub fn buffered(&self) -> usize {
        self.pending_bytes
    }

    /// True once the FIN was seen and everything before it delivered.
    pub fn is_finished(&self) -> bool {
        self.fin_off.is_some_and(|f| self.next_off >= f)
    }

    pub fn has_started(&self) -> bool {
        self.next_seq.is_some()
    }

    /// A SYN from this side: the stream starts at `isn + 1` (the SYN itself
    /// takes one sequence number). A repeated SYN changes nothing.
    pub fn syn(&mut self, isn: u32) {
        if self.next_seq.is_none() {
            self.next_seq = Some(SeqNumber(isn).wrapping_add(1));
        }
    }

    /// Converts a sequence number to a stream offset (may be negative).
    fn offset_of(&self, seq: SeqNumber) -> Option<i64> {
        self.next_seq
            .map(|next| self.next_off as i64 + seq.distance_from(next))
    }

    /// A segment from this side: `payload` is what the capture holds,
    /// `wire_len` its length on the wire (`>= payload.len()`).
    // The arguments are the fields of a TCP segment as the capture gives
    // them; bundling them in a struct would only rename them.
    #[allow(clippy::too_many_arguments)]
    pub fn segment(
        &mut self,
        seq: u32,
        payload: &[u8],
        wire_len: u32,
        fin: bool,
        packet: u64,
        ts: Timestamp,
        out: &mut impl FnMut(StreamEvent<'_>),
    ) {
        let seq = SeqNumber(seq);
        if self.next_seq.is_none() {
            // No SYN seen: pick the stream up where the capture finds it.
            self.next_seq = Some(seq);
        }
        let Some(start) = self.offset_of(seq) else {
            return;
        };
        let wire_len = (wire_len as u64).max(payload.len() as u64);
        if fin {
            let fin_at = start + wire_len as i64;
            if fin_at >= 0 && self.fin_off.is_none() {
                self.fin_off = Some(fin_at as u64);
            }
        }
        if wire_len == 0 {
            return;
        }
        // Trim what lies before the stream start (mid-stream pickup).
        let (mut start, mut payload, mut wire_len) = (start, payload, wire_len);
        if start < 0 {
            let skip = (-start) as u64;
            if skip >= wire_len {
                self.stats.before_start += wire_len;
                return;
            }
            self.stats.before_start += skip;
            let cut = (skip as usize).min(payload.len());
            payload = &payload[cut..];
            wire_len -= skip;
            start = 0;
        }
        let start = start as u64;
        if start > self.next_off && start <= self.acked_off {
            // The peer already acknowledged past our next byte: what lies
            // between was delivered to it but never captured.
            self.gap_to(start.min(self.first_pending().unwrap_or(start)), out);
            self.drain(out);
        }
        if start <= self.next_off {
            self.in_order(start, payload, wire_len, packet, ts, out);
        } else {
            self.buffer(start, payload, wire_len, packet, ts, out);
        }
    }

    /// An acknowledgement from the peer: it has every byte before `ack`.
    pub fn ack(&mut self, ack: u32, out: &mut impl FnMut(StreamEvent<'_>)) {
        let Some(off) = self.offset_of(SeqNumber(ack)) else {
            return;
        };
        if off <= 0 {
            return;
        }
        // The FIN takes one sequence number but carries no byte.
        let mut off = off as u64;
        if let Some(fin) = self.fin_off {
            off = off.min(fin);
        }
        if off > self.acked_off {
            self.acked_off = off;
        }
        if off > self.next_off
            && let Some(first) = self.first_pending()
        {
            self.gap_to(off.min(first), out);
            self.drain(out);
        }
    }

    /// End of the flow (or of the capture): deliver everything still
    /// buffered, with gaps for the holes.
    pub fn flush(&mut self, out: &mut impl FnMut(StreamEvent<'_>)) {
        while let Some(first) = self.first_pending() {
            self.gap_to(first, out);
            self.drain(out);
        }
    }

    fn first_pending(&self) -> Option<u64> {
        self.pending.keys().next().copied()
    }

    /// Declares the bytes from `next_off` up to `to` missing.
    fn gap_to(&mut self, to: u64, out: &mut impl FnMut(StreamEvent<'_>)) {
        if to > self.next_off {
            let len = to - self.next_off;
            out(StreamEvent::Gap {
                offset: self.next_off,
                len,
            });
            self.stats.gaps += 1;
            self.stats.gap_bytes += len;
            self.advance(len);
        }
    }

    fn advance(&mut self, n: u64) {
        self.next_off += n;
        self.next_seq = self.next_seq.map(|s| s.wrapping_add(n as u32));
    }

    /// Delivers a segment that starts at or before `next_off`, interleaved
    /// with buffered segments that arrived earlier (first copy wins).
    fn in_order(
        &mut self,
        start: u64,
        payload: &[u8],
        wire_len: u64,
        packet: u64,
        ts: Timestamp,
        out: &mut impl FnMut(StreamEvent<'_>),
    ) {
        let end = start + wire_len;
        if end <= self.next_off {
            self.stats.retransmitted += wire_len;
            return;
        }
        self.stats.retransmitted += self.next_off - start;
        let captured_end = start + payload.len() as u64;
        while self.next_off < end {
            // Buffered data that starts here came first: it wins.
            self.drain(out);
            if self.next_off >= end {
                break;
            }
            let stop = self.first_pending().map_or(end, |p| p.min(end));
            if self.next_off < captured_end {
                let piece_end = stop.min(captured_end);
                let bytes =
                    &payload[(self.next_off - start) as usize..(piece_end - start) as usize];
                out(StreamEvent::Data(Piece {
                    offset: self.next_off,
                    bytes,
                    packet,
                    ts,
                }));
                self.stats.delivered += bytes.len() as u64;
                self.advance(bytes.len() as u64);
            } else {
                // Past the captured bytes of a truncated segment.
                self.gap_to(stop, out);
            }
            // Skip over the part that a buffered segment already covers.
            if let Some(p) = self.first_pending()
                && p == self.next_off
            {
                let covered = self.pending[&p].wire_len.min(end - p);
                self.stats.retransmitted += covered;
            }
        }
        self.drain(out);
    }

    /// Delivers buffered segments that now start at `next_off`.
    fn drain(&mut self, out: &mut impl FnMut(StreamEvent<'_>)) {
        while let Some(mut entry) = self.pending.first_entry() {
            let off = *entry.key();
            if off > self.next_off {
                break;
            }
            let seg = entry.get_mut();
            let seg_end = off + seg.wire_len;
            if seg_end <= self.next_off {
                // Entirely behind us (can happen after a forced gap).
                self.stats.retransmitted += seg.wire_len;
                let seg = entry.remove();
                self.pending_bytes -= seg.data.len();
                continue;
            }
            let seg = entry.remove();
            self.pending_bytes -= seg.data.len();
            let skip = self.next_off - off;
            self.stats.retransmitted += skip;
            let captured_end = off + seg.data.len() as u64;
            if self.next_off < captured_end {
                let bytes = &seg.data[skip as usize..];
                out(StreamEvent::Data(Piece {
                    offset: self.next_off,
                    bytes,
                    packet: seg.packet,
                    ts: seg.ts,
                }));
                self.stats.delivered += bytes.len() as u64;
                self.advance(bytes.len() as u64);
            }
            if seg_end > self.next_off {
                // The uncaptured tail of a snaplen-truncated segment.
                self.gap_to(seg_end, out);
            }
        }
    }

    /// Stores a segment that starts after `next_off`, keeping only the bytes
    /// no earlier buffered segment covers.
    fn buffer(
        &mut self,
        start: u64,
        payload: &[u8],
        wire_len: u64,
        packet: u64,
        ts: Timestamp,
        out: &mut impl FnMut(StreamEvent<'_>),
    ) {
        // Make room first; forcing a gap may put this segment in order.
        while self.pending_bytes + payload.len() > self.limit && !self.pending.is_empty() {
            self.stats.limit_hits += 1;
            let first = self.first_pending().expect("not empty");
            self.gap_to(first, out);
            self.drain(out);
        }
        if start <= self.next_off {
            self.in_order(start, payload, wire_len, packet, ts, out);
            return;
        }
        if payload.len() > self.limit {
            // A single segment larger than the whole buffer: give up waiting.
            self.stats.limit_hits += 1;
            self.gap_to(start, out);
            self.in_order(start, payload, wire_len, packet, ts, out);
            return;
        }
        let end = start + wire_len;
        // Pieces of [start, end) not covered by buffered segments.
        let mut pieces: Vec<(u64, u64)> = Vec::new();
        let mut cursor = start;
        let mut conflicts = 0;
        // The segment just before `start` may reach into our range.
        if let Some((&off, seg)) = self.pending.range(..start).next_back()
            && off + seg.wire_len > cursor
        {
            conflicts += differing_bytes(start, payload, off, seg);
            cursor = (off + seg.wire_len).min(end);
        }
        for (&off, seg) in self.pending.range(start..end) {
            if off > cursor {
                pieces.push((cursor, off));
            }
            conflicts += differing_bytes(start, payload, off, seg);
            cursor = cursor.max(off + seg.wire_len);
            if cursor >= end {
                break;
            }
        }
        if cursor < end {
            pieces.push((cursor, end));
        }
        self.stats.overlap_conflicts += conflicts;
        let covered = wire_len - pieces.iter().map(|(s, e)| e - s).sum::<u64>();
        self.stats.retransmitted += covered;
        let captured_end = start + payload.len() as u64;
        for (s, e) in pieces {
            // Only the captured part is stored; past `captured_end` (a
            // snaplen-cut segment) the piece is a known gap with no bytes.
            let lo = s.min(captured_end) - start;
            let hi = e.min(captured_end) - start;
            let data = payload[lo as usize..hi as usize].to_vec();
            self.pending_bytes += data.len();
            self.pending.insert(
                s,
                Pending {
                    data,
                    wire_len: e - s,
                    packet,
                    ts,
                },
            );
        }
    }
}

/// Counts the bytes a new segment shares with a buffered one whose contents
/// differ (the buffered copy is kept either way).
fn differing_bytes(start: u64, payload: &[u8], off: u64, seg: &Pending) -> u64 {
    let lo = start.max(off);
    let hi = (start + payload.len() as u64).min(off + seg.data.len() as u64);
    if hi <= lo {
        return 0;
    }
    let new = &payload[(lo - start) as usize..(hi - start) as usize];
    let old = &seg.data[(lo - off) as usize..(hi - off) as usize];
    new.iter().zip(old).filter(|(a, b)| a != b).count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Collects deliveries as a byte string with gaps shown as `_` bytes,
    /// plus the packet that carried each data piece.
    #[derive(Default, Debug)]
    struct Sink {
        bytes: Vec<u8>,
        packets: Vec<(u64, u64)>,
        gaps: Vec<(u64, u64)>,
    }

    impl Sink {
        fn take(&mut self) -> impl FnMut(StreamEvent<'_>) + '_ {
            |d| match d {
                StreamEvent::Data(p) => {
                    assert_eq!(
                        p.offset,
                        self.bytes.len() as u64,
                        "deliveries are contiguous"
                    );
                    self.bytes.extend_from_slice(p.bytes);
                    self.packets.push((p.offset, p.packet));
                }
                StreamEvent::Gap { offset, len } => {
                    assert_eq!(offset, self.bytes.len() as u64);
                    self.bytes.extend(std::iter::repeat_n(b'_', len as usize));
                    self.gaps.push((offset, len));
                }
            }
        }
    }

    const T: Timestamp = Timestamp::from_nanos(0);
    const ISN: u32 = 1000;

    fn seg(a: &mut Assembler, sink: &mut Sink, rel: u32, data: &[u8], packet: u64) {
        a.segment(
            ISN + 1 + rel,
            data,
            data.len() as u32,
            false,
            packet,
            T,
            &mut sink.take(),
        );
    }

    #[test]
    fn in_order_and_reordered() {
        let mut a = Assembler::default();
        let mut s = Sink::default();
        a.syn(ISN);
        seg(&mut a, &mut s, 0, b"HELO ", 1);
        seg(&mut a, &mut s, 10, b"\r\n", 3);
        assert_eq!(s.bytes, b"HELO ");
        assert_eq!(a.buffered(), 2);
        seg(&mut a, &mut s, 5, b"crepe", 2);
        assert_eq!(s.bytes, b"HELO crepe\r\n");
        assert_eq!(s.packets, vec![(0, 1), (5, 2), (10, 3)]);
        assert_eq!(a.buffered(), 0);
    }

    #[test]
    fn retransmission_and_overlap_keep_first_copy() {
        let mut a = Assembler::default();
        let mut s = Sink::default();
        a.syn(ISN);
        seg(&mut a, &mut s, 0, b"MAIL FROM", 1);
        seg(&mut a, &mut s, 0, b"MAIL FROM", 2); // pure retransmission
        seg(&mut a, &mut s, 5, b"XXXX:<a>", 3); // overlaps delivered bytes
        assert_eq!(s.bytes, b"MAIL FROM:<a>");
        assert_eq!(a.stats().retransmitted, 9 + 4);
        // Out-of-order data, then a conflicting overlap of it.
        seg(&mut a, &mut s, 20, b"abcd", 4);
        seg(&mut a, &mut s, 18, b"zzZZZZ", 5);
        assert_eq!(a.stats().overlap_conflicts, 4);
        seg(&mut a, &mut s, 13, b"\r\nRCP", 6);
        assert_eq!(s.bytes, b"MAIL FROM:<a>\r\nRCPzzabcd");
    }

    #[test]
    fn ack_past_a_hole_declares_the_gap() {
        let mut a = Assembler::default();
        let mut s = Sink::default();
        a.syn(ISN);
        seg(&mut a, &mut s, 0, b"one ", 1);
        seg(&mut a, &mut s, 8, b"three", 3); // "two " was lost
        assert_eq!(s.bytes, b"one ");
        a.ack(ISN + 1 + 13, &mut s.take());
        assert_eq!(s.bytes, b"one ____three");
        assert_eq!(s.gaps, vec![(4, 4)]);
        // The lost segment arriving late is now old news.
        seg(&mut a, &mut s, 4, b"two ", 2);
        assert_eq!(s.bytes, b"one ____three");
    }

    #[test]
    fn ack_seen_before_the_later_segment() {
        let mut a = Assembler::default();
        let mut s = Sink::default();
        a.syn(ISN);
        seg(&mut a, &mut s, 0, b"ab", 1);
        a.ack(ISN + 1 + 4, &mut s.take());
        seg(&mut a, &mut s, 4, b"ef", 2);
        assert_eq!(s.bytes, b"ab__ef");
    }

    #[test]
    fn flush_delivers_behind_holes() {
        let mut a = Assembler::default();
        let mut s = Sink::default();
        a.syn(ISN);
        seg(&mut a, &mut s, 3, b"def", 2);
        seg(&mut a, &mut s, 9, b"jk", 3);
        a.flush(&mut s.take());
        assert_eq!(s.bytes, b"___def___jk");
        assert_eq!(a.stats().gaps, 2);
        assert_eq!(a.stats().gap_bytes, 6);
    }

    #[test]
    fn wraparound() {
        let mut a = Assembler::default();
        let mut s = Sink::default();
        let isn = u32::MAX - 3;
        a.syn(isn);
        a.segment(
            isn.wrapping_add(1),
            b"abcdef",
            6,
            false,
            1,
            T,
            &mut s.take(),
        );
        a.segment(isn.wrapping_add(10), b"jk", 2, false, 3, T, &mut s.take());
        a.segment(isn.wrapping_add(7), b"ghi", 3, false, 2, T, &mut s.take());
        assert_eq!(s.bytes, b"abcdefghijk");
        assert!(!a.is_finished());
        a.segment(isn.wrapping_add(12), b"", 0, true, 4, T, &mut s.take());
        assert!(a.is_finished());
    }

    #[test]
    fn midstream_pickup_and_older_data() {
        let mut a = Assembler::default();
        let mut s = Sink::default();
        a.segment(5000, b"250 OK\r\n", 8, false, 7, T, &mut s.take());
        a.segment(4990, b"0123456789250 ", 14, false, 8, T, &mut s.take());
        assert_eq!(s.bytes, b"250 OK\r\n");
        assert_eq!(a.stats().before_start, 10);
        assert_eq!(a.stats().retransmitted, 4);
    }

    #[test]
    fn snaplen_truncated_segment_leaves_a_gap() {
        let mut a = Assembler::default();
        let mut s = Sink::default();
        a.syn(ISN);
        a.segment(ISN + 1, b"DATA", 10, false, 1, T, &mut s.take());
        a.segment(ISN + 11, b"!", 1, false, 2, T, &mut s.take());
        assert_eq!(s.bytes, b"DATA______!");
        assert_eq!(s.gaps, vec![(4, 6)]);
        // Truncated and out of order.
        a.segment(ISN + 15, b"xy", 4, false, 4, T, &mut s.take());
        a.segment(ISN + 12, b"abc", 3, false, 3, T, &mut s.take());
        assert_eq!(s.bytes, b"DATA______!abcxy__");
    }

    #[test]
    fn limit_forces_a_gap() {
        let mut a = Assembler::new(8);
        let mut s = Sink::default();
        a.syn(ISN);
        seg(&mut a, &mut s, 2, b"cdef", 1);
        seg(&mut a, &mut s, 6, b"ghij", 2); // 8 bytes buffered: at the limit
        assert_eq!(s.bytes, b"");
        seg(&mut a, &mut s, 12, b"mn", 3); // over: the hole at 0..2 is given up
        assert_eq!(s.bytes, b"__cdefghij");
        assert_eq!(a.stats().limit_hits, 1);
        assert_eq!(a.buffered(), 2);
    }

    #[test]
    fn truncated_segment_beyond_its_captured_bytes_is_buffered_as_a_gap() {
        // Found by tests/damaged_captures.rs: an out-of-order segment whose
        // claimed length reaches far past its captured bytes, overlapped by
        // one already buffered.
        let mut a = Assembler::default();
        let mut s = Sink::default();
        a.syn(ISN);
        a.segment(ISN + 11, b"abc", 3, false, 1, T, &mut s.take());
        a.segment(ISN + 6, b"xyz", 400, false, 2, T, &mut s.take());
        a.flush(&mut s.take());
        // 5 missing, "xyz", 2 missing, the buffered "abc" (first copy wins
        // over the uncaptured tail), then the rest of the claimed 400 bytes.
        assert_eq!(s.bytes.len(), 405);
        assert_eq!(&s.bytes[..14], b"_____xyz__abc_");
        assert_eq!(s.gaps, vec![(0, 5), (8, 2), (13, 392)]);
    }

    proptest! {
        /// Whatever order segments arrive in, and however they are split and
        /// repeated, the delivered stream is the original bytes.
        #[test]
        fn any_arrival_order_reassembles(
            data in proptest::collection::vec(any::<u8>(), 1..400),
            cuts in proptest::collection::vec(0usize..400, 0..20),
            isn: u32,
            order in proptest::collection::vec(any::<u32>(), 1..60),
            dups in proptest::collection::vec(any::<u32>(), 0..10),
        ) {
            let mut bounds: Vec<usize> = cuts.into_iter().map(|c| c % data.len()).collect();
            bounds.push(0);
            bounds.push(data.len());
            bounds.sort_unstable();
            bounds.dedup();
            let mut segs: Vec<(usize, usize)> = bounds.windows(2).map(|w| (w[0], w[1])).collect();
            for d in dups {
                let i = d as usize % segs.len();
                let copy = segs[i];
                segs.push(copy);
            }
            // Shuffle deterministically from `order`.
            for (i, o) in order.iter().enumerate() {
                let n = segs.len();
                segs.swap(i % n, *o as usize % n);
            }
            let mut a = Assembler::default();
            let mut s = Sink::default();
            a.syn(isn);
            for (k, (lo, hi)) in segs.iter().enumerate() {
                let seq = isn.wrapping_add(1).wrapping_add(*lo as u32);
                a.segment(seq, &data[*lo..*hi], (*hi - *lo) as u32, false, k as u64, T, &mut s.take());
            }
            a.flush(&mut s.take());
            prop_assert_eq!(&s.bytes, &data);
            prop_assert_eq!(a.stats().gaps, 0);
            prop_assert_eq!(a.buffered(), 0);
        }

        /// With segments missing, the output has the original length once
        /// the peer acknowledges the end, real bytes where segments arrived
        /// and gap bytes exactly where they did not.
        #[test]
        fn missing_segments_become_exact_gaps(
            data in proptest::collection::vec(b'a'..=b'z', 1..300),
            cuts in proptest::collection::vec(0usize..300, 1..15),
            keep in proptest::collection::vec(any::<bool>(), 15),
        ) {
            let mut bounds: Vec<usize> = cuts.into_iter().map(|c| c % data.len()).collect();
            bounds.push(0);
            bounds.push(data.len());
            bounds.sort_unstable();
            bounds.dedup();
            let segs: Vec<(usize, usize)> = bounds.windows(2).map(|w| (w[0], w[1])).collect();
            let mut a = Assembler::default();
            let mut s = Sink::default();
            a.syn(ISN);
            let mut expected = data.clone();
            for (k, (lo, hi)) in segs.iter().enumerate() {
                if keep[k % keep.len()] {
                    seg(&mut a, &mut s, *lo as u32, &data[*lo..*hi], k as u64);
                } else {
                    expected[*lo..*hi].fill(b'_');
                }
            }
            a.ack(ISN + 1 + data.len() as u32, &mut s.take());
            a.flush(&mut s.take());
            // Trailing missing bytes are acknowledged but nothing follows
            // them, so they are not declared (nothing is waiting on them).
            let trimmed_len = expected.iter().rposition(|&b| b != b'_').map_or(0, |p| p + 1);
            prop_assert_eq!(&s.bytes[..], &expected[..trimmed_len]);
        }
    }
}
