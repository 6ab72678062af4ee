//! POP3 as seen on the wire (RFC 1939), with CAPA (RFC 2449), STLS
//! (RFC 2595) and SASL AUTH (RFC 5034).
//!
//! ```text
//! S: +OK POP3 server ready
//! C: user bob                          AUTHORIZATION state: who are you?
//! S: +OK
//! C: pass hungry                       …in clear, for anyone on the path
//! S: +OK user successfully logged on   TRANSACTION state
//! C: list
//! S: +OK 2 messages (908 octets)       a multi-line response: status line,
//! S: 1 498                             then data lines,
//! S: 2 410
//! S: .                                 then a line holding only "."
//! C: retr 1
//! S: +OK 498 octets
//! S: …the message, dot-stuffed…
//! S: .
//! C: dele 1                            marked for deletion…
//! S: +OK message 1 deleted
//! C: quit                              …and deleted now (UPDATE state, §6)
//! S: +OK POP3 server signing off
//! ```
//!
//! The grammar, shared by the analyzer and the mail world's server and
//! client: [`command`] ([`Command`]) and [`response`] ([`Response`]);
//! dot-stuffing of multi-line responses is [`crate::proto::dot`].
//!
//! The analyzer's dialogue parser ([`Pop3Parser`]), by concept:
//! * [`parser`]: commands queued in order, line checks;
//! * `replies`: what each response does to the command it answers,
//!   multi-line responses and retrieved messages;
//! * `resync`: a multi-line response whose final "." never came, left
//!   where the reply to the next command begins;
//! * `auth`: the credentials of USER/PASS, APOP and AUTH.

mod auth;
pub(crate) mod command;
pub(crate) mod parser;
mod replies;
pub(crate) mod response;
mod resync;

#[cfg(test)]
mod tests;

pub use command::{Command, Scan};
pub use parser::Pop3Parser;
pub use response::Response;
