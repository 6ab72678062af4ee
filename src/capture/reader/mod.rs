//! Streaming reader for classic pcap and pcapng files.
//!
//! A capture can be far larger than memory (10 GB is ordinary on a busy mail
//! relay), so the file is never loaded whole. We keep one buffer, parse as many
//! records as it holds with `pcap-parser`'s zero-copy record parsers, and when
//! a parser answers "incomplete" we move the unread tail to the front and read
//! more (the "need more bytes" pattern of mini-redis). Each packet handed out
//! borrows from that buffer, so payload bytes are never copied here.
//!
//! What is damaged is reported, not fatal: a truncated last record, a corrupt
//! length or an unknown pcapng block become [`CaptureWarning`]s and the packets
//! read so far stay usable. Only an input that is not a capture at all is an
//! error ([`CaptureError`]).
//!
//! The parts:
//!
//! * `stream_buffer`: the one buffer, refilled as records are consumed.
//! * `classic_pcap`: the records of a classic libpcap file.
//! * `pcapng_blocks`: the blocks of a pcapng file (interfaces, packets,
//!   names, secrets, unknown blocks).
//! * `packet`: what the reader hands out ([`Packet`], [`CaptureStats`]).
//! * `damage`: what can go wrong ([`CaptureError`], [`CaptureWarning`]).
//! * `decompress`: gzip and zstd captures, recognized by their first bytes.
//! * `inputs`: files, directories and stdin named as the capture.
//! * `merged`: several inputs read as one capture, in timestamp order.
//!
//! This file recognizes the format from the file's first bytes and hands
//! each call to the parser of that format.

mod classic_pcap;
mod damage;
mod decompress;
mod inputs;
mod merged;
mod packet;
mod pcapng_blocks;
mod stream_buffer;

use std::fs::File;
use std::io::{self, Read};
use std::net::IpAddr;
use std::path::Path;

use pcap_parser::parse_pcap_header;

pub use damage::{CaptureError, CaptureWarning, WarningKind};
pub use decompress::Compression;
pub use inputs::{InputSource, expand_inputs};
pub use merged::{InputFiles, InputSummary, MergedReader};
pub use packet::{CaptureStats, Packet};
use pcapng_blocks::Interface;
use stream_buffer::StreamBuffer;

/// The largest record or block we accept. Real snap lengths are at most
/// 256 KiB; anything above this is a corrupt length field, and trusting it
/// would make us allocate (or wait for) gigabytes.
const MAX_RECORD_LEN: usize = 16 * 1024 * 1024;

/// Which container format the file uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CaptureFormat {
    Pcap,
    Pcapng,
}

impl CaptureFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            CaptureFormat::Pcap => "pcap",
            CaptureFormat::Pcapng => "pcapng",
        }
    }
}

/// How the packets of the file are laid out, known from its first bytes.
enum Layout {
    Legacy {
        big_endian: bool,
        nanos: bool,
        linktype: u16,
    },
    Ng {
        big_endian: bool,
        interfaces: Vec<Interface>,
    },
}

/// Streaming reader over any `Read` (a file, stdin, a pipe).
pub struct CaptureReader<R> {
    input: StreamBuffer<R>,
    format: CaptureFormat,
    layout: Layout,
    stats: CaptureStats,
    warnings: Vec<CaptureWarning>,
    /// Set after a fatal-to-the-rest problem: no more packets are produced.
    stopped: bool,
    /// Receives the payload of every Decryption Secrets Block, with its
    /// secrets type, as soon as the block is read (before the packets that
    /// follow it, which the pcapng spec §4.7 says it applies to).
    on_secrets: Option<SecretsHook>,
    /// Names from Name Resolution Blocks, in file order.
    host_names: Vec<(IpAddr, String)>,
    /// Where the packet handed out by the last `next_packet` lies in the
    /// buffer, so that [`last_packet`](CaptureReader::last_packet) can hand
    /// it out again (the merged reader decides after reading a packet
    /// whether to pass it on, and the borrow checker does not let it keep
    /// the first borrow across that decision).
    last: Option<HandedOut>,
}

/// A packet handed out, as offsets into the bytes just consumed.
#[derive(Clone, Copy, Debug)]
struct HandedOut {
    index: u64,
    ts: crate::capture::Timestamp,
    linktype: u16,
    interface: u32,
    /// Length of the record or block the packet came in.
    consumed: usize,
    data_off: usize,
    caplen: usize,
    orig_len: u32,
}

/// See [`CaptureReader::on_secrets`].
pub type SecretsHook = Box<dyn FnMut(u32, &[u8])>;

impl CaptureReader<File> {
    /// Opens a capture file by path.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, CaptureError> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|source| CaptureError::Open {
            path: path.display().to_string(),
            source,
        })?;
        if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
            return Err(CaptureError::Open {
                path: path.display().to_string(),
                source: io::Error::other("it is a directory"),
            });
        }
        CaptureReader::new(file)
    }
}

impl<R: Read> CaptureReader<R> {
    /// Reads the file header and prepares to hand out packets.
    pub fn new(src: R) -> Result<Self, CaptureError> {
        let mut reader = CaptureReader {
            input: StreamBuffer::new(src),
            format: CaptureFormat::Pcap,
            layout: Layout::Legacy {
                big_endian: false,
                nanos: false,
                linktype: 1,
            },
            stats: CaptureStats::default(),
            warnings: Vec::new(),
            stopped: false,
            on_secrets: None,
            host_names: Vec::new(),
            last: None,
        };
        reader.read_header()?;
        Ok(reader)
    }

    /// Recognizes the format by the magic number in the first 4 bytes and
    /// reads the classic pcap file header (the pcapng Section Header Block
    /// is read later, like any other block).
    fn read_header(&mut self) -> Result<(), CaptureError> {
        let have = self.input.fill(24)?;
        if have == 0 {
            return Err(CaptureError::Empty);
        }
        if have < 4 {
            return Err(CaptureError::TruncatedHeader(have));
        }
        let head = self.input.unread();
        let magic = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
        match magic {
            0xa1b2_c3d4 | 0xd4c3_b2a1 | 0xa1b2_3c4d | 0x4d3c_b2a1 => {
                if have < 24 {
                    return Err(CaptureError::TruncatedHeader(have));
                }
                let (_, header) = parse_pcap_header(head)
                    .map_err(|_| CaptureError::NotACapture("bad pcap header".into()))?;
                self.format = CaptureFormat::Pcap;
                let linktype = (header.network.0 & 0xffff) as u16;
                self.layout = Layout::Legacy {
                    big_endian: header.is_bigendian(),
                    nanos: header.is_nanosecond_precision(),
                    linktype,
                };
                self.stats.linktypes.push(linktype);
                self.consume(24);
                Ok(())
            }
            0x0a0d_0d0a => {
                self.format = CaptureFormat::Pcapng;
                self.layout = Layout::Ng {
                    big_endian: false,
                    interfaces: Vec::new(),
                };
                // The SHB is parsed like any other block by next_packet; here
                // we only check that it is a sane one.
                let have = self.input.fill(12)?;
                if have < 12 {
                    return Err(CaptureError::TruncatedHeader(have));
                }
                let bom = &self.input.unread()[8..12];
                if bom != [0x4d, 0x3c, 0x2b, 0x1a] && bom != [0x1a, 0x2b, 0x3c, 0x4d] {
                    return Err(CaptureError::NotACapture(
                        "pcapng section header with a bad byte-order magic".into(),
                    ));
                }
                Ok(())
            }
            0xa1b2_cd34 | 0x34cd_b2a1 => Err(CaptureError::NotACapture(
                "Kuznetzov's modified pcap format is not supported; convert it with editcap".into(),
            )),
            _ => Err(CaptureError::NotACapture(describe_non_capture(head))),
        }
    }

    fn warn(&mut self, kind: WarningKind) {
        self.warnings.push(CaptureWarning {
            file: None,
            offset: self.input.offset(),
            kind,
        });
    }

    fn stop(&mut self, kind: WarningKind) {
        self.warn(kind);
        self.stopped = true;
    }

    /// Whether the next `len` bytes (a record, or its header) are all
    /// there to read. If not, the capture ends here: quietly where no byte
    /// is left, with a warning where the file stops inside the record.
    fn whole_record(&mut self, len: usize) -> Result<bool, CaptureError> {
        let have = self.input.fill(len)?;
        if have > 0 && have < len {
            self.stop(WarningKind::TruncatedRecord { have: have as u64 });
        }
        Ok(have >= len)
    }

    /// The next packet, or `None` at the end of the capture (or after
    /// damage that stops reading; see [`warnings`](Self::warnings)).
    pub fn next_packet(&mut self) -> Result<Option<Packet<'_>>, CaptureError> {
        // Reading may refill the buffer and move the last packet's bytes.
        self.last = None;
        if self.stopped {
            return Ok(None);
        }
        match self.layout {
            Layout::Legacy { .. } => self.next_legacy(),
            Layout::Ng { .. } => self.next_ng(),
        }
    }

    /// Consumes `n` bytes of input, keeping the progress count up to date.
    fn consume(&mut self, n: usize) {
        self.input.consume(n);
        self.stats.file_offset = self.input.offset();
    }
}

impl<R> CaptureReader<R> {
    /// Remembers the packet just consumed and hands it out.
    fn hand_out(&mut self, packet: HandedOut) -> Option<Packet<'_>> {
        self.last = Some(packet);
        self.last_packet()
    }

    /// The packet the last [`next_packet`](CaptureReader::next_packet)
    /// returned, again (None if it returned none). Its bytes stay in the
    /// buffer until the next call of `next_packet`.
    pub fn last_packet(&self) -> Option<Packet<'_>> {
        let h = self.last?;
        let record = self.input.just_consumed(h.consumed);
        Some(Packet {
            index: h.index,
            ts: h.ts,
            linktype: h.linktype,
            interface: h.interface,
            data: &record[h.data_off..h.data_off + h.caplen],
            orig_len: h.orig_len,
        })
    }

    /// Calls `hook(secrets_type, payload)` for every Decryption Secrets
    /// Block read from now on.
    pub fn on_secrets(&mut self, hook: SecretsHook) {
        self.on_secrets = Some(hook);
    }

    /// Host names read so far from the capture's Name Resolution Blocks
    /// (pcapng), address → name, in file order.
    pub fn host_names(&self) -> &[(IpAddr, String)] {
        &self.host_names
    }

    pub fn format(&self) -> CaptureFormat {
        self.format
    }

    /// Counts so far (complete once `next_packet` returned `None`).
    pub fn stats(&self) -> &CaptureStats {
        &self.stats
    }

    /// Damage found so far.
    pub fn warnings(&self) -> &[CaptureWarning] {
        &self.warnings
    }
}

/// A helpful description of a file that is not a capture: users often pass
/// a text export, an .eml or a JSON file by mistake.
fn describe_non_capture(head: &[u8]) -> String {
    let printable = head
        .iter()
        .filter(|&&b| b == b'\n' || b == b'\r' || b == b'\t' || (0x20..0x7f).contains(&b))
        .count();
    if printable == head.len() {
        "it looks like a text file".to_string()
    } else {
        let hex: Vec<String> = head.iter().take(4).map(|b| format!("{b:02x}")).collect();
        format!("unknown magic number {}", hex.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_text_and_empty_input() {
        assert!(matches!(
            CaptureReader::new(&b""[..]),
            Err(CaptureError::Empty)
        ));
        let err = CaptureReader::new(&b"From: alice@crepes.fr\r\nTo: bob\r\n"[..])
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            "not a pcap or pcapng capture (it looks like a text file)"
        );
        assert!(matches!(
            CaptureReader::new(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0][..]),
            Err(CaptureError::TruncatedHeader(6))
        ));
    }
}
