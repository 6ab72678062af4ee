//! Hosts by address while a scene is built: their names (by how much the
//! capture vouches for each), roles and places in the picture.

use std::collections::HashMap;
use std::net::IpAddr;

use super::{Host, Role};
use crate::proto::Protocol;

/// Hosts by address while the scene is built.
#[derive(Default)]
pub(super) struct HostTable {
    index: HashMap<IpAddr, usize>,
    hosts: Vec<HostDraft>,
}

struct HostDraft {
    addr: IpAddr,
    /// (name, priority): NRB 3 > SMTP greeting 2 > EHLO 1.
    name: Option<(String, u8)>,
    serves_mail: bool,
    serves_mailbox: bool,
    dns: bool,
    /// Served an SMTP session whose STARTTLS offer came blanked.
    stripped: bool,
    bytes: u64,
    /// SMTP servers this host sent to.
    smtp_to: Vec<usize>,
    /// Mailbox servers (POP3/IMAP) this host read from.
    reads_from: Vec<usize>,
}

impl HostTable {
    pub(super) fn get(&mut self, addr: IpAddr) -> usize {
        *self.index.entry(addr).or_insert_with(|| {
            self.hosts.push(HostDraft {
                addr,
                name: None,
                serves_mail: false,
                serves_mailbox: false,
                dns: false,
                stripped: false,
                bytes: 0,
                smtp_to: Vec::new(),
                reads_from: Vec::new(),
            });
            self.hosts.len() - 1
        })
    }

    pub(super) fn name(&mut self, addr: IpAddr, name: String, priority: u8) {
        let h = self.get(addr);
        let h = &mut self.hosts[h];
        if h.name.as_ref().is_none_or(|(_, p)| *p < priority) {
            h.name = Some((name, priority));
        }
    }

    pub(super) fn add_bytes(&mut self, h: usize, n: u64) {
        self.hosts[h].bytes += n;
    }

    pub(super) fn served(&mut self, h: usize, protocol: Protocol, port: u16) {
        let h = &mut self.hosts[h];
        match protocol {
            Protocol::Smtp => h.serves_mail = true,
            Protocol::Pop3 | Protocol::Imap => h.serves_mailbox = true,
            _ => match port {
                25 | 465 | 587 => h.serves_mail = true,
                110 | 995 | 143 | 993 => h.serves_mailbox = true,
                _ => {}
            },
        }
    }

    pub(super) fn client_of(
        &mut self,
        client: usize,
        server: usize,
        protocol: Protocol,
        port: u16,
    ) {
        let smtp = protocol == Protocol::Smtp || matches!(port, 25 | 465 | 587);
        let mailbox = matches!(protocol, Protocol::Pop3 | Protocol::Imap)
            || matches!(port, 110 | 995 | 143 | 993);
        let h = &mut self.hosts[client];
        if smtp && !h.smtp_to.contains(&server) {
            h.smtp_to.push(server);
        } else if mailbox && !h.reads_from.contains(&server) {
            h.reads_from.push(server);
        }
    }

    pub(super) fn dns(&mut self, h: usize) {
        self.hosts[h].dns = true;
    }

    pub(super) fn stripped_starttls(&mut self, h: usize) {
        self.hosts[h].stripped = true;
    }

    /// Roles, names and places. Columns follow the SMTP hops: a host's
    /// column is one more than the deepest host that sent it mail (user
    /// agents that submit sit in column 0); readers sit one right of the
    /// deepest server they read from.
    pub(super) fn finish(self) -> Vec<Host> {
        let n = self.hosts.len();
        let mut depth = vec![0usize; n];
        // Longest path over SMTP edges, bounded by n rounds (cycles, such as
        // two servers relaying to each other, stop growing at n).
        for _ in 0..n.min(64) {
            let mut changed = false;
            for (i, h) in self.hosts.iter().enumerate() {
                for &to in &h.smtp_to {
                    if to != i && depth[to] < depth[i] + 1 {
                        depth[to] = depth[i] + 1;
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        // A mail server that nobody sent mail to (a mailbox server read
        // over POP3/IMAP) still sits right of the submitting agents, and its
        // readers right of it: bump it before the readers' columns are taken.
        for (i, h) in self.hosts.iter().enumerate() {
            if (h.serves_mail || h.serves_mailbox) && depth[i] == 0 {
                depth[i] = 1;
            }
        }
        let mut out: Vec<Host> = self
            .hosts
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let role = if h.stripped {
                    Role::Interceptor
                } else if h.serves_mail || h.serves_mailbox {
                    Role::MailServer
                } else if h.dns {
                    Role::Dns
                } else if !h.smtp_to.is_empty() || !h.reads_from.is_empty() {
                    Role::UserAgent
                } else {
                    Role::Other
                };
                let column = if role == Role::UserAgent && h.smtp_to.is_empty() {
                    h.reads_from
                        .iter()
                        .map(|&s| depth[s] + 1)
                        .max()
                        .unwrap_or(0)
                } else {
                    depth[i]
                };
                Host {
                    addr: h.addr,
                    name: h
                        .name
                        .as_ref()
                        .map(|(n, _)| n.clone())
                        .unwrap_or_else(|| h.addr.to_string()),
                    role,
                    column,
                    row: 0,
                    bytes: h.bytes,
                }
            })
            .collect();
        let mut rows: HashMap<usize, usize> = HashMap::new();
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&i| (out[i].column, std::cmp::Reverse(out[i].bytes), i));
        for i in order {
            if out[i].role == Role::Dns || out[i].role == Role::Other {
                continue;
            }
            let r = rows.entry(out[i].column).or_default();
            out[i].row = *r;
            *r += 1;
        }
        out
    }
}
