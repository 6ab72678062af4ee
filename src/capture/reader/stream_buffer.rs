//! The one buffer the reader parses from, refilled from the input as it is
//! consumed (the "need more bytes" pattern of mini-redis).
//!
//! A parser looks at [`unread`](StreamBuffer::unread); when a record is not
//! all there it asks [`fill`](StreamBuffer::fill) for more, which moves the
//! unread tail to the front and reads behind it. Consumed bytes stay where
//! they are until the next fill, so a packet handed out can borrow them
//! ([`just_consumed`](StreamBuffer::just_consumed)) instead of being copied.

use std::io::{self, Read};

/// Size of the buffer at the start; it grows only for a record larger
/// than that (up to the reader's `MAX_RECORD_LEN`).
const INITIAL_BUFFER: usize = 1 << 20;

pub(super) struct StreamBuffer<R> {
    src: R,
    buf: Vec<u8>,
    /// Unparsed bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    eof: bool,
    /// File offset of `buf[start]`.
    offset: u64,
}

impl<R> StreamBuffer<R> {
    pub(super) fn new(src: R) -> Self {
        StreamBuffer {
            src,
            buf: vec![0; INITIAL_BUFFER],
            start: 0,
            end: 0,
            eof: false,
            offset: 0,
        }
    }

    /// The bytes read from the input and not consumed yet.
    pub(super) fn unread(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// File offset of the first unread byte.
    pub(super) fn offset(&self) -> u64 {
        self.offset
    }

    /// Marks the first `n` unread bytes as consumed.
    pub(super) fn consume(&mut self, n: usize) {
        self.start += n;
        self.offset += n as u64;
    }

    /// The last `n` bytes consumed, still in place until the next
    /// [`fill`](Self::fill).
    pub(super) fn just_consumed(&self, n: usize) -> &[u8] {
        &self.buf[self.start - n..self.start]
    }
}

impl<R: Read> StreamBuffer<R> {
    /// Fills the buffer so that at least `want` unread bytes are present, if
    /// the input has them. Returns the number of unread bytes available.
    pub(super) fn fill(&mut self, want: usize) -> io::Result<usize> {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An input that hands out at most 3 bytes per read, as a pipe may.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(out.len()).min(3);
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn fill_reads_until_enough_and_consumed_bytes_stay_in_place() {
        let mut b = StreamBuffer::new(Trickle(b"0123456789"));
        assert_eq!(b.fill(4).unwrap(), 6); // two reads of 3 bytes
        assert_eq!(b.unread(), b"012345");
        b.consume(4);
        assert_eq!((b.offset(), b.just_consumed(4)), (4, &b"0123"[..]));
        assert_eq!(b.fill(5).unwrap(), 5);
        assert_eq!(b.unread(), b"45678");
        // At the end of the input, fill gives what there is.
        assert_eq!(b.fill(100).unwrap(), 6);
        assert_eq!(b.unread(), b"456789");
    }
}
