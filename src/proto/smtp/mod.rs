//! SMTP and ESMTP as seen on the wire (RFC 5321), with its extensions:
//! SIZE (RFC 1870), PIPELINING (RFC 2920), CHUNKING/BDAT (RFC 3030),
//! STARTTLS (RFC 3207) and AUTH (RFC 4954).
//!
//! An SMTP session is a dialogue of commands and numbered replies:
//!
//! ```text
//! S: 220 hamburger.edu                      greeting
//! C: HELO crepes.fr                         who the client says it is
//! S: 250 Hello crepes.fr, pleased to meet you
//! C: MAIL FROM: <alice@crepes.fr>           a transaction starts: the envelope
//! S: 250 alice@crepes.fr ... Sender ok
//! C: RCPT TO: <bob@hamburger.edu>           one per recipient
//! S: 250 bob@hamburger.edu ... Recipient ok
//! C: DATA
//! S: 354 Enter mail, end with "." on a line by itself
//! C: …the message, dot-stuffed…
//! C: .
//! S: 250 Message accepted for delivery      the transaction ends
//! C: QUIT
//! S: 221 hamburger.edu closing connection
//! ```
//!
//! The grammar, shared by the analyzer and the mail world's servers and
//! clients (each type parses and emits):
//! * [`command`]: a command line ([`Command`]);
//! * [`path`]: the address of MAIL and RCPT, with its ESMTP parameters
//!   ([`Path`]);
//! * [`reply`]: a numbered reply, one line or several ([`Reply`]);
//! * dot-stuffing of DATA is [`crate::proto::dot`], shared with POP3.
//!
//! The analyzer's dialogue parser ([`SmtpParser`]), by concept:
//! * [`parser`]: commands and replies matched in order, line checks;
//! * `replies`: what each reply does to the command it answers;
//! * `transaction`: MAIL … to the verdict on the message;
//! * `data` and `bdat`: the message after DATA, or in BDAT chunks;
//! * `auth`: credentials of AUTH;
//! * `findings`: what is worth telling (open relay, stripped STARTTLS).

mod auth;
mod bdat;
pub(crate) mod command;
mod data;
mod findings;
pub use findings::{is_blanked_starttls, is_blanked_starttls_line};
pub(crate) mod parser;
pub(crate) mod path;
mod replies;
pub(crate) mod reply;
mod transaction;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_verdicts;

pub use command::{Bdat, Command};
pub use parser::SmtpParser;
pub(crate) use path::domain_of;
pub use path::{Parameter, Path};
pub use reply::{EnhancedStatus, Reply};
