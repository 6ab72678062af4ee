//! The library's front door: a capture in, typed records out.
//!
//! ```no_run
//! use mailscope::{Options, Record, analyze};
//!
//! let capture = analyze("captures/smtp-crepes-hamburger.pcapng", &Options::default(), |record| {
//!     if let Record::Message(m) = record {
//!         println!("{:?} {}", m.subject, m.sha256);
//!     }
//! })?;
//! println!("{} packets", capture.packets);
//! # Ok::<(), mailscope::Error>(())
//! ```
//!
//! Records come as flows end: each flow's `flow` record, then its
//! `message`, `transaction`, `credential` and `finding` records; after the
//! last flow, one `message_path` record per message seen on several flows,
//! then the findings only several flows can show (`auth-guessing`: one
//! client refused again and again at one server; `open-relay`: a server
//! relaying an unauthenticated client's message, `analysis::relay`), each
//! naming the flow it is about. A flow record's `findings` counts that
//! flow's own.
//! The `capture` record (complete only at the end) is returned. These are
//! the records of `mailscope analyze --json`, which is written with this
//! very function.

use std::path::Path;

use super::Error;
use super::cross_flow::CrossFlowWatch;
use super::driver::{AnalyzeOptions, Driver, Order, RunOptions};
use super::keys::KeySources;
use super::pipeline::Observed;
use super::session::FlowAnalysis;
use crate::capture::InputSource;
use crate::capture::selection::PacketSelection;
use crate::trace::{CaptureRecord, MessagePaths, Record};

/// What [`analyze`] reads and how.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Where TLS secrets come from (the capture's own Decryption Secrets
    /// Blocks are always read unless `keys.no_decrypt`).
    pub keys: KeySources,
    /// Hand flows on in id order instead of as they end (costs memory on
    /// captures with long flows).
    pub by_id: bool,
    /// Workers for the flows (see [`RunOptions::threads`]); the records
    /// are the same, in the same order, at any number.
    pub threads: usize,
    /// The frames to read (`--filter`, `--since`, `--until`).
    pub selection: PacketSelection,
}

/// Analyses the capture at `path`, handing every record to `on_record`;
/// returns the `capture` record. Damage the reader could read past is in
/// that record's `warnings`; [`Finding::of_capture`](crate::trace::Finding::of_capture) turns each into a
/// `finding` record, as `analyze --json` writes after the `capture` record.
pub fn analyze(
    path: impl AsRef<Path>,
    options: &Options,
    on_record: impl FnMut(Record<'_>),
) -> Result<CaptureRecord, Error> {
    analyze_inputs(&[InputSource::from_arg(path.as_ref())], options, on_record)
}

/// [`analyze`] over several inputs read as one capture, in timestamp order
/// (the pieces of a rotated capture give the records of the whole).
pub fn analyze_inputs(
    sources: &[InputSource],
    options: &Options,
    mut on_record: impl FnMut(Record<'_>),
) -> Result<CaptureRecord, Error> {
    let run = RunOptions {
        order: if options.by_id {
            Order::ById
        } else {
            Order::AsTheyEnd
        },
        keys: options.keys.clone(),
        threads: options.threads,
        selection: options.selection.clone(),
        // The DNS answers, for `mta-sts-violation`.
        observe_udp: true,
        ..RunOptions::default()
    };
    let mut driver = Driver::open_inputs(sources, &run)?;
    let files = driver.pipeline().reader().input_files();
    let mut paths = MessagePaths::default();
    // Fed by the flows and by the datagrams, two callbacks of one run.
    let cross_flow = std::cell::RefCell::new(CrossFlowWatch::default());
    let mut messages = 0usize;
    driver.analyze(
        &AnalyzeOptions {
            run,
            ..AnalyzeOptions::default()
        },
        |mut a: FlowAnalysis| {
            a.file = files.file_of(a.summary.first_packet).map(str::to_string);
            for (i, m) in a.dialogue.messages.iter().enumerate() {
                paths.add(m, messages + i, a.summary.client, a.summary.server);
            }
            cross_flow.borrow_mut().add(&a);
            flow_records(&mut a, messages, &mut on_record);
            messages += a.dialogue.messages.len();
        },
        |_| {},
        |packet| {
            if let Observed::Udp { datagram, .. } = packet {
                cross_flow.borrow_mut().datagram(datagram.payload);
            }
        },
    )?;
    for path in paths.multi_flow() {
        on_record(Record::MessagePath(path.record()));
    }
    for f in cross_flow.into_inner().findings() {
        on_record(Record::Finding(&f));
    }
    // Key log lines not understood come first, as the driver lists them.
    Ok(driver.capture_record())
}

/// One flow's records, in the contract's order. `messages_before` is the
/// number of `message` records already handed on (a transaction names its
/// message by its index in the whole output: the flow's transactions are
/// renumbered in place).
pub fn flow_records(
    a: &mut FlowAnalysis,
    messages_before: usize,
    on_record: &mut impl FnMut(Record<'_>),
) {
    for t in &mut a.dialogue.transactions {
        t.message = t.message.map(|i| i + messages_before);
    }
    let a = &*a;
    let d = &a.dialogue;
    on_record(Record::AnalyzedFlow(a.flow_record()));
    for m in &d.messages {
        on_record(Record::Message(m));
    }
    for t in &d.transactions {
        on_record(Record::Transaction(t));
    }
    for c in &d.credentials {
        on_record(Record::Credential(c));
    }
    for f in &d.findings {
        on_record(Record::Finding(f));
    }
}
