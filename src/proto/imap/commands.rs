//! What a client's command tells the analyzer: credentials (LOGIN,
//! AUTHENTICATE with SASL-IR, RFC 4959), the switch to TLS (STARTTLS),
//! IDLE (RFC 2177), the FETCH that messages will cite; and the tags that
//! wait for their completion (RFC 9051 §2.2.1).

use super::command::{Command, CommandError};
use super::parser::State;
use super::syntax::{Fragment, Mode};
use crate::proto::sasl::SaslExchange;
use crate::proto::{quote, text};
use crate::trace::{Credential, Dialogue, FindingCode, Severity};

/// Tagged commands waiting for their completion reply.
const MAX_PENDING: usize = 1000;

/// A tagged command waiting for its completion.
#[derive(Debug)]
pub(super) enum Cmd {
    /// LOGIN, with the index of the credential it showed.
    Login(usize),
    Authenticate,
    Starttls,
    Expunge,
    Append,
    Other,
}

impl State {
    /// Client lines that are not tagged commands: SASL responses and the
    /// DONE that ends IDLE. True when the line was one of those.
    pub(super) fn expects_bare_line(&mut self, t: &[u8], out: &mut Dialogue) -> bool {
        if self.sasl_awaiting_response
            && let Some((_, ex, idx)) = self.sasl.as_mut()
        {
            self.sasl_awaiting_response = false;
            ex.response(t);
            if idx.is_none()
                && ex.client_done()
                && let Some(c) = ex.take_credential()
            {
                let i = self.report(c, "AUTHENTICATE", out);
                if let Some((_, _, idx)) = self.sasl.as_mut() {
                    *idx = Some(i);
                }
            }
            return true;
        }
        if self.idling && t.trim_ascii().eq_ignore_ascii_case(b"DONE") {
            self.idling = false;
            return true;
        }
        false
    }

    fn remember(&mut self, tag: String, cmd: Cmd) {
        if self.order.len() >= MAX_PENDING
            && let Some(old) = self.order.pop_front()
        {
            self.pending.remove(&old);
        }
        self.order.push_back(tag.clone());
        self.pending.insert(tag, cmd);
    }

    /// A client's logical line.
    pub(super) fn command(&mut self, fragments: &mut [Fragment], out: &mut Dialogue) {
        // The command as it was sent, literals in place: the evidence of a
        // LOGIN, kept before parsing moves the literals out (and only for
        // LOGIN: every other command would pay for copies nobody reads).
        let evidence: Vec<String> = if names_login(fragments) {
            fragments
                .iter()
                .map(|f| match f {
                    Fragment::Line(t) | Fragment::Literal(t) => text(t),
                    Fragment::Omitted(n) => format!("[{n} bytes]"),
                })
                .collect()
        } else {
            Vec::new()
        };
        let cmd = match Command::parse(fragments, Mode::Lenient) {
            Ok(cmd) => cmd,
            Err(CommandError::Empty) => return,
            Err(e) => {
                let what = match e {
                    CommandError::NoName { .. } => "not an IMAP command (no tag and command)",
                    _ => "not an IMAP command",
                };
                out.finding(
                    Severity::Info,
                    FindingCode::ProtocolAnomaly,
                    format!("{what}: {}", quote(first_line(fragments))),
                );
                return;
            }
        };
        // Parsing moves only literals out: the first line is still there.
        let line_text = first_line(fragments);
        let state = match (cmd.name.as_str(), cmd.uid_command().as_deref()) {
            // A LOGIN without arguments reveals nothing (the server answers
            // BAD): no credential, no user to name.
            ("LOGIN", _) if cmd.astring(0).is_none() => Cmd::Other,
            ("LOGIN", _) => {
                let mut c = Credential::new("IMAP-LOGIN");
                c.username = cmd.astring(0).map(text);
                c.password = cmd.astring(1).map(text);
                c.evidence = evidence;
                Cmd::Login(self.report(c, "LOGIN", out))
            }
            ("AUTHENTICATE", _) => {
                let mech = cmd.astring(0).unwrap_or_default();
                let mut ex = SaslExchange::start(mech, cmd.astring(1), line_text);
                let idx = if ex.client_done() {
                    ex.take_credential()
                        .map(|c| self.report(c, "AUTHENTICATE", out))
                } else {
                    None
                };
                self.sasl = Some((cmd.tag.clone(), ex, idx));
                self.sasl_awaiting_response = false;
                Cmd::Authenticate
            }
            ("STARTTLS", _) => {
                self.starttls_asked = true;
                Cmd::Starttls
            }
            ("IDLE", _) => {
                self.idling = true;
                Cmd::Other
            }
            ("FETCH", _) | ("UID", Some("FETCH")) => {
                self.last_fetch = Some(text(line_text));
                Cmd::Other
            }
            ("EXPUNGE" | "CLOSE", _) | ("UID", Some("EXPUNGE")) => Cmd::Expunge,
            ("APPEND", _) => Cmd::Append,
            _ => Cmd::Other,
        };
        self.remember(cmd.tag, state);
    }

    /// A credential seen: into the dialogue, with the plaintext-auth
    /// finding when it crossed in the clear. Returns its index.
    pub(super) fn report(&mut self, c: Credential, how: &str, out: &mut Dialogue) -> usize {
        let what = match how {
            "LOGIN" => "IMAP LOGIN".to_string(),
            _ => format!("IMAP AUTHENTICATE {}", c.mechanism),
        };
        out.credential_seen(c, &what, self.tls)
    }
}

/// The first line of a logical line (empty if it starts otherwise).
pub(super) fn first_line(fragments: &[Fragment]) -> &[u8] {
    match fragments.first() {
        Some(Fragment::Line(t)) => t,
        _ => &[],
    }
}

/// Whether the command's name (the word after the tag, RFC 9051 §2.2.1)
/// is LOGIN.
fn names_login(fragments: &[Fragment]) -> bool {
    first_line(fragments)
        .split(|&b| b == b' ')
        .nth(1)
        .is_some_and(|name| name.eq_ignore_ascii_case(b"LOGIN"))
}
