//! `analyze --format ecs`: the records of `analyze --json` as JSON Lines
//! in the Elastic Common Schema, one event per record, for a SIEM.
//!
//! The mapping (README § "ECS events"): every event has `@timestamp`
//! (RFC 3339, UTC), `ecs.version`, `agent`/`observer` naming mailscope,
//! `event.module: mailscope` and `event.dataset: mailscope.<record>`, and,
//! for what happened on a connection, `source.*` (the client),
//! `destination.*` (the server), `network.*` and `mailscope.flow` /
//! `mailscope.flow_uid` to join the events of one flow. What ECS has no
//! field for stays under `mailscope.*`, a custom namespace: a
//! credential's password is there (`mailscope.credential.password`) and
//! never in a standard field.
//!
//! Message, transaction, credential and finding records do not repeat
//! their flow's endpoints; the flow record comes before them (the
//! facade's order), so the writer remembers each flow's endpoints by id.
//! The findings of `open-relay`, handed on after the last flow, find them
//! there too.

use std::collections::HashMap;
use std::io::{self, Write};
use std::net::SocketAddr;

use serde_json::{Map, Value, json};

use crate::capture::Timestamp;
use crate::capture::civil_time::civil_from_days;
use crate::trace::{
    AnalyzedFlowRecord, CaptureRecord, Credential, Finding, FindingCode, FlowUid, MessageRecord,
    Protocol, Record, Severity, TlsMode, Transaction, TxStatus,
};

/// The ECS version the events follow (and the field list of
/// `tests/data/ecs_fields.txt` was taken from).
pub const ECS_VERSION: &str = "9.4.0";

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// What the events of a flow's other records repeat from its flow record.
#[derive(Clone, Copy)]
struct Endpoints {
    client: SocketAddr,
    server: SocketAddr,
    protocol: Protocol,
    uid: FlowUid,
    start: Timestamp,
}

/// Writes records as ECS events, one JSON object a line, keeping the
/// first error (later records are skipped).
pub struct EcsLines<W: Write> {
    out: W,
    error: Option<io::Error>,
    flows: HashMap<u64, Endpoints>,
    /// `message` records seen: the next one's index in `analyze --json`.
    messages: usize,
}

impl<W: Write> EcsLines<W> {
    pub fn new(out: W) -> Self {
        EcsLines {
            out,
            error: None,
            flows: HashMap::new(),
            messages: 0,
        }
    }

    /// Writes the event of one record (none for the `capture` record and
    /// the `flow` record of `flows`).
    pub fn write(&mut self, record: &Record<'_>) {
        let event = self.event(record);
        if let Some(event) = event {
            self.emit(&event);
        }
    }

    /// The capture's own findings (damage the reader met), as alerts; the
    /// `capture` record itself has no event.
    pub fn write_capture(&mut self, capture: &CaptureRecord) {
        for w in &capture.damage {
            let finding = Finding::of_capture(w);
            let event = self.finding(&finding, capture.first_ts);
            self.emit(&event);
        }
    }

    /// The writer, or the first error.
    pub fn finish(self) -> io::Result<W> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.out),
        }
    }

    fn emit(&mut self, event: &Value) {
        if self.error.is_none()
            && let Err(e) = serde_json::to_writer(&mut self.out, event)
                .map_err(io::Error::other)
                .and_then(|()| self.out.write_all(b"\n"))
        {
            self.error = Some(e);
        }
    }

    /// The ECS event of a record.
    pub fn event(&mut self, record: &Record<'_>) -> Option<Value> {
        match record {
            Record::Capture(_) | Record::Flow(_) => None,
            Record::AnalyzedFlow(f) => Some(self.flow(f)),
            Record::Message(m) => {
                let index = self.messages;
                self.messages += 1;
                Some(self.message(m, index))
            }
            Record::Transaction(t) => Some(self.transaction(t)),
            Record::Credential(c) => Some(self.credential(c)),
            Record::Finding(f) => Some(self.finding(f, None)),
            Record::MessagePath(p) => {
                let ts = p.hops.first().map_or_else(Timestamp::default, |h| h.ts);
                let mut e = base(ts, "message_path", "event", &["email"], &["info"]);
                let mut ips: Vec<String> = Vec::new();
                for hop in p.hops {
                    for addr in [hop.client, hop.server] {
                        let ip = addr.ip().to_string();
                        if !ips.contains(&ip) {
                            ips.push(ip);
                        }
                    }
                }
                merge(
                    &mut e,
                    json!({
                        "email": {"message_id": p.message_id, "subject": p.subject},
                        "related": {"ip": ips, "hash": p.sha256.map(|h| vec![h])},
                        "mailscope": {"message_path": p},
                    }),
                );
                Some(prune(e))
            }
        }
    }

    fn flow(&mut self, f: &AnalyzedFlowRecord<'_>) -> Value {
        let r = &f.flow;
        let ends = Endpoints {
            client: r.client,
            server: r.server,
            protocol: r.protocol,
            uid: r.flow_uid,
            start: r.start,
        };
        self.flows.insert(r.id, ends);
        let mut e = base(r.start, "flow", "event", &["network"], &["connection"]);
        merge(&mut e, on_flow(r.id, Some(&ends)));
        let tls = f.tls_info.map(|t| {
            let version = t.version.as_deref().and_then(|v| v.strip_prefix("TLS "));
            json!({
                "version": version,
                "version_protocol": version.map(|_| "tls"),
                "cipher": t.cipher,
                "client": {"server_name": t.sni},
            })
        });
        merge(
            &mut e,
            json!({
                "event": {
                    "start": rfc3339_utc(r.start),
                    "end": rfc3339_utc(r.end),
                    "duration": r.end.as_nanos().saturating_sub(r.start.as_nanos()),
                },
                "source": {"bytes": r.bytes_c2s},
                "destination": {"bytes": r.bytes_s2c},
                "network": {
                    "bytes": r.bytes_c2s.saturating_add(r.bytes_s2c),
                    "packets": r.packets,
                },
                "tls": tls,
                "mailscope": {
                    "tls": (r.tls != TlsMode::None).then_some(r.tls.as_str()),
                    "state": r.state,
                    "gaps": r.gaps,
                    "gap_bytes": r.gap_bytes,
                    "helo": f.helo,
                    "messages": f.messages,
                    "credentials": f.credentials,
                    "findings": f.findings,
                },
            }),
        );
        prune(e)
    }

    fn message(&self, m: &MessageRecord, index: usize) -> Value {
        let mut e = base(m.ts, "message", "event", &["email"], &["info"]);
        merge(&mut e, on_flow(m.flow, self.flows.get(&m.flow)));
        let attachments: Vec<Value> = m
            .attachments
            .iter()
            .map(|a| {
                json!({"file": {
                    "name": a.filename,
                    "mime_type": a.content_type,
                    "size": a.size,
                    "hash": {"md5": a.md5, "sha256": a.sha256},
                }})
            })
            .collect();
        let mut hashes = vec![m.sha256.clone()];
        for a in &m.attachments {
            for h in [&a.sha256, &a.md5] {
                if !hashes.contains(h) {
                    hashes.push(h.clone());
                }
            }
        }
        let origination = m.date.as_deref().and_then(date_utc);
        merge(
            &mut e,
            json!({
                "email": {
                    "from": {"address": m.from},
                    "to": {"address": m.to},
                    "cc": {"address": m.cc},
                    "reply_to": {"address": m.reply_to},
                    "subject": m.subject,
                    "message_id": m.message_id,
                    "origination_timestamp": origination,
                    "sender": {"address": m.mail_from.as_deref().and_then(bare_address)},
                    "attachments": attachments,
                },
                "related": {"hash": hashes},
                "mailscope": {
                    "message": index,
                    "sha256": m.sha256,
                    "size": m.size,
                    "complete": m.complete,
                    "via": m.via,
                    "part": m.part,
                    "helo": m.helo,
                    "rcpt_to": m.rcpt_to,
                    // The Date header as written, when it is not a date
                    // `origination_timestamp` can hold.
                    "date": if origination.is_none() { m.date.as_deref() } else { None },
                    "tls": m.tls,
                    // ECS has one `url` per event, not a message's list.
                    "urls": m.urls,
                    // ECS has no fields for SPF, DKIM and DMARC verdicts.
                    "auth_results": m.auth_results,
                },
            }),
        );
        prune(e)
    }

    fn transaction(&self, t: &Transaction) -> Value {
        let mut e = base(t.ts, "transaction", "event", &["email"], &["info"]);
        merge(&mut e, on_flow(t.flow, self.flows.get(&t.flow)));
        let outcome = match t.status {
            TxStatus::Delivered => "success",
            TxStatus::Rejected | TxStatus::Aborted => "failure",
        };
        let accepted: Vec<&str> = t.rcpt_to.iter().filter_map(|a| bare_address(a)).collect();
        merge(
            &mut e,
            json!({
                "event": {"outcome": outcome},
                "email": {
                    "sender": {"address": t.mail_from.as_deref().and_then(bare_address)},
                    "to": {"address": accepted},
                },
                "mailscope": {"transaction": {
                    "status": t.status.as_str(),
                    "helo": t.helo,
                    "mail_from": t.mail_from,
                    "rcpt_to": t.rcpt_to,
                    "rcpt_rejected": t.rcpt_rejected,
                    "reply": t.reply,
                    "message": t.message,
                }},
            }),
        );
        prune(e)
    }

    fn credential(&self, c: &Credential) -> Value {
        let mut e = base(c.ts, "credential", "event", &["authentication"], &["info"]);
        merge(&mut e, on_flow(c.flow, self.flows.get(&c.flow)));
        let outcome = match c.success {
            Some(true) => "success",
            Some(false) => "failure",
            None => "unknown",
        };
        let mut users: Vec<&str> = c.username.as_deref().into_iter().collect();
        if let Some(z) = c.authzid.as_deref()
            && !users.contains(&z)
        {
            users.push(z);
        }
        merge(
            &mut e,
            json!({
                "event": {"outcome": outcome},
                "user": {"name": c.username},
                "related": {"user": users},
                "mailscope": {"credential": {
                    "mechanism": c.mechanism,
                    // As sent in clear (or read with a key log): kept out
                    // of every standard field on purpose.
                    "password": c.password,
                    "authzid": c.authzid,
                    "reply": c.reply,
                    "note": c.note,
                    "tls": c.tls,
                }},
            }),
        );
        prune(e)
    }

    /// A finding as an alert; `fallback` is the time of a finding that
    /// has none of its own and no flow (the capture's start).
    fn finding(&self, f: &Finding, fallback: Option<Timestamp>) -> Value {
        let ends = f.flow.and_then(|id| self.flows.get(&id));
        let ts =
            f.ts.or(ends.map(|e| e.start))
                .or(fallback)
                .unwrap_or_default();
        let mut e = base(ts, "finding", "alert", &[category_of(f.code)], &["info"]);
        if let Some(id) = f.flow {
            merge(&mut e, on_flow(id, ends));
        }
        let code = serde_json::to_value(f.code).unwrap_or(Value::Null);
        let (severity, risk) = match f.severity {
            Severity::Info => (1, 21.0),
            Severity::Medium => (2, 47.0),
            Severity::High => (3, 73.0),
        };
        merge(
            &mut e,
            json!({
                "event": {"code": code, "severity": severity, "risk_score": risk},
                "rule": {"name": code},
                "message": f.message,
                "mailscope": {"severity": f.severity.as_str(), "offset": f.offset},
            }),
        );
        prune(e)
    }
}

/// The ECS category of a finding: what a SIEM files it under (logins,
/// mail, or the connection itself).
fn category_of(code: FindingCode) -> &'static str {
    match code {
        FindingCode::AuthGuessing | FindingCode::PlaintextAuth => "authentication",
        FindingCode::DisplayNameSpoof
        | FindingCode::ReplyToMismatch
        | FindingCode::FromMismatch
        | FindingCode::DataRejected
        | FindingCode::MessageTruncated
        | FindingCode::OpenRelay
        | FindingCode::SmtpSmuggling => "email",
        _ => "network",
    }
}

/// The keys every event has.
fn base(ts: Timestamp, dataset: &str, kind: &str, category: &[&str], types: &[&str]) -> Value {
    json!({
        "@timestamp": rfc3339_utc(ts),
        "ecs": {"version": ECS_VERSION},
        "agent": {"type": "mailscope", "name": "mailscope", "version": VERSION},
        "observer": {"product": "mailscope", "vendor": "mailscope", "version": VERSION},
        "event": {
            "kind": kind,
            "category": category,
            "type": types,
            "module": "mailscope",
            "dataset": format!("mailscope.{dataset}"),
        },
    })
}

/// The keys of an event on a flow: the endpoints, when its flow record
/// was seen, and the ids that join the flow's events.
fn on_flow(id: u64, ends: Option<&Endpoints>) -> Value {
    let Some(ends) = ends else {
        return json!({"mailscope": {"flow": id}});
    };
    let (c, s) = (ends.client, ends.server);
    let mut ips = vec![c.ip().to_string()];
    if s.ip() != c.ip() {
        ips.push(s.ip().to_string());
    }
    let protocol = match ends.protocol {
        Protocol::Unknown => None,
        p => Some(p.as_str()),
    };
    json!({
        "source": {"ip": c.ip().to_string(), "port": c.port()},
        "destination": {"ip": s.ip().to_string(), "port": s.port()},
        "network": {
            "transport": "tcp",
            "type": if c.is_ipv4() { "ipv4" } else { "ipv6" },
            "protocol": protocol,
        },
        "related": {"ip": ips},
        "mailscope": {"flow": id, "flow_uid": ends.uid.to_string()},
    })
}

/// `2024-05-01T10:00:00.123456789Z`.
pub fn rfc3339_utc(ts: Timestamp) -> String {
    let nanos = ts.as_nanos();
    let secs = nanos.div_euclid(1_000_000_000);
    let frac = nanos.rem_euclid(1_000_000_000);
    let (days, of_day) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{frac:09}Z",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

/// The message's Date, as the record has it (RFC 3339 when mail-parser
/// read it), in UTC; None when it is not a date.
fn date_utc(date: &str) -> Option<String> {
    if !date.contains(['T', 't']) {
        return None;
    }
    crate::capture::time_window::rfc3339(date)
        .ok()
        .map(|n| rfc3339_utc(Timestamp::from_nanos(n)))
}

/// An envelope address without its angle brackets (`<a@b>` → `a@b`);
/// None for the null sender `<>`.
fn bare_address(address: &str) -> Option<&str> {
    let a = address.trim();
    let a = a
        .strip_prefix('<')
        .and_then(|a| a.strip_suffix('>'))
        .unwrap_or(a);
    (!a.is_empty()).then_some(a)
}

/// Adds `more`'s keys to `into`, objects merged key by key.
fn merge(into: &mut Value, more: Value) {
    match (into, more) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(&k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        a.insert(k, v);
                    }
                }
            }
        }
        (into, more) => *into = more,
    }
}

/// The event without what is not known: keys whose value is null, an
/// empty array or an empty object are left out (a SIEM reads an absent
/// field as unknown; a null or `[]` would be a value to it).
fn prune(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                let v = prune(v);
                let empty = match &v {
                    Value::Null => true,
                    Value::Array(a) => a.is_empty(),
                    Value::Object(o) => o.is_empty(),
                    _ => false,
                };
                if !empty {
                    out.insert(k, v);
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(prune).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_rfc3339() {
        assert_eq!(
            rfc3339_utc(Timestamp::from_nanos(0)),
            "1970-01-01T00:00:00.000000000Z"
        );
        assert_eq!(
            rfc3339_utc(Timestamp::from_nanos(1_714_557_600_123_456_789)),
            "2024-05-01T10:00:00.123456789Z"
        );
        assert_eq!(
            rfc3339_utc(Timestamp::from_nanos(-1)),
            "1969-12-31T23:59:59.999999999Z"
        );
        assert_eq!(
            date_utc("2024-05-01T12:00:00+02:00").as_deref(),
            Some("2024-05-01T10:00:00.000000000Z")
        );
        assert_eq!(date_utc("Mon, 1 May 2024 nonsense"), None);
    }

    #[test]
    fn envelope_addresses_lose_their_brackets() {
        assert_eq!(bare_address("<a@b.c>"), Some("a@b.c"));
        assert_eq!(bare_address("a@b.c"), Some("a@b.c"));
        assert_eq!(bare_address("<>"), None);
    }

    #[test]
    fn nulls_and_empties_are_left_out() {
        let v = prune(
            json!({"a": null, "b": [], "c": {"d": null}, "e": [{"f": null, "g": 1}], "h": 0}),
        );
        assert_eq!(v, json!({"e": [{"g": 1}], "h": 0}));
    }
}
