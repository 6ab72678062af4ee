//! Which frames of a capture an analysis reads: those that pass the
//! `--filter` and fall between `--since` and `--until`. The others are
//! counted and skipped before decoding, as if they had not been captured
//! (tcpdump -r F 'filter' and editcap -A/-B would leave them out of the
//! file the same way).

use std::sync::Arc;

use super::Packet;
use super::filter::PacketFilter;
use super::time_window::TimeWindow;

#[derive(Clone, Debug, Default)]
pub struct PacketSelection {
    pub filter: Option<Arc<PacketFilter>>,
    pub window: TimeWindow,
}

impl PacketSelection {
    /// True when every frame is read.
    pub fn is_everything(&self) -> bool {
        self.filter.is_none() && self.window.is_open()
    }

    pub fn admits(&self, packet: &Packet<'_>) -> bool {
        self.window.contains(packet.ts) && self.filter.as_ref().is_none_or(|f| f.matches(packet))
    }
}
