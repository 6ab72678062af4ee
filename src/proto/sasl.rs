//! SASL (RFC 4422) as it travels inside SMTP AUTH (RFC 4954), POP3 AUTH
//! (RFC 5034) and IMAP AUTHENTICATE (RFC 9051 §6.2.2): what an eavesdropper
//! learns from each mechanism.
//!
//! All three protocols carry SASL the same way: the client names a
//! mechanism (perhaps with an initial response), the server sends base64
//! challenges on continuation lines (`334 …`, `+ …`), the client answers
//! each with one base64 line, and a final reply says yes or no. Base64 is an
//! encoding, not encryption: without TLS the secrets below are in clear.
//!
//! | mechanism | what the client sends (decoded)            | password revealed? |
//! |-----------|---------------------------------------------|--------------------|
//! | PLAIN     | `authzid NUL user NUL password` (RFC 4616)  | yes                |
//! | LOGIN     | `user`, then `password` (one line each)     | yes                |
//! | XOAUTH2   | `user=… ^A auth=Bearer token ^A^A`          | the token          |
//! | CRAM-MD5  | `user hex(HMAC-MD5(password, challenge))` (RFC 2195) | no, but the challenge and digest can be attacked offline |

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::trace::Credential;

/// Decodes one base64 line (SASL uses the standard alphabet with padding,
/// RFC 4648 §4). Whitespace around it is ignored; `=` alone is the empty
/// response (RFC 4954 §4).
pub fn decode_base64(line: &[u8]) -> Option<Vec<u8>> {
    let line = line.trim_ascii();
    if line == b"=" {
        return Some(Vec::new());
    }
    STANDARD.decode(line).ok().or_else(|| {
        // Some clients leave the padding off.
        base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(line.trim_ascii_end().strip_suffix(b"=").unwrap_or(line))
            .ok()
    })
}

/// Text of decoded bytes, lossy (user names and passwords are UTF-8 in
/// SASL, RFC 4422 §5, but captures hold anything).
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// PLAIN's message (RFC 4616 §2): `[authzid] NUL authcid NUL passwd`.
pub fn parse_plain(decoded: &[u8]) -> Option<(String, String, String)> {
    let mut parts = decoded.splitn(3, |&b| b == 0);
    let authzid = parts.next()?;
    let authcid = parts.next()?;
    let passwd = parts.next()?;
    Some((text(authzid), text(authcid), text(passwd)))
}

/// XOAUTH2's message: `user=U ^A auth=Bearer T ^A ^A`.
pub fn parse_xoauth2(decoded: &[u8]) -> Option<(String, String)> {
    let mut user = None;
    let mut token = None;
    for field in decoded.split(|&b| b == 1) {
        if let Some(u) = field.strip_prefix(b"user=") {
            user = Some(text(u));
        } else if let Some(a) = field.strip_prefix(b"auth=") {
            let a = a
                .strip_prefix(b"Bearer ")
                .or_else(|| a.strip_prefix(b"bearer "))
                .unwrap_or(a);
            token = Some(text(a));
        }
    }
    Some((user?, token?))
}

/// Follows one SASL exchange from the first command to the final reply.
#[derive(Clone, Debug)]
pub struct SaslExchange {
    mechanism: String,
    /// Client responses so far, decoded.
    responses: Vec<Vec<u8>>,
    /// Server challenges so far, decoded.
    challenges: Vec<Vec<u8>>,
    /// The lines as sent, for the eavesdropper's view.
    evidence: Vec<String>,
    cancelled: bool,
    emitted: bool,
}

impl SaslExchange {
    /// The client asked for `mechanism`, with an initial response (RFC 4954
    /// §4) or without.
    pub fn start(mechanism: &[u8], initial: Option<&[u8]>, command_line: &[u8]) -> Self {
        let mut ex = SaslExchange {
            mechanism: text(mechanism).to_ascii_uppercase(),
            responses: Vec::new(),
            challenges: Vec::new(),
            evidence: vec![text(command_line)],
            cancelled: false,
            emitted: false,
        };
        if let Some(initial) = initial {
            ex.responses
                .push(decode_base64(initial).unwrap_or_default());
        }
        ex
    }

    /// A server challenge (the base64 text after `334 ` or `+ `).
    pub fn challenge(&mut self, b64: &[u8]) {
        self.challenges.push(decode_base64(b64).unwrap_or_default());
    }

    /// A client response line. `*` cancels the exchange (RFC 4954 §4).
    pub fn response(&mut self, line: &[u8]) {
        self.evidence.push(text(line));
        if line.trim_ascii() == b"*" {
            self.cancelled = true;
            return;
        }
        self.responses.push(decode_base64(line).unwrap_or_default());
    }

    #[cfg(test)]
    pub fn cancelled(&self) -> bool {
        self.cancelled
    }

    /// True once the client has said everything the mechanism needs, so the
    /// credential can be reported (before the server's verdict).
    pub fn client_done(&self) -> bool {
        let n = self.responses.len();
        match self.mechanism.as_str() {
            "LOGIN" => n >= 2,
            "PLAIN" | "XOAUTH2" | "CRAM-MD5" | "OAUTHBEARER" => n >= 1,
            _ => false,
        }
    }

    /// True when the client has sent something the mechanism could read:
    /// a response that decodes to at least one byte. A bare `AUTH PLAIN`
    /// refused at once (RFC 4954 §4: `504`, `535`, `503` when already
    /// authenticated), an empty `=` response, a `*` cancel or base64 that
    /// does not decode reveal nothing.
    pub fn client_sent_anything(&self) -> bool {
        self.responses.iter().any(|r| !r.is_empty())
    }

    /// The credential, once per exchange: when the client is done, or at
    /// the final reply with whatever was learnt. `None` if already given,
    /// if the client sent nothing the mechanism could read (see
    /// [`client_sent_anything`](Self::client_sent_anything)): then there
    /// is no credential to report, and no user to name in a
    /// `plaintext-auth` finding.
    pub fn take_credential(&mut self) -> Option<Credential> {
        if self.emitted || !self.client_sent_anything() {
            return None;
        }
        self.emitted = true;
        let mut c = Credential::new(self.mechanism.clone());
        c.evidence = std::mem::take(&mut self.evidence);
        let first = self.responses.first().map(Vec::as_slice);
        match self.mechanism.as_str() {
            "PLAIN" => {
                if let Some((authzid, user, pass)) = first.and_then(parse_plain) {
                    c.username = Some(user.clone());
                    c.password = Some(pass);
                    if !authzid.is_empty() && authzid != user {
                        c.authzid = Some(authzid);
                    }
                }
            }
            "LOGIN" => {
                c.username = first.map(text);
                c.password = self.responses.get(1).map(|p| text(p));
            }
            "XOAUTH2" => {
                if let Some((user, token)) = first.and_then(parse_xoauth2) {
                    c.username = Some(user);
                    c.password = Some(token);
                    c.note = Some("an OAuth 2.0 bearer token: whoever has it can use the account until it expires".into());
                }
            }
            "CRAM-MD5" => {
                if let Some(resp) = first {
                    let resp = text(resp);
                    let (user, digest) = resp.rsplit_once(' ').unwrap_or((&resp, ""));
                    c.username = Some(user.to_string());
                    let challenge = self.challenges.first().map(|c| text(c)).unwrap_or_default();
                    c.note = Some(format!(
                        "the password is not revealed, but challenge {challenge:?} and digest {digest} can be attacked offline with a word list"
                    ));
                }
            }
            _ => {
                // SCRAM's client-first message names the user (RFC 5802
                // §5.1: "n,,n=user,r=nonce"); other mechanisms reveal no
                // password.
                if let Some(f) = first {
                    let f = text(f);
                    c.username = f
                        .split(',')
                        .find_map(|p| p.strip_prefix("n="))
                        .map(str::to_string);
                }
            }
        }
        Some(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_with_and_without_authzid() {
        // "\0bob\0hungry"
        let mut ex = SaslExchange::start(
            b"plain",
            Some(b"AGJvYgBodW5ncnk="),
            b"AUTH PLAIN AGJvYgBodW5ncnk=",
        );
        assert!(ex.client_done());
        let c = ex.take_credential().unwrap();
        assert_eq!(c.mechanism, "PLAIN");
        assert_eq!(c.username.as_deref(), Some("bob"));
        assert_eq!(c.password.as_deref(), Some("hungry"));
        assert_eq!(c.authzid, None);
        assert!(ex.take_credential().is_none());
        let (z, u, p) = parse_plain(b"admin\0bob\0pw").unwrap();
        assert_eq!((z.as_str(), u.as_str(), p.as_str()), ("admin", "bob", "pw"));
    }

    #[test]
    fn login_two_steps() {
        let mut ex = SaslExchange::start(b"LOGIN", None, b"AUTH LOGIN");
        ex.challenge(b"VXNlcm5hbWU6");
        ex.response(b"Ym9i");
        assert!(!ex.client_done());
        ex.challenge(b"UGFzc3dvcmQ6");
        ex.response(b"aHVuZ3J5");
        assert!(ex.client_done());
        let c = ex.take_credential().unwrap();
        assert_eq!(
            (c.username.unwrap(), c.password.unwrap()),
            ("bob".into(), "hungry".into())
        );
        assert_eq!(c.evidence, vec!["AUTH LOGIN", "Ym9i", "aHVuZ3J5"]);
    }

    #[test]
    fn cram_md5_does_not_reveal_the_password() {
        // RFC 2195 §2's example.
        let mut ex = SaslExchange::start(b"CRAM-MD5", None, b"AUTH CRAM-MD5");
        ex.challenge(b"PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+");
        ex.response(b"dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw");
        let c = ex.take_credential().unwrap();
        assert_eq!(c.username.as_deref(), Some("tim"));
        assert_eq!(c.password, None);
        assert!(c.note.unwrap().contains("b913a602c7eda7a495b4e6e7334d3890"));
    }

    #[test]
    fn xoauth2_token_and_cancel() {
        let raw = b"user=someuser@example.com\x01auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\x01\x01";
        let b64 = STANDARD.encode(raw);
        let mut ex = SaslExchange::start(b"XOAUTH2", Some(b64.as_bytes()), b"AUTH XOAUTH2 ...");
        let c = ex.take_credential().unwrap();
        assert_eq!(c.username.as_deref(), Some("someuser@example.com"));
        assert_eq!(
            c.password.as_deref(),
            Some("ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg")
        );
        let mut ex = SaslExchange::start(b"LOGIN", None, b"AUTH LOGIN");
        ex.response(b"*");
        assert!(ex.cancelled());
        assert!(ex.take_credential().is_none());
    }

    #[test]
    fn nothing_readable_sent_is_no_credential() {
        // Refused at once: no response at all.
        let mut ex = SaslExchange::start(b"PLAIN", None, b"AUTH PLAIN");
        assert!(!ex.client_sent_anything());
        assert!(ex.take_credential().is_none());
        // An empty response ("="), then a cancel.
        let mut ex = SaslExchange::start(b"LOGIN", None, b"AUTH LOGIN");
        ex.response(b"=");
        ex.response(b"*");
        assert!(ex.take_credential().is_none());
        // A challenge answered with something: a credential, once.
        let mut ex = SaslExchange::start(b"CRAM-MD5", None, b"AUTH CRAM-MD5");
        ex.challenge(b"PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+");
        assert!(ex.take_credential().is_none());
        ex.response(b"dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw");
        assert_eq!(
            ex.take_credential().unwrap().username.as_deref(),
            Some("tim")
        );
        assert!(ex.take_credential().is_none());
    }

    #[test]
    fn empty_response_and_missing_padding() {
        assert_eq!(decode_base64(b"="), Some(Vec::new()));
        assert_eq!(decode_base64(b"Ym9i\r"), Some(b"bob".to_vec()));
        assert_eq!(decode_base64(b"Ym9iYg"), Some(b"bobb".to_vec()));
        assert_eq!(decode_base64(b"!!"), None);
    }
}
