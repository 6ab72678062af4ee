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
use super::host::{Host, decode_plain, plain_malformed};
use super::store::{INBOX, StoredMessage};
use crate::mail::hex;
use crate::proto::pop3::{Command, Response, Scan};

/// Counts greetings, to make each APOP timestamp unique.
static GREETINGS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Queue a status line, written by the grammar the analyzer reads
/// (`proto::pop3::Response`).
fn send(conn: &mut LineConn, response: Response) {
    conn.queue_with(|out| response.emit(out));
}

fn ok(conn: &mut LineConn, text: &str) {
    send(conn, Response::Ok(text.to_string()));
}

fn err(conn: &mut LineConn, text: &str) {
    send(conn, Response::Err(text.to_string()));
}

/// `+OK text`, then `lines` as a multi-line response (dot-stuffed, up to
/// the final ".", RFC 1939 §3).
fn ok_multiline(conn: &mut LineConn, text: &str, body: &[u8]) {
    conn.queue_with(|out| Response::Ok(text.to_string()).emit_multiline(body, out));
}

/// The lines of a multi-line response as text, each ending in CRLF.
fn lines<S: AsRef<str>>(lines: impl IntoIterator<Item = S>) -> Vec<u8> {
    let mut body = Vec::new();
    for l in lines {
        body.extend_from_slice(l.as_ref().as_bytes());
        body.extend_from_slice(b"\r\n");
    }
    body
}

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
    ok(
        &mut conn,
        &format!("{} POP3 server ready {timestamp}", host.name),
    );
    let mut s = Pop3 {
        host: host.clone(),
        ip,
        timestamp,
        pending_user: None,
        user: None,
        drop: Vec::new(),
        uidvalidity: 0,
        deleted: Vec::new(),
    };
    let mut commands = 0usize;
    loop {
        conn.flush_before_read().await?;
        let line = match tokio::time::timeout(
            host.policy.pop3_idle_timeout,
            conn.read_line(255 + 2),
        )
        .await
        {
            Ok(r) => r?,
            Err(_) => {
                // RFC 1939 §3: an inactivity timer of at least 10 minutes.
                err(&mut conn, "autologout timer expired");
                conn.flush().await?;
                return Ok(());
            }
        };
        let Some(line) = line else {
            host.log(format_args!("{ip} went away; nothing deleted"));
            return Ok(());
        };
        commands += 1;
        if commands > host.policy.max_commands {
            err(&mut conn, "too many commands, closing");
            conn.flush().await?;
            return conn.shutdown().await;
        }
        // RFC 2449 §4: commands and arguments fit in 255 octets.
        let Line::Text(line) = line else {
            err(&mut conn, "line too long");
            continue;
        };
        if s.command(&mut conn, Command::parse(&line)).await? {
            return conn.shutdown().await;
        }
    }
}

/// The UIDL of a message (RFC 1939 §7): the same in every session, and
/// never given to another message, "even if a message is deleted and a
/// new one arrives". The IMAP UID alone is not enough: an in-memory store
/// starts again at UID 1 on every run (and its UIDVALIDITY, the start time
/// in seconds, may repeat), so fetchmail in keep mode would take a new
/// message for one it has seen. The UIDVALIDITY, the UID and the start of
/// a SHA-256 of the message's bytes together are: at most 38 characters,
/// all in 0x21..0x7E as §7 requires.
fn unique_id(uidvalidity: u32, m: &StoredMessage) -> String {
    use sha2::{Digest as _, Sha256};
    let digest = Sha256::digest(m.data.as_slice());
    format!("{uidvalidity}.{}.{}", m.uid, hex(&digest[..8]))
}

struct Pop3 {
    host: Arc<Host>,
    ip: IpAddr,
    timestamp: String,
    pending_user: Option<String>,
    user: Option<String>,
    /// The maildrop as it was at login.
    drop: Vec<StoredMessage>,
    /// The UIDVALIDITY of the INBOX at login, for UIDL.
    uidvalidity: u32,
    deleted: Vec<bool>,
}

impl Pop3 {
    /// Returns true when the session is over.
    async fn command(&mut self, conn: &mut LineConn, command: Command) -> std::io::Result<bool> {
        match command {
            Command::Quit => {
                self.quit(conn).await?;
                return Ok(true);
            }
            Command::Capa => {
                let mut capabilities = vec!["TOP", "UIDL"];
                // RFC 2449 §6.3: USER says that USER/PASS are accepted;
                // without TLS they are refused unless the lesson allows
                // passwords in clear, so it is not offered there.
                if self.plaintext_ok(conn) {
                    capabilities.push("USER");
                }
                capabilities.extend(["RESP-CODES", "PIPELINING", "AUTH-RESP-CODE"]);
                if self.user.is_none() {
                    if self.plaintext_ok(conn) {
                        capabilities.push("SASL PLAIN");
                    }
                    if self.host.tls.is_some() && !conn.is_tls() {
                        capabilities.push("STLS");
                    }
                }
                capabilities.push("IMPLEMENTATION mailscope");
                ok_multiline(conn, "Capability list follows", &lines(capabilities));
            }
            Command::Noop if self.user.is_some() => ok(conn, ""),
            command if self.user.is_none() => self.authorization(conn, command).await?,
            command => self.transaction(conn, command),
        }
        Ok(false)
    }

    fn plaintext_ok(&self, conn: &LineConn) -> bool {
        conn.is_tls() || self.host.policy.plaintext_auth
    }

    /// End a login attempt as `user` (None: no name could be read), whose
    /// password was right or not.
    async fn login(
        &mut self,
        conn: &mut LineConn,
        user: Option<String>,
        good: bool,
    ) -> std::io::Result<()> {
        // A locked-out guesser is refused even with the right password, or
        // the answer would tell.
        if self.host.throttle.locked(self.ip, user.as_deref()) {
            err(conn, "[AUTH] too many failures, try again later");
            return Ok(());
        }
        let store = &self.host.store;
        let tried = user.clone();
        let Some(user) =
            user.filter(|u| good && (store.has_user(u) || store.ensure_user(u).is_ok()))
        else {
            let delay = self.host.throttle.failed(self.ip, tried.as_deref());
            conn.flush().await?;
            tokio::time::sleep(delay).await;
            err(conn, "[AUTH] invalid user name or password");
            return Ok(());
        };
        self.host.throttle.succeeded(&user);
        let snapshot = match self.host.store.snapshot(&user, INBOX) {
            Ok(s) => s,
            Err(e) => {
                err(conn, &format!("[SYS/TEMP] maildrop unavailable: {e}"));
                return Ok(());
            }
        };
        self.drop = snapshot.messages;
        self.uidvalidity = snapshot.uidvalidity;
        self.deleted = vec![false; self.drop.len()];
        let octets: usize = self.drop.iter().map(|m| m.data.len()).sum();
        self.host
            .log(format_args!("{} logged in as {user}", self.ip));
        let n = self.drop.len();
        let plural = if n == 1 { "" } else { "s" };
        ok(
            conn,
            &format!("{user}'s maildrop has {n} message{plural} ({octets} octets)"),
        );
        self.user = Some(user);
        Ok(())
    }

    /// The AUTHORIZATION state (RFC 1939 §4): who is the user?
    async fn authorization(
        &mut self,
        conn: &mut LineConn,
        command: Command,
    ) -> std::io::Result<()> {
        let logs_in = matches!(
            command,
            Command::User(_) | Command::Pass(_) | Command::Apop { .. } | Command::Auth { .. }
        );
        if logs_in && self.host.throttle.locked(self.ip, None) {
            err(conn, "[AUTH] too many failures, try again later");
            return Ok(());
        }
        match command {
            Command::Stls => {
                if conn.is_tls() {
                    err(conn, "TLS already active");
                } else if let Some(acceptor) = self.host.tls.clone() {
                    ok(conn, "Begin TLS negotiation");
                    if conn.accept_tls(&acceptor).await.is_err() {
                        return Err(std::io::Error::other("TLS handshake failed"));
                    }
                    self.pending_user = None;
                } else {
                    err(conn, "TLS not available");
                }
            }
            Command::User(name) => {
                let mut words = name.split_whitespace();
                if !self.plaintext_ok(conn) {
                    // RFC 2595 §2.1: refuse clear-text passwords before TLS.
                    err(conn, "[SYS/PERM] USER/PASS need TLS first (STLS)");
                } else if let (Some(name), None) = (words.next(), words.next()) {
                    self.pending_user = Some(name.to_string());
                    ok(conn, "send PASS");
                } else {
                    err(conn, "syntax: USER name");
                }
            }
            Command::Pass(password) => {
                let Some(user) = self.pending_user.take() else {
                    err(conn, "USER first");
                    return Ok(());
                };
                // The password is the rest of the line and may hold spaces
                // (RFC 1939 §7 allows it).
                let ok = self.host.accounts.check(&user, password.trim());
                self.login(conn, Some(user), ok).await?;
            }
            Command::Apop { name, digest } => {
                // RFC 1939 §7: MD5(timestamp + secret) in hex; the
                // password itself never crosses the network.
                if name.is_empty() || digest.is_empty() {
                    err(conn, "syntax: APOP name digest");
                    return Ok(());
                }
                let ok = self.host.accounts.password(&name).is_some_and(|p| {
                    let mut h = Md5::new();
                    h.update(self.timestamp.as_bytes());
                    h.update(p.as_bytes());
                    hex(&h.finalize()) == digest.to_ascii_lowercase()
                });
                self.login(conn, Some(name), ok).await?;
            }
            Command::Auth {
                mechanism,
                initial_response,
            } => self.auth(conn, mechanism, initial_response).await?,
            _ => err(conn, "not allowed before login"),
        }
        Ok(())
    }

    /// AUTH (RFC 5034): without a mechanism, the list; PLAIN only.
    async fn auth(
        &mut self,
        conn: &mut LineConn,
        mechanism: Option<String>,
        initial_response: Option<String>,
    ) -> std::io::Result<()> {
        let Some(mechanism) = mechanism else {
            // RFC 5034 §4: AUTH without argument lists mechanisms.
            let plain = self.plaintext_ok(conn);
            ok_multiline(conn, "", &lines(plain.then_some("PLAIN")));
            return Ok(());
        };
        if !mechanism.eq_ignore_ascii_case("PLAIN") {
            err(conn, "unsupported mechanism");
            return Ok(());
        }
        if !self.plaintext_ok(conn) {
            err(conn, "[SYS/PERM] AUTH PLAIN needs TLS first (STLS)");
            return Ok(());
        }
        let response = match initial_response {
            Some(r) => Some(r),
            None => {
                send(conn, Response::Continue(String::new()));
                conn.flush().await?;
                match conn.read_line(self.host.policy.max_command_line).await? {
                    Some(Line::Text(t)) => Some(String::from_utf8_lossy(&t).trim().to_string()),
                    _ => None,
                }
            }
        };
        match response {
            // RFC 5034 §4: a response that is not base64 is an error, and
            // no password was tried (not counted as a failed login).
            Some(r) if r != "*" && plain_malformed(&r) => err(conn, "malformed PLAIN response"),
            Some(r) if r != "*" => match decode_plain(&r) {
                Some((user, password)) => {
                    let ok = self.host.accounts.check(&user, &password);
                    self.login(conn, Some(user), ok).await?;
                }
                None => self.login(conn, None, false).await?,
            },
            _ => err(conn, "authentication cancelled"),
        }
        Ok(())
    }

    /// The message numbered `n` (1-based), unless deleted.
    fn message(&self, n: Option<u64>) -> Result<usize, &'static str> {
        let n = n
            .and_then(|n| usize::try_from(n).ok())
            .ok_or("syntax: message number needed")?;
        if n == 0 || n > self.drop.len() {
            return Err("no such message");
        }
        if self.deleted[n - 1] {
            return Err("message already deleted");
        }
        Ok(n - 1)
    }

    /// The TRANSACTION state (RFC 1939 §5): the maildrop as it was at login.
    fn transaction(&mut self, conn: &mut LineConn, command: Command) {
        let live = || self.drop.iter().zip(&self.deleted).filter(|(_, d)| !**d);
        let uidvalidity = self.uidvalidity;
        match command {
            Command::Stat => {
                let (n, octets) = live().fold((0, 0), |(n, o), (m, _)| (n + 1, o + m.data.len()));
                ok(conn, &format!("{n} {octets}"));
            }
            Command::List(scan) | Command::Uidl(scan) => {
                let listing = matches!(command, Command::List(_));
                let item = |i: usize, m: &StoredMessage| {
                    if listing {
                        format!("{} {}", i + 1, m.data.len())
                    } else {
                        format!("{} {}", i + 1, unique_id(uidvalidity, m))
                    }
                };
                match scan {
                    Scan::All => {
                        let items = self
                            .drop
                            .iter()
                            .zip(&self.deleted)
                            .enumerate()
                            .filter(|(_, (_, d))| !**d)
                            .map(|(i, (m, _))| item(i, m));
                        ok_multiline(conn, "", &lines(items));
                    }
                    Scan::One(n) => match self.message(n) {
                        Ok(i) => ok(conn, &item(i, &self.drop[i])),
                        Err(e) => err(conn, e),
                    },
                }
            }
            Command::Retr(n) => match self.message(n) {
                Ok(i) => {
                    let data = self.drop[i].data.clone();
                    ok_multiline(conn, &format!("{} octets", data.len()), &data);
                }
                Err(e) => err(conn, e),
            },
            Command::Top { message, lines } => {
                match (self.message(message), lines) {
                    (Ok(i), Some(n)) => {
                        let data = self.drop[i].data.clone();
                        // The header, the blank line, then n body lines.
                        let split = memchr::memmem::find(&data, b"\r\n\r\n")
                            .map(|p| p + 4)
                            .unwrap_or(data.len());
                        let body_end = data[split..]
                            .split_inclusive(|b| *b == b'\n')
                            .take(usize::try_from(n).unwrap_or(usize::MAX))
                            .map(<[u8]>::len)
                            .sum::<usize>();
                        ok_multiline(conn, "top of message follows", &data[..split + body_end]);
                    }
                    (Err(e), _) => err(conn, e),
                    (_, None) => err(conn, "syntax: TOP msg n"),
                }
            }
            Command::Dele(n) => match self.message(n) {
                Ok(i) => {
                    self.deleted[i] = true;
                    ok(conn, &format!("message {} deleted", i + 1));
                }
                Err(e) => err(conn, e),
            },
            Command::Rset => {
                self.deleted.iter_mut().for_each(|d| *d = false);
                ok(conn, &format!("maildrop has {} messages", self.drop.len()));
            }
            _ => err(conn, "unknown command"),
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
                Ok(Ok(())) => ok(
                    conn,
                    &format!("{} POP3 server signing off ({n} deleted)", self.host.name),
                ),
                _ => err(conn, "some deleted messages not removed"),
            }
        } else {
            ok(conn, &format!("{} POP3 server signing off", self.host.name));
        }
        conn.flush().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::host::Policy;
    use crate::world::store::Store;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A POP3 server for bob (password in clear allowed) holding `messages`.
    async fn server(messages: &[&[u8]]) -> std::net::SocketAddr {
        let store = Store::in_memory();
        store.ensure_user("bob").unwrap();
        for m in messages {
            store
                .deliver("bob", INBOX, m, &Default::default(), 0)
                .unwrap();
        }
        let policy = Policy {
            plaintext_auth: true,
            ..Policy::default()
        };
        let host = Host::for_tests(store, policy);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let (socket, _) = listener.accept().await.unwrap();
                let conn = LineConn::server(socket, &host.recorder).unwrap();
                tokio::spawn(run_session(conn, host.clone()));
            }
        });
        addr
    }

    /// Send `input` pipelined, return everything the server said.
    async fn exchange(addr: std::net::SocketAddr, input: &[u8]) -> String {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(input).await.unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.unwrap();
        String::from_utf8_lossy(&out).into_owned()
    }

    #[tokio::test]
    async fn a_session_in_the_grammar_of_rfc_1939() {
        let addr = server(&[b"Subject: a\r\n\r\n.dot\r\n"]).await;
        let out = exchange(
            addr,
            b"CAPA\r\nUSER bob\r\nPASS hungry\r\nLIST\r\nRETR 1\r\nTOP 1 0\r\nRETR x\r\nQUIT\r\n",
        )
        .await;
        let after_greeting = &out[out.find("\r\n").unwrap() + 2..];
        assert_eq!(
            after_greeting,
            "+OK Capability list follows\r\nTOP\r\nUIDL\r\nUSER\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nSASL PLAIN\r\nIMPLEMENTATION mailscope\r\n.\r\n\
+OK send PASS\r\n\
+OK bob's maildrop has 1 message (20 octets)\r\n\
+OK\r\n1 20\r\n.\r\n\
+OK 20 octets\r\nSubject: a\r\n\r\n..dot\r\n.\r\n\
+OK top of message follows\r\nSubject: a\r\n\r\n.\r\n\
-ERR syntax: message number needed\r\n\
+OK hamburger.edu POP3 server signing off (0 deleted)\r\n"
        );
    }

    #[tokio::test]
    async fn a_message_with_bare_lf_goes_out_in_crlf_lines() {
        // Stored as a BDAT chunk or an IMAP APPEND may hold it. Sent as it
        // is, its last line would end in a bare LF and the final "." would
        // not be <CRLF>.<CRLF> (RFC 1939 §3 wants CRLF lines anyway).
        let addr = server(&[b"Subject: lf\n\nhi\n.\n"]).await;
        let out = exchange(addr, b"USER bob\r\nPASS hungry\r\nRETR 1\r\nQUIT\r\n").await;
        assert!(
            out.contains("+OK 18 octets\r\nSubject: lf\r\n\r\nhi\r\n..\r\n.\r\n+OK"),
            "{out}"
        );
    }
}
