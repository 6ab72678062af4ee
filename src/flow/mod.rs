//! TCP flows: which packets belong together, who is the client, and the
//! reassembled byte stream of each direction.
//!
//! * [`seq`]: wrap-safe sequence numbers.
//! * [`assembler`]: one direction's segments → ordered bytes and gaps.
//! * [`table`]: the flow table, connection states and the hand-over of
//!   finished flows.

pub(crate) mod assembler;
pub(crate) mod collect;
pub(crate) mod seq;
pub(crate) mod table;

pub use assembler::{Assembler, AssemblerStats};
pub use collect::CollectedStreams;
pub use seq::SeqNumber;
pub use table::{FinishedFlow, FlowConfig, FlowState, FlowSummary, FlowTable, PortSet};

use crate::capture::Timestamp;

/// Which way bytes travel, seen from the connection's client (the side that
/// sent the SYN, or our best guess when the handshake was not captured).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Direction {
    #[serde(rename = "c2s")]
    ClientToServer,
    #[serde(rename = "s2c")]
    ServerToClient,
}

impl Direction {
    pub fn index(self) -> usize {
        match self {
            Direction::ClientToServer => 0,
            Direction::ServerToClient => 1,
        }
    }

    pub fn reverse(self) -> Direction {
        match self {
            Direction::ClientToServer => Direction::ServerToClient,
            Direction::ServerToClient => Direction::ClientToServer,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Direction::ClientToServer => "c2s",
            Direction::ServerToClient => "s2c",
        }
    }
}

/// A piece of reassembled stream handed to a [`StreamHandler`].
#[derive(Clone, Copy, Debug)]
pub enum StreamEvent<'a> {
    /// In-order bytes.
    Data(Piece<'a>),
    /// Bytes known to be missing from the capture.
    Gap { offset: u64, len: u64 },
}

/// In-order bytes at stream `offset`, carried by capture packet `packet`
/// (one struct, so a handler can take it or pass it on whole).
#[derive(Clone, Copy, Debug)]
pub struct Piece<'a> {
    pub offset: u64,
    pub bytes: &'a [u8],
    pub packet: u64,
    pub ts: Timestamp,
}

/// Receives one flow's reassembled streams. The analyzer's protocol layers
/// implement it; so do the protocol sniffer and the stream printer.
///
/// Handlers see each direction in order, but the two directions interleave
/// as the packets did.
pub trait StreamHandler {
    fn on_event(&mut self, dir: Direction, event: StreamEvent<'_>);
}

/// A handler that does nothing (to count flows only).
impl StreamHandler for () {
    fn on_event(&mut self, _: Direction, _: StreamEvent<'_>) {}
}

/// Two handlers fed the same events (e.g. the sniffer plus a printer).
impl<A: StreamHandler, B: StreamHandler> StreamHandler for (A, B) {
    fn on_event(&mut self, dir: Direction, event: StreamEvent<'_>) {
        self.0.on_event(dir, event);
        self.1.on_event(dir, event);
    }
}

impl<H: StreamHandler> StreamHandler for Option<H> {
    fn on_event(&mut self, dir: Direction, event: StreamEvent<'_>) {
        if let Some(h) = self {
            h.on_event(dir, event);
        }
    }
}
