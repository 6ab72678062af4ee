//! Compressed captures, read as if they were not: a `.pcap.gz` from a
//! rotating tcpdump, a `.pcapng.zst` from an archive, either through a pipe.
//!
//! The compression is recognized by the stream's first bytes, never by the
//! file's name (a pipe has none, and names lie): gzip members start with
//! ID1 ID2 = `1f 8b` (RFC 1952 §2.3.1), Zstandard frames with the magic
//! number 0xFD2FB528 stored little-endian, `28 b5 2f fd` (RFC 8878 §3.1.1).
//! Both formats allow several members/frames one after the other
//! (`cat a.gz b.gz`, `zstd -c a b`); both decoders read them all.
//!
//! A compressed stream that is cut short or damaged is not fatal: the
//! decompressor's error ends the stream there ([`StopAtDamage`]), the packets
//! before it are read, and the error becomes a warning of its file.

use std::cell::{Cell, RefCell};
use std::io::{self, BufRead, BufReader, Read};
use std::rc::Rc;

use flate2::read::MultiGzDecoder;
use ruzstd::decoding::StreamingDecoder;

/// RFC 1952 §2.3.1: ID1, ID2 of every gzip member.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// RFC 8878 §3.1.1: the Zstandard frame magic 0xFD2FB528, little-endian.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// How an input is compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

/// An input with its compression removed.
pub(super) struct Decompressed {
    pub stream: Box<dyn Read>,
    pub compression: Compression,
    /// Compressed bytes read so far (for progress), when compressed.
    pub consumed: Option<Rc<Cell<u64>>>,
    /// The decompressor's error that ended the stream early, if any.
    pub damage: Option<Rc<RefCell<Option<io::Error>>>>,
}

/// Looks at the first bytes of `raw` and returns the capture inside it.
/// The bytes looked at are handed back in front of the rest, so nothing is
/// lost and `raw` needs no seeking (stdin cannot seek).
pub(super) fn decompressed(mut raw: Box<dyn Read>) -> io::Result<Decompressed> {
    let mut head = [0u8; 4];
    let mut have = 0;
    while have < head.len() {
        match raw.read(&mut head[have..]) {
            Ok(0) => break,
            Ok(n) => have += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let head = &head[..have];
    let whole: Box<dyn Read> = Box::new(io::Cursor::new(head.to_vec()).chain(raw));
    let compression = if head.starts_with(&GZIP_MAGIC) {
        Compression::Gzip
    } else if head.starts_with(&ZSTD_MAGIC) {
        Compression::Zstd
    } else {
        return Ok(Decompressed {
            stream: whole,
            compression: Compression::None,
            consumed: None,
            damage: None,
        });
    };
    let consumed = Rc::new(Cell::new(0));
    let counted = BufReader::with_capacity(
        1 << 16,
        Counted {
            inner: whole,
            count: consumed.clone(),
        },
    );
    let inner: Box<dyn Read> = match compression {
        Compression::Gzip => Box::new(MultiGzDecoder::new(counted)),
        _ => Box::new(ZstdFrames::new(counted)),
    };
    let damage = Rc::new(RefCell::new(None));
    Ok(Decompressed {
        stream: Box::new(StopAtDamage {
            inner,
            damage: damage.clone(),
        }),
        compression,
        consumed: Some(consumed),
        damage: Some(damage),
    })
}

/// Counts the bytes read through it.
struct Counted<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// Ends the stream at the decompressor's first error and keeps the error,
/// so a cut-short `.gz` reads like a cut-short capture (the packets before
/// the cut, then a warning) instead of failing the whole run.
struct StopAtDamage<R> {
    inner: R,
    damage: Rc<RefCell<Option<io::Error>>>,
}

impl<R: Read> Read for StopAtDamage<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.damage.borrow().is_some() {
            return Ok(0);
        }
        loop {
            match self.inner.read(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    *self.damage.borrow_mut() = Some(e);
                    return Ok(0);
                }
                Ok(n) => return Ok(n),
            }
        }
    }
}

/// Every Zstandard frame of the stream, one after the other (ruzstd's
/// `StreamingDecoder` reads one frame; RFC 8878 §3.1 lets a stream hold
/// several, as `zstd -c a b` or `cat a.zst b.zst` make).
struct ZstdFrames<R: BufRead> {
    /// None once the input is used up (or after an error).
    frame: Option<StreamingDecoder<R, ruzstd::decoding::FrameDecoder>>,
    /// The input before its first frame header is read.
    fresh: Option<R>,
}

impl<R: BufRead> ZstdFrames<R> {
    fn new(input: R) -> Self {
        ZstdFrames {
            frame: None,
            fresh: Some(input),
        }
    }

    /// Starts the next frame if the input has more bytes; Ok(false) at its
    /// end.
    fn next_frame(&mut self) -> io::Result<bool> {
        let (mut input, decoder) = match (self.fresh.take(), self.frame.take()) {
            (Some(input), _) => (input, ruzstd::decoding::FrameDecoder::new()),
            (None, Some(frame)) => frame.into_parts(),
            (None, None) => return Ok(false),
        };
        if input.fill_buf()?.is_empty() {
            return Ok(false);
        }
        let frame = StreamingDecoder::new_with_decoder(input, decoder)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("zstd: {e}")))?;
        self.frame = Some(frame);
        Ok(true)
    }
}

impl<R: BufRead> Read for ZstdFrames<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if let Some(frame) = &mut self.frame {
                let n = frame.read(buf)?;
                if n > 0 {
                    return Ok(n);
                }
            }
            if !self.next_frame()? {
                return Ok(0);
            }
        }
    }
}
