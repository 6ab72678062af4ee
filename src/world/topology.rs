//! Who is who in the simulated world: host names, loopback addresses and
//! ports.
//!
//! Linux routes all of 127.0.0.0/8 to the loopback interface, so every
//! simulated machine can have its own address and the capture shows five
//! distinct hosts, as on the textbook's figure:
//!
//! ```text
//! alice-pc.crepes.fr ──587──▶ crepes.fr ──53/udp──▶ dns
//!    127.0.10.1             127.0.10.2   └──25──▶ hamburger.edu ◀──110/143── bob-pc.hamburger.edu
//!                                                   127.0.10.3                  127.0.10.4
//! ```
//!
//! In the attack lessons a sixth machine, Eve (`eve.example`, `.66`), sits
//! on the path between the two mail servers (`world::eve`).
//!
//! Ports below 1024 need privileges; when the process cannot bind them,
//! every port moves up by [`PortPlan::OFFSET`] (25 → 10025, 587 → 10587…).

use std::net::{IpAddr, Ipv4Addr};

/// The ports of the mail services and of DNS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortPlan {
    pub smtp: u16,
    pub submission: u16,
    pub smtps: u16,
    pub pop3: u16,
    pub pop3s: u16,
    pub imap: u16,
    pub imaps: u16,
    pub dns: u16,
    /// HTTPS, for the MTA-STS policy (RFC 8461 §3.3).
    pub https: u16,
}

impl PortPlan {
    /// Added to every port when the standard ones cannot be bound.
    pub const OFFSET: u16 = 10_000;

    /// The IANA ports: SMTP 25 (RFC 5321), submission 587 (RFC 6409),
    /// submissions 465 (RFC 8314), POP3 110 / 995, IMAP 143 / 993, DNS 53,
    /// HTTPS 443.
    pub fn standard() -> PortPlan {
        PortPlan {
            smtp: 25,
            submission: 587,
            smtps: 465,
            pop3: 110,
            pop3s: 995,
            imap: 143,
            imaps: 993,
            dns: 53,
            https: 443,
        }
    }

    /// The standard ports if this process may bind them on `addr` (root, or
    /// CAP_NET_BIND_SERVICE), otherwise the offset ones. Port 25 is the
    /// probe; if it is taken by another server, the offset ports are used.
    pub fn automatic(addr: std::net::IpAddr) -> PortPlan {
        match std::net::TcpListener::bind((addr, 25)) {
            Ok(_) => PortPlan::standard(),
            Err(_) => PortPlan::offset(Self::OFFSET),
        }
    }

    /// Every standard port plus `offset`.
    pub fn offset(offset: u16) -> PortPlan {
        let s = PortPlan::standard();
        PortPlan {
            smtp: s.smtp + offset,
            submission: s.submission + offset,
            smtps: s.smtps + offset,
            pop3: s.pop3 + offset,
            pop3s: s.pop3s + offset,
            imap: s.imap + offset,
            imaps: s.imaps + offset,
            dns: s.dns + offset,
            https: s.https + offset,
        }
    }

    /// Apply a `--ports` value: `standard`, `offset`, `offset=N`, or a
    /// comma-separated list of `service=port` (smtp, submission, smtps,
    /// pop3, pop3s, imap, imaps, dns, https) changing only those.
    pub fn apply(&mut self, spec: &str) -> Result<(), String> {
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match item {
                "standard" => *self = PortPlan::standard(),
                "offset" => *self = PortPlan::offset(Self::OFFSET),
                _ => {
                    let (key, value) = item
                        .split_once('=')
                        .ok_or_else(|| format!("expected service=port in --ports, got {item:?}"))?;
                    let port: u16 = value
                        .parse()
                        .map_err(|_| format!("bad port {value:?} in --ports"))?;
                    let slot = match key {
                        "offset" => {
                            *self = PortPlan::offset(port);
                            continue;
                        }
                        "smtp" => &mut self.smtp,
                        "submission" => &mut self.submission,
                        "smtps" => &mut self.smtps,
                        "pop3" => &mut self.pop3,
                        "pop3s" => &mut self.pop3s,
                        "imap" => &mut self.imap,
                        "imaps" => &mut self.imaps,
                        "dns" => &mut self.dns,
                        "https" => &mut self.https,
                        other => return Err(format!("unknown service {other:?} in --ports")),
                    };
                    *slot = port;
                }
            }
        }
        Ok(())
    }
}

/// Eve's host name.
pub const EVE_NAME: &str = "eve.example";

/// One simulated machine.
#[derive(Clone, Debug)]
pub struct Machine {
    pub name: String,
    pub addr: IpAddr,
}

/// The five machines of the Alice → Bob path.
#[derive(Clone, Debug)]
pub struct Topology {
    pub alice_pc: Machine,
    pub crepes: Machine,
    pub dns: Machine,
    pub hamburger: Machine,
    pub bob_pc: Machine,
    /// Eve, the attacker on the path between the two mail servers; only in
    /// the attack lessons (`demo --attack`).
    pub eve: Option<Machine>,
    /// Alice's and Bob's domains (the mail servers' names by default).
    pub alice_domain: String,
    pub bob_domain: String,
}

impl Topology {
    /// The course's names, on `net.1` … `net.4` and `net.53`.
    pub fn course(net: [u8; 3]) -> Topology {
        Topology::named(net, "crepes.fr", "hamburger.edu")
    }

    /// Other domains for Alice and Bob (the mail servers take the domain
    /// names, the user agents' machines are `alice-pc.DOMAIN` and
    /// `bob-pc.DOMAIN`).
    pub fn named(net: [u8; 3], alice_domain: &str, bob_domain: &str) -> Topology {
        let at = |last: u8| IpAddr::V4(Ipv4Addr::new(net[0], net[1], net[2], last));
        let machine = |name: &str, last| Machine {
            name: name.to_string(),
            addr: at(last),
        };
        Topology {
            alice_pc: machine(&format!("alice-pc.{alice_domain}"), 1),
            crepes: machine(alice_domain, 2),
            hamburger: machine(bob_domain, 3),
            bob_pc: machine(&format!("bob-pc.{bob_domain}"), 4),
            dns: machine("dns.local", 53),
            eve: None,
            alice_domain: alice_domain.into(),
            bob_domain: bob_domain.into(),
        }
    }

    /// Put Eve on the path, at `net.66` under a name of the example
    /// domain (RFC 2606), which no real host has.
    pub fn with_eve(mut self) -> Topology {
        let IpAddr::V4(a) = self.crepes.addr else {
            return self;
        };
        let [n0, n1, n2, _] = a.octets();
        self.eve = Some(Machine {
            name: EVE_NAME.into(),
            addr: IpAddr::V4(Ipv4Addr::new(n0, n1, n2, 66)),
        });
        self
    }

    /// All machines, for the capture's name table.
    pub fn machines(&self) -> Vec<&Machine> {
        let mut all = vec![
            &self.alice_pc,
            &self.crepes,
            &self.dns,
            &self.hamburger,
            &self.bob_pc,
        ];
        all.extend(self.eve.as_ref());
        all
    }

    /// The name of the machine with this address.
    pub fn name_of(&self, addr: IpAddr) -> Option<&str> {
        self.machines()
            .into_iter()
            .find(|m| m.addr == addr)
            .map(|m| m.name.as_str())
    }
}

/// Check a domain name from the command line (RFC 1035 §2.3.1 letters,
/// digits and hyphens, dot-separated labels of 1–63 bytes).
pub fn check_domain(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 253
        && name.split('.').count() >= 2
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        });
    if ok {
        Ok(())
    } else {
        Err(format!("{name:?} is not a domain name like crepes.fr"))
    }
}

/// Parse `--net A.B.C` (the first three bytes of the world's addresses).
pub fn parse_net(text: &str) -> Result<[u8; 3], String> {
    let parts: Vec<u8> = text
        .trim_end_matches(".0")
        .split('.')
        .map(|p| p.parse::<u8>())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("bad --net {text:?}: expected three numbers like 127.0.10"))?;
    match parts.as_slice() {
        [127, b, c] => Ok([127, *b, *c]),
        [_, _, _] => Err(format!(
            "--net {text}: the world lives on loopback, 127.x.y"
        )),
        _ => Err(format!(
            "bad --net {text:?}: expected three numbers like 127.0.10"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_overrides() {
        let mut p = PortPlan::standard();
        p.apply("smtp=2525,imap=1143").unwrap();
        assert_eq!((p.smtp, p.imap, p.pop3), (2525, 1143, 110));
        p.apply("offset").unwrap();
        assert_eq!((p.smtp, p.submission, p.dns), (10025, 10587, 10053));
        p.apply("offset=20000").unwrap();
        assert_eq!(p.smtps, 20465);
        assert!(p.apply("smtp=x").is_err());
        assert!(p.apply("ftp=21").is_err());
    }

    #[test]
    fn other_names() {
        let t = Topology::named([127, 0, 10], "uni.es", "mail.example");
        assert_eq!(t.alice_pc.name, "alice-pc.uni.es");
        assert_eq!(t.hamburger.name, "mail.example");
        assert!(check_domain("uni.es").is_ok());
        for bad in ["es", "a..b", "-a.b", "a_b.c", "a b.c", ""] {
            assert!(check_domain(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn nets() {
        assert_eq!(parse_net("127.0.10"), Ok([127, 0, 10]));
        assert_eq!(parse_net("127.3.4.0"), Ok([127, 3, 4]));
        assert!(parse_net("10.0.0").is_err());
        assert!(parse_net("127.0").is_err());
    }
}
