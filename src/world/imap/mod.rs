//! The IMAP server (IMAP4rev1, RFC 3501) of a simulated mail host, with
//! STARTTLS (RFC 3501 §6.2.1), AUTHENTICATE PLAIN (RFC 4616, with the
//! initial response of SASL-IR, RFC 4959), IDLE (RFC 2177), UIDPLUS
//! (RFC 4315), UNSELECT (RFC 3691), CHILDREN (RFC 3348) and LITERAL+
//! (RFC 7888).
//!
//! Where POP3 downloads a mailbox, IMAP *manages mail on the server*:
//! folders, flags, searches, parts of messages. A session moves through the
//! states of RFC 3501 §3:
//!
//! ```text
//!   greeting ─▶ not authenticated ─LOGIN/AUTHENTICATE─▶ authenticated
//!                                                        │  ▲
//!                                          SELECT/EXAMINE│  │CLOSE/UNSELECT
//!                                                        ▼  │
//!                                                      selected
//!   LOGOUT from any state ─▶ logout (the server closes the connection)
//! ```
//!
//! Every command carries a *tag* chosen by the client; the server answers
//! with any number of untagged lines (`* ...`) and ends with one tagged
//! line (`tag OK|NO|BAD ...`, RFC 3501 §7.1). Arguments can be atoms,
//! quoted strings, parenthesized lists or *literals* (`{n}` followed by
//! exactly n bytes, §4.3). The grammar is the one the analyzer reads the
//! wire with ([`crate::proto::imap`]): the server parses each command with
//! it, strictly, and writes its responses, strings and literals with it.
//!
//! Message numbers come in two kinds (§2.3.1): *UIDs*, which never change
//! while the folder's UIDVALIDITY stays the same, and *sequence numbers*
//! 1..n, which shift down when a message is expunged. The session keeps its
//! own view of the selected folder (UIDs and flags in sequence order), so
//! sequence numbers change only when the server tells the client with
//! `* n EXPUNGE` (§7.4.1).
//!
//! Choices of this teaching server:
//!
//! * BODYSTRUCTURE, BODY and `BODY[section]` are read off the project's
//!   one MIME tree ([`crate::mail::tree`]: multipart, message/rfc822 with
//!   its envelope, leaf parts, numbered as IMAP numbers them); the
//!   extension data is the Content-Type parameters, the
//!   Content-Disposition and NIL for MD5 and language.
//! * `\Recent` (§2.3.2) goes to the first read-write session to see a
//!   message: the store keeps a per-folder mark of the highest UID claimed
//!   (in `state.json` with a `--store`). EXAMINE and STATUS count the
//!   unclaimed messages without claiming them.
//! * AUTH=PLAIN is advertised only where a password may be sent (TLS is
//!   active, or the policy allows clear-text passwords); otherwise the
//!   capability list says LOGINDISABLED (§6.2.3) and offers STARTTLS.
//! * Subscriptions are not kept: LSUB lists every folder, SUBSCRIBE and
//!   UNSUBSCRIBE answer OK.
//! * RENAME of INBOX (which moves its messages, §6.3.5) is refused.
//!
//! # Where things are
//!
//! One concept per file; a command lives with the concept it belongs to,
//! as an `impl Session` block of its own file.
//!
//! | file | what it holds |
//! | --- | --- |
//! | `session.rs` | the connection: greeting, command loop, states and dispatch (§3, §6); CAPABILITY, NOOP, LOGOUT (§6.1) |
//! | `reader.rs` | reading one command off the socket: lines and the literals `{n}` and `{n+}` they announce (§2.2, §4.3, §5.4) |
//! | `reply.rs` | how a command ends: OK, NO, BAD and storage errors (§7.1, RFC 5530) |
//! | `auth.rs` | STARTTLS, LOGIN, AUTHENTICATE PLAIN (§6.2) |
//! | `selection.rs` | SELECT, EXAMINE, the session's view of the folder, untagged updates, CLOSE, UNSELECT (§6.3.1, §6.4.2, §7.3.1, §7.4.1) |
//! | `mailbox.rs` | CREATE, DELETE, RENAME, (UN)SUBSCRIBE, STATUS, APPEND, COPY (§6.3, §6.4.7) |
//! | `list.rs` | LIST and LSUB with their wildcards (§6.3.8, §6.3.9) |
//! | `idle.rs` | IDLE (RFC 2177) |
//! | `flags.rs` | message flags and STORE (§2.3.2, §6.4.6) |
//! | `expunge.rs` | EXPUNGE and UID EXPUNGE (§6.4.3, RFC 4315 §2.1) |
//! | `search.rs` | SEARCH keys and their evaluation (§6.4.4) |
//! | `fetch.rs` | FETCH items and the FETCH response (§6.4.5, §7.4.2) |
//! | `section.rs` | `BODY[section]`: which bytes of a message (§6.4.5) |
//! | `structure.rs` | BODY and BODYSTRUCTURE from the MIME tree (§7.4.2) |
//! | `envelope.rs` | ENVELOPE (§7.4.2) |
//! | `sequence.rs` | sequence sets and UID sets (§9: sequence-set) |
//! | `dates.rs` | calendar maths: INTERNALDATE, search dates, APPEND date-time (§9) |
//! | `test_support.rs` | for the tests only: Bob's host, a loopback server, a raw client |

mod auth;
mod dates;
mod envelope;
mod expunge;
mod fetch;
mod flags;
mod idle;
mod list;
mod mailbox;
mod reader;
mod reply;
mod search;
mod section;
mod selection;
mod sequence;
mod session;
mod structure;
#[cfg(test)]
mod test_support;

pub use session::run_session;
