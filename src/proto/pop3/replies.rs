//! The server's side: each status line answers the oldest command still
//! waiting; the `+OK` of some commands starts a multi-line response (a
//! listing, the capabilities, a message).

use super::parser::{Cmd, Multi, S, State};
use super::response::Response;
use crate::proto::dot::{DotLine, Unstuffer};
use crate::proto::incoming::Incoming;
use crate::proto::lines::Line;
use crate::proto::quote;
use crate::trace::{Dialogue, FindingCode, LineKind, Part, RawMessage, Severity, Via};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

impl State {
    pub(super) fn server_line(&mut self, line: Line, out: &mut Dialogue) {
        if self.multi.is_some() {
            self.multi_line(line, out);
            return;
        }
        out.line(S, LineKind::Reply, line.text, line.start, line.end);
        let t = line.text;
        let response = Response::parse(t);
        // A SASL challenge: "+ base64" or a bare "+" (RFC 5034 §4).
        if let Some(Response::Continue(challenge)) = &response
            && matches!(self.pending.front(), Some(Cmd::Auth { listing: false }))
        {
            if let Some((ex, _)) = self.sasl.as_mut() {
                ex.challenge(challenge.as_bytes());
                self.sasl_awaiting_response = true;
            }
            return;
        }
        let ok = match response {
            Some(Response::Ok(_)) => true,
            Some(Response::Err(_)) => false,
            _ => {
                out.finding(
                    Severity::Info,
                    FindingCode::ProtocolAnomaly,
                    format!("not a POP3 reply: {} at offset {}", quote(t), line.start),
                );
                return;
            }
        };
        if !self.greeted && self.pending.is_empty() {
            self.greeted = true;
            // RFC 1939 §7: an APOP server puts a timestamp in its greeting.
            let g = text(t);
            if let (Some(a), Some(b)) = (g.find('<'), g.rfind('>'))
                && a < b
            {
                self.timestamp = Some(g[a..=b].to_string());
            }
            return;
        }
        self.greeted = true;
        let Some(cmd) = self.pending.pop_front() else {
            out.finding(
                Severity::Info,
                FindingCode::ProtocolAnomaly,
                format!("reply without a command: {}", quote(t)),
            );
            return;
        };
        // RFC 1939 §3: the status indicator is the verdict.
        let status = if ok { "+OK" } else { "-ERR" };
        match cmd {
            Cmd::Pass | Cmd::Apop => {
                if let Some(i) = self.verdict_for.take() {
                    out.credential_result(i, ok, status);
                }
            }
            Cmd::Auth { listing } => {
                self.sasl_awaiting_response = false;
                if listing {
                    if ok {
                        self.start_multi(Multi::Listing, "AUTH".into(), &line);
                    }
                } else {
                    self.auth_answered(ok, status, out);
                }
            }
            Cmd::Capa if ok => {
                out.capabilities.clear();
                self.start_multi(Multi::Capa, "CAPA".into(), &line);
            }
            Cmd::Stls => {
                if ok {
                    self.tls = true;
                } else {
                    out.starttls_refused("STLS", &text(t));
                }
            }
            Cmd::Listing { verb, multi: true } if ok => {
                self.start_multi(Multi::Listing, verb.into(), &line)
            }
            Cmd::Retr(n) | Cmd::Top(n) if ok => {
                let (via, part, verb) = match cmd {
                    Cmd::Retr(_) => (Via::Retr, Part::Full, "RETR"),
                    _ => (Via::Top, Part::Top, "TOP"),
                };
                let mut raw = RawMessage::new(via, part, format!("{verb} {n}"));
                raw.number = Some(n);
                let m = Multi::Message(Box::new(Incoming::new(raw, line.end)));
                self.start_multi(m, format!("{verb} {n}"), &line);
            }
            Cmd::Dele(n) if ok => {
                self.marked.insert(n);
            }
            Cmd::Rset if ok => self.marked.clear(),
            Cmd::Quit if ok => {
                // RFC 1939 §6: the UPDATE state; marked messages go now.
                self.quit_ok = true;
                for &(number, idx) in &self.retrieved {
                    out.messages[idx].deleted = Some(self.marked.contains(&number));
                }
            }
            _ => {}
        }
    }

    /// A multi-line response to `what` starts after the status line
    /// `status`.
    fn start_multi(&mut self, multi: Multi, what: String, status: &Line) {
        self.multi = Some(multi);
        self.multi_of = (what, status.start);
        self.client_moved_on = false;
        self.dot = Unstuffer::after(status.ending);
    }

    /// A line of a multi-line response, up to the final ".".
    fn multi_line(&mut self, line: Line, out: &mut Dialogue) {
        let Some(multi) = self.multi.as_mut() else {
            return;
        };
        // RFC 1939 §3: a leading "." was doubled by the server; a lone
        // "." between CRLFs ends the response (see `proto::dot`).
        let body = match self.dot.read_line(&line) {
            DotLine::End => {
                self.client_moved_on = false;
                if let Some(Multi::Message(m)) = self.multi.take() {
                    self.end_message(*m, true, out);
                }
                out.line(S, LineKind::Reply, line.text, line.start, line.end);
                return;
            }
            DotLine::Text(body) | DotLine::BareLfDot(body) => body,
        };
        match multi {
            Multi::Message(m) => {
                out.data_line(S, line.text, line.start, line.end);
                m.push(body, out);
                m.push(line.ending.as_bytes(), out);
            }
            Multi::Capa => {
                out.line(S, LineKind::Reply, line.text, line.start, line.end);
                out.capabilities.push(text(body).trim().to_string());
                let tag = body.trim_ascii();
                if tag.eq_ignore_ascii_case(b"STLS") {
                    self.stls_offered = true;
                }
                if tag.eq_ignore_ascii_case(b"PIPELINING") {
                    self.pipelining = true;
                }
            }
            Multi::Listing => out.line(S, LineKind::Reply, line.text, line.start, line.end),
        }
    }

    pub(super) fn end_message(&mut self, mut m: Incoming, complete: bool, out: &mut Dialogue) {
        m.raw.complete &= complete;
        m.raw.ts = out.now(S);
        let (end, start) = (m.start + m.size, m.start);
        let lines = if out.wants_transcript() { m.lines() } else { 0 };
        let number = m.raw.number.unwrap_or(0);
        let idx = out.message(m.raw);
        if !out.options.full {
            let r = &out.messages[idx];
            let note = Incoming::summary(r.size as usize, lines, r.complete, r.subject.as_deref());
            out.note(S, LineKind::Data, note, start, end);
        }
        self.retrieved.push((number, idx));
    }
}
