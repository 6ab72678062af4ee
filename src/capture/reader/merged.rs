//! Several captures read as one, packet by packet in timestamp order, as
//! `mergecap` merges them: the pieces of a rotated capture (`tcpdump -G`,
//! `editcap -c`) analysed together give exactly the whole, a TCP
//! connection going on from one piece into the next.
//!
//! Pieces of one capture do not overlap in time, so the merge keeps
//! handing out the packets of the current reader straight from its buffer
//! (no copy) while they are not later than the next packet of every other
//! input; only then does it switch, keeping one owned copy of each other
//! input's next packet (its "head"). On equal timestamps the current input
//! goes on, so a piece is never interleaved with the next one at the cut.
//! One input costs nothing but a branch: its packets are handed out as its
//! reader reads them.
//!
//! Packet indexes are global: the position in the merged stream, so with
//! several inputs frame N is frame N of `mergecap`'s output (with one input,
//! the file's own numbering, as before). Link types stay per packet, as each
//! file's interfaces say; `Packet::interface` is the interface id within the
//! packet's own file (pcapng ids are per section, so they repeat across
//! files). Every input's Decryption Secrets Blocks and Name Resolution Blocks
//! are collected, and its damage is reported under its name.

use std::cell::{Cell, RefCell};
use std::io::{self, Read};
use std::net::IpAddr;
use std::rc::Rc;

use super::decompress::Compression;
use super::inputs::InputSource;
use super::{
    CaptureError, CaptureFormat, CaptureReader, CaptureStats, CaptureWarning, Packet, SecretsHook,
    WarningKind,
};
use crate::capture::Timestamp;

/// One input of the merge.
struct Part<R> {
    name: String,
    reader: CaptureReader<R>,
    compression: Compression,
    /// Size of the file, when known.
    len: Option<u64>,
    /// Compressed bytes read, for compressed inputs.
    consumed: Option<Rc<Cell<u64>>>,
    /// The decompressor's error that ended the input early.
    damage: Option<Rc<RefCell<Option<io::Error>>>>,
    /// A copy of the input's next packet, while another input is read.
    head: Option<OwnedPacket>,
}

/// A packet copied out of its reader's buffer.
#[derive(Clone, Debug, Default)]
struct OwnedPacket {
    ts: Timestamp,
    linktype: u16,
    interface: u32,
    data: Vec<u8>,
    orig_len: u32,
}

impl OwnedPacket {
    fn copy_of(p: &Packet<'_>) -> Self {
        OwnedPacket {
            ts: p.ts,
            linktype: p.linktype,
            interface: p.interface,
            data: p.data.to_vec(),
            orig_len: p.orig_len,
        }
    }

    fn packet(&self, index: u64) -> Packet<'_> {
        Packet {
            index,
            ts: self.ts,
            linktype: self.linktype,
            interface: self.interface,
            data: &self.data,
            orig_len: self.orig_len,
        }
    }
}

/// What one input contributed, for the `capture` record's `files`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct InputSummary {
    pub file: String,
    pub format: CaptureFormat,
    #[serde(skip_serializing_if = "is_uncompressed")]
    pub compression: Compression,
    #[serde(flatten)]
    pub stats: CaptureStats,
}

fn is_uncompressed(c: &Compression) -> bool {
    *c == Compression::None
}

/// The merged reader: see the module's notes.
pub struct MergedReader<R> {
    parts: Vec<Part<R>>,
    /// True when several inputs were named (even if some were skipped):
    /// warnings then name their file.
    several: bool,
    /// Inputs that could not be read at all, with why.
    skipped: Vec<CaptureWarning>,
    /// The input whose packets are handed out straight from its reader.
    current: Option<usize>,
    /// Whether every input's first packet has been read into its head.
    primed: bool,
    /// The head handed out last, when it was a copy.
    served: OwnedPacket,
    next_index: u64,
    /// Which input each stretch of packet indexes came from, shared with
    /// whoever names the file of a record ([`InputFiles`]).
    files: InputFiles,
}

/// The file each packet of a merged capture came from: the inputs' names
/// and, in packet-index order, the first index of each stretch read from
/// one input (rotated pieces make one stretch each; overlapping captures
/// one per switch). Cheap to clone; filled in as packets are read.
#[derive(Clone, Debug, Default)]
pub struct InputFiles {
    names: Rc<Vec<String>>,
    runs: Rc<RefCell<Vec<(u64, usize)>>>,
}

impl InputFiles {
    /// True when the capture is made of several inputs (records then name
    /// their file).
    pub fn several(&self) -> bool {
        self.names.len() > 1
    }

    /// The file packet `index` was read from; None with a single input
    /// (the `capture` record names it) or before that packet was read.
    pub fn file_of(&self, index: u64) -> Option<&str> {
        if !self.several() {
            return None;
        }
        let runs = self.runs.borrow();
        let at = runs.partition_point(|&(first, _)| first <= index);
        let (_, part) = *runs.get(at.checked_sub(1)?)?;
        self.names.get(part).map(String::as_str)
    }

    fn note(&self, index: u64, part: usize) {
        let mut runs = self.runs.borrow_mut();
        if runs.last().is_none_or(|&(_, p)| p != part) {
            runs.push((index, part));
        }
    }
}

impl MergedReader<Box<dyn Read>> {
    /// Opens every input. With one input, an input that is not a capture is
    /// the error; with several, it is skipped with a warning naming it,
    /// unless no input at all is a capture.
    pub fn open(sources: &[InputSource]) -> Result<Self, CaptureError> {
        let several = sources.len() > 1;
        let mut parts = Vec::new();
        let mut skipped = Vec::new();
        let mut first_error = None;
        for source in sources {
            match open_part(source) {
                Ok(part) => parts.push(part),
                Err(e) if several => {
                    skipped.push(CaptureWarning {
                        file: Some(source.name()),
                        offset: 0,
                        kind: WarningKind::NotRead {
                            detail: e.to_string(),
                        },
                    });
                    first_error.get_or_insert(e);
                }
                Err(e) => return Err(e),
            }
        }
        if parts.is_empty() {
            return Err(match first_error {
                Some(e) if sources.len() == 1 => e,
                _ => CaptureError::NoCaptures(
                    skipped
                        .iter()
                        .map(|w| w.to_string())
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
            });
        }
        let files = InputFiles {
            names: Rc::new(parts.iter().map(|p| p.name.clone()).collect()),
            runs: Rc::default(),
        };
        Ok(MergedReader {
            parts,
            several,
            skipped,
            current: None,
            primed: false,
            served: OwnedPacket::default(),
            next_index: 0,
            files,
        })
    }
}

fn open_part(source: &InputSource) -> Result<Part<Box<dyn Read>>, CaptureError> {
    let opened = source.open()?;
    let compression = opened.compression;
    let damage = opened.damage.clone();
    let reader = CaptureReader::new(opened.stream).map_err(|e| {
        let damaged = damage.as_ref().and_then(|d| d.borrow_mut().take());
        match (compression, damaged) {
            (Compression::None, _) => e,
            // The decompressor failed before the capture began.
            (_, Some(damaged)) => CaptureError::Decompression {
                compression: compression.as_str(),
                detail: damaged.to_string(),
            },
            (_, None) => CaptureError::NotACaptureInside {
                compression: compression.as_str(),
                inner: Box::new(e),
            },
        }
    })?;
    Ok(Part {
        name: source.name(),
        reader,
        compression: opened.compression,
        len: source.len(),
        consumed: opened.consumed,
        damage: opened.damage,
        head: None,
    })
}

impl<R: Read> MergedReader<R> {
    /// One capture already open (a pipe, bytes in memory), shown as `name`.
    pub fn single(name: impl Into<String>, reader: CaptureReader<R>) -> Self {
        MergedReader::of(vec![(name.into(), reader)])
    }

    /// Captures already open, each with the name its warnings show.
    pub fn of(readers: Vec<(String, CaptureReader<R>)>) -> Self {
        let files = InputFiles {
            names: Rc::new(readers.iter().map(|(name, _)| name.clone()).collect()),
            runs: Rc::default(),
        };
        MergedReader {
            several: readers.len() > 1,
            parts: readers
                .into_iter()
                .map(|(name, reader)| Part {
                    name,
                    reader,
                    compression: Compression::None,
                    len: None,
                    consumed: None,
                    damage: None,
                    head: None,
                })
                .collect(),
            skipped: Vec::new(),
            current: None,
            primed: false,
            served: OwnedPacket::default(),
            next_index: 0,
            files,
        }
    }

    /// The file of each packet, as it is read (see [`InputFiles`]).
    pub fn input_files(&self) -> InputFiles {
        self.files.clone()
    }

    /// The next packet of the merged stream, or `None` at the end of every
    /// input.
    pub fn next_packet(&mut self) -> Result<Option<Packet<'_>>, CaptureError> {
        if self.parts.len() == 1 {
            return self.parts[0].reader.next_packet();
        }
        if !self.primed {
            for part in &mut self.parts {
                part.head = part
                    .reader
                    .next_packet()?
                    .as_ref()
                    .map(OwnedPacket::copy_of);
            }
            self.primed = true;
        }
        loop {
            let Some(c) = self.current else {
                // Switch to the input with the earliest head (the first
                // named on equal times); none left: the end.
                let next = (0..self.parts.len())
                    .filter_map(|i| self.parts[i].head.as_ref().map(|h| (h.ts, i)))
                    .min();
                let Some((_, i)) = next else {
                    return Ok(None);
                };
                if let Some(head) = self.parts[i].head.take() {
                    self.served = head;
                }
                self.current = Some(i);
                let index = self.take_index();
                self.files.note(index, i);
                return Ok(Some(self.served.packet(index)));
            };
            let bound = self
                .parts
                .iter()
                .enumerate()
                .filter(|&(i, _)| i != c)
                .filter_map(|(_, p)| p.head.as_ref().map(|h| h.ts))
                .min();
            let ts = self.parts[c].reader.next_packet()?.map(|p| p.ts);
            match ts {
                Some(ts) if bound.is_none_or(|b| ts <= b) => {
                    let index = self.take_index();
                    self.files.note(index, c);
                    return Ok(self.parts[c].reader.last_packet().map(|mut p| {
                        p.index = index;
                        p
                    }));
                }
                Some(_) => {
                    let part = &mut self.parts[c];
                    part.head = part.reader.last_packet().as_ref().map(OwnedPacket::copy_of);
                    self.current = None;
                }
                None => self.current = None,
            }
        }
    }

    fn take_index(&mut self) -> u64 {
        let index = self.next_index;
        self.next_index += 1;
        index
    }
}

impl<R> MergedReader<R> {
    /// Calls `hook(secrets_type, payload)` for every Decryption Secrets
    /// Block of every input read from now on.
    pub fn on_secrets(&mut self, hook: SecretsHook) {
        let shared = Rc::new(RefCell::new(hook));
        for part in &mut self.parts {
            let hook = shared.clone();
            part.reader
                .on_secrets(Box::new(move |kind, data| (hook.borrow_mut())(kind, data)));
        }
    }

    /// Host names of every input's Name Resolution Blocks, in input order.
    pub fn host_names(&self) -> Vec<(IpAddr, String)> {
        self.parts
            .iter()
            .flat_map(|p| p.reader.host_names().iter().cloned())
            .collect()
    }

    /// The format shown in the `capture` record: every input's, or `mixed`.
    pub fn format_name(&self) -> &'static str {
        let first = self.parts[0].reader.format();
        if self.parts.iter().all(|p| p.reader.format() == first) {
            first.as_str()
        } else {
            "mixed"
        }
    }

    /// The counts of all inputs together (complete once `next_packet`
    /// returned `None`).
    pub fn stats(&self) -> CaptureStats {
        if let [part] = &self.parts[..] {
            return part.reader.stats().clone();
        }
        let mut all = CaptureStats::default();
        for part in &self.parts {
            let s = part.reader.stats();
            all.packets += s.packets;
            all.bytes += s.bytes;
            all.truncated_packets += s.truncated_packets;
            all.first_ts = match (all.first_ts, s.first_ts) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            all.last_ts = match (all.last_ts, s.last_ts) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
            for l in &s.linktypes {
                if !all.linktypes.contains(l) {
                    all.linktypes.push(*l);
                }
            }
            all.file_offset += s.file_offset;
        }
        all
    }

    /// Each input's own counts, in the order named (several inputs only).
    pub fn inputs(&self) -> Vec<InputSummary> {
        if !self.several {
            return Vec::new();
        }
        self.parts
            .iter()
            .map(|p| InputSummary {
                file: p.name.clone(),
                format: p.reader.format(),
                compression: p.compression,
                stats: p.reader.stats().clone(),
            })
            .collect()
    }

    /// The inputs' names, as given.
    pub fn names(&self) -> Vec<&str> {
        self.parts.iter().map(|p| p.name.as_str()).collect()
    }

    /// Damage found so far: inputs skipped, then each input's, named by
    /// their file when there are several inputs.
    pub fn warnings(&self) -> Vec<CaptureWarning> {
        let mut out = self.skipped.clone();
        for part in &self.parts {
            let file = self.several.then(|| part.name.clone());
            out.extend(part.reader.warnings().iter().map(|w| CaptureWarning {
                file: file.clone(),
                ..w.clone()
            }));
            if let Some(damage) = &part.damage
                && let Some(e) = &*damage.borrow()
            {
                out.push(CaptureWarning {
                    file: file.clone(),
                    offset: part.consumed.as_ref().map_or(0, |c| c.get()),
                    kind: WarningKind::Decompression {
                        detail: e.to_string(),
                    },
                });
            }
        }
        out
    }

    /// Total size of the inputs, when known (the progress bar's end): the
    /// files' sizes on disk, compressed ones included.
    pub fn total_len(&self) -> Option<u64> {
        let known: Vec<u64> = self.parts.iter().filter_map(|p| p.len).collect();
        (!known.is_empty()).then(|| known.iter().sum())
    }

    /// Bytes of the inputs read so far, counted as [`total_len`](Self::total_len)
    /// counts them (compressed bytes for compressed inputs).
    pub fn progress(&self) -> u64 {
        self.parts
            .iter()
            .map(|p| match &p.consumed {
                Some(c) => c.get(),
                None => p.reader.stats().file_offset,
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A classic pcap (little-endian, microseconds) of link type
    /// `linktype` with one packet per (second, payload byte).
    fn pcap(linktype: u32, packets: &[(u32, u8)]) -> Vec<u8> {
        let mut v = Vec::new();
        for x in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 65535, linktype] {
            v.extend_from_slice(&x.to_le_bytes());
        }
        for &(sec, byte) in packets {
            for x in [sec, 0, 1, 1] {
                v.extend_from_slice(&x.to_le_bytes());
            }
            v.push(byte);
        }
        v
    }

    /// (index, second, payload byte, link type) of every packet handed out.
    fn read_all(mut merged: MergedReader<&[u8]>) -> Vec<(u64, i64, u8, u16)> {
        let mut out = Vec::new();
        while let Some(p) = merged.next_packet().unwrap() {
            out.push((
                p.index,
                p.ts.as_nanos() / 1_000_000_000,
                p.data[0],
                p.linktype,
            ));
        }
        out
    }

    #[test]
    fn interleaves_by_time_with_global_indexes_and_each_files_link_type() {
        let a = pcap(1, &[(1, b'a'), (3, b'b'), (3, b'c'), (7, b'd')]);
        let b = pcap(113, &[(2, b'x'), (3, b'y'), (9, b'z')]);
        let merged = MergedReader::of(vec![
            ("b".into(), CaptureReader::new(&b[..]).unwrap()),
            ("a".into(), CaptureReader::new(&a[..]).unwrap()),
        ]);
        // On equal times the input being read goes on: after x (from b),
        // b's y at 3 comes before a's b and c at 3.
        assert_eq!(
            read_all(merged),
            vec![
                (0, 1, b'a', 1),
                (1, 2, b'x', 113),
                (2, 3, b'y', 113),
                (3, 3, b'b', 1),
                (4, 3, b'c', 1),
                (5, 7, b'd', 1),
                (6, 9, b'z', 113),
            ]
        );
    }

    #[test]
    fn one_input_keeps_its_own_numbering_and_warnings_name_files_only_when_several() {
        let a = pcap(1, &[(1, b'a'), (2, b'b')]);
        let mut cut = pcap(1, &[(5, b'q'), (6, b'r')]);
        cut.truncate(cut.len() - 3);
        let single = MergedReader::single("a", CaptureReader::new(&a[..]).unwrap());
        assert_eq!(read_all(single), vec![(0, 1, b'a', 1), (1, 2, b'b', 1)]);

        let mut merged = MergedReader::of(vec![
            ("a.pcap".into(), CaptureReader::new(&a[..]).unwrap()),
            ("cut.pcap".into(), CaptureReader::new(&cut[..]).unwrap()),
        ]);
        while merged.next_packet().unwrap().is_some() {}
        let warnings: Vec<String> = merged.warnings().iter().map(|w| w.to_string()).collect();
        assert_eq!(
            warnings,
            vec![
                "cut.pcap: capture truncated at byte 41: the last record is incomplete (14 bytes present) and was dropped"
            ]
        );
        let stats = merged.stats();
        assert_eq!((stats.packets, stats.bytes), (3, 3));
        assert_eq!(merged.inputs().len(), 2);
        assert_eq!(merged.inputs()[1].stats.packets, 1);
    }
}
