//! The overview that opens `mailscope analyze` (and is all of `analyze
//! --summary`): totals, then the top talkers, senders, recipients and
//! users. A capture bigger than a screen is read from here down; the
//! per-flow tables below are for looking things up.
//!
//! The rules (README, "What `analyze` shows"):
//! - every count is of the records `analyze --json` writes, so a script
//!   can check one against the other;
//! - a talker is a host (an IP address, its ports dropped: a client's
//!   ephemeral ports would split one machine into many), counted once per
//!   flow it takes part in as client or server; its bytes are those the
//!   flows delivered in both directions;
//! - a sender is a message's header From (first address), else its
//!   envelope MAIL FROM; recipients are the envelope RCPT TO, else the
//!   header To and Cc, each address once per message (the envelope's
//!   angle brackets dropped, so both name one address);
//! - a user is a credential's user name with its protocol;
//! - lists are cut at [`TOP`] rows; ties are broken by the key in byte
//!   order (hosts by address: IPv4 before IPv6), so the output does not
//!   depend on the order flows ended in.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::net::IpAddr;

use serde::Serialize;

use super::table::{Column, col, table, width};
use crate::analysis::FlowAnalysis;
use crate::trace::{CaptureRecord, Finding, MessageRecord, Protocol, Severity, TlsMode};

/// How many rows each top list shows.
pub const TOP: usize = 10;

/// Counts gathered while the flows go by.
#[derive(Default)]
pub struct Overview {
    /// Flows and flows with TLS, per protocol.
    flows: HashMap<Protocol, (u64, u64)>,
    messages: u64,
    complete: u64,
    attachments: u64,
    credentials: u64,
    in_clear: u64,
    findings: BTreeMap<Severity, u64>,
    talkers: HashMap<IpAddr, Talker>,
    senders: HashMap<String, u64>,
    recipients: HashMap<String, u64>,
    users: HashMap<(String, Protocol), User>,
}

#[derive(Clone, Copy, Default, Serialize)]
struct Talker {
    flows: u64,
    as_client: u64,
    as_server: u64,
    bytes: u64,
}

#[derive(Clone, Copy, Default, Serialize)]
struct User {
    attempts: u64,
    accepted: u64,
    rejected: u64,
}

impl Overview {
    pub fn add(&mut self, a: &FlowAnalysis) {
        let s = &a.summary;
        let entry = self.flows.entry(a.verdict.protocol).or_default();
        entry.0 += 1;
        if a.verdict.tls != TlsMode::None {
            entry.1 += 1;
        }
        // The bytes of the flow record (`bytes_c2s` + `bytes_s2c`).
        let bytes = s.streams.iter().map(|st| st.delivered).sum::<u64>();
        let client = s.client.ip();
        let server = s.server.ip();
        let mut talk = |host: IpAddr, as_client: bool, as_server: bool| {
            let t = self.talkers.entry(host).or_default();
            t.flows += 1;
            t.as_client += u64::from(as_client);
            t.as_server += u64::from(as_server);
            t.bytes += bytes;
        };
        if client == server {
            // A host talking to itself (loopback) takes part in one flow.
            talk(client, true, true);
        } else {
            talk(client, true, false);
            talk(server, false, true);
        }
        let d = &a.dialogue;
        for m in &d.messages {
            self.add_message(m);
        }
        for c in &d.credentials {
            self.credentials += 1;
            if c.tls.is_none() {
                self.in_clear += 1;
            }
            if let Some(name) = &c.username {
                let u = self.users.entry((name.clone(), c.protocol)).or_default();
                u.attempts += 1;
                match c.success {
                    Some(true) => u.accepted += 1,
                    Some(false) => u.rejected += 1,
                    None => {}
                }
            }
        }
        self.add_findings(&d.findings);
    }

    fn add_message(&mut self, m: &MessageRecord) {
        self.messages += 1;
        self.complete += u64::from(m.complete);
        self.attachments += m.attachments.len() as u64;
        if let Some(sender) = m.from.first().or(m.mail_from.as_ref()) {
            *self.senders.entry(address(sender).to_string()).or_default() += 1;
        }
        let mut named: Vec<&str> = match &m.rcpt_to {
            Some(rcpt) => rcpt.iter().map(|a| address(a)).collect(),
            None => m.to.iter().chain(&m.cc).map(|a| address(a)).collect(),
        };
        named.sort_unstable();
        named.dedup();
        for r in named {
            *self.recipients.entry(r.to_string()).or_default() += 1;
        }
    }

    /// Findings not of one flow's dialogue (`open-relay`).
    pub fn add_findings(&mut self, findings: &[Finding]) {
        for f in findings {
            *self.findings.entry(f.severity).or_default() += 1;
        }
    }

    /// The numbers, the capture's own findings (damage to the file, which
    /// `--json` writes as `finding` records too) counted in.
    pub fn record<'a>(&self, capture: &'a CaptureRecord) -> SummaryRecord<'a> {
        let mut findings = self.findings.clone();
        for w in &capture.damage {
            *findings.entry(Finding::of_capture(w).severity).or_default() += 1;
        }
        // By name: the order does not depend on hashing.
        let by_protocol: BTreeMap<&'static str, ProtocolCount> = self
            .flows
            .iter()
            .map(|(p, &(flows, tls))| (p.as_str(), ProtocolCount { flows, tls }))
            .collect();
        let severity = |s| findings.get(&s).copied().unwrap_or(0);
        SummaryRecord {
            kind: "summary",
            capture,
            file: &capture.file,
            format: capture.format,
            packets: capture.packets,
            bytes: capture.bytes,
            tcp_flows: capture.tcp_flows,
            top: TOP,
            flows: Flows {
                total: by_protocol.values().map(|c| c.flows).sum(),
                tls: by_protocol.values().map(|c| c.tls).sum(),
                by_protocol,
            },
            messages: Messages {
                total: self.messages,
                complete: self.complete,
                incomplete: self.messages - self.complete,
            },
            attachments: self.attachments,
            credentials: Credentials {
                total: self.credentials,
                in_clear: self.in_clear,
            },
            findings: Findings {
                total: findings.values().sum(),
                high: severity(Severity::High),
                medium: severity(Severity::Medium),
                info: severity(Severity::Info),
            },
            talkers: top_list(&self.talkers, |(host, t)| {
                (std::cmp::Reverse((t.flows, t.bytes)), **host)
            })
            .map(|(host, t)| TalkerRow {
                host: host.to_string(),
                talker: *t,
            }),
            senders: counted(&self.senders),
            recipients: counted(&self.recipients),
            users: top_list(&self.users, |((name, protocol), u)| {
                (
                    std::cmp::Reverse(u.attempts),
                    name.clone(),
                    protocol.as_str(),
                )
            })
            .map(|((name, protocol), u)| UserRow {
                user: name.clone(),
                protocol: protocol.as_str(),
                user_counts: *u,
            }),
        }
    }
}

/// An address as the lists count it: the envelope keeps the angle
/// brackets as sent (`<bob@hamburger.edu>`), the header's are gone
/// (`bob@hamburger.edu`); without them both are one person. The null
/// sender stays `<>`; the case is kept.
fn address(sent: &str) -> &str {
    let sent = sent.trim();
    match sent.strip_prefix('<').and_then(|a| a.strip_suffix('>')) {
        Some(inner) if !inner.trim().is_empty() => inner.trim(),
        _ => sent,
    }
}

/// The `summary` record of `analyze --summary --json` (its keys are
/// listed in the README).
#[derive(Serialize)]
pub struct SummaryRecord<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    /// For the headline of the text.
    #[serde(skip)]
    capture: &'a CaptureRecord,
    pub file: &'a str,
    pub format: &'static str,
    pub packets: u64,
    pub bytes: u64,
    pub tcp_flows: u64,
    /// How many rows a top list holds at most.
    pub top: usize,
    flows: Flows,
    messages: Messages,
    attachments: u64,
    credentials: Credentials,
    findings: Findings,
    talkers: Top<TalkerRow>,
    senders: Top<AddressRow>,
    recipients: Top<AddressRow>,
    users: Top<UserRow>,
}

#[derive(Serialize)]
struct ProtocolCount {
    flows: u64,
    tls: u64,
}

#[derive(Serialize)]
struct Flows {
    total: u64,
    tls: u64,
    by_protocol: BTreeMap<&'static str, ProtocolCount>,
}

#[derive(Serialize)]
struct Messages {
    total: u64,
    complete: u64,
    incomplete: u64,
}

#[derive(Serialize)]
struct Credentials {
    total: u64,
    in_clear: u64,
}

#[derive(Serialize)]
struct Findings {
    total: u64,
    high: u64,
    medium: u64,
    info: u64,
}

/// A top list: how many there were in all, and the first [`TOP`].
#[derive(Serialize)]
struct Top<T> {
    total: usize,
    top: Vec<T>,
}

impl<T> Top<T> {
    fn map<U>(self, f: impl FnMut(T) -> U) -> Top<U> {
        Top {
            total: self.total,
            top: self.top.into_iter().map(f).collect(),
        }
    }
}

#[derive(Serialize)]
struct TalkerRow {
    host: String,
    #[serde(flatten)]
    talker: Talker,
}

#[derive(Serialize)]
struct AddressRow {
    address: String,
    messages: u64,
}

#[derive(Serialize)]
struct UserRow {
    user: String,
    protocol: &'static str,
    #[serde(flatten)]
    user_counts: User,
}

/// The first [`TOP`] entries of `map` in the order of `key` (which must
/// tell every two entries apart, so ties never depend on hashing).
fn top_list<'m, K, V, O: Ord>(
    map: &'m HashMap<K, V>,
    key: impl Fn(&(&'m K, &'m V)) -> O,
) -> Top<(&'m K, &'m V)> {
    let mut all: Vec<(&K, &V)> = map.iter().collect();
    all.sort_by_cached_key(|e| key(e));
    let total = all.len();
    all.truncate(TOP);
    Top { total, top: all }
}

/// Addresses by messages, most first, then by address.
fn counted(map: &HashMap<String, u64>) -> Top<AddressRow> {
    top_list(map, |(address, n)| {
        (std::cmp::Reverse(**n), (*address).clone())
    })
    .map(|(address, n)| AddressRow {
        address: address.clone(),
        messages: *n,
    })
}

impl SummaryRecord<'_> {
    /// `analyze --summary`: the headline, then the overview.
    pub fn write_with_headline(&self, out: &mut impl Write) -> io::Result<()> {
        super::flows::write_headline(out, self.capture)?;
        self.write_text(out)
    }

    /// The overview as text, after the headline.
    pub fn write_text(&self, out: &mut impl Write) -> io::Result<()> {
        writeln!(out, "\nOverview")?;
        let protocols: Vec<String> = self
            .flows
            .by_protocol
            .iter()
            .map(|(p, c)| match c.tls {
                0 => format!("{p} {}", c.flows),
                tls => format!("{p} {} ({tls} with TLS)", c.flows),
            })
            .collect();
        let mut flows = format!("{} ({} with TLS)", self.flows.total, self.flows.tls);
        if !protocols.is_empty() {
            flows.push_str(": ");
            flows.push_str(&protocols.join(", "));
        }
        let m = &self.messages;
        let f = &self.findings;
        let c = &self.credentials;
        for (name, value) in [
            ("flows", flows),
            (
                "messages",
                format!(
                    "{} ({} complete, {} incomplete)",
                    m.total, m.complete, m.incomplete
                ),
            ),
            ("attachments", self.attachments.to_string()),
            (
                "credentials",
                format!("{} ({} in clear)", c.total, c.in_clear),
            ),
            (
                "findings",
                format!(
                    "{} (high {}, medium {}, info {})",
                    f.total, f.high, f.medium, f.info
                ),
            ),
        ] {
            writeln!(out, "  {name:<12} {value}")?;
        }
        if !self.talkers.top.is_empty() {
            self.heading(
                out,
                "Top talkers",
                "hosts by flows, then bytes",
                self.talkers.total,
            )?;
            let rows: Vec<[String; 5]> = self
                .talkers
                .top
                .iter()
                .map(|r| {
                    let t = &r.talker;
                    [
                        r.host.clone(),
                        t.flows.to_string(),
                        t.as_client.to_string(),
                        t.as_server.to_string(),
                        t.bytes.to_string(),
                    ]
                })
                .collect();
            let n = width::NUMBER;
            table(
                out,
                &[
                    col("host", width::HOST),
                    col("flows", n),
                    col("as client", n),
                    col("as server", n),
                    col("bytes", n),
                ],
                &rows,
            )?;
        }
        for (title, rule, list, column) in [
            (
                "Top senders",
                "header From, else MAIL FROM",
                &self.senders,
                "sender",
            ),
            (
                "Top recipients",
                "RCPT TO, else To and Cc",
                &self.recipients,
                "recipient",
            ),
        ] {
            if list.top.is_empty() {
                continue;
            }
            self.heading(out, title, rule, list.total)?;
            let rows: Vec<[String; 2]> = list
                .top
                .iter()
                .map(|r| [r.address.clone(), r.messages.to_string()])
                .collect();
            let columns: [Column; 2] = [
                col(column, width::NAMED_ADDRESS),
                col("messages", width::NUMBER),
            ];
            table(out, &columns, &rows)?;
        }
        if !self.users.top.is_empty() {
            self.heading(
                out,
                "Top users",
                "credential user names, by attempts",
                self.users.total,
            )?;
            let rows: Vec<[String; 5]> = self
                .users
                .top
                .iter()
                .map(|r| {
                    let u = &r.user_counts;
                    [
                        r.user.clone(),
                        r.protocol.to_string(),
                        u.attempts.to_string(),
                        u.accepted.to_string(),
                        u.rejected.to_string(),
                    ]
                })
                .collect();
            let n = width::NUMBER;
            table(
                out,
                &[
                    col("user", width::ADDRESS),
                    col("proto", width::WORD),
                    col("attempts", n),
                    col("accepted", n),
                    col("rejected", n),
                ],
                &rows,
            )?;
        }
        Ok(())
    }

    /// A list's heading and what it ranks by, saying so when the list is
    /// cut ("top 10 of 57").
    fn heading(
        &self,
        out: &mut impl Write,
        title: &str,
        rule: &str,
        total: usize,
    ) -> io::Result<()> {
        if total > self.top {
            writeln!(out, "\n{title} (top {} of {total}; {rule})", self.top)
        } else {
            writeln!(out, "\n{title} ({rule})")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::address;

    #[test]
    fn envelope_and_header_addresses_are_one() {
        assert_eq!(address("<bob@hamburger.edu>"), "bob@hamburger.edu");
        assert_eq!(address(" bob@hamburger.edu "), "bob@hamburger.edu");
        assert_eq!(address("<>"), "<>");
        assert_eq!(address("< >"), "< >");
        assert_eq!(address("<a@b"), "<a@b");
    }
}
