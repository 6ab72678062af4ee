//! A [`StreamHandler`] that keeps a flow's reassembled bytes in memory.
//!
//! Handy for scripts, tests and small captures; the analyzer itself streams
//! instead. Gaps are recorded (offset and length) but take no space in the
//! collected bytes, so `data` is exactly what was captured, in order.

use super::{Direction, StreamEvent, StreamHandler};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CollectedStreams {
    /// Captured bytes of each direction, indexed by [`Direction::index`].
    pub data: [Vec<u8>; 2],
    /// `(stream offset, length)` of every gap, per direction.
    pub gaps: [Vec<(u64, u64)>; 2],
    /// `(stream offset, capture packet index)` where each delivered piece
    /// starts: which packet carried which bytes.
    pub pieces: [Vec<(u64, u64)>; 2],
}

impl CollectedStreams {
    pub fn bytes(&self, dir: Direction) -> &[u8] {
        &self.data[dir.index()]
    }

    /// The packets that carried the stream bytes `[from, to)` of `dir`.
    pub fn packets_for(&self, dir: Direction, from: u64, to: u64) -> Vec<u64> {
        let pieces = &self.pieces[dir.index()];
        let mut out = Vec::new();
        for (i, &(start, packet)) in pieces.iter().enumerate() {
            let end = pieces.get(i + 1).map_or(u64::MAX, |p| p.0);
            if start < to && end > from && out.last() != Some(&packet) {
                out.push(packet);
            }
        }
        out
    }
}

impl StreamHandler for CollectedStreams {
    fn on_event(&mut self, dir: Direction, event: StreamEvent<'_>) {
        let d = dir.index();
        match event {
            StreamEvent::Data(p) => {
                self.pieces[d].push((p.offset, p.packet));
                self.data[d].extend_from_slice(p.bytes);
            }
            StreamEvent::Gap { offset, len } => self.gaps[d].push((offset, len)),
        }
    }
}
