//! The TLS record header (RFC 8446 §5.1, RFC 5246 §6.2.1): content type,
//! legacy version, length. Five bytes are enough to tell TLS from a mail
//! protocol's text, and to find where the next record starts.

/// Largest record a TLS 1.2 peer may send (RFC 5246 §6.2.3: 2^14 bytes of
/// plaintext plus up to 2048 bytes of expansion by the cipher).
const MAX_RECORD: u16 = (1 << 14) + 2048;

/// Record content types (RFC 8446 §5.1, RFC 6520 for heartbeat).
pub(super) const CHANGE_CIPHER_SPEC: u8 = 20;
pub(super) const ALERT: u8 = 21;
pub(super) const HANDSHAKE: u8 = 22;
pub(super) const APPLICATION_DATA: u8 = 23;
const HEARTBEAT: u8 = 24;

/// True when `bytes` starts with a plausible TLS record header of the given
/// content type (`None` accepts any of the four types).
pub fn looks_like_record(bytes: &[u8], content_type: Option<u8>) -> bool {
    let [ct, major, minor, hi, lo, ..] = *bytes else {
        return false;
    };
    let type_ok = match content_type {
        Some(t) => ct == t,
        None => (CHANGE_CIPHER_SPEC..=APPLICATION_DATA).contains(&ct),
    };
    let len = u16::from_be_bytes([hi, lo]);
    type_ok && major == 3 && minor <= 4 && len > 0 && len <= MAX_RECORD
}

/// True when `bytes` starts like a TLS handshake (ClientHello/ServerHello).
pub fn looks_like_handshake(bytes: &[u8]) -> bool {
    looks_like_record(bytes, Some(HANDSHAKE))
}

/// Content type and length of a well-formed record header. Stricter than
/// [`looks_like_record`] on types (heartbeat, RFC 6520, is accepted) and
/// looser on length: TLS 1.2 allows empty application data records
/// (RFC 5246 §6.2.1), never empty handshake, alert or ChangeCipherSpec ones.
pub(super) fn record_header(h: &[u8; 5]) -> Option<(u8, usize)> {
    let [content_type, major, minor, hi, lo] = *h;
    let len = u16::from_be_bytes([hi, lo]);
    let type_ok = (CHANGE_CIPHER_SPEC..=HEARTBEAT).contains(&content_type);
    let len_ok = len <= MAX_RECORD && (len > 0 || content_type == APPLICATION_DATA);
    (type_ok && major == 3 && minor <= 4 && len_ok).then_some((content_type, len as usize))
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

    #[test]
    fn empty_records_only_for_application_data() {
        assert_eq!(record_header(&[23, 3, 3, 0, 0]), Some((23, 0)));
        assert_eq!(record_header(&[22, 3, 3, 0, 0]), None);
        assert_eq!(record_header(&[24, 3, 3, 0, 1]), Some((24, 1)));
        assert_eq!(record_header(&[25, 3, 3, 0, 1]), None);
    }
}
