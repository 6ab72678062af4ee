//! The human summary of `mailscope analyze`: flows, messages, credentials,
//! findings and message paths, as tables for a terminal.

use std::io::{self, Write};

use super::analysis::cell;
use crate::analysis::FlowAnalysis;
use crate::trace::{CaptureRecord, MessagePaths, PathKey};
use crate::trace::{Credential, Finding, MessageRecord};

/// Rows gathered while the flows go by.
#[derive(Default)]
pub struct Summary {
    flows: Vec<[String; 9]>,
    messages: Vec<(usize, MessageRecord)>,
    credentials: Vec<(Credential, String)>,
    findings: Vec<Finding>,
    tls: Vec<[String; 7]>,
}

impl Summary {
    pub fn add(&mut self, a: &FlowAnalysis, messages_before: usize) {
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
        writeln!(out, "\nFlows")?;
        table(
            out,
            &[
                "id", "client", "server", "proto", "tls", "state", "msgs", "creds", "findings",
            ],
            &self.flows,
        )?;
        if !self.messages.is_empty() {
            writeln!(out, "\nMessages")?;
            let rows: Vec<[String; 9]> = self
                .messages
                .iter()
                .map(|(i, m)| {
                    let from = m
                        .mail_from
                        .clone()
                        .or_else(|| m.from.first().cloned())
                        .unwrap_or_default();
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
                        cell(&from, 32),
                        cell(&to, 32),
                        cell(m.subject.as_deref().unwrap_or(""), 40),
                        m.size.to_string(),
                        if m.complete { "yes" } else { "NO" }.to_string(),
                        cell(&names.join(", "), 40),
                    ]
                })
                .collect();
            table(
                out,
                &[
                    "#",
                    "flow",
                    "via",
                    "from",
                    "to",
                    "subject",
                    "bytes",
                    "complete",
                    "attachments",
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
                    "flow",
                    "tls",
                    "version",
                    "server name",
                    "cipher",
                    "records c→s/s→c",
                    "decrypted",
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
                    f.message
                )?;
            }
        }
        let multi = paths.multi_flow();
        if !multi.is_empty() {
            writeln!(out, "\nMessage paths (one Message-ID on several flows)")?;
            for path in &multi {
                let (hops, total) = (&path.hops, path.hops_total);
                let id = match &path.key {
                    PathKey::MessageId(id) => id.clone(),
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
                writeln!(
                    out,
                    "  {id} {:?}\n    {}{more}",
                    path.subject.as_deref().unwrap_or(""),
                    steps.join("\n    ")
                )?;
            }
        }
        Ok(())
    }
}

impl MessageRecord {
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
            "flow",
            "proto",
            "server",
            "mechanism",
            "username",
            "password",
            "result",
        ],
        &rows,
    )?;
    for (c, _) in creds.iter().copied() {
        if let Some(note) = &c.note {
            writeln!(out, "  flow {} {}: {note}", c.flow, c.mechanism)?;
        }
    }
    Ok(())
}

/// A plain table with columns as wide as their widest cell (every cell's
/// unsafe characters written out first, so the widths are what is shown).
fn table<const N: usize>(
    out: &mut impl Write,
    header: &[&str; N],
    rows: &[[String; N]],
) -> io::Result<()> {
    let rows: Vec<[String; N]> = rows
        .iter()
        .map(|row| {
            row.clone()
                .map(|c| crate::trace::text::visible(&c).into_owned())
        })
        .collect();
    let rows = &rows;
    let mut width = header.map(|h| h.chars().count());
    for row in rows {
        for (w, c) in width.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| -> String {
        let mut s = String::from(" ");
        for (c, w) in cells.iter().zip(width) {
            s.push(' ');
            s.push_str(c);
            for _ in c.chars().count()..w {
                s.push(' ');
            }
            s.push(' ');
        }
        s.trim_end().to_string()
    };
    writeln!(out, "{}", line(header.to_vec()))?;
    for row in rows {
        writeln!(out, "{}", line(row.iter().map(String::as_str).collect()))?;
    }
    Ok(())
}
