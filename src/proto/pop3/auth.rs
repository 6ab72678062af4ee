//! The credentials of a POP3 session: USER/PASS in clear, APOP's digest
//! (RFC 1939 §7), and SASL AUTH (RFC 5034), whose mechanisms
//! [`crate::proto::sasl`] reads.

use super::parser::State;
use crate::proto::sasl::SaslExchange;
use crate::trace::{Credential, Dialogue};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

impl State {
    /// PASS after USER: the password, in clear.
    pub(super) fn pass(&mut self, password: String, line: &[u8], out: &mut Dialogue) {
        let mut c = Credential::new("USER-PASS");
        let (user, user_line) = self.user.clone().unwrap_or_default();
        c.username = (!user.is_empty()).then_some(user);
        // RFC 1939 §7: the password is the rest of the line, spaces
        // included.
        c.password = Some(password);
        c.evidence = [user_line, text(line)]
            .into_iter()
            .filter(|l| !l.is_empty())
            .collect();
        self.verdict_for = Some(self.report(c, out));
    }

    /// APOP: the name and an MD5 digest that hides the password.
    pub(super) fn apop(&mut self, name: String, digest: &str, line: &[u8], out: &mut Dialogue) {
        let mut c = Credential::new("APOP");
        c.username = (!name.is_empty()).then_some(name);
        let stamp = self.timestamp.as_deref().unwrap_or("(not captured)");
        c.note = Some(format!(
            "the password is not revealed: the digest {digest} is MD5 of the greeting's timestamp {stamp} followed by the password, and can be attacked offline with a word list"
        ));
        c.evidence = vec![text(line)];
        self.verdict_for = Some(self.report(c, out));
    }

    /// `AUTH mechanism [initial-response]`.
    pub(super) fn start_auth(
        &mut self,
        mechanism: &str,
        initial_response: Option<&str>,
        line: &[u8],
        out: &mut Dialogue,
    ) {
        let mut ex = SaslExchange::start(
            mechanism.as_bytes(),
            initial_response.map(str::as_bytes),
            line,
        );
        let idx = if ex.client_done() {
            ex.take_credential().map(|c| self.report(c, out))
        } else {
            None
        };
        self.sasl = Some((ex, idx));
    }

    /// A client line answering a `+ ` challenge.
    pub(super) fn sasl_response(&mut self, line: &[u8], out: &mut Dialogue) {
        if let Some((ex, idx)) = self.sasl.as_mut() {
            ex.response(line);
            if idx.is_none()
                && ex.client_done()
                && let Some(c) = ex.take_credential()
            {
                let i = self.report(c, out);
                if let Some((_, idx)) = self.sasl.as_mut() {
                    *idx = Some(i);
                }
            }
        }
    }

    /// The server's verdict on AUTH (RFC 5034 §4): `+OK` or `-ERR`.
    pub(super) fn auth_answered(&mut self, ok: bool, status: &str, out: &mut Dialogue) {
        if let Some((mut ex, idx)) = self.sasl.take() {
            let idx = idx.or_else(|| ex.take_credential().map(|c| self.report(c, out)));
            if let Some(i) = idx {
                out.credential_result(i, ok, status);
            }
        }
    }

    /// The flow ended during AUTH: report what the client revealed.
    pub(super) fn finish_auth(&mut self, out: &mut Dialogue) {
        if let Some((mut ex, None)) = self.sasl.take()
            && let Some(c) = ex.take_credential()
        {
            self.report(c, out);
        }
    }

    /// Records a credential seen in clear (with its `plaintext-auth`).
    pub(super) fn report(&mut self, c: Credential, out: &mut Dialogue) -> usize {
        let what = match c.mechanism.as_str() {
            "USER-PASS" => "POP3 USER/PASS".to_string(),
            "APOP" => "POP3 APOP".to_string(),
            m => format!("POP3 AUTH {m}"),
        };
        out.credential_seen(c, &what, self.tls)
    }
}
