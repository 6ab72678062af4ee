//! `auth-guessing`: someone trying passwords. One refused login is a typo;
//! a run of them from one address is a person or a program guessing, the
//! pattern fail2ban and Suricata's brute-force rules watch for. It shows
//! only across connections (clients reconnect after each refusal, and
//! may try the server's SMTP, POP3 and IMAP in turn), so it is found here,
//! over every flow of the capture, like `open-relay`.
//!
//! The rule:
//!
//! * A **refused login** is a credential record the server refused with
//!   the reply its protocol uses for wrong credentials: SMTP `535`
//!   (RFC 4954 §6: authentication credentials invalid), POP3 `-ERR` to
//!   PASS, APOP or AUTH (RFC 1939 §7, RFC 5034), IMAP `NO` to LOGIN or
//!   AUTHENTICATE (RFC 9051 §6.2.2, §6.2.3). A refusal for another reason
//!   (SMTP `503` out of sequence, `534` mechanism too weak, `454`
//!   temporary; IMAP `BAD`) is not a guess.
//! * Logins are grouped by **client address and server address** (ports
//!   aside: one server's SMTP, POP3 and IMAP are one target).
//! * An **episode** is a run of refused logins of one group, in time
//!   order, each within [`WINDOW_SECS`] of the one before. An episode of at
//!   least [`MIN_REFUSED`] refusals is a finding (fail2ban's `findtime` is
//!   10 minutes too; it bans at 5 refusals, mailscope reports at 3).
//! * **High** when a login of the same group is accepted after the
//!   episode's third refusal and within [`WINDOW_SECS`] of its last one (a
//!   guess that worked, or the owner coming back: either way the account
//!   needs a look); the finding then names that flow. **Medium**
//!   otherwise, naming the flow of the first refusal.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

use super::session::FlowAnalysis;
use crate::capture::Timestamp;
use crate::trace::{Credential, Finding, FindingCode, FlowUid, Protocol, Severity};

/// Refused logins that make an episode a finding.
pub const MIN_REFUSED: usize = 3;
/// Seconds between two refusals of one episode, and from the last one to
/// an accepted login that makes it high.
pub const WINDOW_SECS: i64 = 600;
/// Logins kept per client and server pair (a brute force of millions of
/// attempts is counted, and the first of them are enough to show it).
const MAX_LOGINS_PER_PAIR: usize = 10_000;
/// Client and server pairs followed.
const MAX_PAIRS: usize = 100_000;
/// User names a finding lists.
const MAX_NAMES: usize = 5;

/// One login attempt whose answer was seen.
#[derive(Clone, Debug)]
struct Login {
    ts: Timestamp,
    flow: u64,
    uid: FlowUid,
    server: SocketAddr,
    protocol: Protocol,
    mechanism: String,
    username: Option<String>,
    accepted: bool,
}

/// Collects the logins of every flow, then finds the episodes.
#[derive(Default)]
pub struct LoginWatch {
    pairs: BTreeMap<(IpAddr, IpAddr), Pair>,
}

/// The logins of one client at one server.
#[derive(Default)]
struct Pair {
    logins: Vec<Login>,
    /// Logins beyond [`MAX_LOGINS_PER_PAIR`], not kept.
    not_kept: u64,
}

/// Whether the server's answer says the credentials were wrong.
fn refused_as_wrong(c: &Credential) -> bool {
    c.success == Some(false)
        && matches!(
            (c.protocol, c.reply.as_deref()),
            (Protocol::Smtp, Some("535"))
                | (Protocol::Pop3, Some("-ERR"))
                | (Protocol::Imap, Some("NO"))
        )
}

impl LoginWatch {
    /// The logins of one flow.
    pub fn add(&mut self, a: &FlowAnalysis) {
        let (client, server) = (a.summary.client, a.summary.server);
        for c in &a.dialogue.credentials {
            let accepted = c.success == Some(true);
            if !accepted && !refused_as_wrong(c) {
                continue;
            }
            let key = (client.ip(), server.ip());
            if !self.pairs.contains_key(&key) && self.pairs.len() >= MAX_PAIRS {
                continue;
            }
            let pair = self.pairs.entry(key).or_default();
            if pair.logins.len() >= MAX_LOGINS_PER_PAIR {
                pair.not_kept += 1;
                continue;
            }
            pair.logins.push(Login {
                ts: c.ts,
                flow: a.dialogue.flow,
                uid: FlowUid::of(client, server, a.summary.start),
                server,
                protocol: c.protocol,
                mechanism: c.mechanism.clone(),
                username: c.username.clone(),
                accepted,
            });
        }
    }

    /// One `auth-guessing` finding per episode (see the module's
    /// comment), by client and server address, then time.
    pub fn findings(self) -> Vec<Finding> {
        let mut out = Vec::new();
        for ((client, _), pair) in self.pairs {
            let Pair {
                mut logins,
                not_kept,
            } = pair;
            let before = out.len();
            // Flows end in any order (and on any worker): time order, the
            // flow breaking ties, makes the episodes the same every run.
            logins.sort_by_key(|l| (l.ts, l.flow));
            let mut episode: Vec<&Login> = Vec::new();
            for login in logins.iter().filter(|l| !l.accepted) {
                if let Some(last) = episode.last()
                    && seconds_between(last.ts, login.ts) > WINDOW_SECS
                {
                    out.extend(finding(client, &episode, &logins));
                    episode.clear();
                }
                episode.push(login);
            }
            out.extend(finding(client, &episode, &logins));
            if not_kept > 0
                && out.len() > before
                && let Some(f) = out.last_mut()
            {
                f.message.push_str(&format!(
                    " ({not_kept} more logins of this client at this server not counted)"
                ));
            }
        }
        out
    }
}

/// `SMTP PLAIN`, `POP3 USER-PASS`, `IMAP LOGIN`: the protocol and how
/// the login was made (without the protocol's name twice).
fn way(l: &Login) -> String {
    let protocol = l.protocol.as_str().to_uppercase();
    let mechanism = l
        .mechanism
        .strip_prefix(&format!("{protocol}-"))
        .unwrap_or(&l.mechanism);
    format!("{protocol} {mechanism}")
}

fn seconds_between(a: Timestamp, b: Timestamp) -> i64 {
    (b.as_nanos() - a.as_nanos()).div_euclid(1_000_000_000)
}

/// The finding of one episode of refusals, if it is long enough; `all`
/// is every login of the pair in time order, where an accepted one that
/// makes it high is looked for.
fn finding(client: IpAddr, episode: &[&Login], all: &[Login]) -> Option<Finding> {
    if episode.len() < MIN_REFUSED {
        return None;
    }
    let (first, third, last) = (
        episode[0],
        episode[MIN_REFUSED - 1],
        episode[episode.len() - 1],
    );
    let accepted = all.iter().find(|l| {
        l.accepted
            && (l.ts, l.flow) > (third.ts, third.flow)
            && seconds_between(last.ts, l.ts) <= WINDOW_SECS
    });
    let span = seconds_between(first.ts, last.ts);
    let flows: std::collections::BTreeSet<u64> = episode.iter().map(|l| l.flow).collect();
    let mut ways: BTreeMap<String, usize> = BTreeMap::new();
    for l in episode {
        *ways.entry(way(l)).or_default() += 1;
    }
    let ways: Vec<String> = ways.iter().map(|(w, n)| format!("{w} ×{n}")).collect();
    let mut names: Vec<&str> = Vec::new();
    for l in episode {
        let name = l.username.as_deref().unwrap_or("(hidden)");
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let users = match names.len() {
        n if n > MAX_NAMES => format!(
            "{} and {} more",
            names[..MAX_NAMES].join(", "),
            n - MAX_NAMES
        ),
        _ => names.join(", "),
    };
    let user_word = if names.len() == 1 { "user" } else { "users" };
    let mut message = format!(
        "{} refused logins from {client} to {} in {span} s over {} connection{} ({}), {user_word} {users}",
        episode.len(),
        first.server.ip(),
        flows.len(),
        if flows.len() == 1 { "" } else { "s" },
        ways.join(", "),
    );
    let (severity, named) = match accepted {
        Some(ok) => {
            message.push_str(&format!(
                "; then a login as {} was accepted (flow {}, {})",
                ok.username.as_deref().unwrap_or("(hidden)"),
                ok.flow,
                ok.protocol.as_str().to_uppercase()
            ));
            (Severity::High, ok)
        }
        None => (Severity::Medium, first),
    };
    Some(Finding {
        flow: Some(named.flow),
        flow_uid: Some(named.uid),
        severity,
        code: FindingCode::AuthGuessing,
        message,
        ts: Some(named.ts),
        offset: None,
    })
}
