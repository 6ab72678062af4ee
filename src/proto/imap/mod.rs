//! IMAP (IMAP4rev1 RFC 3501, IMAP4rev2 RFC 9051), with LITERAL+
//! (RFC 7888) and SASL-IR (RFC 4959): its grammar, read and written once
//! for the analyzer and the embedded mail world, and the analyzer's
//! dialogue parser.
//!
//! ```text
//! S: * OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] hamburger.edu ready
//! C: a1 LOGIN bob hungry                        every command has a tag…
//! S: a1 OK Logged in                            …and ends with a tagged reply
//! C: a2 SELECT INBOX
//! S: * 1 EXISTS                                 untagged data ("*") may come
//! S: a2 OK [READ-WRITE] Select completed.       at any time
//! C: a3 FETCH 1 (FLAGS BODY[])
//! S: * 1 FETCH (FLAGS (\Seen) BODY[] {1679}     a literal: exactly 1679 bytes
//! S: …the message, 1679 bytes, no quoting…      follow, whatever they hold,
//! S: )                                          then the line goes on
//! S: a3 OK Fetch completed.
//! ```
//!
//! Like smoltcp's `Repr` or mini-redis's `Frame`, the grammar is types
//! that both read (`parse`) and write (`emit`) the wire:
//!
//! | file | what it holds |
//! | --- | --- |
//! | `syntax.rs` | logical lines, literal markers, the one tokenizer (strict for the server, lenient for the analyzer) and the writing of strings (§4) |
//! | `command.rs` | a command: tag, name, arguments (§6) |
//! | `response.rs` | a response: continuation, status with its code, untagged data (§7) |
//! | `section.rs` | the FETCH items that carry content, `BODY[section]<partial>` (§6.4.5) |
//!
//! The analyzer's [`ImapParser`] (a sans-IO [`MailParser`](super::MailParser)),
//! split by concept:
//!
//! | file | what it holds |
//! | --- | --- |
//! | `parser.rs` | bytes in: lines gathered into logical lines, gaps, the end of the flow |
//! | `literal.rs` | literal bytes as they arrive: messages (FETCH, APPEND) and small values |
//! | `commands.rs` | what a client's command tells: credentials, STARTTLS, IDLE, pending tags |
//! | `responses.rs` | what a server's response tells: capabilities, completions, UIDs, EXPUNGE |
//!
//! The server (`world::imap`) reads commands with [`command::Command`]
//! and writes its responses with [`response::Response`] and the writers
//! of [`syntax`]; the world's client (`world::client`) reads responses
//! with [`response::Response`].

pub mod command;
mod commands;
mod literal;
mod parser;
pub mod response;
mod responses;
pub(crate) mod section;
pub mod syntax;
#[cfg(test)]
mod tests;

pub use parser::ImapParser;
