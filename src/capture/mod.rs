//! Capture files: reading (pcap, pcapng), link layers, IP, and writing.
//!
//! * [`reader`] streams packets out of pcap/pcapng files.
//! * [`link`] peels the link layer (Ethernet, VLAN, Linux SLL/SLL2, BSD
//!   loopback, raw IP) off a frame.
//! * [`decode`] turns a frame into a TCP segment, via [`defrag`] for IPv4/IPv6
//!   fragments.
//! * [`writer`] and [`builder`] write captures: the mail world's recordings,
//!   and the project's own fixtures in `captures/` (scripted by the test
//!   support code in `tests/support/`).
//! * [`filter`] (`--filter`, pcap-filter(7) syntax) and [`time_window`]
//!   (`--since`/`--until`) choose the frames an analysis reads
//!   ([`selection`]).
//! * `live` (cargo feature `live`) captures from a network interface.

pub mod builder;
pub mod civil_time;
pub(crate) mod decode;
pub(crate) mod defrag;
pub mod filter;
pub mod flow_hash;
pub(crate) mod frame_layers;
pub mod link;
#[cfg(feature = "live")]
pub mod live;
pub(crate) mod reader;
pub mod selection;
pub mod shard;
pub mod time_window;
pub mod writer;

pub use decode::{DecodeOutcome, Decoder, TcpFlags, TcpSegment};
pub use reader::{
    CaptureError, CaptureFormat, CaptureReader, CaptureStats, CaptureWarning, Compression,
    InputFiles, InputSource, InputSummary, MergedReader, Packet, expand_inputs,
};

/// The byte stream of an input opened by name (a file or stdin, its
/// compression removed).
pub type InputStream = Box<dyn std::io::Read>;

/// A point in time as nanoseconds since the Unix epoch (UTC).
///
/// Nanoseconds in an `i64` reach the year 2262, more than any capture needs,
/// and integer time keeps ordering and differences exact (no float drift).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const fn from_nanos(nanos: i64) -> Self {
        Timestamp(nanos)
    }

    pub const fn as_nanos(self) -> i64 {
        self.0
    }

    /// Seconds as a float, the form of `first_ts`/`start` in the JSON output.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.as_secs_f64())
    }
}
