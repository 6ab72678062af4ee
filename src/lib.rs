//! mailscope — see e-mail on the wire.
//!
//! The library is organised along one data path (see `docs` in the README):
//!
//! ```text
//! capture/ ─frames─▶ flow/ ─ordered bytes per direction─▶ proto/ ─▶ report/
//! ```
//!
//! * [`capture`] reads pcap/pcapng files (streaming), decodes link layers and
//!   IP, and writes pcapng/pcap files.
//! * [`flow`] reassembles TCP byte streams per direction, keeping gaps and the
//!   packet numbers that carried every byte.
//! * [`proto`] guesses which protocol a flow speaks.
//! * [`report`] turns the analysis into text and JSON records.

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
