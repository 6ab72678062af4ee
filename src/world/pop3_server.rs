//! The POP3 server (RFC 1939) of a simulated mail host, with CAPA and STLS
//! (RFC 2449, RFC 2595) and AUTH PLAIN (RFC 5034).
//!
//! A POP3 session has three states (RFC 1939 §3):
//!
//! * AUTHORIZATION: USER/PASS, APOP or AUTH identify the user;
//! * TRANSACTION: the maildrop is fixed as it was at login; messages are
//!   numbered 1..n, DELE only *marks* them, RSET unmarks;
//! * UPDATE: entered by QUIT; only now are marked messages removed. A
//!   client that disconnects without QUIT deletes nothing (§6).

use std::net::IpAddr;
use std::sync::Arc;

use md5::{Digest, Md5};

use super::conn::{Line, LineConn};
use super::host::{Host, decode_plain};
use super::store::{INBOX, StoredMessage};
use crate::mail::hex;

/// Counts greetings, to make each APOP timestamp unique.
static GREETINGS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Serve one POP3 session (for port 995 the caller has done the TLS
/// handshake).
pub async fn run_session(mut conn: LineConn, host: Arc<Host>) -> std::io::Result<()> {
    let ip = conn
        .peer()
        .map(|a| a.ip())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]));
    host.log(format_args!("POP3 session from {ip}"));
    // The APOP timestamp (RFC 1939 §7) must be unique per greeting.
    let timestamp = format!(
        "<{}.{}@{}>",
        GREETINGS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1,
        super::store::unix_now(),
        host.name
    );
    conn.queue_line(&format!("+OK {} POP3 server ready {timestamp}", host.name));
    let mut s = Pop3 {
        host: host.clone(),
        ip,
        timestamp,
        pending_user: None,
        user: None,
        drop: Vec::new(),
        deleted: Vec::new(),
    };
    let mut commands = 0usize;
    loop {
        if conn.buffered() == 0 {
            conn.flush().await?;
        }
        let line =
            match tokio::time::timeout(host.policy.idle_timeout, conn.read_line(255 + 2)).await {
                Ok(r) => r?,
                Err(_) => {
                    // RFC 1939 §3: an inactivity timer of at least 10 minutes.
                    conn.send_line("-ERR autologout timer expired").await?;
                    return Ok(());
                }
            };
        let Some(line) = line else {
            host.log(format_args!("{ip} went away; nothing deleted"));
            return Ok(());
        };
        commands += 1;
        if commands > host.policy.max_commands {
            conn.send_line("-ERR too many commands, closing").await?;
            return conn.shutdown().await;
        }
        // RFC 2449 §4: commands and arguments fit in 255 octets.
        let Line::Text(line) = line else {
            conn.queue_line("-ERR line too long");
            continue;
        };
        let line = String::from_utf8_lossy(&line).into_owned();
        if s.command(&mut conn, &line).await? {
            return conn.shutdown().await;
        }
    }
}

struct Pop3 {
    host: Arc<Host>,
    ip: IpAddr,
    timestamp: String,
    pending_user: Option<String>,
    user: Option<String>,
    /// The maildrop as it was at login.
    drop: Vec<StoredMessage>,
    deleted: Vec<bool>,
}

impl Pop3 {
    /// Returns true when the session is over.
    async fn command(&mut self, conn: &mut LineConn, line: &str) -> std::io::Result<bool> {
        let mut words = line.split_whitespace();
        let verb = words.next().unwrap_or("").to_ascii_uppercase();
        let args: Vec<&str> = words.collect();
        if verb == "QUIT" {
            self.quit(conn).await?;
            return Ok(true);
        }
        if verb == "CAPA" {
            conn.queue_line("+OK Capability list follows");
            for c in [
                "TOP",
                "UIDL",
                "USER",
                "RESP-CODES",
                "PIPELINING",
                "AUTH-RESP-CODE",
            ] {
                conn.queue_line(c);
            }
            if self.user.is_none() {
                if self.plaintext_ok(conn) {
                    conn.queue_line("SASL PLAIN");
                }
                if self.host.tls.is_some() && !conn.is_tls() {
                    conn.queue_line("STLS");
                }
            }
            conn.queue_line("IMPLEMENTATION mailscope");
            conn.queue_line(".");
            return Ok(false);
        }
        if verb == "NOOP" && self.user.is_some() {
            conn.queue_line("+OK");
            return Ok(false);
        }
        if self.user.is_none() {
            self.authorization(conn, &verb, &args).await?;
        } else {
            self.transaction(conn, &verb, &args);
        }
        Ok(false)
    }

    fn plaintext_ok(&self, conn: &LineConn) -> bool {
        conn.is_tls() || self.host.policy.plaintext_auth
    }

    async fn login(&mut self, conn: &mut LineConn, user: Option<String>) -> std::io::Result<()> {
        let Some(user) =
            user.filter(|u| self.host.store.has_user(u) || self.host.store.ensure_user(u).is_ok())
        else {
            let delay = self.host.throttle.failed(self.ip);
            conn.flush().await?;
            tokio::time::sleep(delay).await;
            conn.queue_line("-ERR [AUTH] invalid user name or password");
            return Ok(());
        };
        self.host.throttle.succeeded(self.ip);
        let snapshot = match self.host.store.snapshot(&user, INBOX) {
            Ok(s) => s,
            Err(e) => {
                conn.queue_line(&format!("-ERR [SYS/TEMP] maildrop unavailable: {e}"));
                return Ok(());
            }
        };
        self.drop = snapshot.messages;
        self.deleted = vec![false; self.drop.len()];
        let octets: usize = self.drop.iter().map(|m| m.data.len()).sum();
        self.host
            .log(format_args!("{} logged in as {user}", self.ip));
        let n = self.drop.len();
        let plural = if n == 1 { "" } else { "s" };
        conn.queue_line(&format!(
            "+OK {user}'s maildrop has {n} message{plural} ({octets} octets)"
        ));
        self.user = Some(user);
        Ok(())
    }

    async fn authorization(
        &mut self,
        conn: &mut LineConn,
        verb: &str,
        args: &[&str],
    ) -> std::io::Result<()> {
        if ["USER", "PASS", "APOP", "AUTH"].contains(&verb) && self.host.throttle.locked(self.ip) {
            conn.queue_line("-ERR [AUTH] too many failures, try again later");
            return Ok(());
        }
        match verb {
            "STLS" => {
                if conn.is_tls() {
                    conn.queue_line("-ERR TLS already active");
                } else if let Some(acceptor) = self.host.tls.clone() {
                    conn.queue_line("+OK Begin TLS negotiation");
                    if conn.accept_tls(&acceptor).await.is_err() {
                        return Err(std::io::Error::other("TLS handshake failed"));
                    }
                    self.pending_user = None;
                } else {
                    conn.queue_line("-ERR TLS not available");
                }
            }
            "USER" => {
                if !self.plaintext_ok(conn) {
                    // RFC 2595 §2.1: refuse clear-text passwords before TLS.
                    conn.queue_line("-ERR [SYS/PERM] USER/PASS need TLS first (STLS)");
                } else if let [name] = args {
                    self.pending_user = Some(name.to_string());
                    conn.queue_line("+OK send PASS");
                } else {
                    conn.queue_line("-ERR syntax: USER name");
                }
            }
            "PASS" => {
                let Some(user) = self.pending_user.take() else {
                    conn.queue_line("-ERR USER first");
                    return Ok(());
                };
                // The password is the rest of the line and may hold spaces
                // (RFC 1939 §7 allows it).
                let pass = args.join(" ");
                let ok = self.host.accounts.check(&user, &pass);
                self.login(conn, ok.then_some(user)).await?;
            }
            "APOP" => {
                // RFC 1939 §7: MD5(timestamp + secret) in hex; the
                // password itself never crosses the network.
                let [name, digest] = args else {
                    conn.queue_line("-ERR syntax: APOP name digest");
                    return Ok(());
                };
                let ok = self.host.accounts.password(name).is_some_and(|p| {
                    let mut h = Md5::new();
                    h.update(self.timestamp.as_bytes());
                    h.update(p.as_bytes());
                    hex(&h.finalize()) == digest.to_ascii_lowercase()
                });
                self.login(conn, ok.then(|| name.to_string())).await?;
            }
            "AUTH" => {
                let Some(mech) = args.first() else {
                    // RFC 5034 §4: AUTH without argument lists mechanisms.
                    conn.queue_line("+OK");
                    if self.plaintext_ok(conn) {
                        conn.queue_line("PLAIN");
                    }
                    conn.queue_line(".");
                    return Ok(());
                };
                if !mech.eq_ignore_ascii_case("PLAIN") {
                    conn.queue_line("-ERR unsupported mechanism");
                    return Ok(());
                }
                if !self.plaintext_ok(conn) {
                    conn.queue_line("-ERR [SYS/PERM] AUTH PLAIN needs TLS first (STLS)");
                    return Ok(());
                }
                let response = match args.get(1) {
                    Some(r) => Some(r.to_string()),
                    None => {
                        conn.send_line("+ ").await?;
                        match conn.read_line(self.host.policy.max_command_line).await? {
                            Some(Line::Text(t)) => {
                                Some(String::from_utf8_lossy(&t).trim().to_string())
                            }
                            _ => None,
                        }
                    }
                };
                match response {
                    Some(r) if r != "*" => {
                        let user = decode_plain(&r)
                            .filter(|(u, p)| self.host.accounts.check(u, p))
                            .map(|(u, _)| u);
                        self.login(conn, user).await?;
                    }
                    _ => conn.queue_line("-ERR authentication cancelled"),
                }
            }
            _ => conn.queue_line("-ERR not allowed before login"),
        }
        Ok(())
    }

    /// The message numbered `arg` (1-based), unless deleted.
    fn message(&self, arg: Option<&&str>) -> Result<usize, &'static str> {
        let n = arg
            .and_then(|a| a.parse::<usize>().ok())
            .ok_or("-ERR syntax: message number needed")?;
        if n == 0 || n > self.drop.len() {
            return Err("-ERR no such message");
        }
        if self.deleted[n - 1] {
            return Err("-ERR message already deleted");
        }
        Ok(n - 1)
    }

    fn transaction(&mut self, conn: &mut LineConn, verb: &str, args: &[&str]) {
        let live = || self.drop.iter().zip(&self.deleted).filter(|(_, d)| !**d);
        match verb {
            "STAT" => {
                let (n, octets) = live().fold((0, 0), |(n, o), (m, _)| (n + 1, o + m.data.len()));
                conn.queue_line(&format!("+OK {n} {octets}"));
            }
            "LIST" | "UIDL" => {
                let item = |i: usize, m: &StoredMessage| {
                    if verb == "LIST" {
                        format!("{} {}", i + 1, m.data.len())
                    } else {
                        // A UID that stays the same across sessions
                        // (RFC 1939 §7): the folder's UIDVALIDITY is fixed,
                        // so the IMAP UID serves.
                        format!("{} {}", i + 1, m.uid)
                    }
                };
                if args.is_empty() {
                    conn.queue_line("+OK");
                    for (i, (m, d)) in self.drop.iter().zip(&self.deleted).enumerate() {
                        if !*d {
                            conn.queue_line(&item(i, m));
                        }
                    }
                    conn.queue_line(".");
                } else {
                    match self.message(args.first()) {
                        Ok(i) => conn.queue_line(&format!("+OK {}", item(i, &self.drop[i]))),
                        Err(e) => conn.queue_line(e),
                    }
                }
            }
            "RETR" => match self.message(args.first()) {
                Ok(i) => {
                    let data = self.drop[i].data.clone();
                    conn.queue_line(&format!("+OK {} octets", data.len()));
                    conn.queue_dot_terminated(&data);
                }
                Err(e) => conn.queue_line(e),
            },
            "TOP" => {
                let lines = args.get(1).and_then(|n| n.parse::<usize>().ok());
                match (self.message(args.first()), lines) {
                    (Ok(i), Some(n)) => {
                        let data = self.drop[i].data.clone();
                        // The header, the blank line, then n body lines.
                        let split = memchr::memmem::find(&data, b"\r\n\r\n")
                            .map(|p| p + 4)
                            .unwrap_or(data.len());
                        let body_end = data[split..]
                            .split_inclusive(|b| *b == b'\n')
                            .take(n)
                            .map(<[u8]>::len)
                            .sum::<usize>();
                        conn.queue_line("+OK top of message follows");
                        conn.queue_dot_terminated(&data[..split + body_end]);
                    }
                    (Err(e), _) => conn.queue_line(e),
                    (_, None) => conn.queue_line("-ERR syntax: TOP msg n"),
                }
            }
            "DELE" => match self.message(args.first()) {
                Ok(i) => {
                    self.deleted[i] = true;
                    conn.queue_line(&format!("+OK message {} deleted", i + 1));
                }
                Err(e) => conn.queue_line(e),
            },
            "RSET" => {
                self.deleted.iter_mut().for_each(|d| *d = false);
                conn.queue_line(&format!("+OK maildrop has {} messages", self.drop.len()));
            }
            _ => conn.queue_line("-ERR unknown command"),
        }
    }

    /// QUIT: in the TRANSACTION state, enter UPDATE and remove the marked
    /// messages.
    async fn quit(&mut self, conn: &mut LineConn) -> std::io::Result<()> {
        if let Some(user) = &self.user {
            let uids: Vec<u32> = self
                .drop
                .iter()
                .zip(&self.deleted)
                .filter(|(_, d)| **d)
                .map(|(m, _)| m.uid)
                .collect();
            let store = self.host.store.clone();
            let user = user.clone();
            let n = uids.len();
            let r = tokio::task::spawn_blocking(move || store.remove(&user, INBOX, &uids)).await;
            match r {
                Ok(Ok(())) => conn.queue_line(&format!(
                    "+OK {} POP3 server signing off ({n} deleted)",
                    self.host.name
                )),
                _ => conn.queue_line("-ERR some deleted messages not removed"),
            }
        } else {
            conn.queue_line(&format!("+OK {} POP3 server signing off", self.host.name));
        }
        conn.flush().await
    }
}
