//! Mail transactions (RFC 5321 §3.3): from a MAIL command to the verdict
//! on its message, or to its abort (RSET, a new EHLO, the end of the
//! session).
//!
//! Transactions are kept in the order of their MAIL commands, so that a
//! pipelined `MAIL … DATA … . MAIL …` gives each message its own envelope
//! even before any reply came back. The envelope counts only what the
//! server accepted (a rejected RCPT is kept apart); when no reply is in
//! the capture (one side captured), what the client sent is used.

use super::parser::{MAX_PENDING, Pending, State};
use crate::trace::{Dialogue, Transaction, TxStatus};

/// One mail transaction.
#[derive(Clone, Debug)]
pub(super) struct Tx {
    pub(super) id: u64,
    pub(super) mail_from: Option<String>,
    /// RCPT TO as sent, accepted, refused; replies still awaited.
    pub(super) rcpt_sent: Vec<String>,
    pub(super) rcpt_to: Vec<String>,
    pub(super) rcpt_rejected: Vec<String>,
    pub(super) rcpt_waiting: usize,
    /// Its message, once the end of data was seen.
    pub(super) message: Option<usize>,
}

impl Tx {
    /// A transaction whose start was not in the capture, known from the
    /// message it ended with.
    pub(super) fn seen_from_its_end(
        mail_from: Option<String>,
        rcpt_sent: Vec<String>,
        message: usize,
    ) -> Tx {
        Tx {
            id: u64::MAX,
            mail_from,
            rcpt_sent,
            rcpt_to: Vec::new(),
            rcpt_rejected: Vec::new(),
            rcpt_waiting: 0,
            message: Some(message),
        }
    }

    /// The recipients of the envelope: those the server accepted, or, as
    /// long as no reply to a RCPT was seen (a one-sided capture, or
    /// pipelined commands whose replies come later), those the client sent.
    pub(super) fn envelope_rcpt(&self) -> Vec<String> {
        if self.rcpt_to.is_empty() && self.rcpt_rejected.is_empty() {
            self.rcpt_sent.clone()
        } else {
            self.rcpt_to.clone()
        }
    }
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
            rcpt_sent: Vec::new(),
            rcpt_to: Vec::new(),
            rcpt_rejected: Vec::new(),
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
            t.rcpt_sent.push(to.clone());
            t.rcpt_waiting += 1;
        }
        Pending::Rcpt { tx, to }
    }

    /// The server answered a RCPT.
    pub(super) fn rcpt_answered(
        &mut self,
        tx: Option<u64>,
        to: String,
        ok: bool,
        out: &mut Dialogue,
    ) {
        if let Some(t) = self.tx_mut(tx) {
            t.rcpt_waiting = t.rcpt_waiting.saturating_sub(1);
            if ok {
                t.rcpt_to.push(to);
            } else {
                t.rcpt_rejected.push(to);
            }
            // A message already recorded (pipelining) gets the envelope
            // the server accepted.
            if let Some(i) = t.message {
                out.messages[i].rcpt_to = Some(t.envelope_rcpt());
            }
        }
    }

    pub(super) fn tx_mut(&mut self, id: Option<u64>) -> Option<&mut Tx> {
        let id = id?;
        self.txs.iter_mut().find(|t| t.id == id)
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

    /// The `transaction` record of an ended transaction.
    pub(super) fn record(
        &mut self,
        tx: Tx,
        status: TxStatus,
        reply: Option<String>,
        out: &mut Dialogue,
    ) {
        out.transaction(Transaction {
            flow: 0,
            helo: self.helo.clone().or_else(|| self.helo_claimed.clone()),
            rcpt_to: tx.envelope_rcpt(),
            mail_from: tx.mail_from,
            rcpt_rejected: tx.rcpt_rejected,
            status,
            message: tx.message,
            ts: out.latest(),
            reply,
        });
    }
}
