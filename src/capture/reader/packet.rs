//! What the reader hands out: packets borrowed from its buffer, and the
//! running counts of the file.

use crate::capture::Timestamp;

/// One captured frame, borrowed from the reader's buffer.
#[derive(Clone, Copy, Debug)]
pub struct Packet<'a> {
    /// 0-based position among the packets of the file (Wireshark's frame
    /// number minus one); with several inputs merged, the position in the
    /// merged stream (`mergecap`'s frame number minus one). Every
    /// reassembled byte refers back to this.
    pub index: u64,
    pub ts: Timestamp,
    /// LINKTYPE_* value of the interface the packet was captured on.
    pub linktype: u16,
    /// The interface's id within the packet's own file (pcapng ids are per
    /// section, so merged files repeat them).
    pub interface: u32,
    /// The captured bytes (may be shorter than `orig_len` with a snaplen).
    pub data: &'a [u8],
    pub orig_len: u32,
}

impl Packet<'_> {
    /// True when the capture kept fewer bytes than were on the wire.
    pub fn is_truncated(&self) -> bool {
        (self.data.len() as u64) < self.orig_len as u64
    }
}

/// Summary of a capture file, filled in while reading.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct CaptureStats {
    pub packets: u64,
    /// Captured bytes of all packets (what Wireshark calls "data size").
    pub bytes: u64,
    /// Packets whose captured length is below their original length.
    pub truncated_packets: u64,
    pub first_ts: Option<Timestamp>,
    pub last_ts: Option<Timestamp>,
    /// Distinct link types seen, in order of appearance.
    pub linktypes: Vec<u16>,
    /// Bytes of the file consumed so far (for progress bars; not part of
    /// any record).
    #[serde(skip)]
    pub file_offset: u64,
}

impl CaptureStats {
    /// Counts one packet handed out: `caplen` bytes captured of `orig_len`
    /// on the wire, at `ts`, on an interface of link type `linktype`.
    pub(super) fn count_packet(
        &mut self,
        ts: Timestamp,
        caplen: usize,
        orig_len: u32,
        linktype: u16,
    ) {
        self.packets += 1;
        self.bytes += caplen as u64;
        if (caplen as u64) < orig_len as u64 {
            self.truncated_packets += 1;
        }
        if self.first_ts.is_none() {
            self.first_ts = Some(ts);
        }
        self.last_ts = Some(ts);
        if !self.linktypes.contains(&linktype) {
            self.linktypes.push(linktype);
        }
    }
}
