//! Which application protocol a flow speaks, and whether it is encrypted:
//! the `protocol` and `tls` of a `flow` record.

/// The protocols mailscope tells apart (the `protocol` of a `flow` record).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Smtp,
    Pop3,
    Imap,
    /// TLS on a port that does not say what it carries.
    Tls,
    Unknown,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Smtp => "smtp",
            Protocol::Pop3 => "pop3",
            Protocol::Imap => "imap",
            Protocol::Tls => "tls",
            Protocol::Unknown => "unknown",
        }
    }

    pub fn is_mail(self) -> bool {
        matches!(self, Protocol::Smtp | Protocol::Pop3 | Protocol::Imap)
    }
}

/// Whether (and how) a flow is encrypted (the `tls` of a `flow` record).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// Plaintext throughout.
    None,
    /// Plaintext first, then upgraded with STARTTLS/STLS (RFC 3207, 2595).
    Starttls,
    /// TLS from the first byte (ports 465, 993, 995; RFC 8314).
    Implicit,
}

impl TlsMode {
    pub fn as_str(self) -> &'static str {
        match self {
            TlsMode::None => "none",
            TlsMode::Starttls => "starttls",
            TlsMode::Implicit => "implicit",
        }
    }
}

/// What a flow speaks, with a short reason a person can check (the
/// `protocol`, `tls` and `protocol_reason` of a `flow` record).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Verdict {
    pub protocol: Protocol,
    pub tls: TlsMode,
    pub reason: &'static str,
}
