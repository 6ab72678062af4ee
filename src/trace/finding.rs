//! Findings: what the analyzer thinks a person should look at.
//!
//! Every finding has a [`FindingCode`]: a closed list, so a report, a test or
//! the window's Spanish table can never miss one (the compiler checks every
//! `match`). The JSON keeps the kebab-case names of the output contract
//! (`plaintext-auth`, `starttls-not-used`, …).

use serde::Serialize;

use crate::capture::reader::WarningKind;
use crate::capture::{CaptureWarning, Timestamp};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Medium,
    High,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}

/// The code of a finding (the `code` of a `finding` record).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingCode {
    /// At least three refused logins from one client address to one server
    /// within a few minutes, across its SMTP, POP3 and IMAP connections
    /// (`analysis::login_guessing`).
    AuthGuessing,
    /// A line ended with LF alone (RFC 5321 §2.3.8 requires CRLF).
    BareLf,
    /// The capture file itself is damaged: a record was cut short.
    CaptureTruncated,
    /// The capture file itself is damaged: a record is not what it claims.
    CaptureCorrupt,
    /// A pcapng block type the reader does not know (skipped).
    CaptureUnknownBlock,
    /// A packet names an interface the capture never described.
    CaptureUnknownInterface,
    /// The server refused the message at the end of DATA/BDAT.
    DataRejected,
    /// The From: display name holds an address that is not the sender's
    /// (`"boss@hamburger.edu" <attacker@evil.example>`).
    DisplayNameSpoof,
    /// The envelope sender's domain is not the From: header's.
    FromMismatch,
    /// Bytes of the stream are missing from the capture.
    GapInStream,
    /// A message bigger than the memory budget: only its start is kept.
    MessageTruncated,
    /// An SMTP session without TLS to an exchanger of a domain that
    /// publishes an MTA-STS policy (RFC 8461), the policy's TXT record
    /// being in the same capture.
    MtaStsViolation,
    /// A server passed an unauthenticated client's message for a domain
    /// that is not its own on to another server (the message's path across
    /// flows shows it).
    OpenRelay,
    /// A line longer than the protocol allows.
    OverlongLine,
    /// A password (or a reusable secret) crossed the wire without TLS.
    PlaintextAuth,
    /// POP3 messages marked with DELE but the session ended without QUIT.
    Pop3DeletionsNotCommitted,
    /// Something that does not follow the protocol.
    ProtocolAnomaly,
    /// Reply-To: sends the answers to a domain other than the From:'s.
    ReplyToMismatch,
    /// SMTP message text with a lone "." next to a bare LF or CR: where
    /// the message ends depends on who reads it (SMTP smuggling).
    SmtpSmuggling,
    /// The server offered STARTTLS/STLS and the client never used it.
    StarttlsNotUsed,
    /// The server refused STARTTLS/STLS.
    StarttlsRefused,
    /// A middlebox blanked the STARTTLS offer (`XXXXXXXA`).
    StarttlsStripped,
    /// TLS records with a cipher the decryptor does not implement.
    TlsCipherUnsupported,
    /// TLS records could not be opened with the keys given.
    TlsDecryptFailed,
    /// The key log does not know this TLS session.
    TlsNoKeys,
    /// A multi-line response ended without its final "." line.
    UnterminatedResponse,
}

impl FindingCode {
    /// Every code, in the order of the enum (sorted by name).
    pub const ALL: [FindingCode; 26] = [
        FindingCode::AuthGuessing,
        FindingCode::BareLf,
        FindingCode::CaptureTruncated,
        FindingCode::CaptureCorrupt,
        FindingCode::CaptureUnknownBlock,
        FindingCode::CaptureUnknownInterface,
        FindingCode::DataRejected,
        FindingCode::DisplayNameSpoof,
        FindingCode::FromMismatch,
        FindingCode::GapInStream,
        FindingCode::MessageTruncated,
        FindingCode::MtaStsViolation,
        FindingCode::OpenRelay,
        FindingCode::OverlongLine,
        FindingCode::PlaintextAuth,
        FindingCode::Pop3DeletionsNotCommitted,
        FindingCode::ProtocolAnomaly,
        FindingCode::ReplyToMismatch,
        FindingCode::SmtpSmuggling,
        FindingCode::StarttlsNotUsed,
        FindingCode::StarttlsRefused,
        FindingCode::StarttlsStripped,
        FindingCode::TlsCipherUnsupported,
        FindingCode::TlsDecryptFailed,
        FindingCode::TlsNoKeys,
        FindingCode::UnterminatedResponse,
    ];

    /// The kebab-case name of the JSON records.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingCode::AuthGuessing => "auth-guessing",
            FindingCode::BareLf => "bare-lf",
            FindingCode::CaptureTruncated => "capture-truncated",
            FindingCode::CaptureCorrupt => "capture-corrupt",
            FindingCode::CaptureUnknownBlock => "capture-unknown-block",
            FindingCode::CaptureUnknownInterface => "capture-unknown-interface",
            FindingCode::DataRejected => "data-rejected",
            FindingCode::DisplayNameSpoof => "display-name-spoof",
            FindingCode::FromMismatch => "from-mismatch",
            FindingCode::GapInStream => "gap-in-stream",
            FindingCode::MessageTruncated => "message-truncated",
            FindingCode::MtaStsViolation => "mta-sts-violation",
            FindingCode::OpenRelay => "open-relay",
            FindingCode::OverlongLine => "overlong-line",
            FindingCode::PlaintextAuth => "plaintext-auth",
            FindingCode::Pop3DeletionsNotCommitted => "pop3-deletions-not-committed",
            FindingCode::ProtocolAnomaly => "protocol-anomaly",
            FindingCode::ReplyToMismatch => "reply-to-mismatch",
            FindingCode::SmtpSmuggling => "smtp-smuggling",
            FindingCode::StarttlsNotUsed => "starttls-not-used",
            FindingCode::StarttlsRefused => "starttls-refused",
            FindingCode::StarttlsStripped => "starttls-stripped",
            FindingCode::TlsCipherUnsupported => "tls-cipher-unsupported",
            FindingCode::TlsDecryptFailed => "tls-decrypt-failed",
            FindingCode::TlsNoKeys => "tls-no-keys",
            FindingCode::UnterminatedResponse => "unterminated-response",
        }
    }

    /// What a finding with this code means, in one English sentence (the
    /// finding's own message gives the particulars of the case).
    pub fn meaning(self) -> &'static str {
        match self {
            FindingCode::AuthGuessing => {
                "Many refused logins from one client to one server in a short time: someone guessing passwords"
            }
            FindingCode::BareLf => {
                "Lines end with LF alone instead of CRLF, which the protocol requires"
            }
            FindingCode::CaptureTruncated => "The capture file is cut short: what follows is lost",
            FindingCode::CaptureCorrupt => {
                "A record of the capture file is damaged and was skipped"
            }
            FindingCode::CaptureUnknownBlock => {
                "A block of the capture file of an unknown type was skipped"
            }
            FindingCode::CaptureUnknownInterface => {
                "A packet names an interface the capture never described"
            }
            FindingCode::DataRejected => {
                "The server refused the message at the end of DATA: it was not delivered"
            }
            FindingCode::DisplayNameSpoof => {
                "The sender's display name shows an address that is not the real sender's: a reader sees the name, not the address"
            }
            FindingCode::FromMismatch => {
                "The envelope sender (MAIL FROM) does not match the message's From: possible spoofing"
            }
            FindingCode::GapInStream => {
                "Bytes of the connection are missing from the capture: what they carried is lost"
            }
            FindingCode::MessageTruncated => {
                "A message too large to keep: only its beginning is kept"
            }
            FindingCode::MtaStsViolation => {
                "An SMTP session without TLS to a mail server of a domain whose MTA-STS policy demands TLS"
            }
            FindingCode::OpenRelay => {
                "The server passed an unauthenticated client's mail for another domain on to another server: an open relay"
            }
            FindingCode::OverlongLine => "A line is longer than the protocol allows",
            FindingCode::PlaintextAuth => {
                "Credentials sent without TLS: anyone on the path can read them (base64 is not encryption)"
            }
            FindingCode::Pop3DeletionsNotCommitted => {
                "Messages marked with DELE but the session ended without QUIT: the server keeps them"
            }
            FindingCode::ProtocolAnomaly => {
                "Something that does not follow the protocol (a command or reply out of place)"
            }
            FindingCode::ReplyToMismatch => {
                "Replies go to a domain other than the sender's (Reply-To:): answers reach someone else"
            }
            FindingCode::SmtpSmuggling => {
                "The message text holds a lone \".\" next to a bare LF or CR: a server and a relaying client may disagree about where the message ends, and the rest can become a forged message (SMTP smuggling)"
            }
            FindingCode::StarttlsNotUsed => {
                "The server offered STARTTLS but the client never used it: the whole session was in clear"
            }
            FindingCode::StarttlsRefused => {
                "The server refused STARTTLS: the session went on in clear"
            }
            FindingCode::StarttlsStripped => {
                "Someone on the path erased the STARTTLS offer (a downgrade attack or a firewall)"
            }
            FindingCode::TlsCipherUnsupported => {
                "The TLS session uses a cipher mailscope cannot decrypt"
            }
            FindingCode::TlsDecryptFailed => {
                "The TLS session could not be decrypted with the keys given"
            }
            FindingCode::TlsNoKeys => "The key log has no secrets for this TLS session",
            FindingCode::UnterminatedResponse => {
                "A multi-line response never ended with its \".\" line: the parser picked up again at the next reply"
            }
        }
    }
}

impl std::fmt::Display for FindingCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// The `finding` record.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    /// None for a finding about the capture file rather than one flow.
    pub flow: Option<u64>,
    /// The flow's [`FlowUid`](super::FlowUid), set when the flow is over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow_uid: Option<super::FlowUid>,
    pub severity: Severity,
    pub code: FindingCode,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ts: Option<Timestamp>,
    /// Capture findings: the file offset of the damage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
}

impl Finding {
    /// A finding about the capture file itself (not about one flow):
    /// damage that was read past or stopped at.
    pub fn of_capture(w: &CaptureWarning) -> Self {
        let (severity, code) = match w.kind {
            WarningKind::TruncatedRecord { .. } => {
                (Severity::Medium, FindingCode::CaptureTruncated)
            }
            WarningKind::CorruptRecord { .. } => (Severity::Medium, FindingCode::CaptureCorrupt),
            WarningKind::UnknownBlock { .. } => (Severity::Info, FindingCode::CaptureUnknownBlock),
            WarningKind::UnknownInterface { .. } => {
                (Severity::Medium, FindingCode::CaptureUnknownInterface)
            }
            WarningKind::NotRead { .. } | WarningKind::Decompression { .. } => {
                (Severity::Medium, FindingCode::CaptureCorrupt)
            }
        };
        Finding {
            flow: None,
            flow_uid: None,
            severity,
            code,
            message: w.to_string(),
            ts: None,
            offset: Some(w.offset),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_listed_once_in_order_and_named_as_in_json() {
        let mut sorted = FindingCode::ALL.to_vec();
        sorted.sort_by_key(|c| c.as_str());
        sorted.dedup();
        assert_eq!(sorted.len(), FindingCode::ALL.len());
        for code in FindingCode::ALL {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert!(!code.meaning().is_empty());
        }
    }
}
