//! `open-relay`, raised only on evidence: a server seen passing an
//! unauthenticated client's message for somebody else's domain on to
//! another server.
//!
//! Accepting mail from anyone for a domain is what every mail exchanger
//! does for the domains it serves (RFC 5321 §3.6.2: the target of an MX
//! record accepts the mail, then delivers or relays it), and a server's
//! own name says little about which domains those are (`mx1.mailhost.example`
//! takes mail for `hamburger.edu`). So one flow cannot show an open relay.
//! The capture can, when it holds both hops of one message:
//!
//! ```text
//! flow A   X ──SMTP──▶ S     no successful AUTH; RCPT TO:<r@d> accepted
//! flow B   S ──SMTP──▶ T     the same message (MessagePaths' key), RCPT TO:<r@d>
//! ```
//!
//! `open-relay` is raised on flow A when all of these hold:
//!
//! 1. in A the client never authenticated (no AUTH the server accepted, or
//!    whose answer was not seen, before the message): an unauthenticated
//!    client, the "unauthorized use as mail relay" of RFC 2505 §2;
//! 2. B is a later SMTP flow whose client is S's address, to another
//!    address, carrying the same message (same Message-ID, or the same
//!    bytes when there is none: [`PathKey`]) by DATA or BDAT: S handed it
//!    on (a hop to S's own address, a content filter on loopback, is not
//!    leaving S);
//! 3. a recipient `r` accepted in A is in B's envelope too, so S relayed
//!    what the client asked for (not an alias of a local user forwarded
//!    elsewhere, which is S's own policy for its own user);
//! 4. `r`'s domain is not S's: S names itself in its greeting in A
//!    (RFC 5321 §4.3.1) and in its EHLO in B (§4.1.1.1); at least one of
//!    those names must say which organisation S is (not an address, not
//!    `localhost`), and the domain must not be one of them, inside one, or
//!    of the same organisation (`mx.hamburger.edu` serves `hamburger.edu`);
//! 5. T is not S's own organisation by its greeting name (an inbound
//!    gateway handing mail to its mail store is a hop inside S's site).
//!
//! What the wire cannot tell, and the finding's message says: a client
//! whose address S trusts (a private arrangement, RFC 5321 §3.6.2; Postfix's
//! `mynetworks`) and a filtering gateway that is a designated MX for the
//! domain and forwards to the domain's own server look the same as an open
//! relay. Only DNS (the domain's MX records) or S's configuration would
//! separate them.
//!
//! One definition for every output: the [`RelayWatch`] inside
//! `cross_flow`'s watch, which every command and the window feed.

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;

use super::session::FlowAnalysis;
use crate::capture::Timestamp;
use crate::proto::smtp::path::domain_of;
use crate::trace::{Finding, FindingCode, FlowUid, PathKey, Protocol, Severity, Via};

/// Messages followed; beyond this new ones are not (the same bound as the
/// message paths).
const MAX_KEYS: usize = crate::trace::paths::MAX_PATHS;
/// Hops kept per message.
const MAX_HOPS: usize = crate::trace::paths::MAX_HOPS;

/// One SMTP transfer of a message.
#[derive(Clone, Debug)]
struct Hop {
    flow: u64,
    uid: FlowUid,
    client: SocketAddr,
    server: SocketAddr,
    /// The name in the server's 220 greeting.
    server_name: Option<String>,
    /// The name in the client's HELO/EHLO.
    helo: Option<String>,
    authenticated: bool,
    /// Accepted recipients, as mailboxes in lowercase without brackets.
    rcpt_to: Vec<String>,
    ts: Timestamp,
}

/// Collects the SMTP hops of every message, then finds the relays.
#[derive(Default)]
pub struct RelayWatch {
    hops: HashMap<PathKey, Vec<Hop>>,
}

fn mailbox(address: &str) -> String {
    address
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_ascii_lowercase()
}

impl RelayWatch {
    /// The SMTP messages of one flow.
    pub fn add(&mut self, a: &FlowAnalysis) {
        let d = &a.dialogue;
        if d.protocol != Protocol::Smtp {
            return;
        }
        for m in &d.messages {
            if !matches!(m.via, Via::Data | Via::Bdat) {
                continue;
            }
            let Some(key) = PathKey::of(m) else {
                continue;
            };
            // An AUTH the server accepted, or whose answer the capture
            // missed, counts: the finding needs the evidence of none.
            let authenticated = d
                .credentials
                .iter()
                .any(|c| c.success != Some(false) && c.ts <= m.ts);
            if !self.hops.contains_key(&key) && self.hops.len() >= MAX_KEYS {
                continue;
            }
            let hops = self.hops.entry(key).or_default();
            if hops.len() >= MAX_HOPS {
                continue;
            }
            hops.push(Hop {
                flow: d.flow,
                uid: FlowUid::of(a.summary.client, a.summary.server, a.summary.start),
                client: a.summary.client,
                server: a.summary.server,
                server_name: d.server_name.clone(),
                helo: m.helo.clone(),
                authenticated,
                rcpt_to: m.rcpt_to.iter().flatten().map(|r| mailbox(r)).collect(),
                ts: m.ts,
            });
        }
    }

    /// One `open-relay` finding per flow where a relay was shown (see the
    /// module documentation), in flow order.
    pub fn findings(self) -> Vec<Finding> {
        let mut out: Vec<Finding> = Vec::new();
        let mut reported = BTreeSet::new();
        for hops in self.hops.into_values().filter(|h| h.len() > 1) {
            for a in hops.iter().filter(|a| !a.authenticated) {
                if reported.contains(&a.flow) {
                    continue;
                }
                if let Some(f) = hops.iter().find_map(|b| relayed(a, b)) {
                    reported.insert(a.flow);
                    out.push(f);
                }
            }
        }
        out.sort_by_key(|f| (f.flow, f.ts));
        out
    }
}

/// The finding when `b` shows `a`'s server relaying `a`'s message.
fn relayed(a: &Hop, b: &Hop) -> Option<Finding> {
    let s = a.server.ip();
    if b.flow == a.flow || b.client.ip() != s || b.server.ip() == s || b.ts < a.ts {
        return None;
    }
    // What S calls itself, where the name says which organisation it is.
    let names: Vec<&str> = [a.server_name.as_deref(), b.helo.as_deref()]
        .into_iter()
        .flatten()
        .filter(|n| is_judgeable(n))
        .collect();
    if names.is_empty() {
        return None;
    }
    let own = |domain: &str| names.iter().any(|n| is_local_domain(n, domain));
    // T inside S's organisation: a hop within S's site.
    let t_name = b.server_name.as_deref();
    if let Some(t) = t_name.filter(|t| is_judgeable(t))
        && (own(&t.to_ascii_lowercase()) || names.iter().any(|n| is_local_domain(t, n)))
    {
        return None;
    }
    let (r, domain) = a.rcpt_to.iter().find_map(|r| {
        let domain = domain_of(r)?;
        (b.rcpt_to.contains(r) && is_judgeable(&domain) && !own(&domain)).then_some((r, domain))
    })?;
    let to = match t_name {
        Some(t) => format!("{t} ({})", b.server),
        None => b.server.to_string(),
    };
    Some(Finding {
        flow: Some(a.flow),
        flow_uid: Some(a.uid),
        severity: Severity::Medium,
        code: FindingCode::OpenRelay,
        message: format!(
            "{} ({s}) accepted <{r}> from {} without authentication (flow {}) and passed the message on to {to} (flow {}): it relays for {domain}, a domain that is not its own (RFC 5321 §3.6.2) — an open relay, unless it trusts the client's address or is a designated exchanger (MX) of {domain}",
            names[0], a.client, a.flow, b.flow
        ),
        ts: Some(a.ts),
        offset: None,
    })
}

/// Whether mail for `domain` is the server's own: its name is the domain
/// or a host inside it (mx.hamburger.edu serves hamburger.edu), or the
/// organisation name is the same (mta5.mail.yahoo.com serves yahoo.fr).
/// Without the server's list of domains this is a guess, made to err on
/// the side of silence.
fn is_local_domain(server: &str, domain: &str) -> bool {
    let server = server.to_ascii_lowercase();
    let domain = domain.to_ascii_lowercase();
    if server == domain
        || server.ends_with(&format!(".{domain}"))
        || domain.ends_with(&format!(".{server}"))
    {
        return true;
    }
    // The label before the top-level domain ("yahoo" in yahoo.fr).
    let org = domain.rsplit('.').nth(1).unwrap_or(&domain);
    server.split('.').any(|label| label == org)
}

/// Names that say nothing about who a server serves: addresses, single
/// labels, and the names of machines on a private network.
fn is_judgeable(name: &str) -> bool {
    let name = name.trim_matches(['[', ']']).to_ascii_lowercase();
    name.parse::<std::net::IpAddr>().is_err()
        && name.contains('.')
        && ![
            "localhost",
            "localdomain",
            "local",
            "lan",
            "internal",
            "home",
        ]
        .iter()
        .any(|s| name == *s || name.ends_with(&format!(".{s}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_domains_are_the_servers_own() {
        assert!(is_local_domain("hamburger.edu", "hamburger.edu"));
        assert!(is_local_domain("mx.hamburger.edu", "hamburger.edu"));
        assert!(is_local_domain("MX.Hamburger.EDU", "hamburger.edu"));
        assert!(is_local_domain("mta5.mail.ir2.yahoo.com", "yahoo.fr"));
        assert!(!is_local_domain("crepes.fr", "hamburger.edu"));
        assert!(!is_judgeable("localhost"));
        assert!(!is_judgeable("macbook.localdomain"));
        assert!(!is_judgeable("[10.0.0.1]"));
        assert!(!is_judgeable("mailhost"));
        assert!(is_judgeable("crepes.fr"));
    }

    fn hop(flow: u64, client: &str, server: &str, names: (&str, &str), rcpt: &[&str]) -> Hop {
        let (client, server) = (client.parse().unwrap(), server.parse().unwrap());
        Hop {
            flow,
            uid: FlowUid::of(client, server, Timestamp::from_nanos(flow as i64)),
            client,
            server,
            server_name: Some(names.0.to_string()),
            helo: Some(names.1.to_string()),
            authenticated: false,
            rcpt_to: rcpt.iter().map(|r| mailbox(r)).collect(),
            ts: Timestamp::from_nanos(flow as i64),
        }
    }

    #[test]
    fn the_two_hops_of_a_relay() {
        let a = hop(
            1,
            "10.9.0.66:40000",
            "10.9.0.1:25",
            ("relay.crepes.fr", "spammer.example"),
            &["<Victim@Hamburger.edu>"],
        );
        let b = hop(
            2,
            "10.9.0.1:41000",
            "10.9.0.2:25",
            ("hamburger.edu", "relay.crepes.fr"),
            &["<victim@hamburger.edu>"],
        );
        let f = relayed(&a, &b).expect("a relay");
        assert_eq!(
            (f.flow, f.severity, f.code, f.ts),
            (
                Some(1),
                Severity::Medium,
                FindingCode::OpenRelay,
                Some(a.ts)
            )
        );
        assert_eq!(
            f.message,
            "relay.crepes.fr (10.9.0.1) accepted <victim@hamburger.edu> from 10.9.0.66:40000 without authentication (flow 1) and passed the message on to hamburger.edu (10.9.0.2:25) (flow 2): it relays for hamburger.edu, a domain that is not its own (RFC 5321 §3.6.2) — an open relay, unless it trusts the client's address or is a designated exchanger (MX) of hamburger.edu"
        );
        // Not the other way round, not before the message came in, not
        // when the client authenticated.
        assert!(relayed(&b, &a).is_none());
        let early = Hop {
            ts: Timestamp::from_nanos(0),
            ..b.clone()
        };
        assert!(relayed(&a, &early).is_none());
        let mut watch = RelayWatch::default();
        let key = PathKey::MessageId("<m@x>".into());
        let authed = Hop {
            authenticated: true,
            ..a.clone()
        };
        watch.hops.insert(key.clone(), vec![authed, b.clone()]);
        assert!(watch.findings().is_empty());
        let mut watch = RelayWatch::default();
        watch
            .hops
            .insert(key, vec![b.clone(), a.clone(), b.clone()]);
        let found = watch.findings();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].flow, Some(1));
    }

    #[test]
    fn hops_that_are_not_relaying_for_others() {
        let a = hop(
            1,
            "10.9.0.66:40000",
            "10.9.0.1:25",
            ("mx.hamburger.edu", "mail.crepes.fr"),
            &["<bob@hamburger.edu>"],
        );
        // Mail for S's own domain handed on: an MX and its mail store.
        let store = hop(
            2,
            "10.9.0.1:41000",
            "10.9.0.7:25",
            ("store.example", "mx.hamburger.edu"),
            &["<bob@hamburger.edu>"],
        );
        assert!(relayed(&a, &store).is_none());
        // A foreign domain, but handed to S's own site.
        let hosted = hop(
            1,
            "10.9.0.66:40000",
            "10.9.0.1:25",
            ("mx1.mailhost.example", "mail.crepes.fr"),
            &["<bob@hamburger.edu>"],
        );
        let inside = hop(
            2,
            "10.9.0.1:41000",
            "10.9.0.7:25",
            ("store3.mailhost.example", "mx1.mailhost.example"),
            &["<bob@hamburger.edu>"],
        );
        assert!(relayed(&hosted, &inside).is_none());
        // A local user's alias forwarded elsewhere: the recipient S
        // accepted is its own, the onward one is another.
        let forward = hop(
            2,
            "10.9.0.1:41000",
            "10.9.0.9:25",
            ("mx.elsewhere.example", "mx.hamburger.edu"),
            &["<bob.h@elsewhere.example>"],
        );
        assert!(relayed(&a, &forward).is_none());
        // Back to S's own address (a content filter on the same host).
        let filter = hop(
            2,
            "10.9.0.1:41000",
            "10.9.0.1:10025",
            ("relay.crepes.fr", "relay.crepes.fr"),
            &["<victim@hamburger.edu>"],
        );
        let spam = hop(
            1,
            "10.9.0.66:40000",
            "10.9.0.1:25",
            ("relay.crepes.fr", "spammer.example"),
            &["<victim@hamburger.edu>"],
        );
        assert!(relayed(&spam, &filter).is_none());
        // A server that names itself with nothing to judge by.
        let anonymous = hop(
            1,
            "10.9.0.66:40000",
            "10.9.0.1:25",
            ("localhost", "[10.9.0.1]"),
            &["<victim@hamburger.edu>"],
        );
        let onward = hop(
            2,
            "10.9.0.1:41000",
            "10.9.0.2:25",
            ("hamburger.edu", "[10.9.0.1]"),
            &["<victim@hamburger.edu>"],
        );
        assert!(relayed(&anonymous, &onward).is_none());
    }
}
