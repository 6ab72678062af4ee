//! Mail transactions (RFC 5321 §3.3): from a MAIL command to the verdict
//! on its message, or to its abort (RSET, a new EHLO, the end of the
//! session).
//!
//! Transactions are kept in the order of their MAIL commands, so that a
//! pipelined `MAIL … DATA … . MAIL …` gives each message its own envelope
//! even before any reply came back.
//!
//! Every RCPT the client sends is kept with the server's reply to it
//! (`recipients`); the envelope (`rcpt_to`) lists only those the server
//! accepted, and a refused one (5xx, 4xx, or `503` when there is no
//! transaction to add it to) is never among them. Only when the capture
//! holds no reply to any RCPT of the transaction (one side captured, or
//! the capture ends first) is what the client sent the envelope.
//!
//! A transaction can end before the replies to its RCPTs come back: a
//! pipelining client sends `MAIL`, `RCPT`, `RCPT` at once (RFC 2920 §3.1),
//! and the server refuses the MAIL, then answers each RCPT `503 need MAIL`.
//! Its record is written at the refusal and settled as those replies
//! arrive (records are handed on when the flow ends).

use super::parser::{MAX_PENDING, Pending, State};
use crate::trace::{Dialogue, Recipient, Transaction, TxStatus};

/// One mail transaction.
#[derive(Clone, Debug)]
pub(super) struct Tx {
    pub(super) id: u64,
    pub(super) mail_from: Option<String>,
    /// Every RCPT TO as sent, with the reply once it came.
    pub(super) recipients: Vec<Recipient>,
    /// RCPTs whose reply is still awaited.
    pub(super) rcpt_waiting: usize,
    /// Its message, once the end of data was seen and the server took it.
    pub(super) message: Option<usize>,
}

impl Tx {
    /// A transaction whose start was not in the capture, known from the
    /// message it ended with.
    pub(super) fn seen_from_its_end(
        mail_from: Option<String>,
        rcpt_sent: Vec<String>,
        message: Option<usize>,
    ) -> Tx {
        Tx {
            id: u64::MAX,
            mail_from,
            recipients: rcpt_sent
                .into_iter()
                .map(|address| Recipient {
                    address,
                    code: None,
                    reply: None,
                })
                .collect(),
            rcpt_waiting: 0,
            message,
        }
    }

    /// The envelope: the recipients the server accepted, or, as long as no
    /// reply to any of its RCPTs is in the capture (one side captured, the
    /// capture ends first, or pipelined commands whose replies come later),
    /// those the client sent.
    pub(super) fn envelope(&self) -> Vec<String> {
        if self.recipients.iter().any(|r| r.code.is_some()) {
            self.accepted()
        } else {
            self.recipients.iter().map(|r| r.address.clone()).collect()
        }
    }

    /// The recipients the server accepted (a positive reply to their RCPT).
    fn accepted(&self) -> Vec<String> {
        self.recipients
            .iter()
            .filter(|r| r.code.is_some_and(positive))
            .map(|r| r.address.clone())
            .collect()
    }

    /// The recipients the server refused.
    fn refused(&self) -> Vec<String> {
        self.recipients
            .iter()
            .filter(|r| r.code.is_some_and(|c| !positive(c)))
            .map(|r| r.address.clone())
            .collect()
    }
}

/// A reply that does what was asked (RFC 5321 §4.2.1: 2yz, and 3yz where
/// the command goes on).
fn positive(code: u16) -> bool {
    (200..400).contains(&code)
}

/// A transaction already recorded, some of whose RCPT replies are still
/// to come: `record` is the index of its record in the dialogue.
#[derive(Debug)]
pub(super) struct Settling {
    tx: Tx,
    record: usize,
}

impl State {
    /// Starts a transaction (a MAIL command) and makes it the current one.
    pub(super) fn open_tx(&mut self, mail_from: Option<String>) -> u64 {
        let id = self.next_tx;
        self.next_tx += 1;
        if self.txs.len() >= MAX_PENDING {
            self.txs.pop_front();
        }
        self.txs.push_back(Tx {
            id,
            mail_from,
            recipients: Vec::new(),
            rcpt_waiting: 0,
            message: None,
        });
        self.current_tx = Some(id);
        id
    }

    /// A RCPT command: a recipient for the current transaction.
    pub(super) fn rcpt(&mut self, to: String) -> Pending {
        if self.current_tx.is_none() {
            // RCPT without MAIL: a capture that started late, or a client
            // out of order; keep the recipient somewhere.
            self.open_tx(None);
        }
        let tx = self.current_tx;
        if let Some(t) = self.tx_mut(tx) {
            t.recipients.push(Recipient {
                address: to.clone(),
                code: None,
                reply: None,
            });
            t.rcpt_waiting += 1;
        }
        Pending::Rcpt { tx, to }
    }

    /// The server answered a RCPT of transaction `tx` with `code`
    /// (`reply` in short).
    pub(super) fn rcpt_answered(
        &mut self,
        tx: Option<u64>,
        to: &str,
        code: u16,
        reply: String,
        out: &mut Dialogue,
    ) {
        let Some(id) = tx else { return };
        let answer = |t: &mut Tx| {
            // Replies come in the order of the commands (RFC 2920 §3.2):
            // this one answers the first RCPT of `to` still waiting.
            if let Some(r) = t
                .recipients
                .iter_mut()
                .find(|r| r.code.is_none() && r.address == to)
            {
                r.code = Some(code);
                r.reply = Some(reply);
            }
            t.rcpt_waiting = t.rcpt_waiting.saturating_sub(1);
        };
        if let Some(t) = self.txs.iter_mut().find(|t| t.id == id) {
            answer(t);
            // A message already recorded (pipelining) gets the envelope
            // the server accepted.
            if let Some(i) = t.message {
                out.messages[i].rcpt_to = Some(t.envelope());
            }
        } else if let Some(pos) = self.settling.iter().position(|s| s.tx.id == id) {
            answer(&mut self.settling[pos].tx);
            let s = &self.settling[pos];
            let (record, rcpt_to) = (s.record, s.tx.envelope());
            if let Some(t) = out.transactions.get_mut(record) {
                t.rcpt_to = rcpt_to.clone();
                t.rcpt_rejected = s.tx.refused();
                t.recipients = s.tx.recipients.clone();
                if let Some(i) = t.message {
                    out.messages[i].rcpt_to = Some(rcpt_to);
                }
            }
            if s.tx.rcpt_waiting == 0 {
                self.settling.remove(pos);
            }
        }
    }

    pub(super) fn tx_mut(&mut self, id: Option<u64>) -> Option<&mut Tx> {
        let id = id?;
        self.txs.iter_mut().find(|t| t.id == id)
    }

    /// The MAIL of transaction `tx` was refused. If another transaction
    /// was open when it was sent (`before`), the server still has that
    /// one: a second MAIL inside a transaction is refused (`503 nested
    /// MAIL command`, RFC 5321 §4.1.4 and §3.3) and changes nothing, so
    /// the RCPTs and DATA sent after it go to the first one.
    pub(super) fn mail_refused(
        &mut self,
        tx: u64,
        before: Option<u64>,
        reply: String,
        out: &mut Dialogue,
    ) {
        let open_before = before.filter(|b| self.txs.iter().any(|t| t.id == *b));
        if let Some(b) = open_before
            && self.current_tx == Some(tx)
        {
            // The RCPTs pipelined after the refused MAIL will be answered
            // for the first transaction.
            let moved: Vec<Recipient> = self
                .tx_mut(Some(tx))
                .map(|t| {
                    t.rcpt_waiting = 0;
                    std::mem::take(&mut t.recipients)
                })
                .unwrap_or_default();
            if let Some(t) = self.tx_mut(Some(b)) {
                t.rcpt_waiting += moved.len();
                t.recipients.extend(moved);
            }
            for p in self.pending.iter_mut() {
                match p {
                    Pending::Rcpt { tx: t, .. } | Pending::Data { tx: t, .. } if *t == Some(tx) => {
                        *t = Some(b);
                    }
                    _ => {}
                }
            }
            self.current_tx = Some(b);
        }
        self.finish_tx(Some(tx), TxStatus::Rejected, Some(reply), out);
    }

    /// Ends transaction `id` with a `transaction` record.
    pub(super) fn finish_tx(
        &mut self,
        id: Option<u64>,
        status: TxStatus,
        reply: Option<String>,
        out: &mut Dialogue,
    ) {
        let Some(id) = id else { return };
        if let Some(pos) = self.txs.iter().position(|t| t.id == id)
            && let Some(tx) = self.txs.remove(pos)
        {
            if self.current_tx == Some(id) {
                self.current_tx = None;
            }
            self.record(tx, status, reply, out);
        }
    }

    /// Aborts the transactions started before `before` (RSET, EHLO).
    pub(super) fn abort_before(&mut self, before: u64, out: &mut Dialogue) {
        while self.txs.front().is_some_and(|t| t.id < before) {
            let Some(tx) = self.txs.pop_front() else {
                break;
            };
            if self.current_tx == Some(tx.id) {
                self.current_tx = None;
            }
            self.record(tx, TxStatus::Aborted, None, out);
        }
    }

    /// The `transaction` record of an ended transaction; if replies to
    /// its RCPTs are still to come, it is kept to be settled by them.
    pub(super) fn record(
        &mut self,
        tx: Tx,
        status: TxStatus,
        reply: Option<String>,
        out: &mut Dialogue,
    ) {
        out.transaction(Transaction {
            flow: 0,
            flow_uid: None,
            helo: self.helo.clone().or_else(|| self.helo_claimed.clone()),
            rcpt_to: tx.envelope(),
            mail_from: tx.mail_from.clone(),
            rcpt_rejected: tx.refused(),
            status,
            message: tx.message,
            ts: out.latest(),
            reply,
            recipients: tx.recipients.clone(),
        });
        if tx.rcpt_waiting > 0 {
            if self.settling.len() >= MAX_PENDING {
                self.settling.pop_front();
            }
            let record = out.transactions.len() - 1;
            self.settling.push_back(Settling { tx, record });
        }
    }

    /// Message `index` belongs to transaction `tx`, open or already
    /// recorded.
    pub(super) fn attach_message(&mut self, tx: Option<u64>, index: usize, out: &mut Dialogue) {
        let Some(id) = tx else { return };
        if let Some(t) = self.tx_mut(tx) {
            t.message = Some(index);
        } else if let Some(s) = self.settling.iter_mut().find(|s| s.tx.id == id) {
            s.tx.message = Some(index);
            if let Some(t) = out.transactions.get_mut(s.record) {
                t.message = Some(index);
            }
        }
    }

    /// The envelope sender and recipients of transaction `tx` for its
    /// message, open or already recorded.
    pub(super) fn envelope_of(&self, tx: Option<u64>) -> (Option<String>, Vec<String>) {
        let Some(id) = tx else {
            return (None, Vec::new());
        };
        let t = self
            .txs
            .iter()
            .find(|t| t.id == id)
            .or_else(|| self.settling.iter().find(|s| s.tx.id == id).map(|s| &s.tx));
        match t {
            Some(t) => (t.mail_from.clone(), t.envelope()),
            None => (None, Vec::new()),
        }
    }
}
