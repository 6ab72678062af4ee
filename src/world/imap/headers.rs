//! The header of a message as raw bytes (RFC 5322 §2.2): where it ends,
//! its fields with their folded continuation lines, and unfolding. SEARCH,
//! BODY[HEADER.FIELDS], the MIME tree and ENVELOPE all read headers this
//! way, so the bytes they return are the bytes of the message.

/// Where the body starts: after the first empty line (or the end).
pub(super) fn header_end(data: &[u8]) -> usize {
    if data.starts_with(b"\r\n") {
        return 2;
    }
    if data.starts_with(b"\n") {
        return 1;
    }
    let crlf = memchr::memmem::find(data, b"\r\n\r\n").map(|i| i + 4);
    let lf = memchr::memmem::find(data, b"\n\n").map(|i| i + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b).unwrap_or(data.len()),
    }
}

/// One header field as it is in the message.
pub(super) struct HeaderField<'a> {
    pub(super) name: &'a [u8],
    /// The whole field with its continuation lines and line endings.
    pub(super) raw: &'a [u8],
    /// What follows the colon, still folded.
    pub(super) value: &'a [u8],
}

/// Split a header into fields; a line starting with a space or tab
/// continues the previous field (folding).
pub(super) fn header_fields(header: &[u8]) -> Vec<HeaderField<'_>> {
    let line_end = |from: usize| {
        memchr::memchr(b'\n', &header[from..])
            .map(|i| from + i + 1)
            .unwrap_or(header.len())
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < header.len() {
        let start = i;
        let mut end = line_end(i);
        while end < header.len() && matches!(header[end], b' ' | b'\t') {
            end = line_end(end);
        }
        i = end;
        let raw = &header[start..end];
        if raw == b"\r\n" || raw == b"\n" {
            break;
        }
        let Some(colon) = memchr::memchr(b':', raw) else {
            continue;
        };
        out.push(HeaderField {
            name: raw[..colon].trim_ascii(),
            raw,
            value: &raw[colon + 1..],
        });
    }
    out
}

/// A folded value on one line, trimmed.
pub(super) fn unfold(value: &[u8]) -> Vec<u8> {
    let v: Vec<u8> = value
        .iter()
        .copied()
        .filter(|&b| b != b'\r' && b != b'\n')
        .collect();
    v.trim_ascii().to_vec()
}
