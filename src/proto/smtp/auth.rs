//! AUTH (RFC 4954): the client names a SASL mechanism, the server answers
//! 334 challenges until 235 (accepted) or 535 (refused). What each
//! mechanism reveals on the wire is [`crate::proto::sasl`]'s business;
//! here the exchange is followed and the credential reported.

use super::parser::State;
use super::reply::Reply;
use crate::proto::sasl::SaslExchange;
use crate::trace::{Credential, Dialogue, FindingCode, Severity};

impl State {
    /// `AUTH mechanism [initial-response]` (RFC 4954 §4).
    pub(super) fn start_auth(
        &mut self,
        mechanism: &str,
        initial_response: Option<&str>,
        command_line: &[u8],
        out: &mut Dialogue,
    ) {
        let ex = SaslExchange::start(
            mechanism.as_bytes(),
            initial_response.map(str::as_bytes),
            command_line,
        );
        self.sasl = Some((ex, None));
        self.sasl_awaiting_response = false;
        self.maybe_credential(out);
    }

    /// 334: a SASL challenge; the AUTH command is still open.
    pub(super) fn auth_challenge(&mut self, reply: &Reply, out: &mut Dialogue) {
        if let Some((ex, _)) = self.sasl.as_mut() {
            ex.challenge(reply.lines.first().map_or(b"" as &[u8], |l| l.as_bytes()));
            self.sasl_awaiting_response = true;
        } else {
            out.finding(
                Severity::Info,
                FindingCode::ProtocolAnomaly,
                "334 challenge without an AUTH command",
            );
        }
    }

    /// A client line answering a 334 challenge.
    pub(super) fn sasl_response(&mut self, line: &[u8], out: &mut Dialogue) {
        if let Some((ex, _)) = self.sasl.as_mut() {
            ex.response(line);
        }
        self.maybe_credential(out);
    }

    /// The server's verdict on AUTH (RFC 4954 §4, §6): 235 accepted,
    /// anything else refused (535 bad credentials, 534 mechanism too weak,
    /// 504 unknown mechanism, 503 already authenticated, 501 a response
    /// that does not decode or a cancel).
    ///
    /// A credential is reported only if the client revealed something: a
    /// bare `AUTH PLAIN` refused before any response has none (see
    /// [`SaslExchange::take_credential`]).
    pub(super) fn auth_answered(&mut self, code: u16, out: &mut Dialogue) {
        self.sasl_awaiting_response = false;
        if let Some((mut ex, idx)) = self.sasl.take() {
            let idx = match idx {
                Some(i) => Some(i),
                None => ex.take_credential().map(|c| self.report_credential(c, out)),
            };
            if let Some(i) = idx {
                out.credential_result(i, code == 235, &code.to_string());
            }
        }
        if code == 235 {
            self.authenticated = true;
        }
    }

    /// The flow ended during AUTH: report what the client revealed.
    pub(super) fn finish_auth(&mut self, out: &mut Dialogue) {
        if let Some((mut ex, idx)) = self.sasl.take()
            && idx.is_none()
            && let Some(c) = ex.take_credential()
        {
            self.report_credential(c, out);
        }
    }

    fn maybe_credential(&mut self, out: &mut Dialogue) {
        let Some((ex, idx)) = self.sasl.as_mut() else {
            return;
        };
        if idx.is_none()
            && ex.client_done()
            && let Some(c) = ex.take_credential()
        {
            let i = self.report_credential(c, out);
            if let Some((_, idx)) = self.sasl.as_mut() {
                *idx = Some(i);
            }
        }
    }

    fn report_credential(&self, c: Credential, out: &mut Dialogue) -> usize {
        let what = format!("SMTP AUTH {}", c.mechanism);
        out.credential_seen(c, &what, self.tls)
    }
}
