//! Boundary delimiter lines: where the parts of a multipart begin and end
//! (RFC 2046 §5.1.1).
//!
//! A multipart's body is cut into parts by lines `--boundary`, and ended by
//! `--boundary--`, where `boundary` is the multipart's `boundary=`
//! parameter. Such a line must start a line, may be followed by blanks
//! (transport padding) and nothing else, and the line break *before* it
//! belongs to it, not to the part it ends.
//!
//! Multiparts nest, each with a boundary of its own that must not occur
//! inside its parts. Senders break that rule (a nested multipart reuses
//! its parent's boundary, an inner multipart is never closed), so a line
//! is read the way mail clients read it: it belongs to the *innermost*
//! open multipart whose boundary it is, and closes every part opened
//! inside that multipart since (RFC 2046 §5.1.1 requires the inner ones to
//! be closed first, so a delimiter of an outer multipart can only mean
//! they ended).

/// A delimiter line found in a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Delimiter {
    /// Which of the boundaries searched for (an index into the list given
    /// to [`next_delimiter`]).
    pub(crate) owner: usize,
    /// `--boundary--`: the multipart ends here.
    pub(crate) close: bool,
    /// Where the line break before the line starts: the end of the part
    /// before it. The line's own start when there is no line break before
    /// it.
    pub(crate) part_end: usize,
    /// Where the line after the delimiter line starts.
    pub(crate) next_line: usize,
}

/// The first delimiter line at or after `from` (which must be the start
/// of a line) of any boundary in `open`; when several open multiparts
/// share a boundary, the last in `open` (the innermost) owns the line.
/// `None` entries are multiparts whose boundary no longer counts (they saw
/// their closing line).
pub(crate) fn next_delimiter(buf: &[u8], from: usize, open: &[Option<&[u8]>]) -> Option<Delimiter> {
    if open.iter().all(Option::is_none) || from >= buf.len() {
        return None;
    }
    // Candidate lines start with `--`: at `from`, or after a line feed.
    let first = buf[from..].starts_with(b"--").then_some(from);
    let later = memchr::memmem::find_iter(&buf[from..], b"\n--").map(|i| from + i + 1);
    first
        .into_iter()
        .chain(later)
        .find_map(|start| delimiter_at(buf, start, open))
}

/// The delimiter line starting at `start`, if it is one of a boundary in
/// `open` (the innermost wins).
pub(crate) fn delimiter_at(buf: &[u8], start: usize, open: &[Option<&[u8]>]) -> Option<Delimiter> {
    let rest = buf.get(start..)?;
    if !rest.starts_with(b"--") {
        return None;
    }
    let end = memchr::memchr(b'\n', rest).map_or(buf.len(), |i| start + i);
    let line = &buf[start + 2..end];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    open.iter().enumerate().rev().find_map(|(owner, boundary)| {
        let after = line.strip_prefix(boundary.filter(|b| !b.is_empty())?)?;
        let (close, padding) = match after.strip_prefix(b"--") {
            Some(p) => (true, p),
            None => (false, after),
        };
        padding
            .iter()
            .all(|&b| b == b' ' || b == b'\t')
            .then(|| Delimiter {
                owner,
                close,
                part_end: line_break_before(buf, start),
                next_line: (end + 1).min(buf.len()),
            })
    })
}

/// Where the line break that ends just before `line` starts (CRLF or a
/// bare LF); `line` itself when no line break comes before it. (Before
/// the first delimiter of a body that line break is the header's empty
/// line: the part that ends there is empty.)
fn line_break_before(buf: &[u8], line: usize) -> usize {
    match buf[..line] {
        [.., b'\r', b'\n'] => line - 2,
        [.., b'\n'] => line - 1,
        _ => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(buf: &[u8], open: &[Option<&[u8]>]) -> Option<(usize, bool, usize, usize)> {
        next_delimiter(buf, 0, open).map(|d| (d.owner, d.close, d.part_end, d.next_line))
    }

    #[test]
    fn delimiter_lines() {
        let b: &[u8] = b"x";
        // The line break before the line belongs to it.
        assert_eq!(find(b"ab\r\n--x\r\nc", &[Some(b)]), Some((0, false, 2, 9)));
        assert_eq!(find(b"ab\n--x--  \nc", &[Some(b)]), Some((0, true, 2, 11)));
        // At the start of the region: no line break before it.
        assert_eq!(find(b"--x\r\n", &[Some(b)]), Some((0, false, 0, 5)));
        // Only blanks may follow the boundary; `--xy` is not `--x`.
        assert_eq!(find(b"a\r\n--xy\r\n--x junk\r\n", &[Some(b)]), None);
        // Not at the start of a line.
        assert_eq!(find(b"a --x\r\n", &[Some(b)]), None);
        // A multipart whose closing line was seen no longer counts.
        assert_eq!(find(b"a\r\n--x\r\n", &[None]), None);
    }

    #[test]
    fn the_innermost_multipart_owns_a_shared_boundary() {
        let outer: &[u8] = b"b";
        let inner: &[u8] = b"i";
        // Same boundary at two levels: the inner one's line.
        assert_eq!(
            find(b"t\r\n--b\r\n", &[Some(outer), Some(outer)]),
            Some((1, false, 1, 8))
        );
        // An outer boundary while the inner multipart is open: the outer
        // one's line (which ends the inner multipart too).
        assert_eq!(
            find(b"t\r\n--b--\r\n", &[Some(outer), Some(inner)]),
            Some((0, true, 1, 10))
        );
    }
}
