//! The server's side: every complete reply answers the oldest command
//! still waiting, and what it says decides what that command did.

use super::parser::{Ended, Pending, S, State};
use super::reply::{NotAReply, Reply, ReplyLine};
use super::transaction::Tx;
use crate::proto::lines::Line;
use crate::trace::{Dialogue, FindingCode, LineKind, Severity, TxStatus};

impl State {
    pub(super) fn server_line(&mut self, line: Line, out: &mut Dialogue) {
        if ReplyLine::parse(line.text).is_some() {
            self.server_ended_data_early(out);
        }
        out.line(S, LineKind::Reply, line.text, line.start, line.end);
        match self.replies.line(line.text) {
            Ok(Some(reply)) => self.reply_done(reply, out),
            Ok(None) => {}
            Err(NotAReply) => self.anomaly(&line, "not an SMTP reply", out),
        }
    }

    pub(super) fn reply_done(&mut self, reply: Reply, out: &mut Dialogue) {
        let code = reply.code;
        self.server_replied = true;
        if code == 334 {
            // RFC 4954 §4: a SASL challenge; the AUTH command is still open.
            self.auth_challenge(&reply, out);
            return;
        }
        // The greeting (RFC 5321 §4.3.1); a client that pipelines its EHLO
        // before it (PIPE_CONNECT) has commands waiting already.
        let greeting = self.pending.is_empty()
            || ((code == 220 || code == 554)
                && !matches!(self.pending.front(), Some(Pending::Starttls)));
        if !self.greeted && greeting {
            self.greeted = true;
            if code == 220 {
                out.server_name = reply
                    .lines
                    .first()
                    .and_then(|l| l.split_whitespace().next())
                    .map(str::to_string);
            }
            return;
        }
        self.greeted = true;
        let Some(pending) = self.pending.pop_front() else {
            // 421 and 451 may come unasked when the server gives up (timeouts).
            if code != 421 && code != 451 {
                out.finding(
                    Severity::Info,
                    FindingCode::ProtocolAnomaly,
                    format!("reply {code} without a command to answer"),
                );
            }
            return;
        };
        let ok = reply.is_positive();
        match pending {
            Pending::Helo { name, before } => {
                if ok {
                    // RFC 5321 §4.1.4: a new EHLO also resets the
                    // transaction; a rejected one changes nothing.
                    self.abort_before(before, out);
                    self.helo = Some(name);
                    self.extensions = reply.extensions().map(str::to_ascii_uppercase).collect();
                    out.capabilities = reply
                        .lines
                        .iter()
                        .skip(1)
                        .map(|l| l.trim().to_string())
                        .collect();
                    self.check_stripped(out);
                }
            }
            Pending::Mail { tx, before } => {
                if !ok {
                    self.mail_refused(tx, before, reply.summary(), out);
                }
            }
            Pending::Rcpt { tx, to } => {
                self.rcpt_answered(tx, &to, code, reply.summary(), out);
            }
            Pending::Data { tx, text } => {
                if code >= 400 {
                    self.data_refused(tx, text, &reply, out);
                } else {
                    if code != 354 {
                        // RFC 5321 §4.3.2: DATA is answered 354 or an
                        // error. Not refused, so taken as a go-ahead.
                        out.finding(
                            Severity::Info,
                            FindingCode::ProtocolAnomaly,
                            format!("reply {code} to DATA (354 or an error expected)"),
                        );
                    }
                    self.data_accepted(text, code == 354, out);
                }
            }
            Pending::MessageEnd { tx, message, .. } => {
                let status = if ok {
                    TxStatus::Delivered
                } else {
                    TxStatus::Rejected
                };
                let index = match message {
                    Ended::Record(i) => Some(i),
                    Ended::Held(_) | Ended::Empty => None,
                };
                if tx.is_some_and(|id| self.txs.iter().any(|t| t.id == id)) {
                    self.finish_tx(tx, status, Some(reply.summary()), out);
                } else if index.map_or(tx.is_none(), |i| {
                    !out.transactions.iter().any(|t| t.message == Some(i))
                }) {
                    // Mid-stream capture: the transaction's start was not
                    // seen, its end was.
                    let (from, rcpt) = index.map_or((None, Vec::new()), |i| {
                        let r = &out.messages[i];
                        (r.mail_from.clone(), r.rcpt_to.clone().unwrap_or_default())
                    });
                    let tx = Tx::seen_from_its_end(from, rcpt, index);
                    self.record(tx, status, Some(reply.summary()), out);
                }
            }
            Pending::Bdat { tx } => {
                if !ok {
                    // A refused chunk ends the transaction (RFC 3030 §2).
                    if self.incoming.is_some() {
                        self.end_message(false, out);
                    }
                    self.finish_tx(tx, TxStatus::Rejected, Some(reply.summary()), out);
                }
            }
            Pending::Rset { before } => {
                if ok {
                    self.abort_before(before, out);
                }
            }
            Pending::Starttls => {
                if code == 220 {
                    self.tls = true;
                } else {
                    out.starttls_refused("STARTTLS", &reply.summary());
                }
            }
            Pending::Auth => self.auth_answered(code, out),
            Pending::Quit | Pending::Other => {}
        }
    }
}
