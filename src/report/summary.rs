//! The human summary of `mailscope analyze`: the overview, then flows,
//! messages, credentials, findings and message paths, as tables for a
//! terminal.

use std::io::{self, Write};

use super::analysis::cell;
use super::overview::Overview;
use super::table::{col, table, width};
use crate::analysis::FlowAnalysis;
use crate::trace::{CaptureRecord, MessagePaths, PathKey};
use crate::trace::{Credential, Finding, MessageRecord, Protocol};

/// The most characters of a finding's message a line shows (the longest
/// the program writes itself, the open relay's, is about 400).
const FINDING_MESSAGE: usize = 600;

/// Rows gathered while the flows go by.
#[derive(Default)]
pub struct Summary {
    flows: Vec<[String; 9]>,
    messages: Vec<(usize, MessageRecord)>,
    credentials: Vec<(Credential, String)>,
    findings: Vec<Finding>,
    tls: Vec<[String; 7]>,
    overview: Overview,
}

impl Summary {
    pub fn add(&mut self, a: &FlowAnalysis, messages_before: usize) {
        self.overview.add(a);
        let s = &a.summary;
        let d = &a.dialogue;
        self.flows.push([
            s.id.to_string(),
            s.client.to_string(),
            s.server.to_string(),
            a.verdict.protocol.as_str().to_string(),
            a.verdict.tls.as_str().to_string(),
            s.state.as_str().to_string(),
            d.messages.len().to_string(),
            d.credentials.len().to_string(),
            d.findings.len().to_string(),
        ]);
        for (i, m) in d.messages.iter().enumerate() {
            self.messages.push((messages_before + i, m.clone()));
        }
        let server = s.server.to_string();
        for c in &d.credentials {
            self.credentials.push((c.clone(), server.clone()));
        }
        self.findings.extend(d.findings.iter().cloned());
        if let Some(t) = &a.tls {
            let unseen = || "-".to_string();
            self.tls.push([
                s.id.to_string(),
                a.verdict.tls.as_str().to_string(),
                t.version.clone().unwrap_or_else(unseen),
                t.sni.clone().unwrap_or_else(unseen),
                t.cipher.clone().unwrap_or_else(unseen),
                format!("{}/{}", t.records_c2s, t.records_s2c),
                match (t.decrypted_records_c2s, t.decrypted_records_s2c) {
                    (0, 0) => "no".to_string(),
                    (c, s) => format!("{c}/{s} records"),
                },
            ]);
        }
    }

    /// Findings that several flows show (`open-relay`), each counted with
    /// the flow it names.
    pub fn add_findings(&mut self, findings: Vec<Finding>) {
        self.overview.add_findings(&findings);
        for f in &findings {
            let id = f.flow.map(|n| n.to_string());
            if let Some(row) = self.flows.iter_mut().find(|r| Some(&r[0]) == id.as_ref()) {
                let n: u64 = row[8].parse().unwrap_or(0);
                row[8] = (n + 1).to_string();
            }
        }
        self.findings.extend(findings);
    }

    pub fn write(
        &self,
        out: &mut impl Write,
        capture: &CaptureRecord,
        paths: MessagePaths,
    ) -> io::Result<()> {
        super::flows::write_headline(out, capture)?;
        self.overview.record(capture).write_text(out)?;
        writeln!(out, "\nFlows")?;
        let n = width::NUMBER;
        table(
            out,
            &[
                col("id", n),
                col("client", width::ENDPOINT),
                col("server", width::ENDPOINT),
                col("proto", width::WORD),
                col("tls", width::WORD),
                col("state", width::WORD),
                col("msgs", n),
                col("creds", n),
                col("findings", n),
            ],
            &self.flows,
        )?;
        if !self.messages.is_empty() {
            writeln!(out, "\nMessages")?;
            let rows: Vec<[String; 10]> = self
                .messages
                .iter()
                .map(|(i, m)| {
                    // The envelope and the header apart: a header From
                    // that is not the MAIL FROM (a spoof) shows on its row.
                    let envelope = match m.protocol {
                        Protocol::Smtp => m.mail_from.as_deref().unwrap_or("-"),
                        _ => "-",
                    };
                    let to = match &m.rcpt_to {
                        Some(r) => r.join(", "),
                        None => m.to.join(", "),
                    };
                    let names: Vec<&str> = m
                        .attachments
                        .iter()
                        .map(|a| a.filename.as_deref().unwrap_or("(unnamed)"))
                        .collect();
                    let mut how = m.via_label();
                    if m.deleted == Some(true) {
                        how.push_str(" (deleted)");
                    }
                    [
                        i.to_string(),
                        m.flow.to_string(),
                        how,
                        envelope.to_string(),
                        m.header_from(),
                        to,
                        m.subject.clone().unwrap_or_default(),
                        m.size.to_string(),
                        if m.complete { "yes" } else { "NO" }.to_string(),
                        names.join(", "),
                    ]
                })
                .collect();
            let n = width::NUMBER;
            table(
                out,
                &[
                    col("#", n),
                    col("flow", n),
                    col("via", width::VIA),
                    col("mail from", width::ADDRESS),
                    col("header from", width::NAMED_ADDRESS),
                    col("to", width::ADDRESS),
                    col("subject", width::TEXT),
                    col("bytes", n),
                    col("complete", width::WORD),
                    col("attachments", width::TEXT),
                ],
                &rows,
            )?;
        }
        if !self.credentials.is_empty() {
            let any_clear = self.credentials.iter().any(|(c, _)| c.tls.is_none());
            let heading = if any_clear {
                "Credentials (what anyone on the path could read)"
            } else {
                "Credentials"
            };
            writeln!(out, "\n{heading}")?;
            write_credentials(out, &self.credentials)?;
        }
        if !self.tls.is_empty() {
            writeln!(out, "\nTLS (what the handshake shows in clear)")?;
            table(
                out,
                &[
                    col("flow", width::NUMBER),
                    col("tls", width::WORD),
                    col("version", width::TOKEN),
                    col("server name", width::TEXT),
                    col("cipher", width::TEXT),
                    col("records c→s/s→c", 2 * width::NUMBER + 1),
                    col("decrypted", 2 * width::NUMBER + 10),
                ],
                &self.tls,
            )?;
        }
        if !self.findings.is_empty() {
            writeln!(out, "\nFindings")?;
            let mut sorted: Vec<&Finding> = self.findings.iter().collect();
            sorted.sort_by_key(|f| (std::cmp::Reverse(f.severity), f.flow));
            for f in sorted {
                writeln!(
                    out,
                    "  {:<6}  flow {:<4} {:<18} {}",
                    f.severity.as_str(),
                    f.flow.map_or_else(|| "-".to_string(), |n| n.to_string()),
                    f.code,
                    // Findings quote the wire (a user name, a reply): a
                    // line, not a table, but still not a screenful.
                    cell(&f.message, FINDING_MESSAGE)
                )?;
            }
        }
        let multi = paths.multi_flow();
        if !multi.is_empty() {
            writeln!(out, "\nMessage paths (one Message-ID on several flows)")?;
            for path in &multi {
                let (hops, total) = (&path.hops, path.hops_total);
                let id = match &path.key {
                    PathKey::MessageId(id) => cell(id, 80),
                    PathKey::Sha256(h) => format!("sha256:{h}"),
                };
                let steps: Vec<String> = hops
                    .iter()
                    .map(|h| {
                        format!(
                            "flow {} {} {} → {}",
                            h.flow,
                            h.via.as_str(),
                            h.client,
                            h.server
                        )
                    })
                    .collect();
                let more = if total as usize > hops.len() {
                    format!(" (+{} more)", total as usize - hops.len())
                } else {
                    String::new()
                };
                // Quoted as Rust quotes it, then cut (the quotes count).
                let subject = format!("{:?}", path.subject.as_deref().unwrap_or(""));
                writeln!(
                    out,
                    "  {id} {}\n    {}{more}",
                    cell(&subject, width::TEXT + 2),
                    steps.join("\n    ")
                )?;
            }
        }
        Ok(())
    }
}

impl MessageRecord {
    /// The header From as a reader sees it: `Bob Boss <attacker@evil.example>`
    /// with a display name, the address alone without one, empty when the
    /// message has no From.
    pub fn header_from(&self) -> String {
        match (self.from_name.as_deref(), self.from.first()) {
            (Some(name), Some(address)) if !name.is_empty() => format!("{name} <{address}>"),
            (_, Some(address)) => address.clone(),
            (Some(name), None) => name.to_string(),
            (None, None) => String::new(),
        }
    }

    /// `DATA`, `RETR 2`, `FETCH header`… for a table.
    pub fn via_label(&self) -> String {
        let via = self.via.as_str().to_string();
        match (&self.number, self.part.as_str()) {
            (Some(n), "full") => format!("{via} {n}"),
            (Some(n), part) => format!("{via} {n} {part}"),
            (None, "full") => via,
            (None, part) => format!("{via} {part}"),
        }
    }
}

/// The credentials table (also `mailscope creds`).
pub fn write_credentials(out: &mut impl Write, creds: &[(Credential, String)]) -> io::Result<()> {
    let (inside, clear): (Vec<_>, Vec<_>) = creds.iter().partition(|(c, _)| c.tls.is_some());
    if !clear.is_empty() || inside.is_empty() {
        credential_table(out, &clear)?;
    }
    if !inside.is_empty() {
        writeln!(
            out,
            "Read inside TLS with the key log (on the wire they were encrypted: an eavesdropper without the keys sees none of these)"
        )?;
        credential_table(out, &inside)?;
    }
    Ok(())
}

fn credential_table(out: &mut impl Write, creds: &[&(Credential, String)]) -> io::Result<()> {
    let rows: Vec<[String; 7]> = creds
        .iter()
        .map(|(c, server)| {
            [
                c.flow.to_string(),
                c.protocol.as_str().to_string(),
                server.clone(),
                c.mechanism.clone(),
                c.username.clone().unwrap_or_default(),
                c.password
                    .clone()
                    .unwrap_or_else(|| "(not revealed)".to_string()),
                match c.success {
                    Some(true) => "accepted",
                    Some(false) => "REJECTED",
                    None => "?",
                }
                .to_string(),
            ]
        })
        .collect();
    table(
        out,
        &[
            col("flow", width::NUMBER),
            col("proto", width::WORD),
            col("server", width::ENDPOINT),
            col("mechanism", width::TOKEN),
            col("username", width::ADDRESS),
            col("password", width::ADDRESS),
            col("result", width::WORD),
        ],
        &rows,
    )?;
    for (c, _) in creds.iter().copied() {
        if let Some(note) = &c.note {
            writeln!(
                out,
                "  flow {} {}: {note}",
                c.flow,
                cell(&c.mechanism, width::TOKEN)
            )?;
        }
    }
    Ok(())
}
