//! Mail messages: headers, MIME structure, attachments and hashes, read with
//! mail-parser over the exact bytes that were delivered.

use serde::Serialize;
use sha2::Digest;

/// One attachment (a MIME part with a file name, or a non-text part).
#[derive(Clone, Debug, Default, Serialize)]
pub struct AttachmentInfo {
    pub filename: Option<String>,
    pub content_type: String,
    /// Size of the decoded content.
    pub size: u64,
    pub md5: String,
    pub sha256: String,
    /// `extract` only: where it was written, relative to the output dir.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// What a message says about itself.
#[derive(Clone, Debug, Default)]
pub struct MessageInfo {
    pub message_id: Option<String>,
    pub subject: Option<String>,
    pub from: Vec<String>,
    pub from_name: Option<String>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub date: Option<String>,
    pub received: Vec<String>,
    pub attachments: Vec<AttachmentInfo>,
}

/// Reads a message. With `contents`, the decoded attachments are pushed to
/// it in the order of `attachments`.
pub fn inspect(raw: &[u8], contents: Option<&mut Vec<Vec<u8>>>) -> MessageInfo {
    let _ = (raw, contents);
    MessageInfo::default()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&sha2::Sha256::digest(bytes))
}

pub fn md5_hex(bytes: &[u8]) -> String {
    hex(&md5::Md5::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}
