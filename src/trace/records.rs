//! Records of one flow's dialogue (see `docs/output-schema.md`).

use serde::Serialize;

use super::protocol::Protocol;
use crate::capture::Timestamp;
use crate::flow::Direction;
use crate::mail::{AttachmentInfo, MessageInfo, ReceivedHop};

/// What a transcript line is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LineKind {
    /// A client command (`C:`), including continuation answers (SASL).
    Command,
    /// A server reply line (`S:`), untagged IMAP data included.
    Reply,
    /// Message content (SMTP DATA/BDAT, POP3 RETR/TOP, IMAP literals).
    Data,
    /// Encrypted bytes after STARTTLS or on an implicit-TLS port.
    Tls,
    /// Bytes missing from the capture.
    Gap,
}

/// One line of the textbook transcript.
#[derive(Clone, Debug, Serialize)]
pub struct TranscriptLine {
    pub flow: u64,
    pub ts: Timestamp,
    pub dir: Direction,
    pub kind: LineKind,
    pub text: String,
    /// Capture indices (0-based, like `first_packet`) of the packets that
    /// carried the line.
    pub packets: Vec<u64>,
    /// `"decrypted"` when the line travelled inside TLS and was read with
    /// a key log; absent for what crossed the wire in clear.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<&'static str>,
    /// Stream offsets `[start, end)` of the line's bytes in its direction
    /// (line ending included), so a viewer can mark them inside the
    /// packets. None for decrypted lines, whose offsets are in the
    /// plaintext, and for gaps.
    #[serde(skip)]
    pub span: Option<(u64, u64)>,
}

/// The `tls` of a record read from decrypted TLS.
pub const DECRYPTED: &str = "decrypted";

/// How a message travelled (the `via` of a `message` record).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Via {
    Data,
    Bdat,
    Retr,
    Top,
    Fetch,
    Append,
}

/// Largest message kept in memory for parsing and export. Bytes beyond it
/// are counted (size, hash) but not kept, and the message is marked
/// incomplete with a `message-truncated` finding: memory stays bounded
/// whatever a capture claims (`{4294967295}`, `BDAT 1000000000000`).
pub const MAX_MESSAGE_BYTES: usize = 64 << 20;

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Data => "DATA",
            Via::Bdat => "BDAT",
            Via::Retr => "RETR",
            Via::Top => "TOP",
            Via::Fetch => "FETCH",
            Via::Append => "APPEND",
        }
    }
}

/// Which part of a message a retrieval carried (the `part` of a `message`
/// record): the whole message, or for partial retrievals its header, its
/// text, POP3's TOP (RFC 1939 §7), or an IMAP section such as `1.2` or a
/// partial range like `full<0.100>` (RFC 3501 §6.4.5).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Part {
    Full,
    Header,
    Text,
    Top,
    Section(String),
}

impl Part {
    pub fn as_str(&self) -> &str {
        match self {
            Part::Full => "full",
            Part::Header => "header",
            Part::Text => "text",
            Part::Top => "top",
            Part::Section(s) => s,
        }
    }

    /// The whole message (its attachments are the message's).
    pub fn is_full(&self) -> bool {
        *self == Part::Full
    }
}

impl Serialize for Part {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A message as a parser hands it over: the exact bytes delivered (SMTP
/// dot-unstuffed, BDAT chunks joined, POP3 dot-unstuffed, IMAP literal
/// content) and what the protocol said around it.
#[derive(Clone, Debug)]
pub struct RawMessage {
    pub via: Via,
    pub part: Part,
    /// SMTP envelope (None for POP3/IMAP).
    pub helo: Option<String>,
    pub mail_from: Option<String>,
    pub rcpt_to: Option<Vec<String>>,
    pub bytes: Vec<u8>,
    /// No gap inside, and the end marker (`.` line, BDAT LAST, the whole
    /// literal) was seen.
    pub complete: bool,
    /// When its last byte was seen.
    pub ts: Timestamp,
    /// The command that carried it, as a person would cite it
    /// (`RETR 2`, `FETCH 1 (BODY[])`, `DATA`).
    pub command: String,
    /// POP3 message number or IMAP sequence number, when the protocol
    /// gave one.
    pub number: Option<u64>,
    /// IMAP UID, when the FETCH response gave one.
    pub uid: Option<u64>,
}

impl RawMessage {
    /// A message with nothing known but how it travelled.
    pub fn new(via: Via, part: Part, command: impl Into<String>) -> Self {
        RawMessage {
            via,
            part,
            helo: None,
            mail_from: None,
            rcpt_to: None,
            bytes: Vec::new(),
            complete: false,
            ts: Timestamp::default(),
            command: command.into(),
            number: None,
            uid: None,
        }
    }
}

/// The `message` record.
#[derive(Clone, Debug, Serialize)]
pub struct MessageRecord {
    pub flow: u64,
    /// The flow's [`FlowUid`](super::FlowUid), set when the flow is over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow_uid: Option<super::FlowUid>,
    pub protocol: Protocol,
    pub via: Via,
    pub helo: Option<String>,
    pub mail_from: Option<String>,
    pub rcpt_to: Option<Vec<String>>,
    pub message_id: Option<String>,
    pub subject: Option<String>,
    pub from: Vec<String>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub date: Option<String>,
    pub size: u64,
    pub sha256: String,
    pub complete: bool,
    pub part: Part,
    pub attachments: Vec<AttachmentInfo>,
    // Extra keys (allowed by the contract):
    pub ts: Timestamp,
    pub command: String,
    /// `Received:` headers, newest (top) first: the path the message took.
    pub received: Vec<String>,
    /// The same fields taken apart, oldest first, with the delay between
    /// hops ([`ReceivedHop`]).
    pub received_hops: Vec<ReceivedHop>,
    /// Its `Authentication-Results:` fields taken apart, topmost first:
    /// the SPF, DKIM and DMARC verdicts of the servers that received it
    /// ([`AuthResult`](crate::mail::AuthResult)), at most
    /// [`MAX_AUTH_RESULTS`](crate::mail::MAX_AUTH_RESULTS).
    pub auth_results: Vec<crate::mail::AuthResult>,
    /// `Reply-To:` addresses: where answers go.
    pub reply_to: Vec<String>,
    /// Web and FTP links of its text and HTML parts, attached messages
    /// included; each once, at most [`MAX_URLS`](crate::mail::MAX_URLS).
    pub urls: Vec<String>,
    /// The `List-Id:` of a mailing list's message (not in the records).
    #[serde(skip)]
    pub list_id: Option<String>,
    /// Display name of the From: header, RFC 2047-decoded.
    pub from_name: Option<String>,
    pub number: Option<u64>,
    pub uid: Option<u64>,
    /// POP3: DELE'd and the session ended with QUIT (the server deletes
    /// it: "download and delete"); IMAP: flagged `\Deleted` and expunged.
    /// None when the dialogue did not say.
    pub deleted: Option<bool>,
    /// `"decrypted"` when the message travelled inside TLS and was read
    /// with a key log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<&'static str>,
    /// `extract` only: path of the `.eml` file, relative to the output dir.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eml: Option<String>,
}

impl MessageRecord {
    /// The record of a message as its protocol delivered it; what the
    /// message says about itself (headers, attachments) is filled in by
    /// [`set_info`](Self::set_info) once it has been read.
    pub fn new(flow: u64, protocol: Protocol, raw: &RawMessage) -> Self {
        MessageRecord {
            flow,
            flow_uid: None,
            protocol,
            via: raw.via,
            helo: raw.helo.clone(),
            mail_from: raw.mail_from.clone(),
            rcpt_to: raw.rcpt_to.clone(),
            message_id: None,
            subject: None,
            from: Vec::new(),
            to: Vec::new(),
            cc: Vec::new(),
            date: None,
            size: raw.bytes.len() as u64,
            sha256: crate::mail::sha256_hex(&raw.bytes),
            complete: raw.complete,
            part: raw.part.clone(),
            attachments: Vec::new(),
            ts: raw.ts,
            command: raw.command.clone(),
            received: Vec::new(),
            received_hops: Vec::new(),
            auth_results: Vec::new(),
            reply_to: Vec::new(),
            urls: Vec::new(),
            list_id: None,
            from_name: None,
            number: raw.number,
            uid: raw.uid,
            deleted: None,
            tls: None,
            eml: None,
        }
    }

    /// What the message says about itself.
    ///
    /// In a message the capture holds only part of, the attachments the
    /// loss may have hit are not complete, whatever their bytes looked
    /// like. The bytes do not say where they were lost; the message's
    /// shape does: if they end inside a part, the message was cut there
    /// and the parts open at the end were cut with it; if every part was
    /// closed, bytes went missing somewhere inside, and no attachment can
    /// be vouched for.
    pub fn set_info(&mut self, info: MessageInfo) {
        self.message_id = info.message_id;
        self.subject = info.subject;
        self.from = info.from;
        self.to = info.to;
        self.cc = info.cc;
        self.date = info.date;
        self.attachments = info.attachments;
        if !self.complete {
            for a in &mut self.attachments {
                if a.open_at_end || !info.open_at_end {
                    a.complete = false;
                }
            }
        }
        self.received = info.received;
        self.received_hops = info.received_hops;
        self.auth_results = info.auth_results;
        self.reply_to = info.reply_to;
        self.urls = info.urls;
        self.list_id = info.list_id;
        self.from_name = info.from_name;
    }
}

/// The `credential` record.
#[derive(Clone, Debug, Serialize)]
pub struct Credential {
    pub flow: u64,
    /// The flow's [`FlowUid`](super::FlowUid), set when the flow is over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow_uid: Option<super::FlowUid>,
    pub protocol: Protocol,
    /// `PLAIN`, `LOGIN`, `CRAM-MD5`, `XOAUTH2`, `USER-PASS`, `APOP`,
    /// `IMAP-LOGIN`, or another SASL mechanism name as sent.
    pub mechanism: String,
    pub username: Option<String>,
    /// None when the mechanism does not reveal it (CRAM-MD5, APOP).
    pub password: Option<String>,
    /// Whether the server accepted it; None when its reply was not seen.
    pub success: Option<bool>,
    // Extra keys:
    /// The server's answer to the exchange, as its protocol writes a
    /// verdict: the SMTP reply code (`"235"`, `"535"`, `"503"`; RFC 4954
    /// §6), POP3's status indicator (`"+OK"`, `"-ERR"`; RFC 1939 §3), the
    /// IMAP tagged status (`"OK"`, `"NO"`, `"BAD"`; RFC 9051 §7.1), the
    /// SOCKS5 status byte (`"00"`; RFC 1929 §2). None when the capture
    /// ends before the server answered.
    pub reply: Option<String>,
    /// PLAIN's authorization identity, when it differs from the user.
    pub authzid: Option<String>,
    /// What an eavesdropper can do with it, when not obvious (CRAM-MD5 and
    /// APOP: the digest can be attacked offline with a word list).
    pub note: Option<String>,
    /// The lines that carried it, as sent (base64 and all).
    pub evidence: Vec<String>,
    pub ts: Timestamp,
    /// `"decrypted"` when it travelled inside TLS and was read with a key
    /// log: the endpoints saw it, an eavesdropper without the keys did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<&'static str>,
}

/// What became of an SMTP transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TxStatus {
    Delivered,
    Rejected,
    Aborted,
}

impl TxStatus {
    /// The JSON's (and the Parquet column's) name.
    pub fn as_str(self) -> &'static str {
        match self {
            TxStatus::Delivered => "delivered",
            TxStatus::Rejected => "rejected",
            TxStatus::Aborted => "aborted",
        }
    }
}

/// One RCPT TO of a transaction and the server's reply to it (the
/// `recipients` of a `transaction` record), as Zeek's `smtp.log` and
/// Arkime keep every recipient the client named.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Recipient {
    /// The address as sent, angle brackets kept (`"<bob@hamburger.edu>"`).
    pub address: String,
    /// The reply code (`250`, `550`, `503`); None when the reply is not in
    /// the capture.
    pub code: Option<u16>,
    /// The reply in short (code and last line: `"550 5.1.1 <x@y>: Recipient
    /// address rejected"`); None when not seen.
    pub reply: Option<String>,
}

/// The `transaction` record (SMTP): one per MAIL FROM.
#[derive(Clone, Debug, Serialize)]
pub struct Transaction {
    pub flow: u64,
    /// The flow's [`FlowUid`](super::FlowUid), set when the flow is over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow_uid: Option<super::FlowUid>,
    pub helo: Option<String>,
    pub mail_from: Option<String>,
    /// The recipients the server accepted (a 2xx reply to their RCPT). As
    /// long as the capture holds no reply at all from the server (one side
    /// captured), the recipients the client named.
    pub rcpt_to: Vec<String>,
    /// The recipients the server refused (4xx, 5xx, 503 "need MAIL").
    pub rcpt_rejected: Vec<String>,
    pub status: TxStatus,
    /// Index of its `message` record in the output (set when the output is
    /// written; inside a [`Dialogue`](super::Dialogue) it is the index in
    /// that flow's messages).
    pub message: Option<usize>,
    // Extra keys:
    pub ts: Timestamp,
    /// The server's reply to the end of data (or the rejection), when seen.
    pub reply: Option<String>,
    /// Every RCPT TO the client sent in this transaction, in order, each
    /// with the server's reply (`rcpt_to` and `rcpt_rejected` split them).
    pub recipients: Vec<Recipient>,
}
