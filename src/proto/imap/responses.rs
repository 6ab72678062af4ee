//! What a server's response tells the analyzer: the capabilities (was
//! STARTTLS offered?), SASL challenges, the UID of a fetched message,
//! expunged messages, and the tagged completion that settles a command
//! (was the login accepted, may TLS start?).

use super::commands::Cmd;
use super::parser::State;
use super::response::{Response, ResponseError, Status};
use super::syntax::{Fragment, Tok};
use crate::proto::{quote, text};
use crate::trace::{Dialogue, FindingCode, Severity};

impl State {
    /// A server's logical line; `messages` are those its literals carried.
    pub(super) fn response(
        &mut self,
        fragments: &mut [Fragment],
        messages: &[usize],
        out: &mut Dialogue,
    ) {
        if !matches!(fragments.first(), Some(Fragment::Line(_))) {
            return;
        }
        let response = match Response::parse(fragments) {
            Ok(r) => r,
            Err(ResponseError::Empty) => return,
            Err(ResponseError::NotAStatus) => {
                out.finding(
                    Severity::Info,
                    FindingCode::ProtocolAnomaly,
                    format!(
                        "not an IMAP response: {}",
                        quote(super::commands::first_line(fragments))
                    ),
                );
                return;
            }
        };
        if let Some(caps) = response.capabilities() {
            self.capabilities_starttls |= caps.iter().any(|c| c.eq_ignore_ascii_case("STARTTLS"));
            out.capabilities = caps;
        }
        match &response {
            Response::Continuation(challenge) => {
                // A SASL challenge, or the go-ahead for a literal or IDLE.
                if let Some((_, ex, _)) = self.sasl.as_mut() {
                    ex.challenge(challenge);
                    self.sasl_awaiting_response = true;
                }
            }
            Response::Data {
                number: Some(n),
                name,
                ..
            } => match name.as_str() {
                "FETCH" => {
                    if let Some(uid) = response.fetch_item("UID").and_then(Tok::number) {
                        for &i in messages {
                            out.messages[i].uid = Some(uid);
                        }
                    }
                }
                "EXPUNGE" => self.expunged(*n, out),
                _ => {}
            },
            Response::Data { .. } | Response::Status { tag: None, .. } => {}
            Response::Status {
                tag: Some(tag),
                status,
                ..
            } => self.completed(tag, *status, super::commands::first_line(fragments), out),
        }
    }

    /// The tagged completion of a command (RFC 9051 §7.1): OK, NO or BAD.
    fn completed(&mut self, tag: &str, status: Status, line: &[u8], out: &mut Dialogue) {
        let Some(cmd) = self.pending.remove(tag) else {
            return;
        };
        self.order.retain(|t| t != tag);
        let ok = status == Status::Ok;
        match cmd {
            Cmd::Login(i) => out.credential_result(i, ok, status.as_str()),
            Cmd::Authenticate => {
                self.sasl_awaiting_response = false;
                if let Some((_, mut ex, idx)) = self.sasl.take() {
                    let idx = idx.or_else(|| {
                        ex.take_credential()
                            .map(|c| self.report(c, "AUTHENTICATE", out))
                    });
                    if let Some(i) = idx {
                        out.credential_result(i, ok, status.as_str());
                    }
                }
            }
            Cmd::Starttls => {
                if ok {
                    self.tls = true;
                } else {
                    out.starttls_refused("STARTTLS", &text(line));
                }
            }
            Cmd::Expunge | Cmd::Append | Cmd::Other => {}
        }
    }

    /// `* n EXPUNGE` (RFC 9051 §7.5.1): message n is gone, and every later
    /// message's sequence number drops by one.
    fn expunged(&mut self, n: u64, out: &mut Dialogue) {
        self.fetched.retain_mut(|(seq, idx)| {
            if *seq == n {
                out.messages[*idx].deleted = Some(true);
                false
            } else {
                if *seq > n {
                    *seq -= 1;
                }
                true
            }
        });
    }
}
