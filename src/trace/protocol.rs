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
/// `protocol`, `tls`, `protocol_reason` and `tunnel` of a `flow` record).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Verdict {
    pub protocol: Protocol,
    pub tls: TlsMode,
    pub reason: &'static str,
    /// The proxy tunnel the protocol was spoken in, if any.
    pub tunnel: Option<Tunnel>,
}

/// Which kind of proxy tunnel a flow went through (the `kind` of a flow
/// record's `tunnel`; `proto::tunnel` recognises them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TunnelKind {
    HttpConnect,
    Socks4,
    Socks5,
}

impl TunnelKind {
    /// The JSON's (and the Parquet column's) name.
    pub fn as_str(self) -> &'static str {
        match self {
            TunnelKind::HttpConnect => "http-connect",
            TunnelKind::Socks4 => "socks4",
            TunnelKind::Socks5 => "socks5",
        }
    }
}

/// A tunnel that was set up: where the client asked to go, and where the
/// tunnelled bytes start in each direction (stream offsets).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Tunnel {
    pub kind: TunnelKind,
    /// The target host as the client gave it (a name or an address).
    pub host: String,
    pub port: u16,
    /// The user name the client gave the proxy (SOCKS4's user id, SOCKS5's
    /// RFC 1929 user), when it gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The SOCKS5 password, sent in clear (RFC 1929).
    #[serde(skip)]
    pub password: Option<String>,
    /// Stream offset of the first tunnelled byte, `[c2s, s2c]`.
    #[serde(skip)]
    pub inner_start: [u64; 2],
}
