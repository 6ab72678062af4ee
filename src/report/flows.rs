//! The `capture` and `flow` records of `mailscope flows` (see
//! `docs/output-schema.md` in the shared docs): as JSON Lines and as a table.

use std::io::{self, Write};

use serde::Serialize;

use crate::trace::{CaptureRecord, Finding, FlowRecord, Record};

/// The head of a JSON Lines report: the `capture` record, then a `finding`
/// for each piece of damage the reader met.
pub fn write_capture_json(out: &mut impl Write, capture: &CaptureRecord) -> io::Result<()> {
    write_json_line(out, &Record::Capture(capture))?;
    for w in &capture.damage {
        write_json_line(out, &Record::Finding(&Finding::of_capture(w)))?;
    }
    Ok(())
}

/// The first line of `flows` and `analyze`: the file and what it holds
/// (and how much of it `--filter`/`--since`/`--until` left out).
pub(crate) fn write_headline(out: &mut impl Write, capture: &CaptureRecord) -> io::Result<()> {
    let left_out = match capture.decode.filtered_out {
        0 => String::new(),
        n => format!(", {n} packets left out by the filter"),
    };
    writeln!(
        out,
        "{} ({}, {} packets, {} bytes, {} TCP flows{left_out})",
        capture.file, capture.format, capture.packets, capture.bytes, capture.tcp_flows
    )
}

/// Writes one record as a JSON line.
pub fn write_json_line(out: &mut impl Write, record: &impl Serialize) -> io::Result<()> {
    serde_json::to_writer(&mut *out, record).map_err(io::Error::other)?;
    out.write_all(b"\n")
}

/// The human table of `mailscope flows`.
pub fn write_table(
    out: &mut impl Write,
    capture: &CaptureRecord,
    flows: &[FlowRecord],
) -> io::Result<()> {
    write_headline(out, capture)?;
    // An address column is as wide as its longest address, and at least
    // as wide as its heading.
    let width =
        |addr: fn(&FlowRecord) -> String| flows.iter().map(|f| addr(f).len()).fold(6, usize::max);
    let w_client = width(|f| f.client.to_string());
    let w_server = width(|f| f.server.to_string());
    writeln!(
        out,
        "{:>4}  {:<w_client$}  {:<w_server$}  {:<7}  {:<8}  {:>7}  {:>10}  {:>10}  {:>4}  {:<6}  {:>9}",
        "id",
        "client",
        "server",
        "proto",
        "tls",
        "packets",
        "bytes c→s",
        "bytes s→c",
        "gaps",
        "state",
        "duration"
    )?;
    for f in flows {
        writeln!(
            out,
            "{:>4}  {:<w_client$}  {:<w_server$}  {:<7}  {:<8}  {:>7}  {:>10}  {:>10}  {:>4}  {:<6}  {:>8.3}s",
            f.id,
            f.client.to_string(),
            f.server.to_string(),
            f.protocol.as_str(),
            f.tls.as_str(),
            f.packets,
            f.bytes_c2s,
            f.bytes_s2c,
            f.gaps,
            f.state.as_str(),
            f.duration
        )?;
    }
    Ok(())
}
