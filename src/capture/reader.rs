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

use std::fs::File;
use std::io::{self, Read};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use pcap_parser::pcapng::{Block, parse_block_be, parse_block_le, parse_sectionheaderblock};
use pcap_parser::{PcapError, parse_pcap_frame, parse_pcap_frame_be, parse_pcap_header};

use super::Timestamp;

/// The largest record or block we accept. Real snap lengths are at most
/// 256 KiB; anything above this is a corrupt length field, and trusting it
/// would make us allocate (or wait for) gigabytes.
pub const MAX_RECORD_LEN: usize = 16 * 1024 * 1024;

const INITIAL_BUFFER: usize = 1 << 20;

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

/// Why a file could not be read as a capture at all.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("cannot read {path}: {source}")]
    Open { path: String, source: io::Error },
    #[error("read error: {0}")]
    Io(#[from] io::Error),
    #[error("the file is empty: not a pcap or pcapng capture")]
    Empty,
    #[error("not a pcap or pcapng capture ({0})")]
    NotACapture(String),
    #[error("the capture header is cut short ({0} bytes): the file is truncated")]
    TruncatedHeader(usize),
}

/// Something wrong inside a capture that we could read past (or stop at)
/// without losing what came before.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CaptureWarning {
    /// Byte offset in the file where the problem starts.
    pub offset: u64,
    pub kind: WarningKind,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum WarningKind {
    /// The file ends in the middle of a record: the last packet is lost.
    TruncatedRecord { have: u64 },
    /// A length field is impossible; reading stops here.
    CorruptRecord { detail: String },
    /// A pcapng block type we do not know; skipped (the spec says readers must).
    UnknownBlock { block_type: u32 },
    /// A packet names an interface that no IDB described; skipped.
    UnknownInterface { interface: u32 },
}

impl std::fmt::Display for CaptureWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            WarningKind::TruncatedRecord { have } => write!(
                f,
                "capture truncated at byte {}: the last record is incomplete ({have} bytes present) and was dropped",
                self.offset
            ),
            WarningKind::CorruptRecord { detail } => write!(
                f,
                "corrupt record at byte {}: {detail}; the rest of the file was not read",
                self.offset
            ),
            WarningKind::UnknownBlock { block_type } => write!(
                f,
                "unknown pcapng block type 0x{block_type:08x} at byte {} skipped",
                self.offset
            ),
            WarningKind::UnknownInterface { interface } => write!(
                f,
                "packet at byte {} refers to undeclared interface {interface}; skipped",
                self.offset
            ),
        }
    }
}

/// One captured frame, borrowed from the reader's buffer.
#[derive(Clone, Copy, Debug)]
pub struct Packet<'a> {
    /// 0-based position among the packets of the file (Wireshark's frame
    /// number minus one). Every reassembled byte refers back to this.
    pub index: u64,
    pub ts: Timestamp,
    /// LINKTYPE_* value of the interface the packet was captured on.
    pub linktype: u16,
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

/// A pcapng interface (IDB): link type and how to turn timestamps into time.
#[derive(Clone, Debug)]
struct Interface {
    linktype: u16,
    snaplen: u32,
    resolution: TsResolution,
    offset_secs: i64,
}

/// pcapng `if_tsresol`: units are 10^-n or 2^-n seconds (pcapng spec §4.2).
#[derive(Clone, Copy, Debug)]
enum TsResolution {
    Decimal(u8),
    Binary(u8),
}

impl TsResolution {
    fn from_option(v: u8) -> TsResolution {
        if v & 0x80 == 0 {
            TsResolution::Decimal(v)
        } else {
            TsResolution::Binary(v & 0x7f)
        }
    }

    /// Converts a count of units to nanoseconds, saturating on absurd values.
    fn to_nanos(self, units: u64) -> i64 {
        let nanos: u128 = match self {
            TsResolution::Decimal(n) if n <= 9 => units as u128 * 10u128.pow(9 - n as u32),
            TsResolution::Decimal(n) => units as u128 / 10u128.pow((n as u32 - 9).min(38)),
            TsResolution::Binary(n) => (units as u128 * 1_000_000_000) >> n.min(127),
        };
        nanos.min(i64::MAX as u128) as i64
    }
}

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
    /// Bytes of the file consumed so far (for progress bars).
    pub file_offset: u64,
}

/// Streaming reader over any `Read` (a file, stdin, a pipe).
pub struct CaptureReader<R> {
    src: R,
    buf: Vec<u8>,
    /// Unparsed bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    eof: bool,
    /// File offset of `buf[start]`.
    offset: u64,
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
            src,
            buf: vec![0; INITIAL_BUFFER],
            start: 0,
            end: 0,
            eof: false,
            offset: 0,
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
        };
        reader.read_header()?;
        Ok(reader)
    }

    /// Fills the buffer so that at least `want` unread bytes are present, if
    /// the input has them. Returns the number of unread bytes available.
    fn fill(&mut self, want: usize) -> io::Result<usize> {
        if self.end - self.start >= want || self.eof {
            return Ok(self.end - self.start);
        }
        // Move the unread tail to the front, then grow if needed.
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() < want {
            self.buf.resize(want.next_power_of_two(), 0);
        }
        while self.end < want && !self.eof {
            match self.src.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(self.end - self.start)
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        self.offset += n as u64;
        self.stats.file_offset = self.offset;
    }

    fn read_header(&mut self) -> Result<(), CaptureError> {
        let have = self.fill(24)?;
        if have == 0 {
            return Err(CaptureError::Empty);
        }
        if have < 4 {
            return Err(CaptureError::TruncatedHeader(have));
        }
        let head = &self.buf[self.start..self.end];
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
                let have = self.fill(12)?;
                if have < 12 {
                    return Err(CaptureError::TruncatedHeader(have));
                }
                let bom = &self.buf[self.start + 8..self.start + 12];
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
            offset: self.offset,
            kind,
        });
    }

    fn stop(&mut self, kind: WarningKind) {
        self.warn(kind);
        self.stopped = true;
    }

    /// The next packet, or `None` at the end of the capture (or after
    /// damage that stops reading; see [`warnings`](Self::warnings)).
    pub fn next_packet(&mut self) -> Result<Option<Packet<'_>>, CaptureError> {
        if self.stopped {
            return Ok(None);
        }
        match self.layout {
            Layout::Legacy { .. } => self.next_legacy(),
            Layout::Ng { .. } => self.next_ng(),
        }
    }

    fn next_legacy(&mut self) -> Result<Option<Packet<'_>>, CaptureError> {
        let Layout::Legacy {
            big_endian,
            nanos,
            linktype,
        } = self.layout
        else {
            unreachable!("next_legacy is only called for pcap layouts")
        };
        let have = self.fill(16)?;
        if have == 0 {
            return Ok(None);
        }
        if have < 16 {
            self.stop(WarningKind::TruncatedRecord { have: have as u64 });
            return Ok(None);
        }
        let h = &self.buf[self.start..self.start + 16];
        let caplen = if big_endian {
            u32::from_be_bytes([h[8], h[9], h[10], h[11]])
        } else {
            u32::from_le_bytes([h[8], h[9], h[10], h[11]])
        } as usize;
        if caplen > MAX_RECORD_LEN {
            self.stop(WarningKind::CorruptRecord {
                detail: format!("captured length {caplen} is impossible"),
            });
            return Ok(None);
        }
        let have = self.fill(16 + caplen)?;
        if have < 16 + caplen {
            self.stop(WarningKind::TruncatedRecord { have: have as u64 });
            return Ok(None);
        }
        let input = &self.buf[self.start..self.start + 16 + caplen];
        let parsed = if big_endian {
            parse_pcap_frame_be(input)
        } else {
            parse_pcap_frame(input)
        };
        let Ok((_, frame)) = parsed else {
            self.stop(WarningKind::CorruptRecord {
                detail: "unparsable pcap record".into(),
            });
            return Ok(None);
        };
        let frac = frame.ts_usec as i64;
        let ts = Timestamp::from_nanos(
            frame.ts_sec as i64 * 1_000_000_000 + if nanos { frac } else { frac * 1000 },
        );
        let orig_len = frame.origlen;
        let index = self.stats.packets;
        self.note_packet(ts, caplen, orig_len, linktype);
        let data_start = self.start + 16;
        self.consume(16 + caplen);
        Ok(Some(Packet {
            index,
            ts,
            linktype,
            interface: 0,
            data: &self.buf[data_start..data_start + caplen],
            orig_len,
        }))
    }

    fn note_packet(&mut self, ts: Timestamp, caplen: usize, orig_len: u32, linktype: u16) {
        let s = &mut self.stats;
        s.packets += 1;
        s.bytes += caplen as u64;
        if (caplen as u64) < orig_len as u64 {
            s.truncated_packets += 1;
        }
        if s.first_ts.is_none() {
            s.first_ts = Some(ts);
        }
        s.last_ts = Some(ts);
        if !s.linktypes.contains(&linktype) {
            s.linktypes.push(linktype);
        }
    }

    fn next_ng(&mut self) -> Result<Option<Packet<'_>>, CaptureError> {
        loop {
            let have = self.fill(12)?;
            if have == 0 {
                return Ok(None);
            }
            if have < 12 {
                self.stop(WarningKind::TruncatedRecord { have: have as u64 });
                return Ok(None);
            }
            let b = &self.buf[self.start..self.start + 12];
            let block_type = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            // A Section Header Block sets the byte order of everything that
            // follows it, up to the next SHB (pcapng spec §4.1).
            let big_endian = if block_type == 0x0a0d_0d0a {
                b[8..12] == [0x1a, 0x2b, 0x3c, 0x4d]
            } else {
                match self.layout {
                    Layout::Ng { big_endian, .. } => big_endian,
                    _ => false,
                }
            };
            let raw_len = [b[4], b[5], b[6], b[7]];
            let block_len = if big_endian {
                u32::from_be_bytes(raw_len)
            } else {
                u32::from_le_bytes(raw_len)
            } as usize;
            if block_len < 12 || !block_len.is_multiple_of(4) || block_len > MAX_RECORD_LEN {
                self.stop(WarningKind::CorruptRecord {
                    detail: format!("pcapng block length {block_len} is impossible"),
                });
                return Ok(None);
            }
            let have = self.fill(block_len)?;
            if have < block_len {
                self.stop(WarningKind::TruncatedRecord { have: have as u64 });
                return Ok(None);
            }
            let action = self.parse_ng_block(block_type, block_len, big_endian);
            let mut out: Option<(u32, u64, usize, usize, u32)> = None;
            match action {
                NgAction::Section => {
                    self.layout = Layout::Ng {
                        big_endian,
                        interfaces: Vec::new(),
                    };
                }
                NgAction::Interface(iface) => {
                    if let Layout::Ng { interfaces, .. } = &mut self.layout {
                        interfaces.push(iface);
                    }
                }
                NgAction::Packet {
                    interface,
                    units,
                    data_off,
                    caplen,
                    orig_len,
                } => out = Some((interface, units, data_off, caplen, orig_len)),
                NgAction::Unknown(block_type) => {
                    self.warn(WarningKind::UnknownBlock { block_type })
                }
                NgAction::Damaged(detail) => self.warn(WarningKind::CorruptRecord {
                    detail: format!("{detail} (block type 0x{block_type:08x} skipped)"),
                }),
                NgAction::Secrets {
                    secrets_type,
                    data_off,
                    len,
                } => {
                    if let Some(hook) = &mut self.on_secrets {
                        let at = self.start + data_off;
                        hook(secrets_type, &self.buf[at..at + len]);
                    }
                }
                NgAction::Names(names) => {
                    for (addr, name) in names {
                        if self.host_names.len() >= MAX_HOST_NAMES {
                            break;
                        }
                        self.host_names.push((addr, name));
                    }
                }
                NgAction::Nothing => {}
            }
            let block_start = self.start;
            self.consume(block_len);
            let Some((iface_id, units, data_off, caplen, orig_len)) = out else {
                continue;
            };
            let iface = match &self.layout {
                Layout::Ng { interfaces, .. } => interfaces.get(iface_id as usize).cloned(),
                _ => None,
            };
            let Some(iface) = iface else {
                self.warnings.push(CaptureWarning {
                    offset: self.offset - block_len as u64,
                    kind: WarningKind::UnknownInterface {
                        interface: iface_id,
                    },
                });
                continue;
            };
            let ts = if units == u64::MAX {
                // SPB: no time of its own; reuse the last one we saw.
                self.stats.last_ts.unwrap_or_default()
            } else {
                Timestamp::from_nanos(
                    iface
                        .resolution
                        .to_nanos(units)
                        .saturating_add(iface.offset_secs.saturating_mul(1_000_000_000)),
                )
            };
            let index = self.stats.packets;
            self.note_packet(ts, caplen, orig_len, iface.linktype);
            let data_start = block_start + data_off;
            return Ok(Some(Packet {
                index,
                ts,
                linktype: iface.linktype,
                interface: iface_id,
                data: &self.buf[data_start..data_start + caplen],
                orig_len,
            }));
        }
    }
}

impl<R> CaptureReader<R> {
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

    /// Parses the pcapng block at the front of the buffer (its length is
    /// already checked and present) into what the reader must do with it.
    /// Only offsets are returned, so the buffer is free again afterwards.
    fn parse_ng_block(&self, block_type: u32, block_len: usize, big_endian: bool) -> NgAction {
        let input = &self.buf[self.start..self.start + block_len];
        if block_type == OPB_TYPE || block_type == OPB_TYPE.swap_bytes() {
            return obsolete_packet_block(input, big_endian);
        }
        let parsed = if block_type == 0x0a0d_0d0a {
            parse_sectionheaderblock(input).map(|(r, shb)| (r, Block::SectionHeader(shb)))
        } else if big_endian {
            parse_block_be(input)
        } else {
            parse_block_le(input)
        };
        let block = match parsed {
            Ok((_, block)) => block,
            // The length is sane, so the damaged block can be skipped and
            // reading goes on with the next one.
            Err(pcap_parser::nom::Err::Incomplete(_)) => {
                return NgAction::Damaged("block shorter than its contents".into());
            }
            Err(pcap_parser::nom::Err::Error(e) | pcap_parser::nom::Err::Failure(e)) => {
                return NgAction::Damaged(describe_pcap_error(&e));
            }
        };
        let offset_of = |data: &[u8]| data.as_ptr() as usize - input.as_ptr() as usize;
        match block {
            Block::SectionHeader(_) => NgAction::Section,
            Block::InterfaceDescription(idb) => NgAction::Interface(Interface {
                linktype: (idb.linktype.0 & 0xffff) as u16,
                snaplen: idb.snaplen,
                resolution: TsResolution::from_option(idb.if_tsresol),
                offset_secs: idb.if_tsoffset,
            }),
            Block::EnhancedPacket(epb) => NgAction::Packet {
                interface: epb.if_id,
                units: ((epb.ts_high as u64) << 32) | epb.ts_low as u64,
                data_off: offset_of(epb.data),
                caplen: (epb.caplen as usize).min(epb.data.len()),
                orig_len: epb.origlen,
            },
            Block::SimplePacket(spb) => {
                // An SPB has no timestamp and belongs to interface 0; its
                // captured length is min(original length, snaplen) (§4.4).
                let snaplen = match &self.layout {
                    Layout::Ng { interfaces, .. } => interfaces.first().map(|i| i.snaplen),
                    _ => None,
                };
                let mut caplen = (spb.origlen as usize).min(spb.data.len());
                if let Some(s) = snaplen.filter(|&s| s > 0) {
                    caplen = caplen.min(s as usize);
                }
                NgAction::Packet {
                    interface: 0,
                    units: u64::MAX,
                    data_off: offset_of(spb.data),
                    caplen,
                    orig_len: spb.origlen,
                }
            }
            Block::Unknown(u) => NgAction::Unknown(u.block_type),
            Block::DecryptionSecrets(dsb) => NgAction::Secrets {
                secrets_type: dsb.secrets_type.0,
                data_off: offset_of(dsb.data),
                len: (dsb.secrets_len as usize).min(dsb.data.len()),
            },
            Block::NameResolution(nrb) => NgAction::Names(name_records(&nrb)),
            // Statistics, journal, custom and process blocks carry no
            // packets.
            _ => NgAction::Nothing,
        }
    }
}

/// The obsolete Packet Block (type 2), written by old tools: like an EPB
/// but with a 16-bit interface id and a drop counter (pcapng spec,
/// appendix "Packet Block (obsolete!)"). pcap-parser does not decode it.
const OPB_TYPE: u32 = 2;

fn obsolete_packet_block(input: &[u8], big_endian: bool) -> NgAction {
    const HEADER: usize = 8 + 20;
    if input.len() < HEADER + 4 {
        return NgAction::Damaged("obsolete packet block too short".into());
    }
    let u16_at = |i: usize| {
        let b = [input[i], input[i + 1]];
        if big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        }
    };
    let u32_at = |i: usize| {
        let b = [input[i], input[i + 1], input[i + 2], input[i + 3]];
        if big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    };
    let caplen = u32_at(20) as usize;
    let room = input.len() - HEADER - 4;
    if caplen > room {
        return NgAction::Damaged(format!(
            "obsolete packet block claims {caplen} captured bytes in a {room}-byte body"
        ));
    }
    NgAction::Packet {
        interface: u16_at(8) as u32,
        units: ((u32_at(12) as u64) << 32) | u32_at(16) as u64,
        data_off: HEADER,
        caplen,
        orig_len: u32_at(24),
    }
}

/// What one pcapng block asks of the reader.
enum NgAction {
    Section,
    Interface(Interface),
    Packet {
        interface: u32,
        /// Timestamp in interface units; `u64::MAX` for an SPB (no time).
        units: u64,
        data_off: usize,
        caplen: usize,
        orig_len: u32,
    },
    Unknown(u32),
    Damaged(String),
    /// A Decryption Secrets Block: its payload's place in the block.
    Secrets {
        secrets_type: u32,
        data_off: usize,
        len: usize,
    },
    /// Name Resolution Block records (address → host name).
    Names(Vec<(IpAddr, String)>),
    Nothing,
}

/// Host names kept from Name Resolution Blocks at most (a hostile capture
/// cannot grow the table without bound).
pub const MAX_HOST_NAMES: usize = 65_536;

/// The records of a Name Resolution Block (pcapng §4.5): type 1 is an IPv4
/// address, type 2 an IPv6 address, each followed by one or more
/// NUL-terminated names; the first name is kept. Records that do not fit
/// their type are skipped.
fn name_records(nrb: &pcap_parser::NameResolutionBlock<'_>) -> Vec<(IpAddr, String)> {
    let mut out = Vec::new();
    for r in &nrb.nr {
        let (addr, rest): (IpAddr, &[u8]) = match r.record_type.0 {
            1 if r.record_value.len() > 4 => {
                let b = &r.record_value;
                (Ipv4Addr::new(b[0], b[1], b[2], b[3]).into(), &b[4..])
            }
            2 if r.record_value.len() > 16 => {
                let mut o = [0u8; 16];
                o.copy_from_slice(&r.record_value[..16]);
                (Ipv6Addr::from(o).into(), &r.record_value[16..])
            }
            _ => continue,
        };
        let name = rest.split(|&b| b == 0).next().unwrap_or_default();
        if let Ok(name) = std::str::from_utf8(name)
            && !name.is_empty()
        {
            out.push((addr, name.to_string()));
        }
    }
    out
}

fn describe_pcap_error(e: &PcapError<&[u8]>) -> String {
    match e {
        PcapError::NomError(_, kind) => format!("malformed block ({kind:?})"),
        PcapError::OwnedNomError(_, kind) => format!("malformed block ({kind:?})"),
        other => format!("{other:?}"),
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

    fn pcap_header(be: bool, nanos: bool, linktype: u32) -> Vec<u8> {
        let magic: u32 = if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 };
        let mut v = Vec::new();
        let put32 = |v: &mut Vec<u8>, x: u32| {
            v.extend_from_slice(&if be { x.to_be_bytes() } else { x.to_le_bytes() })
        };
        put32(&mut v, magic);
        let ver: [u8; 4] = if be { [0, 2, 0, 4] } else { [2, 0, 4, 0] };
        v.extend_from_slice(&ver);
        put32(&mut v, 0);
        put32(&mut v, 0);
        put32(&mut v, 65535);
        put32(&mut v, linktype);
        v
    }

    fn record(be: bool, sec: u32, frac: u32, data: &[u8], orig: u32) -> Vec<u8> {
        let mut v = Vec::new();
        for x in [sec, frac, data.len() as u32, orig] {
            v.extend_from_slice(&if be { x.to_be_bytes() } else { x.to_le_bytes() });
        }
        v.extend_from_slice(data);
        v
    }

    #[test]
    fn reads_both_byte_orders_and_resolutions() {
        for be in [false, true] {
            for nanos in [false, true] {
                let mut f = pcap_header(be, nanos, 1);
                f.extend(record(be, 10, 5, b"abc", 3));
                f.extend(record(be, 11, 7, b"defg", 9));
                let mut r = CaptureReader::new(&f[..]).unwrap();
                let p = r.next_packet().unwrap().unwrap();
                assert_eq!(p.data, b"abc");
                let unit = if nanos { 1 } else { 1000 };
                assert_eq!(p.ts.as_nanos(), 10_000_000_000 + 5 * unit);
                let p = r.next_packet().unwrap().unwrap();
                assert_eq!((p.index, p.data, p.orig_len), (1, &b"defg"[..], 9));
                assert!(p.is_truncated());
                assert!(r.next_packet().unwrap().is_none());
                assert_eq!(r.stats().packets, 2);
                assert_eq!(r.stats().truncated_packets, 1);
                assert!(r.warnings().is_empty());
            }
        }
    }

    #[test]
    fn truncated_last_record_is_a_warning() {
        let mut f = pcap_header(false, false, 1);
        f.extend(record(false, 1, 0, b"hello", 5));
        let mut rec = record(false, 2, 0, b"world!", 6);
        rec.truncate(19);
        f.extend(rec);
        let mut r = CaptureReader::new(&f[..]).unwrap();
        assert!(r.next_packet().unwrap().is_some());
        assert!(r.next_packet().unwrap().is_none());
        assert_eq!(
            r.warnings(),
            &[CaptureWarning {
                offset: 24 + 21,
                kind: WarningKind::TruncatedRecord { have: 19 }
            }]
        );
    }

    #[test]
    fn absurd_caplen_stops_without_allocating() {
        let mut f = pcap_header(false, false, 1);
        f.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0]);
        let mut r = CaptureReader::new(&f[..]).unwrap();
        assert!(r.next_packet().unwrap().is_none());
        assert!(matches!(
            r.warnings()[0].kind,
            WarningKind::CorruptRecord { .. }
        ));
    }

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

    #[test]
    fn records_spanning_buffer_refills_are_read() {
        // More data than the initial buffer, in records of odd sizes.
        let mut f = pcap_header(false, true, 1);
        let payload: Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
        let n = 1000;
        for i in 0..n {
            f.extend(record(false, i, 0, &payload[..(i as usize % 3000)], 3000));
        }
        let mut r = CaptureReader::new(&f[..]).unwrap();
        let mut count = 0;
        while let Some(p) = r.next_packet().unwrap() {
            assert_eq!(p.data, &payload[..(count as usize % 3000)]);
            count += 1;
        }
        assert_eq!(count, n);
    }

    #[test]
    fn decimal_and_binary_resolutions() {
        assert_eq!(
            TsResolution::from_option(6).to_nanos(1_500_000),
            1_500_000_000
        );
        assert_eq!(TsResolution::from_option(9).to_nanos(7), 7);
        assert_eq!(TsResolution::from_option(12).to_nanos(7_000), 7);
        // 2^-10 s units: 1024 units are one second.
        assert_eq!(
            TsResolution::from_option(0x80 | 10).to_nanos(1024),
            1_000_000_000
        );
    }
    #[test]
    fn pcapng_obsolete_packet_block() {
        fn block(t: u32, body: &[u8]) -> Vec<u8> {
            let len = (12 + body.len()) as u32;
            let mut v = t.to_le_bytes().to_vec();
            v.extend(len.to_le_bytes());
            v.extend_from_slice(body);
            v.extend(len.to_le_bytes());
            v
        }
        let mut shb = 0x1a2b_3c4du32.to_le_bytes().to_vec();
        shb.extend([1, 0, 0, 0]);
        shb.extend((-1i64).to_le_bytes());
        let mut idb = vec![1, 0, 0, 0];
        idb.extend(65535u32.to_le_bytes());
        let mut opb = vec![0, 0, 0, 0];
        opb.extend(0u32.to_le_bytes());
        opb.extend(2_500_000u32.to_le_bytes()); // microseconds by default
        opb.extend(4u32.to_le_bytes());
        opb.extend(60u32.to_le_bytes());
        opb.extend(b"abcd");
        let mut f = block(0x0a0d_0d0a, &shb);
        f.extend(block(1, &idb));
        f.extend(block(2, &opb));
        let mut r = CaptureReader::new(&f[..]).unwrap();
        let p = r.next_packet().unwrap().unwrap();
        assert_eq!(
            (p.data, p.orig_len, p.ts.as_nanos()),
            (&b"abcd"[..], 60, 2_500_000_000)
        );
        assert!(r.next_packet().unwrap().is_none());
        assert!(r.warnings().is_empty());
    }

    #[test]
    fn name_resolution_blocks_give_host_names() {
        use crate::capture::writer::PcapNgWriter;
        let mut w = PcapNgWriter::new(Vec::new()).unwrap();
        let v6: Ipv6Addr = "2001:db8::25".parse().unwrap();
        w.write_name_resolution(&[
            (IpAddr::V4(Ipv4Addr::new(127, 0, 10, 2)), "crepes.fr"),
            (IpAddr::V6(v6), "hamburger.edu"),
        ])
        .unwrap();
        let f = w.into_inner();
        let mut r = CaptureReader::new(&f[..]).unwrap();
        while r.next_packet().unwrap().is_some() {}
        assert_eq!(
            r.host_names(),
            &[
                (
                    IpAddr::V4(Ipv4Addr::new(127, 0, 10, 2)),
                    "crepes.fr".to_string()
                ),
                (IpAddr::V6(v6), "hamburger.edu".to_string()),
            ]
        );
    }
}
