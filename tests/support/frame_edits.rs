//! Editing a list of frames the way a network (or a capture point) mangles
//! traffic: reordering, retransmission, loss, an extra packet, a duplicate
//! ACK; and merging several conversations captured on one link.
//!
//! Timestamps always stay in ascending order, as in a real capture file: we
//! move packet *contents*, never time.

use mailscope::capture::builder::{Frame, HALF_RTT_NANOS};

use super::toolkit::seg;

/// Reordering: frames `i` and `j` exchange their contents but keep their
/// timestamps, so the capture still runs forward in time.
///
/// # Panics
/// If an index is out of range.
pub fn swap(frames: &mut [Frame], i: usize, j: usize) {
    let data_i = std::mem::take(&mut frames[i].data);
    frames[i].data = std::mem::replace(&mut frames[j].data, data_i);
}

/// Insert `data` so that it becomes frame number `at`, with a timestamp
/// halfway between its new neighbours.
///
/// # Panics
/// If `at > frames.len()`.
pub fn insert_frame(frames: &mut Vec<Frame>, at: usize, data: Vec<u8>) {
    let prev = if at > 0 {
        Some(frames[at - 1].ts_nanos)
    } else {
        None
    };
    let next = frames.get(at).map(|f| f.ts_nanos);
    let ts_nanos = match (prev, next) {
        (Some(p), Some(n)) => p + (n.saturating_sub(p)) / 2,
        (Some(p), None) => p + HALF_RTT_NANOS,
        (None, Some(n)) => n.saturating_sub(HALF_RTT_NANOS),
        (None, None) => 0,
    };
    frames.insert(at, Frame { ts_nanos, data });
}

/// Retransmission: a copy of frame `i` is inserted right after frame
/// `after` (which must not come before `i`), with its own timestamp.
///
/// # Panics
/// If `after < i` or an index is out of range.
pub fn duplicate(frames: &mut Vec<Frame>, i: usize, after: usize) {
    assert!(after >= i, "a retransmission comes after the original");
    let copy = frames[i].data.clone();
    insert_frame(frames, after + 1, copy);
}

/// Loss: frame `i` never reached the capture point.
///
/// # Panics
/// If `i` is out of range.
pub fn drop_frame(frames: &mut Vec<Frame>, i: usize) {
    frames.remove(i);
}

/// Several conversations captured on one link: merge their frames by
/// timestamp. The sort is stable, so frames with equal timestamps keep the
/// order of `convs` (and their order within a conversation).
pub fn interleave(convs: Vec<Vec<Frame>>) -> Vec<Frame> {
    let mut all: Vec<Frame> = convs.into_iter().flatten().collect();
    all.sort_by_key(|f| f.ts_nanos);
    all
}

/// Make a pure ACK acknowledge `ack` instead (checksums recomputed). A
/// receiver that gets a segment beyond a hole repeats its last ACK: a
/// "duplicate ACK" (RFC 9293 section 3.10.7.4, RFC 5681 section 2).
pub fn set_ack(frame: &mut Frame, ack: u32) {
    let mut s = seg(frame);
    s.ack = ack;
    frame.data = s.to_frame();
}
