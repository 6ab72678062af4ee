//! MTA-STS (RFC 8461): how a receiving domain says "deliver to me only over
//! TLS, to these exchangers, with a valid certificate", so that an attacker
//! on the path can no longer strip STARTTLS (`world::eve`).
//!
//! Two pieces, both here with `parse` and `emit`:
//!
//! * the TXT record at `_mta-sts.DOMAIN` (§3.1): `v=STSv1; id=…;`, which
//!   says a policy exists and which version it is (a sender refetches the
//!   policy when the id changes);
//! * the policy itself (§3.2), fetched over HTTPS from
//!   `https://mta-sts.DOMAIN/.well-known/mta-sts.txt`: `version: STSv1`,
//!   `mode: enforce|testing|none`, one `mx:` line per allowed exchanger
//!   (a leading `*.` matches one label, §4.1), `max_age` in seconds.
//!
//! HTTPS is the point: the policy's authenticity rests on the Web PKI, not
//! on DNS or on the SMTP path an attacker may control.

use std::fmt;

/// The well-known path of the policy (RFC 8461 §3.3).
pub const POLICY_PATH: &str = "/.well-known/mta-sts.txt";

/// The longest policy body a sender reads (RFC 8461 §3.3 suggests 64 KiB).
pub const MAX_POLICY: usize = 64 * 1024;

/// The longest `max_age` (RFC 8461 §3.2: about a year).
pub const MAX_AGE_LIMIT: u64 = 31_557_600;

/// The name of the TXT record of `domain` (RFC 8461 §3.1).
pub fn record_name(domain: &str) -> String {
    format!("_mta-sts.{domain}")
}

/// The host serving the policy of `domain` (RFC 8461 §3.3).
pub fn policy_host(domain: &str) -> String {
    format!("mta-sts.{domain}")
}

/// Why a record or a policy was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MtaStsError {
    #[error("the TXT record does not start with v=STSv1")]
    NotStsRecord,
    #[error("the TXT record has no valid id (1–32 letters and digits)")]
    BadId,
    #[error("the policy's first line is not \"version: STSv1\"")]
    BadVersion,
    #[error("the policy's mode {0:?} is none of enforce, testing, none")]
    BadMode(String),
    #[error("the policy has no mode")]
    NoMode,
    #[error("the policy's max_age {0:?} is not a number of seconds up to 31557600")]
    BadMaxAge(String),
    #[error("the policy has no max_age")]
    NoMaxAge,
    #[error("the policy in enforce or testing mode names no mx")]
    NoMx,
    #[error("the policy is larger than {MAX_POLICY} bytes")]
    TooLarge,
}

/// The TXT record: only its id matters to a sender.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StsRecord {
    pub id: String,
}

impl StsRecord {
    /// Parse `v=STSv1; id=20261207T101500;` (RFC 8461 §3.1: `v` first,
    /// fields separated by `;`, spaces around them allowed, unknown fields
    /// ignored).
    pub fn parse(text: &str) -> Result<StsRecord, MtaStsError> {
        let mut fields = text.split(';').map(str::trim).filter(|f| !f.is_empty());
        if fields.next() != Some("v=STSv1") {
            return Err(MtaStsError::NotStsRecord);
        }
        let id = fields
            .filter_map(|f| f.split_once('='))
            .find(|(k, _)| k.trim() == "id")
            .map(|(_, v)| v.trim())
            .filter(|v| (1..=32).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric()))
            .ok_or(MtaStsError::BadId)?;
        Ok(StsRecord { id: id.into() })
    }

    pub fn emit(&self) -> String {
        format!("v=STSv1; id={};", self.id)
    }
}

/// What a sender does when delivery cannot meet the policy (§5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Do not deliver: keep the message queued.
    Enforce,
    /// Deliver anyway, but report the failure (TLSRPT, RFC 8460).
    Testing,
    /// The domain withdrew its policy.
    None,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Testing => "testing",
            Mode::None => "none",
        }
    }
}

/// A policy (RFC 8461 §3.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub mode: Mode,
    /// Exchanger patterns: a host name, or `*.` and a domain.
    pub mx: Vec<String>,
    /// How long a sender may cache it, in seconds.
    pub max_age: u64,
}

impl Policy {
    /// Parse a policy body: `key: value` lines ending in CRLF or LF,
    /// `version` first; unknown keys are ignored, as §3.2 asks.
    pub fn parse(body: &[u8]) -> Result<Policy, MtaStsError> {
        if body.len() > MAX_POLICY {
            return Err(MtaStsError::TooLarge);
        }
        let text = String::from_utf8_lossy(body);
        let mut lines = text
            .split('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .filter(|l| !l.trim().is_empty());
        let pair = |l: &str| {
            l.split_once(':')
                .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        };
        if lines.next().and_then(pair) != Some(("version".into(), "STSv1".into())) {
            return Err(MtaStsError::BadVersion);
        }
        let (mut mode, mut max_age, mut mx) = (None, None, Vec::new());
        for (key, value) in lines.filter_map(pair) {
            match key.as_str() {
                "mode" => {
                    mode = Some(match value.as_str() {
                        "enforce" => Mode::Enforce,
                        "testing" => Mode::Testing,
                        "none" => Mode::None,
                        _ => return Err(MtaStsError::BadMode(value)),
                    })
                }
                "max_age" => {
                    max_age = Some(
                        value
                            .parse::<u64>()
                            .ok()
                            .filter(|a| *a <= MAX_AGE_LIMIT && value.len() <= 10)
                            .ok_or(MtaStsError::BadMaxAge(value))?,
                    )
                }
                "mx" => mx.push(value.to_ascii_lowercase()),
                _ => {}
            }
        }
        let mode = mode.ok_or(MtaStsError::NoMode)?;
        let max_age = max_age.ok_or(MtaStsError::NoMaxAge)?;
        if mode != Mode::None && mx.is_empty() {
            return Err(MtaStsError::NoMx);
        }
        Ok(Policy { mode, mx, max_age })
    }

    /// The body as a domain serves it (CRLF lines).
    pub fn emit(&self) -> String {
        let mut out = format!("version: STSv1\r\nmode: {}\r\n", self.mode.as_str());
        for mx in &self.mx {
            out.push_str(&format!("mx: {mx}\r\n"));
        }
        out.push_str(&format!("max_age: {}\r\n", self.max_age));
        out
    }

    /// Whether the exchanger `host` is one the policy allows (§4.1: an
    /// exact name, or `*.domain` matching exactly one more label).
    pub fn allows_mx(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.mx.iter().any(|p| match p.strip_prefix("*.") {
            Some(parent) => host
                .split_once('.')
                .is_some_and(|(label, rest)| !label.is_empty() && rest == parent),
            None => *p == host,
        })
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "mode {}, mx {}", self.mode.as_str(), self.mx.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records() {
        let r = StsRecord::parse("v=STSv1; id=20261207T101500;").unwrap();
        assert_eq!(r.id, "20261207T101500");
        assert_eq!(StsRecord::parse(&r.emit()), Ok(r));
        assert_eq!(StsRecord::parse("v=STSv1;id=abc123").unwrap().id, "abc123");
        assert_eq!(
            StsRecord::parse("v=STSv1; ext=1; id = x9 ;").unwrap().id,
            "x9"
        );
        assert_eq!(
            StsRecord::parse("v=spf1 -all"),
            Err(MtaStsError::NotStsRecord)
        );
        assert_eq!(
            StsRecord::parse("id=1; v=STSv1"),
            Err(MtaStsError::NotStsRecord)
        );
        assert_eq!(StsRecord::parse("v=STSv1;"), Err(MtaStsError::BadId));
        assert_eq!(StsRecord::parse("v=STSv1; id=a-b"), Err(MtaStsError::BadId));
        let long = format!("v=STSv1; id={}", "a".repeat(33));
        assert_eq!(StsRecord::parse(&long), Err(MtaStsError::BadId));
    }

    #[test]
    fn policies_round_trip_and_read_leniently() {
        let p = Policy {
            mode: Mode::Enforce,
            mx: vec!["hamburger.edu".into(), "*.mx.hamburger.edu".into()],
            max_age: 86_400,
        };
        assert_eq!(
            p.emit(),
            "version: STSv1\r\nmode: enforce\r\nmx: hamburger.edu\r\nmx: *.mx.hamburger.edu\r\nmax_age: 86400\r\n"
        );
        assert_eq!(Policy::parse(p.emit().as_bytes()), Ok(p));
        // LF endings, spaces, unknown keys, upper-case names.
        let q = Policy::parse(
            b"version: STSv1\nmode:testing\nfoo: bar\nmx: MX1.Example.COM\nmax_age:  604800\n",
        )
        .unwrap();
        assert_eq!(q.mode, Mode::Testing);
        assert_eq!(q.mx, ["mx1.example.com"]);
        assert_eq!(q.max_age, 604_800);
    }

    #[test]
    fn bad_policies_say_why() {
        for (body, err) in [
            (
                &b"mode: enforce\r\nversion: STSv1\r\n"[..],
                MtaStsError::BadVersion,
            ),
            (
                b"version: STSv2\r\nmode: enforce\r\n",
                MtaStsError::BadVersion,
            ),
            (b"", MtaStsError::BadVersion),
            (
                b"version: STSv1\r\nmx: a.b\r\nmax_age: 1\r\n",
                MtaStsError::NoMode,
            ),
            (
                b"version: STSv1\r\nmode: strict\r\n",
                MtaStsError::BadMode("strict".into()),
            ),
            (
                b"version: STSv1\r\nmode: enforce\r\nmx: a.b\r\n",
                MtaStsError::NoMaxAge,
            ),
            (
                b"version: STSv1\r\nmode: enforce\r\nmx: a.b\r\nmax_age: 99999999999\r\n",
                MtaStsError::BadMaxAge("99999999999".into()),
            ),
            (
                b"version: STSv1\r\nmode: enforce\r\nmax_age: 60\r\n",
                MtaStsError::NoMx,
            ),
        ] {
            assert_eq!(
                Policy::parse(body),
                Err(err),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        assert!(Policy::parse(b"version: STSv1\r\nmode: none\r\nmax_age: 60\r\n").is_ok());
        assert_eq!(
            Policy::parse(&vec![b'a'; MAX_POLICY + 1]),
            Err(MtaStsError::TooLarge)
        );
    }

    #[test]
    fn mx_patterns_match_one_label() {
        let p = Policy {
            mode: Mode::Enforce,
            mx: vec!["hamburger.edu".into(), "*.mx.crepes.fr".into()],
            max_age: 60,
        };
        assert!(p.allows_mx("hamburger.edu"));
        assert!(p.allows_mx("Hamburger.EDU."));
        assert!(p.allows_mx("a.mx.crepes.fr"));
        assert!(!p.allows_mx("mx.crepes.fr"));
        assert!(!p.allows_mx("a.b.mx.crepes.fr"));
        assert!(!p.allows_mx("eve.example"));
        assert!(!p.allows_mx("xhamburger.edu"));
    }
}
