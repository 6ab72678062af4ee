//! `mta-sts-violation`: an SMTP session without TLS to a mail exchanger of
//! a domain that publishes an MTA-STS policy (RFC 8461), when the capture
//! holds the DNS answers that say so.
//!
//! A sending server that applies MTA-STS looks up `_mta-sts.DOMAIN` (TXT,
//! `v=STSv1; id=…`, §3.1) before it delivers; with a policy in enforce
//! mode it delivers only over TLS (§5). A capture that holds that TXT
//! answer and a session in clear to one of the domain's exchangers shows
//! one of two things:
//!
//! * a message went in clear (high): the sender ignored the policy, or
//!   had none cached, or someone made it think there was none;
//! * no message went (medium): TLS was not to be had (STARTTLS missing,
//!   stripped, refused) and a sender stopped, as a compliant one must.
//!   The message is still queued somewhere; a stripping attack
//!   (`starttls-stripped`) on the same session tells why.
//!
//! An exchanger of the domain is a server whose address the capture's A
//! answers give for one of the domain's MX hosts, or whose 220 greeting
//! names one of them (a proxy on the path passes the real greeting on).
//! Not a server the recipients merely belong to: the submission server of
//! the sender's own domain takes mail for every domain, and MTA-STS is
//! about the hop to the recipient's exchanger. The policy body itself
//! travels over HTTPS: the TXT record is what the wire shows.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};

use super::session::FlowAnalysis;
use crate::capture::Timestamp;
use crate::proto::TlsMode;
use crate::proto::dns::{Record, parse_response};
use crate::proto::mta_sts::StsRecord;
use crate::trace::{Finding, FindingCode, FlowUid, Protocol, Severity};

/// Names and addresses kept at most from the DNS answers of a capture.
const MAX_NAMES: usize = 10_000;
/// Sessions in clear kept at most.
const MAX_SESSIONS: usize = 100_000;

/// The prefix of an MTA-STS record's name (RFC 8461 §3.1).
const RECORD_PREFIX: &str = "_mta-sts.";

/// One SMTP session without TLS.
struct ClearSession {
    flow: u64,
    uid: FlowUid,
    client: SocketAddr,
    server: SocketAddr,
    server_name: Option<String>,
    messages: usize,
    start: Timestamp,
}

/// Gathers the DNS answers and the SMTP sessions in clear of a capture.
#[derive(Default)]
pub struct MtaStsWatch {
    /// Domain → the id of its policy record, as first seen.
    policies: BTreeMap<String, String>,
    /// Domain → its MX hosts.
    exchangers: BTreeMap<String, BTreeSet<String>>,
    /// Host → its addresses.
    addresses: BTreeMap<String, BTreeSet<IpAddr>>,
    sessions: Vec<ClearSession>,
}

impl MtaStsWatch {
    /// A UDP datagram: taken when it reads as a DNS answer.
    pub fn datagram(&mut self, payload: &[u8]) {
        // QR set (a response), one question (RFC 1035 §4.1.1).
        let is_answer =
            payload.get(2).is_some_and(|f| f & 0x80 != 0) && payload.get(4..6) == Some(&[0, 1]);
        if !is_answer {
            return;
        }
        let Some((0, records)) = parse_response(payload) else {
            return;
        };
        let full = self.policies.len() + self.exchangers.len() + self.addresses.len() >= MAX_NAMES;
        for r in records {
            match r {
                Record::Txt { name, text } => {
                    if let (Some(domain), Ok(record)) =
                        (name.strip_prefix(RECORD_PREFIX), StsRecord::parse(&text))
                        && (!full || self.policies.contains_key(domain))
                    {
                        self.policies.entry(domain.to_string()).or_insert(record.id);
                    }
                }
                Record::Mx { name, exchange, .. } if !full => {
                    self.exchangers.entry(name).or_default().insert(exchange);
                }
                Record::A { name, addr } if !full => {
                    self.addresses.entry(name).or_default().insert(addr.into());
                }
                _ => {}
            }
        }
    }

    /// A flow, as it ends: kept when it is SMTP without TLS.
    pub fn add(&mut self, a: &FlowAnalysis) {
        let d = &a.dialogue;
        if d.protocol != Protocol::Smtp
            || a.verdict.tls != TlsMode::None
            || self.sessions.len() >= MAX_SESSIONS
        {
            return;
        }
        self.sessions.push(ClearSession {
            flow: d.flow,
            uid: FlowUid::of(a.summary.client, a.summary.server, a.summary.start),
            client: a.summary.client,
            server: a.summary.server,
            server_name: d.server_name.as_ref().map(|n| n.to_ascii_lowercase()),
            messages: d.messages.len(),
            start: a.summary.start,
        });
    }

    /// The findings, after the last flow, in flow order.
    pub fn findings(mut self) -> Vec<Finding> {
        if self.policies.is_empty() {
            return Vec::new();
        }
        self.sessions.sort_by_key(|s| s.flow);
        let mut out = Vec::new();
        for s in &self.sessions {
            let Some((domain, id)) = self
                .policies
                .iter()
                .find(|(domain, _)| self.is_exchanger_of(s, domain))
            else {
                continue;
            };
            let server = match &s.server_name {
                Some(name) => format!("{} ({name})", s.server),
                None => s.server.to_string(),
            };
            let (severity, what) = if s.messages > 0 {
                (
                    Severity::High,
                    format!(
                        "{} message(s) went in clear: a sender applying the policy in enforce mode would not have delivered them (RFC 8461 §5)",
                        s.messages
                    ),
                )
            } else {
                (
                    Severity::Medium,
                    "no message went: TLS was not to be had, and a sender applying the policy stops there (RFC 8461 §5.1), keeping the mail queued".to_string(),
                )
            };
            out.push(Finding {
                flow: Some(s.flow),
                flow_uid: Some(s.uid),
                severity,
                code: FindingCode::MtaStsViolation,
                message: format!(
                    "{} talked SMTP without TLS to {server}, an exchanger of {domain}, whose MTA-STS record (_mta-sts.{domain}, id {id}) is in this capture; {what}",
                    s.client
                ),
                ts: Some(s.start),
                offset: None,
            });
        }
        out
    }

    fn is_exchanger_of(&self, s: &ClearSession, domain: &str) -> bool {
        self.exchangers.get(domain).is_some_and(|hosts| {
            hosts.iter().any(|h| {
                s.server_name.as_deref() == Some(h.as_str())
                    || self
                        .addresses
                        .get(h)
                        .is_some_and(|a| a.contains(&s.server.ip()))
            })
        })
    }
}
