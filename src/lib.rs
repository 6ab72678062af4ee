//! mailscope — see e-mail on the wire.
//!
//! The front door is [`analyze`]: a capture in, typed [`Record`]s out (the
//! records of `mailscope analyze --json`, `docs/output-schema.md`). For
//! other per-flow work, [`Pipeline`] feeds each TCP flow's reassembled
//! bytes to a [`StreamHandler`] of yours (`examples/follow_smtp.rs`).
//!
//! The library is organised in layers along one data path; each top-level
//! module imports only those below it (`tests/layering.rs` checks it):
//!
//! ```text
//! capture ─frames─▶ flow ─ordered bytes per direction─▶ proto ─▶ trace ─▶ report
//!                                    └──────── analysis (the one driver) ────────┘
//!                                    world (the simulated mail world) ─▶ capture
//!                                    gui (the classroom window) ─▶ analysis
//! ```
//!
//! * [`capture`] reads pcap/pcapng (streaming), decodes link layers and IP,
//!   and writes pcapng (the world's recordings, the project's fixtures).
//! * [`flow`] reassembles TCP per direction, keeping gaps and the packet
//!   that carried every byte.
//! * [`mail`] reads messages: one MIME tree, headers, attachments, hashes.
//! * [`trace`] is the model: records, findings, message paths, and the
//!   `Dialogue` sink the parsers write into.
//! * [`proto`] holds one grammar per protocol (SMTP, POP3, IMAP, TLS),
//!   shared by the analyzer's lenient parsers and the world's servers, and
//!   the recognizer that decides what a flow speaks.
//! * [`analysis`] is the one driver every command and the window call: a
//!   session per flow (plaintext, then TLS, then the decrypted dialogue).
//! * [`report`] writes the records: JSON Lines, tables, transcripts,
//!   `extract`, sequence diagrams.
//! * [`world`] runs Alice, Bob, their servers and DNS on loopback and
//!   records the traffic; [`gui`] is the classroom window.
//!
//! The command line lives with the binary (`src/main.rs`, `src/cli/`).

pub mod analysis;
pub mod capture;
pub mod flow;
#[cfg(feature = "gui")]
pub mod gui;
pub mod mail;
pub mod proto;
pub mod report;
pub mod trace;
pub mod world;

pub use analysis::{Error, Options, Pipeline, analyze};
pub use flow::StreamHandler;
pub use trace::Record;
