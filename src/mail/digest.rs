//! Digests as people compare them: MD5 and SHA-256 in lower-case hex, the
//! way `md5sum`, `sha256sum`, Zeek's files.log and Suricata print them.

use sha2::Digest;

/// SHA-256 of `bytes`, in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&sha2::Sha256::digest(bytes))
}

/// MD5 of `bytes`, in hex. (Broken for security, still what mail
/// analysers report, so captures can be checked against them.)
pub fn md5_hex(bytes: &[u8]) -> String {
    hex(&md5::Md5::digest(bytes))
}

/// Lower-case hex of some bytes (digests, key log secrets, APOP and
/// CRAM-MD5 digests).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}
