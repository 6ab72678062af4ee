//! MTA-STS as a sending server applies it (RFC 8461 §3.3, §5.1): before a
//! delivery, look for the recipient domain's `_mta-sts` TXT record; if
//! there is one whose id is not the cached policy's, fetch the policy over
//! HTTPS and cache it for its `max_age`.
//!
//! The cache is what makes MTA-STS work against an attacker who controls
//! the path only some of the time: once a sender has the policy, a
//! missing TXT record or a failed fetch does not erase it (§5.1: a cached
//! policy stays in force until it expires). A first contact with no
//! policy yet is the scheme's known gap ("trust on first use").

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use super::dns;
use super::policy_server;
use super::store::unix_now;
use crate::proto::mta_sts::{Policy, StsRecord, policy_host, record_name};

/// A policy in force for a domain, with the id it came under.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownPolicy {
    pub id: String,
    pub policy: Policy,
}

struct Cached {
    known: KnownPolicy,
    /// Unix seconds after which it no longer holds.
    until: i64,
}

/// A sending server's MTA-STS state.
pub struct StsSender {
    /// The DNS server to ask, and the address to ask from.
    dns: SocketAddr,
    bind: IpAddr,
    /// The port policy hosts serve HTTPS on (443, or the offset port).
    https_port: u16,
    tls: Arc<rustls::ClientConfig>,
    cache: Mutex<BTreeMap<String, Cached>>,
}

impl StsSender {
    pub fn new(
        dns: SocketAddr,
        bind: IpAddr,
        https_port: u16,
        tls: Arc<rustls::ClientConfig>,
    ) -> StsSender {
        StsSender {
            dns,
            bind,
            https_port,
            tls,
            cache: Mutex::new(BTreeMap::new()),
        }
    }

    fn cached(&self, domain: &str) -> Option<KnownPolicy> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .get(domain)
            .filter(|c| c.until > unix_now())
            .map(|c| c.known.clone())
    }

    /// The policy in force for `domain`, if any, and what happened while
    /// finding it (for the server's log).
    pub async fn policy_for(&self, domain: &str) -> (Option<KnownPolicy>, String) {
        let from = SocketAddr::new(self.bind, 0);
        let records = match dns::lookup_txt(self.dns, from, &record_name(domain)).await {
            Ok(r) => r,
            Err(e) => {
                return (
                    self.cached(domain),
                    format!("no answer for {}: {e}", record_name(domain)),
                );
            }
        };
        // §3.1: exactly one STSv1 record, else as if there were none.
        let sts: Vec<StsRecord> = records
            .iter()
            .filter_map(|t| StsRecord::parse(t).ok())
            .collect();
        let [record] = sts.as_slice() else {
            let why = format!(
                "{} has {} STSv1 record(s): no new policy",
                record_name(domain),
                sts.len()
            );
            return (self.cached(domain), why);
        };
        if let Some(known) = self.cached(domain).filter(|k| k.id == record.id) {
            return (Some(known), format!("policy id {} cached", record.id));
        }
        match self.fetch(domain).await {
            Ok(policy) => {
                let known = KnownPolicy {
                    id: record.id.clone(),
                    policy,
                };
                let until = unix_now() + known.policy.max_age as i64;
                self.cache.lock().unwrap_or_else(|e| e.into_inner()).insert(
                    domain.to_string(),
                    Cached {
                        known: known.clone(),
                        until,
                    },
                );
                let why = format!(
                    "fetched the policy of {domain} from https://{}: {}",
                    policy_host(domain),
                    known.policy
                );
                (Some(known), why)
            }
            Err(e) => (
                self.cached(domain),
                format!(
                    "could not fetch the policy from {}: {e}",
                    policy_host(domain)
                ),
            ),
        }
    }

    async fn fetch(&self, domain: &str) -> std::io::Result<Policy> {
        let host = policy_host(domain);
        let addr = dns::lookup_a(self.dns, SocketAddr::new(self.bind, 0), &host).await?;
        let server = SocketAddr::new(addr.into(), self.https_port);
        policy_server::fetch(self.bind, server, &host, self.tls.clone()).await
    }
}
