//! The IMAP server (IMAP4rev1, RFC 3501) of a simulated mail host, with
//! STARTTLS (RFC 3501 §6.2.1), AUTHENTICATE PLAIN (RFC 4616, with the
//! initial response of SASL-IR, RFC 4959), IDLE (RFC 2177), UIDPLUS
//! (RFC 4315), UNSELECT (RFC 3691), CHILDREN (RFC 3348) and LITERAL+
//! (RFC 7888).
//!
//! Where POP3 downloads a mailbox, IMAP *manages mail on the server*:
//! folders, flags, searches, parts of messages. A session moves through the
//! states of RFC 3501 §3:
//!
//! ```text
//!   greeting ─▶ not authenticated ─LOGIN/AUTHENTICATE─▶ authenticated
//!                                                        │  ▲
//!                                          SELECT/EXAMINE│  │CLOSE/UNSELECT
//!                                                        ▼  │
//!                                                      selected
//!   LOGOUT from any state ─▶ logout (the server closes the connection)
//! ```
//!
//! Every command carries a *tag* chosen by the client; the server answers
//! with any number of untagged lines (`* ...`) and ends with one tagged
//! line (`tag OK|NO|BAD ...`, RFC 3501 §7.1). Arguments can be atoms,
//! quoted strings, parenthesized lists or *literals* (`{n}` followed by
//! exactly n bytes, §4.3) — the tokenizer below turns a command into a tree
//! of [`Tok`] values.
//!
//! Message numbers come in two kinds (§2.3.1): *UIDs*, which never change
//! while the folder's UIDVALIDITY stays the same, and *sequence numbers*
//! 1..n, which shift down when a message is expunged. The session keeps its
//! own view of the selected folder (UIDs and flags in sequence order), so
//! sequence numbers change only when the server tells the client with
//! `* n EXPUNGE` (§7.4.1).
//!
//! Choices of this teaching server:
//!
//! * BODYSTRUCTURE and BODY are built recursively from the MIME tree that
//!   the `mail-parser` crate finds (multipart, message/rfc822 with its
//!   envelope, leaf parts); the extension data is the Content-Type
//!   parameters, the Content-Disposition and NIL for MD5 and language.
//! * `\Recent` is not tracked: SELECT says `0 RECENT`, and the RECENT and
//!   NEW search keys match nothing.
//! * AUTH=PLAIN is advertised only where a password may be sent (TLS is
//!   active, or the policy allows clear-text passwords); otherwise the
//!   capability list says LOGINDISABLED (§6.2.3) and offers STARTTLS.
//! * Subscriptions are not kept: LSUB lists every folder, SUBSCRIBE and
//!   UNSUBSCRIBE answer OK.
//! * RENAME of INBOX (which moves its messages, §6.3.5) is refused.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::net::IpAddr;
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mail_parser::{Addr, Address, HeaderValue, Message, MessageParser, MimeHeaders, PartType};

use super::conn::{Line, LineConn};
use super::host::{Host, decode_plain};
use super::store::{
    FolderSnapshot, INBOX, Store, StoreError, StoredMessage, folder_name, unix_now,
};

/// The hierarchy delimiter of folder names (RFC 3501 §5.1.1).
const DELIMITER: char = '/';

/// The system flags a client may set (RFC 3501 §2.3.2); `\Recent` is only
/// ever set by the server.
const SYSTEM_FLAGS: [&str; 5] = ["\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft"];

/// How deep parenthesized lists, search keys and MIME parts may nest: deep
/// enough for any real client or message, shallow enough that hostile input
/// cannot exhaust the stack.
const MAX_DEPTH: usize = 32;

/// How often IDLE looks at the store for new mail.
const IDLE_POLL: Duration = Duration::from_millis(200);

/// Run one IMAP session on an accepted connection. For port 993 the caller
/// has already done the TLS handshake (`conn.is_tls()` tells).
pub async fn run_session(conn: LineConn, host: Arc<Host>) -> io::Result<()> {
    let ip = conn
        .peer()
        .map(|a| a.ip())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]));
    host.log(format_args!(
        "IMAP session from {ip}{}",
        if conn.is_tls() { " (TLS)" } else { "" }
    ));
    let mut s = Session {
        conn,
        host,
        ip,
        user: None,
        selected: None,
        commands: 0,
    };
    // RFC 3501 §7.1.1: the greeting may carry the capabilities, which
    // saves the client a round trip.
    let greeting = format!(
        "* OK [CAPABILITY {}] {} IMAP4rev1 mailscope ready",
        s.capabilities(),
        s.host.name
    );
    s.conn.queue_line(&greeting);
    s.run().await
}

// ---------------------------------------------------------------------------
// Session state
// ---------------------------------------------------------------------------

struct Session {
    conn: LineConn,
    host: Arc<Host>,
    ip: IpAddr,
    /// Set once LOGIN or AUTHENTICATE succeeded.
    user: Option<String>,
    /// The selected folder, in the selected state.
    selected: Option<Selected>,
    commands: usize,
}

/// The session's view of the selected folder (RFC 3501 §6.3.1).
struct Selected {
    /// The folder name as the store knows it.
    name: String,
    /// EXAMINE: nothing may be changed (§6.3.2).
    read_only: bool,
    uidvalidity: u32,
    uidnext: u32,
    /// The messages in sequence order: index 0 is message number 1.
    /// Always sorted by UID.
    view: Vec<ViewMsg>,
    /// The largest UID the client was told about: anything larger in the
    /// store is new mail to announce with EXISTS.
    max_uid: u32,
}

struct ViewMsg {
    uid: u32,
    flags: BTreeSet<String>,
}

/// How a command ended, before the tagged line is written.
enum Reply {
    Ok(String),
    No(String),
    Bad(String),
    /// The handler already wrote the tagged line (STARTTLS).
    Sent,
    /// The session is over (LOGOUT, a lost connection, a BYE).
    Close,
}

fn ok(text: impl Into<String>) -> Reply {
    Reply::Ok(text.into())
}
fn no(text: impl Into<String>) -> Reply {
    Reply::No(text.into())
}
fn bad(text: impl Into<String>) -> Reply {
    Reply::Bad(text.into())
}

/// What one read of a command line gave.
enum Input {
    Text(Vec<u8>),
    TooLong,
    Eof,
    Timeout,
}

/// One piece of a command as it arrived: a line (without CRLF), or the
/// bytes of a literal announced at the end of the previous line.
#[derive(Debug)]
enum Segment {
    Line(Vec<u8>),
    Literal(Vec<u8>),
}

// ---------------------------------------------------------------------------
// Reading commands (RFC 3501 §2.2, §4.3, §5.4)
// ---------------------------------------------------------------------------

/// A literal announced at the end of a line: `{n}` (the client waits for
/// our `+` continuation) or `{n+}` (LITERAL+, RFC 7888: it does not wait).
struct LiteralMarker {
    /// None when the number does not even fit a usize.
    size: Option<usize>,
    synchronizing: bool,
}

fn literal_marker(line: &[u8]) -> Option<LiteralMarker> {
    let body = line.strip_suffix(b"}")?;
    let open = body.iter().rposition(|&b| b == b'{')?;
    let mut digits = &body[open + 1..];
    let synchronizing = match digits.strip_suffix(b"+") {
        Some(d) => {
            digits = d;
            false
        }
        None => true,
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let size = std::str::from_utf8(digits).ok()?.parse::<usize>().ok();
    Some(LiteralMarker {
        size,
        synchronizing,
    })
}

/// The tag of a command line: the bytes before the first space. RFC 3501
/// §9: `tag = 1*<any ASTRING-CHAR except "+">`.
fn tag_of(line: &[u8]) -> Option<String> {
    let tag = line.split(|&b| b == b' ').next()?;
    let valid = !tag.is_empty()
        && tag.iter().all(|&b| {
            b.is_ascii_graphic()
                && !matches!(b, b'(' | b')' | b'{' | b'%' | b'*' | b'"' | b'\\' | b'+')
        });
    valid.then(|| String::from_utf8_lossy(tag).into_owned())
}

impl Session {
    /// The main loop: read a command, run it, until LOGOUT or the end.
    async fn run(&mut self) -> io::Result<()> {
        loop {
            let segments = match self.read_command().await? {
                Some(Some(segments)) => segments,
                Some(None) => continue,
                None => return Ok(()),
            };
            if !self.execute(segments).await? {
                return Ok(());
            }
        }
    }

    /// Read one line, with the idle timer of RFC 3501 §5.4.
    async fn next_line(&mut self) -> io::Result<Input> {
        let limit = self.host.policy.max_command_line;
        let read = self.conn.read_line(limit);
        Ok(
            match tokio::time::timeout(self.host.policy.idle_timeout, read).await {
                Err(_) => Input::Timeout,
                Ok(r) => match r? {
                    None => Input::Eof,
                    Some(Line::TooLong) => Input::TooLong,
                    Some(Line::Text(t)) => Input::Text(t),
                },
            },
        )
    }

    /// Say goodbye (an untagged BYE, RFC 3501 §7.1.5) and close.
    async fn bye(&mut self, text: &str) -> io::Result<()> {
        self.host.log(format_args!("{}: BYE {text}", self.ip));
        self.conn.queue_line(&format!("* BYE {text}"));
        self.conn.shutdown().await
    }

    /// Read one complete command with its literals. `None`: the session is
    /// over; `Some(None)`: nothing to run (an error was answered already).
    async fn read_command(&mut self) -> io::Result<Option<Option<Vec<Segment>>>> {
        // Send the replies collected so far, unless more pipelined commands
        // are already waiting (then one segment carries all the replies).
        if self.conn.buffered() == 0 {
            self.conn.flush().await?;
        }
        let first = match self.next_line().await? {
            Input::Text(t) => t,
            Input::TooLong => {
                self.conn.queue_line("* BAD line too long");
                return Ok(Some(None));
            }
            Input::Eof => {
                self.host
                    .log(format_args!("{} closed the connection", self.ip));
                return Ok(None);
            }
            Input::Timeout => {
                self.bye("Autologout; idle for too long").await?;
                return Ok(None);
            }
        };
        if first.is_empty() {
            return Ok(Some(None));
        }
        self.commands += 1;
        if self.commands > self.host.policy.max_commands {
            self.bye("too many commands").await?;
            return Ok(None);
        }
        let Some(tag) = tag_of(&first) else {
            self.conn.queue_line("* BAD invalid tag");
            return Ok(Some(None));
        };
        let mut segments = vec![Segment::Line(first)];
        let mut literal_total = 0usize;
        loop {
            let marker = match segments.last() {
                Some(Segment::Line(l)) => literal_marker(l),
                _ => None,
            };
            let Some(marker) = marker else { break };
            // Check the announced size *before* reading or allocating
            // anything: the number comes from the client.
            let room = self.host.policy.max_literal.saturating_sub(literal_total);
            let n = match marker.size {
                Some(n) if n <= room => n,
                _ if marker.synchronizing => {
                    // The client waits for "+" and sends nothing more, so
                    // the session can go on with the next command.
                    self.conn.queue_line(&format!(
                        "{tag} BAD literal too large (at most {} octets)",
                        self.host.policy.max_literal
                    ));
                    return Ok(Some(None));
                }
                _ => {
                    // A non-synchronizing literal is on its way already;
                    // RFC 7888 §4 lets the server hang up.
                    self.bye("literal too large").await?;
                    return Ok(None);
                }
            };
            if marker.synchronizing {
                // RFC 3501 §7.5: the command continuation request.
                self.conn.queue_line("+ Ready for literal data");
                self.conn.flush().await?;
            }
            let mut bytes = Vec::new();
            let read = self.conn.read_counted(n, &mut bytes);
            match tokio::time::timeout(self.host.policy.idle_timeout, read).await {
                Err(_) => {
                    self.bye("Autologout; idle for too long").await?;
                    return Ok(None);
                }
                Ok(Ok(true)) => {}
                Ok(Ok(false)) => return Ok(None),
                Ok(Err(e)) => return Err(e),
            }
            literal_total += n;
            segments.push(Segment::Literal(bytes));
            // The command goes on after the literal, on the same "line".
            match self.next_line().await? {
                Input::Text(t) => segments.push(Segment::Line(t)),
                Input::TooLong => {
                    self.conn.queue_line(&format!("{tag} BAD line too long"));
                    return Ok(Some(None));
                }
                Input::Eof => return Ok(None),
                Input::Timeout => {
                    self.bye("Autologout; idle for too long").await?;
                    return Ok(None);
                }
            }
        }
        Ok(Some(Some(segments)))
    }

    /// Run one command; false when the session is over.
    async fn execute(&mut self, mut segments: Vec<Segment>) -> io::Result<bool> {
        let tag = match segments.first() {
            Some(Segment::Line(l)) => tag_of(l).unwrap_or_else(|| "*".into()),
            _ => "*".into(),
        };
        let toks = match tokenize(&mut segments) {
            Ok(t) => t,
            Err(e) => {
                self.conn.queue_line(&format!("{tag} BAD {e}"));
                return Ok(true);
            }
        };
        let Some(mut name) = toks.get(1).and_then(Tok::atom).map(str::to_ascii_uppercase) else {
            self.conn.queue_line(&format!("{tag} BAD missing command"));
            return Ok(true);
        };
        let mut args = &toks[2..];
        // RFC 3501 §6.4.8: UID FETCH/SEARCH/STORE/COPY use UIDs instead of
        // sequence numbers; UID EXPUNGE comes from UIDPLUS (RFC 4315).
        let uid = name == "UID";
        if uid {
            match args
                .first()
                .and_then(Tok::atom)
                .map(str::to_ascii_uppercase)
            {
                Some(sub)
                    if ["FETCH", "SEARCH", "STORE", "COPY", "EXPUNGE"].contains(&sub.as_str()) =>
                {
                    name = sub;
                    args = &args[1..];
                }
                _ => {
                    self.conn.queue_line(&format!(
                        "{tag} BAD UID needs FETCH, SEARCH, STORE, COPY or EXPUNGE"
                    ));
                    return Ok(true);
                }
            }
        }
        self.host.log(format_args!(
            "{} IMAP {}{name}",
            self.ip,
            if uid { "UID " } else { "" }
        ));
        let reply = self.dispatch(&tag, &name, args, uid).await?;
        let (status, text) = match reply {
            Reply::Ok(t) => ("OK", t),
            Reply::No(t) => ("NO", t),
            Reply::Bad(t) => ("BAD", t),
            Reply::Sent => return Ok(true),
            Reply::Close => return Ok(false),
        };
        // Tell the client about changes to the selected folder before the
        // tagged reply (RFC 3501 §5.2, §7). EXPUNGE responses are not
        // allowed during FETCH, STORE and SEARCH (§7.4.1), but they are
        // during the UID versions of those commands.
        if self.selected.is_some() {
            let expunge_ok = uid || !["FETCH", "STORE", "SEARCH"].contains(&name.as_str());
            self.refresh(expunge_ok);
        }
        self.conn.queue_line(&format!("{tag} {status} {text}"));
        Ok(true)
    }

    /// Choose the function of a command, checking the state first
    /// (RFC 3501 §6: which commands are valid in which state).
    async fn dispatch(
        &mut self,
        tag: &str,
        name: &str,
        args: &[Tok],
        uid: bool,
    ) -> io::Result<Reply> {
        // §6.1: valid in any state.
        match name {
            "CAPABILITY" => return Ok(self.cmd_capability(args)),
            "NOOP" => return Ok(self.cmd_noop(args, "NOOP")),
            "LOGOUT" => return self.cmd_logout(tag).await,
            _ => {}
        }
        // §6.2: the not-authenticated state.
        match name {
            "STARTTLS" => return self.cmd_starttls(tag).await,
            "LOGIN" => return self.cmd_login(args).await,
            "AUTHENTICATE" => return self.cmd_authenticate(args).await,
            _ => {}
        }
        const AUTHENTICATED: [&str; 13] = [
            "SELECT",
            "EXAMINE",
            "CREATE",
            "DELETE",
            "RENAME",
            "SUBSCRIBE",
            "UNSUBSCRIBE",
            "LIST",
            "LSUB",
            "STATUS",
            "APPEND",
            "IDLE",
            "CHECK",
        ];
        const SELECTED: [&str; 8] = [
            "CLOSE", "UNSELECT", "EXPUNGE", "SEARCH", "FETCH", "STORE", "COPY", "CHECK",
        ];
        let known = AUTHENTICATED.contains(&name) || SELECTED.contains(&name);
        if !known {
            return Ok(bad("unknown command"));
        }
        if self.user.is_none() {
            return Ok(bad("please log in first"));
        }
        // §6.3: the authenticated state (also valid when selected).
        match name {
            "SELECT" => return Ok(self.cmd_select(args, false)),
            "EXAMINE" => return Ok(self.cmd_select(args, true)),
            "CREATE" => return Ok(self.cmd_create(args).await),
            "DELETE" => return Ok(self.cmd_delete(args).await),
            "RENAME" => return Ok(self.cmd_rename(args).await),
            "SUBSCRIBE" | "UNSUBSCRIBE" => return Ok(self.cmd_subscribe(name, args)),
            "LIST" => return Ok(self.cmd_list(args, false)),
            "LSUB" => return Ok(self.cmd_list(args, true)),
            "STATUS" => return Ok(self.cmd_status(args)),
            "APPEND" => return Ok(self.cmd_append(args).await),
            "IDLE" => return self.cmd_idle().await,
            _ => {}
        }
        if self.selected.is_none() {
            return Ok(bad("no mailbox selected"));
        }
        // §6.4: the selected state.
        Ok(match name {
            "CHECK" => self.cmd_noop(args, "CHECK"),
            "CLOSE" => self.cmd_close().await,
            "UNSELECT" => self.cmd_unselect(),
            "EXPUNGE" => self.cmd_expunge(args, uid).await,
            "SEARCH" => self.cmd_search(args, uid),
            "FETCH" => self.cmd_fetch(args, uid).await,
            "STORE" => self.cmd_store(args, uid).await,
            "COPY" => self.cmd_copy(args, uid).await,
            _ => bad("unknown command"),
        })
    }

    /// May a password cross this connection? Only under TLS, unless the
    /// policy allows clear text (the eavesdropping lesson).
    fn plaintext_ok(&self) -> bool {
        self.conn.is_tls() || self.host.policy.plaintext_auth
    }

    /// The capability list (RFC 3501 §7.2.1).
    fn capabilities(&self) -> String {
        let mut caps = vec!["IMAP4rev1"];
        if self.host.tls.is_some() && !self.conn.is_tls() && self.user.is_none() {
            caps.push("STARTTLS");
        }
        if self.plaintext_ok() {
            caps.push("AUTH=PLAIN");
        } else {
            // §6.2.3: LOGIN is refused until TLS is active.
            caps.push("LOGINDISABLED");
        }
        caps.extend([
            "SASL-IR", "IDLE", "UIDPLUS", "UNSELECT", "CHILDREN", "LITERAL+",
        ]);
        caps.join(" ")
    }

    fn user(&self) -> String {
        self.user.clone().unwrap_or_default()
    }

    /// Run a store operation that may write to the disk (fsync) on a
    /// blocking thread, so the async workers stay free.
    async fn store_op<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let store = self.host.store.clone();
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .unwrap_or_else(|e| Err(StoreError::Io(io::Error::other(e))))
    }

    // -----------------------------------------------------------------------
    // Any state (RFC 3501 §6.1)
    // -----------------------------------------------------------------------

    /// CAPABILITY (§6.1.1).
    fn cmd_capability(&mut self, args: &[Tok]) -> Reply {
        if !args.is_empty() {
            return bad("CAPABILITY takes no arguments");
        }
        let line = format!("* CAPABILITY {}", self.capabilities());
        self.conn.queue_line(&line);
        ok("CAPABILITY completed")
    }

    /// NOOP (§6.1.2) and CHECK (§6.4.1): nothing to do; the caller reports
    /// what changed in the selected folder.
    fn cmd_noop(&mut self, args: &[Tok], name: &str) -> Reply {
        if !args.is_empty() {
            return bad(format!("{name} takes no arguments"));
        }
        ok(format!("{name} completed"))
    }

    /// LOGOUT (§6.1.3): BYE, the tagged OK, then close.
    async fn cmd_logout(&mut self, tag: &str) -> io::Result<Reply> {
        self.host.log(format_args!("{} logged out", self.ip));
        self.conn.queue_line(&format!(
            "* BYE {} IMAP4rev1 server logging out",
            self.host.name
        ));
        // The tagged OK comes after the BYE, then the server closes.
        self.conn.queue_line(&format!("{tag} OK LOGOUT completed"));
        self.conn.shutdown().await?;
        Ok(Reply::Close)
    }

    // -----------------------------------------------------------------------
    // Not authenticated (RFC 3501 §6.2)
    // -----------------------------------------------------------------------

    /// STARTTLS (§6.2.1): OK, then the TLS handshake on the same socket.
    async fn cmd_starttls(&mut self, tag: &str) -> io::Result<Reply> {
        if self.conn.is_tls() {
            return Ok(bad("TLS is already active"));
        }
        if self.user.is_some() {
            return Ok(bad("STARTTLS is only allowed before login"));
        }
        let Some(acceptor) = self.host.tls.clone() else {
            return Ok(bad("TLS is not available here"));
        };
        self.conn
            .queue_line(&format!("{tag} OK Begin TLS negotiation now"));
        // accept_tls flushes the OK first and discards anything the client
        // pipelined after STARTTLS (it could have been injected, §11.1).
        self.conn.accept_tls(&acceptor).await?;
        self.host.log(format_args!("{} started TLS", self.ip));
        Ok(Reply::Sent)
    }

    /// LOGIN user password (§6.2.3).
    async fn cmd_login(&mut self, args: &[Tok]) -> io::Result<Reply> {
        if self.user.is_some() {
            return Ok(bad("already logged in"));
        }
        let [user, pass] = args else {
            return Ok(bad("syntax: LOGIN user password"));
        };
        let (Some(user), Some(pass)) = (user.astring_text(), pass.astring_text()) else {
            return Ok(bad("syntax: LOGIN user password"));
        };
        if !self.plaintext_ok() {
            return Ok(no("[PRIVACYREQUIRED] LOGIN needs TLS first (STARTTLS)"));
        }
        self.check_credentials(user, pass, "LOGIN").await
    }

    /// AUTHENTICATE PLAIN (§6.2.2, RFC 4616), with or without the initial
    /// response on the command line (SASL-IR, RFC 4959).
    async fn cmd_authenticate(&mut self, args: &[Tok]) -> io::Result<Reply> {
        if self.user.is_some() {
            return Ok(bad("already logged in"));
        }
        let (Some(mech), 1..=2) = (args.first().and_then(Tok::atom), args.len()) else {
            return Ok(bad("syntax: AUTHENTICATE mechanism [initial-response]"));
        };
        if !mech.eq_ignore_ascii_case("PLAIN") {
            return Ok(no("unsupported authentication mechanism"));
        }
        if !self.plaintext_ok() {
            return Ok(no(
                "[PRIVACYREQUIRED] AUTHENTICATE PLAIN needs TLS first (STARTTLS)",
            ));
        }
        let response = match args.get(1) {
            // RFC 4959 §3: "=" stands for an empty initial response.
            Some(t) => match t.astring_text() {
                Some(r) if r == "=" => String::new(),
                Some(r) => r,
                None => return Ok(bad("invalid initial response")),
            },
            None => {
                // An empty challenge: "+ " and wait for one line of base64.
                self.conn.queue_line("+ ");
                self.conn.flush().await?;
                match self.next_line().await? {
                    Input::Text(t) => String::from_utf8_lossy(&t).trim().to_string(),
                    Input::TooLong => return Ok(bad("response too long")),
                    Input::Eof => return Ok(Reply::Close),
                    Input::Timeout => {
                        self.bye("Autologout; idle for too long").await?;
                        return Ok(Reply::Close);
                    }
                }
            }
        };
        // RFC 3501 §6.2.2: "*" cancels the exchange.
        if response == "*" {
            return Ok(bad("AUTHENTICATE cancelled"));
        }
        match decode_plain(&response) {
            Some((user, pass)) => self.check_credentials(user, pass, "AUTHENTICATE").await,
            None => Ok(bad("malformed PLAIN response")),
        }
    }

    /// Check a user name and password, slowing down guessers.
    async fn check_credentials(
        &mut self,
        user: String,
        pass: String,
        what: &str,
    ) -> io::Result<Reply> {
        if self.host.throttle.locked(self.ip) {
            return Ok(no("[UNAVAILABLE] too many failures, try later"));
        }
        let good = self.host.accounts.check(&user, &pass) && self.host.store.has_user(&user);
        if !good {
            let delay = self.host.throttle.failed(self.ip);
            self.conn.flush().await?;
            tokio::time::sleep(delay).await;
            self.host
                .log(format_args!("{} failed {what} as {user:?}", self.ip));
            return Ok(no("[AUTHENTICATIONFAILED] invalid user name or password"));
        }
        self.host.throttle.succeeded(self.ip);
        self.host
            .log(format_args!("{} logged in as {user}", self.ip));
        self.user = Some(user);
        Ok(ok(format!("{what} completed")))
    }

    // -----------------------------------------------------------------------
    // Authenticated (RFC 3501 §6.3)
    // -----------------------------------------------------------------------

    /// SELECT and EXAMINE (§6.3.1, §6.3.2).
    fn cmd_select(&mut self, args: &[Tok], read_only: bool) -> Reply {
        // A failed SELECT leaves no mailbox selected (§6.3.1), and a new
        // SELECT closes the old one without expunging.
        self.selected = None;
        let [name] = args else {
            return bad("syntax: SELECT mailbox");
        };
        let Some(name) = name.astring_text() else {
            return bad("syntax: SELECT mailbox");
        };
        let snap = match self.host.store.snapshot(&self.user(), &name) {
            Ok(s) => s,
            Err(e) => return store_error(&e),
        };
        let Ok(name) = folder_name(&name) else {
            return no("[NONEXISTENT] no such mailbox");
        };
        let view: Vec<ViewMsg> = snap
            .messages
            .iter()
            .map(|m| ViewMsg {
                uid: m.uid,
                flags: m.flags.clone(),
            })
            .collect();
        // FLAGS: the system flags and the keywords in use here.
        let mut flags: Vec<String> = SYSTEM_FLAGS.iter().map(|f| f.to_string()).collect();
        let keywords: BTreeSet<&String> = view
            .iter()
            .flat_map(|m| m.flags.iter())
            .filter(|f| !f.starts_with('\\'))
            .collect();
        flags.extend(keywords.into_iter().cloned());
        let c = &mut self.conn;
        c.queue_line(&format!("* FLAGS ({})", flags.join(" ")));
        if read_only {
            c.queue_line("* OK [PERMANENTFLAGS ()] Read-only mailbox");
        } else {
            c.queue_line(
                "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted",
            );
        }
        c.queue_line(&format!("* {} EXISTS", view.len()));
        c.queue_line("* 0 RECENT");
        if let Some(i) = view.iter().position(|m| !m.flags.contains("\\Seen")) {
            c.queue_line(&format!("* OK [UNSEEN {}] First unseen message", i + 1));
        }
        c.queue_line(&format!(
            "* OK [UIDVALIDITY {}] UIDs valid",
            snap.uidvalidity
        ));
        c.queue_line(&format!(
            "* OK [UIDNEXT {}] Predicted next UID",
            snap.uidnext
        ));
        self.host.log(format_args!(
            "{} selected {name} ({} messages)",
            self.ip,
            view.len()
        ));
        self.selected = Some(Selected {
            name,
            read_only,
            uidvalidity: snap.uidvalidity,
            uidnext: snap.uidnext,
            max_uid: view.last().map(|m| m.uid).unwrap_or(0),
            view,
        });
        if read_only {
            ok("[READ-ONLY] EXAMINE completed")
        } else {
            ok("[READ-WRITE] SELECT completed")
        }
    }

    /// CREATE (§6.3.3). A trailing delimiter only says "this will hold
    /// other folders" and is dropped.
    async fn cmd_create(&mut self, args: &[Tok]) -> Reply {
        let Some(name) = one_mailbox(args) else {
            return bad("syntax: CREATE mailbox");
        };
        let name = name.strip_suffix(DELIMITER).unwrap_or(&name).to_string();
        if name.eq_ignore_ascii_case(INBOX) {
            return no("[ALREADYEXISTS] INBOX always exists");
        }
        let user = self.user();
        match self.store_op(move |s| s.create_folder(&user, &name)).await {
            Ok(()) => ok("CREATE completed"),
            Err(e) => store_error(&e),
        }
    }

    /// DELETE (§6.3.4).
    async fn cmd_delete(&mut self, args: &[Tok]) -> Reply {
        let Some(name) = one_mailbox(args) else {
            return bad("syntax: DELETE mailbox");
        };
        if let (Some(sel), Ok(n)) = (&self.selected, folder_name(&name))
            && sel.name == n
        {
            return no("[INUSE] the mailbox is selected; CLOSE it first");
        }
        let user = self.user();
        match self.store_op(move |s| s.delete_folder(&user, &name)).await {
            Ok(()) => ok("DELETE completed"),
            Err(e) => store_error(&e),
        }
    }

    /// RENAME (§6.3.5).
    async fn cmd_rename(&mut self, args: &[Tok]) -> Reply {
        let [from, to] = args else {
            return bad("syntax: RENAME from to");
        };
        let (Some(from), Some(to)) = (from.astring_text(), to.astring_text()) else {
            return bad("syntax: RENAME from to");
        };
        if let (Some(sel), Ok(n)) = (&self.selected, folder_name(&from))
            && sel.name == n
        {
            return no("[INUSE] the mailbox is selected; CLOSE it first");
        }
        let user = self.user();
        match self
            .store_op(move |s| s.rename_folder(&user, &from, &to))
            .await
        {
            Ok(()) => ok("RENAME completed"),
            Err(e) => store_error(&e),
        }
    }

    /// SUBSCRIBE and UNSUBSCRIBE (§6.3.6, §6.3.7): every folder counts as
    /// subscribed, so there is nothing to remember.
    fn cmd_subscribe(&mut self, name: &str, args: &[Tok]) -> Reply {
        if one_mailbox(args).is_none() {
            return bad(format!("syntax: {name} mailbox"));
        }
        ok(format!("{name} completed"))
    }

    /// LIST and LSUB (§6.3.8, §6.3.9): folder names matching a pattern
    /// where `*` matches anything and `%` anything but the delimiter.
    fn cmd_list(&mut self, args: &[Tok], lsub: bool) -> Reply {
        let word = if lsub { "LSUB" } else { "LIST" };
        let [reference, pattern] = args else {
            return bad(format!("syntax: {word} reference pattern"));
        };
        let (Some(reference), Some(pattern)) = (reference.astring_text(), pattern.astring_text())
        else {
            return bad(format!("syntax: {word} reference pattern"));
        };
        if pattern.is_empty() {
            // §6.3.8: an empty pattern asks for the delimiter and the root.
            if !lsub {
                self.conn.queue_line("* LIST (\\Noselect) \"/\" \"\"");
            }
            return ok(format!("{word} completed"));
        }
        let full = format!("{reference}{pattern}");
        // The real folders, plus their parents, which exist only as levels
        // of the hierarchy (\Noselect) when they are not folders too.
        let mut names: BTreeMap<String, bool> = BTreeMap::new();
        for f in self.host.store.folders(&self.user()) {
            let mut end = 0;
            while let Some(i) = f[end..].find(DELIMITER) {
                names.entry(f[..end + i].to_string()).or_insert(false);
                end += i + 1;
            }
            names.insert(f, true);
        }
        let mut ordered: Vec<(&String, &bool)> = names.iter().collect();
        ordered.sort_by_key(|(n, _)| (n.as_str() != INBOX, n.as_str()));
        for (name, real) in &ordered {
            // INBOX is case-insensitive (§5.1), other names are not.
            let matches = wildcard_match(full.as_bytes(), name.as_bytes())
                || (name.as_str() == INBOX
                    && wildcard_match(full.to_ascii_uppercase().as_bytes(), name.as_bytes()));
            if !matches {
                continue;
            }
            let prefix = format!("{name}{DELIMITER}");
            let children = names.keys().any(|n| n.starts_with(&prefix));
            let mut attrs = Vec::new();
            if !**real {
                attrs.push("\\Noselect");
            }
            attrs.push(if children {
                "\\HasChildren"
            } else {
                "\\HasNoChildren"
            });
            let mut line = format!("* {word} ({}) \"{DELIMITER}\" ", attrs.join(" ")).into_bytes();
            push_string(&mut line, name.as_bytes());
            line.extend_from_slice(b"\r\n");
            self.conn.queue(&line);
        }
        ok(format!("{word} completed"))
    }

    /// STATUS (§6.3.10): counters of a folder without selecting it.
    fn cmd_status(&mut self, args: &[Tok]) -> Reply {
        let [name, Tok::List(items)] = args else {
            return bad("syntax: STATUS mailbox (items)");
        };
        let Some(name) = name.astring_text() else {
            return bad("syntax: STATUS mailbox (items)");
        };
        let snap = match self.host.store.snapshot(&self.user(), &name) {
            Ok(s) => s,
            Err(e) => return store_error(&e),
        };
        let mut parts = Vec::new();
        for item in items {
            let Some(item) = item.atom().map(str::to_ascii_uppercase) else {
                return bad("invalid STATUS item");
            };
            let value = match item.as_str() {
                "MESSAGES" => snap.messages.len() as u64,
                "RECENT" => 0,
                "UIDNEXT" => snap.uidnext as u64,
                "UIDVALIDITY" => snap.uidvalidity as u64,
                "UNSEEN" => snap
                    .messages
                    .iter()
                    .filter(|m| !m.flags.contains("\\Seen"))
                    .count() as u64,
                _ => return bad(format!("unknown STATUS item {item}")),
            };
            parts.push(format!("{item} {value}"));
        }
        let mut line = b"* STATUS ".to_vec();
        push_string(&mut line, name.as_bytes());
        line.extend_from_slice(format!(" ({})\r\n", parts.join(" ")).as_bytes());
        self.conn.queue(&line);
        ok("STATUS completed")
    }

    /// APPEND mailbox [(flags)] [date-time] literal (§6.3.11), answering
    /// with APPENDUID (RFC 4315 §3).
    async fn cmd_append(&mut self, args: &[Tok]) -> Reply {
        const SYNTAX: &str = "syntax: APPEND mailbox [(flags)] [date-time] literal";
        let Some((name, mut rest)) = args.split_first() else {
            return bad(SYNTAX);
        };
        let Some(name) = name.astring_text() else {
            return bad(SYNTAX);
        };
        let mut flags = BTreeSet::new();
        if let Some((Tok::List(list), more)) = rest.split_first() {
            match parse_flags(list) {
                Ok(f) => flags = f,
                Err(e) => return bad(e),
            }
            rest = more;
        }
        let mut received = unix_now();
        if rest.len() == 2 {
            let date = rest[0].astring_text().unwrap_or_default();
            match parse_date_time(&date) {
                Some(t) => received = t,
                None => return bad("invalid date-time"),
            }
            rest = &rest[1..];
        }
        let [Tok::Str(message)] = rest else {
            return bad(SYNTAX);
        };
        let user = self.user();
        let (folder, data) = (name.clone(), message.clone());
        let result = self
            .store_op(move |s| {
                let uid = s.deliver(&user, &folder, &data, &flags, received)?;
                Ok((s.snapshot(&user, &folder)?.uidvalidity, uid))
            })
            .await;
        match result {
            Ok((uidvalidity, uid)) => {
                self.host
                    .log(format_args!("{} appended UID {uid} to {name}", self.ip));
                ok(format!("[APPENDUID {uidvalidity} {uid}] APPEND completed"))
            }
            // §6.3.11: TRYCREATE tells the client to CREATE and try again.
            Err(StoreError::NoFolder) => no("[TRYCREATE] no such mailbox"),
            Err(e) => store_error(&e),
        }
    }

    /// IDLE (RFC 2177): "+ idling", then report new mail as it arrives
    /// until the client sends DONE.
    ///
    /// Waiting for DONE while also watching the store needs a read that can
    /// be interrupted every [`IDLE_POLL`]. `LineConn::read_line` is not
    /// cancellation-safe (an interrupted read leaves a zero-filled chunk in
    /// its buffer, see the report about conn.rs), so after each
    /// interrupted read this function takes whatever is buffered out of the
    /// connection, drops the NUL padding (a command line never holds NUL,
    /// RFC 3501 §9 CHAR8 excludes it outside literals) and keeps the real
    /// bytes as the start of the next line.
    async fn cmd_idle(&mut self) -> io::Result<Reply> {
        self.conn.queue_line("+ idling");
        self.conn.flush().await?;
        let limit = self.host.policy.max_command_line;
        let deadline = Instant::now() + self.host.policy.idle_timeout;
        let mut partial: Vec<u8> = Vec::new();
        loop {
            match tokio::time::timeout(IDLE_POLL, self.conn.read_line(limit)).await {
                Ok(Ok(Some(Line::Text(t)))) => {
                    partial.extend_from_slice(&t);
                    return Ok(if partial.eq_ignore_ascii_case(b"DONE") {
                        ok("IDLE terminated")
                    } else {
                        bad("expected DONE")
                    });
                }
                Ok(Ok(Some(Line::TooLong))) => return Ok(bad("line too long")),
                Ok(Ok(None)) => return Ok(Reply::Close),
                Ok(Err(e)) => return Err(e),
                Err(_) => {
                    let n = self.conn.buffered();
                    if n > 0 {
                        // The bytes are in the buffer, so this does not wait.
                        let mut bytes = Vec::new();
                        self.conn.read_counted(n, &mut bytes).await?;
                        bytes.retain(|&b| b != 0);
                        partial.extend_from_slice(&bytes);
                        if partial.len() > limit {
                            return Ok(bad("line too long"));
                        }
                    }
                    // During IDLE the server may send any untagged
                    // response, EXPUNGE included (RFC 2177 §3).
                    self.refresh(true);
                    self.conn.flush().await?;
                    if Instant::now() >= deadline {
                        self.bye("Autologout; idle for too long").await?;
                        return Ok(Reply::Close);
                    }
                }
            }
        }
    }

    // -----------------------------------------------------------------------
    // Selected (RFC 3501 §6.4)
    // -----------------------------------------------------------------------

    /// Compare the view with the store and tell the client what changed:
    /// `* n EXPUNGE` for messages others removed (only when allowed),
    /// `* n FETCH (FLAGS ...)` for flags others changed, `* n EXISTS` for
    /// new mail (RFC 3501 §7.3.1, §7.4.1, §7.4.2).
    fn refresh(&mut self, allow_expunge: bool) {
        let (Some(user), Some(sel)) = (&self.user, &mut self.selected) else {
            return;
        };
        let Ok(snap) = self.host.store.snapshot(user, &sel.name) else {
            return;
        };
        if allow_expunge {
            // From the highest number down, so each number is still valid
            // when the client reads it.
            for i in (0..sel.view.len()).rev() {
                if find_uid(&snap, sel.view[i].uid).is_none() {
                    sel.view.remove(i);
                    self.conn.queue_line(&format!("* {} EXPUNGE", i + 1));
                }
            }
        }
        for (i, v) in sel.view.iter_mut().enumerate() {
            if let Some(m) = find_uid(&snap, v.uid)
                && m.flags != v.flags
            {
                v.flags = m.flags.clone();
                self.conn.queue_line(&format!(
                    "* {} FETCH (FLAGS ({}))",
                    i + 1,
                    flag_list(&v.flags)
                ));
            }
        }
        let before = sel.view.len();
        let known = sel.max_uid;
        for m in snap.messages.iter().filter(|m| m.uid > known) {
            sel.view.push(ViewMsg {
                uid: m.uid,
                flags: m.flags.clone(),
            });
            sel.max_uid = m.uid;
        }
        if sel.view.len() != before {
            self.conn
                .queue_line(&format!("* {} EXISTS", sel.view.len()));
        }
        sel.uidnext = snap.uidnext;
        sel.uidvalidity = snap.uidvalidity;
    }

    /// The snapshot of the selected folder.
    fn selected_snapshot(&self) -> Result<FolderSnapshot, StoreError> {
        let name = self
            .selected
            .as_ref()
            .map(|s| s.name.as_str())
            .unwrap_or("");
        self.host.store.snapshot(&self.user(), name)
    }

    /// CLOSE (§6.4.2): expunge silently (unless read-only), deselect.
    async fn cmd_close(&mut self) -> Reply {
        if let Some(sel) = &self.selected
            && !sel.read_only
            && let Err(e) = self.expunge(None, false).await
        {
            return store_error(&e);
        }
        self.selected = None;
        ok("CLOSE completed")
    }

    /// UNSELECT (RFC 3691): deselect without expunging.
    fn cmd_unselect(&mut self) -> Reply {
        self.selected = None;
        ok("UNSELECT completed")
    }

    /// EXPUNGE (§6.4.3) and UID EXPUNGE set (RFC 4315 §2.1).
    async fn cmd_expunge(&mut self, args: &[Tok], uid: bool) -> Reply {
        let set = match (uid, args) {
            (false, []) => None,
            (true, [set]) => match set.atom().and_then(SeqSet::parse) {
                Some(s) => Some(s),
                None => return bad("invalid UID set"),
            },
            _ => return bad("syntax: EXPUNGE or UID EXPUNGE set"),
        };
        if self.selected.as_ref().is_some_and(|s| s.read_only) {
            return no("[READ-ONLY] mailbox is read-only");
        }
        match self.expunge(set.as_ref(), true).await {
            Ok(()) => ok("EXPUNGE completed"),
            Err(e) => store_error(&e),
        }
    }

    /// Remove the messages flagged \Deleted (limited to `uids` if given);
    /// `report`: send `* n EXPUNGE` for each. Each number is the message's
    /// number *after* the previous removals (RFC 3501 §7.4.1), so deleting
    /// messages 1 and 2 gives `* 1 EXPUNGE` twice.
    async fn expunge(&mut self, uids: Option<&SeqSet>, report: bool) -> Result<(), StoreError> {
        let snap = self.selected_snapshot()?;
        let Some(sel) = &self.selected else {
            return Ok(());
        };
        let max_uid = sel.view.last().map(|v| v.uid).unwrap_or(0);
        // Only messages the client knows about; the flags are the store's,
        // which are the newest.
        let doomed: Vec<u32> = sel
            .view
            .iter()
            .filter(|v| uids.is_none_or(|set| set.contains(v.uid, max_uid)))
            .filter(|v| find_uid(&snap, v.uid).is_some_and(|m| m.flags.contains("\\Deleted")))
            .map(|v| v.uid)
            .collect();
        if doomed.is_empty() {
            return Ok(());
        }
        let (user, name, list) = (self.user(), sel.name.clone(), doomed.clone());
        self.store_op(move |s| s.remove(&user, &name, &list))
            .await?;
        let Some(sel) = &mut self.selected else {
            return Ok(());
        };
        for uid in doomed {
            if let Ok(i) = sel.view.binary_search_by_key(&uid, |v| v.uid) {
                sel.view.remove(i);
                if report {
                    self.conn.queue_line(&format!("* {} EXPUNGE", i + 1));
                }
            }
        }
        Ok(())
    }

    /// SEARCH and UID SEARCH (§6.4.4).
    fn cmd_search(&mut self, args: &[Tok], uid: bool) -> Reply {
        let mut args = args;
        // §6.4.4: an optional CHARSET; we know UTF-8 and its subset ASCII.
        if args
            .first()
            .and_then(Tok::atom)
            .is_some_and(|a| a.eq_ignore_ascii_case("CHARSET"))
        {
            let charset = args.get(1).and_then(Tok::astring_text).unwrap_or_default();
            if !charset.eq_ignore_ascii_case("UTF-8") && !charset.eq_ignore_ascii_case("US-ASCII") {
                return no("[BADCHARSET (UTF-8 US-ASCII)] unsupported charset");
            }
            args = &args[2.min(args.len())..];
        }
        let key = match parse_search(args) {
            Ok(k) => k,
            Err(e) => return bad(e),
        };
        let snap = match self.selected_snapshot() {
            Ok(s) => s,
            Err(e) => return store_error(&e),
        };
        let Some(sel) = &self.selected else {
            return bad("no mailbox selected");
        };
        let max_seq = sel.view.len() as u32;
        let max_uid = sel.view.last().map(|v| v.uid).unwrap_or(0);
        let mut hits = Vec::new();
        for (i, v) in sel.view.iter().enumerate() {
            let Some(msg) = find_uid(&snap, v.uid) else {
                continue;
            };
            let c = Candidate {
                seq: i as u32 + 1,
                uid: v.uid,
                max_seq,
                max_uid,
                flags: &v.flags,
                msg,
                parsed: OnceCell::new(),
            };
            if c.matches(&key) {
                hits.push(if uid { v.uid } else { i as u32 + 1 });
            }
        }
        let mut line = String::from("* SEARCH");
        for h in hits {
            line.push_str(&format!(" {h}"));
        }
        self.conn.queue_line(&line);
        ok("SEARCH completed")
    }

    /// The view indexes a sequence set (or UID set) names. RFC 3501 §9: a
    /// sequence number beyond the last message is an error; in a UID set,
    /// UIDs that do not exist are just ignored (§6.4.8).
    fn targets(&self, set: &SeqSet, uid: bool) -> Result<Vec<usize>, Reply> {
        let Some(sel) = &self.selected else {
            return Err(bad("no mailbox selected"));
        };
        if uid {
            let max = sel.view.last().map(|v| v.uid).unwrap_or(0);
            return Ok((0..sel.view.len())
                .filter(|&i| set.contains(sel.view[i].uid, max))
                .collect());
        }
        let n = sel.view.len() as u32;
        if set.max_explicit() > n {
            return Err(bad("invalid message sequence number"));
        }
        Ok((0..sel.view.len())
            .filter(|&i| set.contains(i as u32 + 1, n))
            .collect())
    }

    /// FETCH and UID FETCH (§6.4.5).
    async fn cmd_fetch(&mut self, args: &[Tok], uid: bool) -> Reply {
        let [set, items] = args else {
            return bad("syntax: FETCH set items");
        };
        let Some(set) = set.atom().and_then(SeqSet::parse) else {
            return bad("invalid sequence set");
        };
        let mut items = match parse_fetch_items(items) {
            Ok(i) => i,
            Err(e) => return bad(e),
        };
        // §6.4.8: UID FETCH always reports the UID.
        if uid && !items.contains(&FetchItem::Uid) {
            items.insert(0, FetchItem::Uid);
        }
        let targets = match self.targets(&set, uid) {
            Ok(t) => t,
            Err(r) => return r,
        };
        let snap = match self.selected_snapshot() {
            Ok(s) => s,
            Err(e) => return store_error(&e),
        };
        let Some(sel) = &mut self.selected else {
            return bad("no mailbox selected");
        };
        // Reading a body without .PEEK sets \Seen (§6.4.5) — first, so the
        // FLAGS in the answer are the new ones.
        let sets_seen = !sel.read_only && items.iter().any(FetchItem::sets_seen);
        let mut changes = Vec::new();
        let mut changed = vec![false; targets.len()];
        if sets_seen {
            for (k, &i) in targets.iter().enumerate() {
                let v = &mut sel.view[i];
                if find_uid(&snap, v.uid).is_some() && v.flags.insert("\\Seen".to_string()) {
                    changes.push((v.uid, v.flags.clone()));
                    changed[k] = true;
                }
            }
        }
        let folder = sel.name.clone();
        if !changes.is_empty() {
            let user = self.user();
            if let Err(e) = self
                .store_op(move |s| s.set_flags(&user, &folder, &changes))
                .await
            {
                return store_error(&e);
            }
        }
        let mut missing = false;
        for (k, &i) in targets.iter().enumerate() {
            let Some(sel) = &self.selected else { break };
            let v = &sel.view[i];
            let Some(msg) = find_uid(&snap, v.uid) else {
                // Expunged by another session since the client last heard.
                missing = true;
                continue;
            };
            let out = fetch_response(i as u32 + 1, v, msg, &items, changed[k]);
            self.conn.queue(&out);
            if out.len() > 64 * 1024 && self.conn.flush().await.is_err() {
                return Reply::Close;
            }
        }
        if missing {
            no("[EXPUNGEISSUED] some messages were expunged by another session")
        } else {
            ok("FETCH completed")
        }
    }

    /// STORE and UID STORE (§6.4.6): FLAGS, +FLAGS, -FLAGS, with .SILENT.
    async fn cmd_store(&mut self, args: &[Tok], uid: bool) -> Reply {
        const SYNTAX: &str = "syntax: STORE set [+|-]FLAGS[.SILENT] (flags)";
        let [set, item, flag_args @ ..] = args else {
            return bad(SYNTAX);
        };
        let Some(set) = set.atom().and_then(SeqSet::parse) else {
            return bad("invalid sequence set");
        };
        let Some(item) = item.atom().map(str::to_ascii_uppercase) else {
            return bad(SYNTAX);
        };
        let (mode, silent) = match item.as_str() {
            "FLAGS" => ('=', false),
            "FLAGS.SILENT" => ('=', true),
            "+FLAGS" => ('+', false),
            "+FLAGS.SILENT" => ('+', true),
            "-FLAGS" => ('-', false),
            "-FLAGS.SILENT" => ('-', true),
            _ => return bad(SYNTAX),
        };
        // The flags may come as one parenthesized list or as bare flags.
        let flags = match flag_args {
            [Tok::List(list)] => parse_flags(list),
            list => parse_flags(list),
        };
        let flags = match flags {
            Ok(f) => f,
            Err(e) => return bad(e),
        };
        if self.selected.as_ref().is_some_and(|s| s.read_only) {
            return no("[READ-ONLY] mailbox is read-only");
        }
        let targets = match self.targets(&set, uid) {
            Ok(t) => t,
            Err(r) => return r,
        };
        let snap = match self.selected_snapshot() {
            Ok(s) => s,
            Err(e) => return store_error(&e),
        };
        let Some(sel) = &mut self.selected else {
            return bad("no mailbox selected");
        };
        let mut changes = Vec::new();
        let mut report = Vec::new();
        for &i in &targets {
            let v = &mut sel.view[i];
            // Start from the store's flags: another session may have
            // changed them since our view was taken.
            let Some(m) = find_uid(&snap, v.uid) else {
                continue;
            };
            let mut new = m.flags.clone();
            match mode {
                '=' => new = flags.clone(),
                '+' => new.extend(flags.iter().cloned()),
                _ => new.retain(|f| !flags.contains(f)),
            }
            if new != m.flags {
                changes.push((v.uid, new.clone()));
            }
            v.flags = new;
            report.push(i);
        }
        let folder = sel.name.clone();
        if !changes.is_empty() {
            let user = self.user();
            if let Err(e) = self
                .store_op(move |s| s.set_flags(&user, &folder, &changes))
                .await
            {
                return store_error(&e);
            }
        }
        if !silent && let Some(sel) = &self.selected {
            for i in report {
                let v = &sel.view[i];
                let uid_part = if uid {
                    format!("UID {} ", v.uid)
                } else {
                    String::new()
                };
                self.conn.queue_line(&format!(
                    "* {} FETCH ({uid_part}FLAGS ({}))",
                    i + 1,
                    flag_list(&v.flags)
                ));
            }
        }
        ok("STORE completed")
    }

    /// COPY and UID COPY (§6.4.7), answering with COPYUID (RFC 4315 §3).
    async fn cmd_copy(&mut self, args: &[Tok], uid: bool) -> Reply {
        let [set, dest] = args else {
            return bad("syntax: COPY set mailbox");
        };
        let (Some(set), Some(dest)) = (set.atom().and_then(SeqSet::parse), dest.astring_text())
        else {
            return bad("syntax: COPY set mailbox");
        };
        let targets = match self.targets(&set, uid) {
            Ok(t) => t,
            Err(r) => return r,
        };
        let snap = match self.selected_snapshot() {
            Ok(s) => s,
            Err(e) => return store_error(&e),
        };
        let Some(sel) = &self.selected else {
            return bad("no mailbox selected");
        };
        let messages: Vec<StoredMessage> = targets
            .iter()
            .filter_map(|&i| find_uid(&snap, sel.view[i].uid).cloned())
            .collect();
        let user = self.user();
        let result = self
            .store_op(move |s| {
                let uidvalidity = s.snapshot(&user, &dest)?.uidvalidity;
                let mut pairs = Vec::new();
                for m in &messages {
                    // Flags and internal date go with the copy (§6.4.7).
                    match s.deliver(&user, &dest, &m.data, &m.flags, m.received) {
                        Ok(new) => pairs.push((m.uid, new)),
                        Err(e) => {
                            // COPY is all or nothing: undo the copies made.
                            let made: Vec<u32> = pairs.iter().map(|p| p.1).collect();
                            let _ = s.remove(&user, &dest, &made);
                            return Err(e);
                        }
                    }
                }
                Ok((uidvalidity, pairs))
            })
            .await;
        match result {
            Ok((_, pairs)) if pairs.is_empty() => ok("COPY completed (nothing to copy)"),
            Ok((uidvalidity, pairs)) => {
                let src: Vec<u32> = pairs.iter().map(|p| p.0).collect();
                let dst: Vec<u32> = pairs.iter().map(|p| p.1).collect();
                ok(format!(
                    "[COPYUID {uidvalidity} {} {}] COPY completed",
                    uid_set_text(&src),
                    uid_set_text(&dst)
                ))
            }
            Err(StoreError::NoFolder) => no("[TRYCREATE] no such mailbox"),
            Err(e) => store_error(&e),
        }
    }
}

/// The NO reply for a store error, with the response codes of RFC 5530.
fn store_error(e: &StoreError) -> Reply {
    match e {
        StoreError::NoFolder => no("[NONEXISTENT] no such mailbox"),
        StoreError::Exists => no("[ALREADYEXISTS] mailbox already exists"),
        StoreError::BadName(why) => no(format!("[CANNOT] bad mailbox name: {why}")),
        StoreError::Inbox => no("[CANNOT] INBOX cannot be deleted or renamed"),
        StoreError::NoUser => no("[NONEXISTENT] no such user"),
        StoreError::Io(_) => no("[SERVERBUG] storage failed"),
    }
}

/// The one mailbox-name argument of CREATE, DELETE, SUBSCRIBE...
fn one_mailbox(args: &[Tok]) -> Option<String> {
    match args {
        [t] => t.astring_text(),
        _ => None,
    }
}

fn find_uid(snap: &FolderSnapshot, uid: u32) -> Option<&StoredMessage> {
    snap.messages
        .binary_search_by_key(&uid, |m| m.uid)
        .ok()
        .map(|i| &snap.messages[i])
}

fn flag_list(flags: &BTreeSet<String>) -> String {
    flags
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Check and normalize flags from the client: system flags get their
/// usual spelling, `\Recent` is ignored (only the server sets it), other
/// backslash names are errors; keywords are atoms (RFC 3501 §2.3.2).
fn parse_flags(toks: &[Tok]) -> Result<BTreeSet<String>, String> {
    let mut out = BTreeSet::new();
    for t in toks {
        let Some(f) = t.atom() else {
            return Err("flags must be atoms".into());
        };
        if let Some(sys) = SYSTEM_FLAGS.iter().find(|s| s.eq_ignore_ascii_case(f)) {
            out.insert(sys.to_string());
        } else if f.eq_ignore_ascii_case("\\Recent") {
            continue;
        } else if f.starts_with('\\')
            || f.is_empty()
            || f.bytes()
                .any(|b| !b.is_ascii_graphic() || b"(){%*\"\\]".contains(&b))
        {
            return Err(format!("invalid flag {f}"));
        } else {
            out.insert(f.to_string());
        }
    }
    Ok(out)
}

/// A UID list as a compact set: `1:3,7`.
fn uid_set_text(uids: &[u32]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < uids.len() {
        let mut j = i;
        while j + 1 < uids.len() && uids[j + 1] == uids[j].wrapping_add(1) {
            j += 1;
        }
        parts.push(if i == j {
            uids[i].to_string()
        } else {
            format!("{}:{}", uids[i], uids[j])
        });
        i = j + 1;
    }
    parts.join(",")
}

// ---------------------------------------------------------------------------
// The tokenizer (RFC 3501 §4, §9)
// ---------------------------------------------------------------------------

/// One argument of a command.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// An atom, including things like `\Seen`, `1:*` and
    /// `BODY[HEADER.FIELDS (SUBJECT)]<0.100>` (brackets may hold spaces).
    Atom(String),
    /// A quoted string or a literal.
    Str(Vec<u8>),
    /// A parenthesized list.
    List(Vec<Tok>),
}

impl Tok {
    fn atom(&self) -> Option<&str> {
        match self {
            Tok::Atom(a) => Some(a),
            _ => None,
        }
    }

    /// An astring (§9: atom or string) as text.
    fn astring_text(&self) -> Option<String> {
        match self {
            Tok::Atom(a) => Some(a.clone()),
            Tok::Str(s) => Some(String::from_utf8_lossy(s).into_owned()),
            Tok::List(_) => None,
        }
    }
}

/// Turn a command (its lines and literals) into tokens. Literals are moved
/// out of `segments`, not copied.
fn tokenize(segments: &mut [Segment]) -> Result<Vec<Tok>, String> {
    let mut t = Tokenizer {
        segs: segments,
        seg: 0,
        pos: 0,
    };
    t.sequence(0, false)
}

struct Tokenizer<'a> {
    segs: &'a mut [Segment],
    seg: usize,
    pos: usize,
}

impl Tokenizer<'_> {
    fn line(&self) -> &[u8] {
        match self.segs.get(self.seg) {
            Some(Segment::Line(l)) => l,
            _ => &[],
        }
    }

    fn peek(&self) -> Option<u8> {
        self.line().get(self.pos).copied()
    }

    /// Tokens up to the end of the command, or up to `)` inside a list.
    fn sequence(&mut self, depth: usize, in_list: bool) -> Result<Vec<Tok>, String> {
        let mut out = Vec::new();
        loop {
            while self.peek() == Some(b' ') {
                self.pos += 1;
            }
            match self.peek() {
                None if in_list => return Err("missing )".into()),
                None => return Ok(out),
                Some(b')') if in_list => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b')') => return Err("unexpected )".into()),
                Some(b'(') => {
                    if depth >= MAX_DEPTH {
                        return Err("lists nested too deeply".into());
                    }
                    self.pos += 1;
                    out.push(Tok::List(self.sequence(depth + 1, true)?));
                }
                Some(b'"') => out.push(Tok::Str(self.quoted()?)),
                Some(b'{') => out.push(Tok::Str(self.literal()?)),
                Some(_) => out.push(Tok::Atom(self.atom()?)),
            }
        }
    }

    /// `"..."` with `\"` and `\\` escapes (§4.3); one line at most.
    fn quoted(&mut self) -> Result<Vec<u8>, String> {
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => return Err("unterminated quoted string".into()),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(c @ (b'"' | b'\\')) => out.push(c),
                        _ => return Err("bad escape in quoted string".into()),
                    }
                    self.pos += 1;
                }
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    /// `{n}` at the end of a line: the bytes are the next segment, and the
    /// command goes on with the line after it (§4.3).
    fn literal(&mut self) -> Result<Vec<u8>, String> {
        let line_len = self.line().len();
        let close = self.line()[self.pos..]
            .iter()
            .position(|&b| b == b'}')
            .ok_or("bad literal")?;
        if self.pos + close + 1 != line_len {
            return Err("a literal must end the line".into());
        }
        let Some(Segment::Literal(bytes)) = self.segs.get_mut(self.seg + 1) else {
            return Err("missing literal data".into());
        };
        let bytes = std::mem::take(bytes);
        self.seg += 2;
        self.pos = 0;
        Ok(bytes)
    }

    /// An atom; a `[` takes everything up to the matching `]` along, so
    /// that FETCH sections with spaces stay one token.
    fn atom(&mut self) -> Result<String, String> {
        let start = self.pos;
        let mut in_brackets = false;
        while let Some(b) = self.peek() {
            if in_brackets {
                if b == b']' {
                    in_brackets = false;
                }
            } else {
                match b {
                    b' ' | b'(' | b')' | b'"' | b'{' => break,
                    b'[' => in_brackets = true,
                    _ => {}
                }
            }
            self.pos += 1;
        }
        if in_brackets {
            return Err("missing ]".into());
        }
        Ok(String::from_utf8_lossy(&self.line()[start..self.pos]).into_owned())
    }
}

// ---------------------------------------------------------------------------
// Sequence sets (RFC 3501 §9: sequence-set)
// ---------------------------------------------------------------------------

/// A set like `2,4:6,10:*`. `*` (the largest number in use) is stored as 0,
/// which no real number can be.
#[derive(Debug, Clone, PartialEq)]
struct SeqSet(Vec<(u32, u32)>);

impl SeqSet {
    fn parse(text: &str) -> Option<SeqSet> {
        let number = |s: &str| -> Option<u32> {
            if s == "*" {
                return Some(0);
            }
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            s.parse::<u32>().ok().filter(|&n| n > 0)
        };
        let mut ranges = Vec::new();
        for part in text.split(',') {
            let range = match part.split_once(':') {
                Some((a, b)) => (number(a)?, number(b)?),
                None => {
                    let n = number(part)?;
                    (n, n)
                }
            };
            ranges.push(range);
        }
        Some(SeqSet(ranges))
    }

    /// Is `n` in the set, when `*` stands for `star`? `4:2` is the same as
    /// `2:4` (§9).
    fn contains(&self, n: u32, star: u32) -> bool {
        self.0.iter().any(|&(a, b)| {
            let a = if a == 0 { star } else { a };
            let b = if b == 0 { star } else { b };
            a.min(b) <= n && n <= a.max(b)
        })
    }

    /// The largest number written out (not `*`).
    fn max_explicit(&self) -> u32 {
        self.0.iter().map(|&(a, b)| a.max(b)).max().unwrap_or(0)
    }
}

// ---------------------------------------------------------------------------
// Dates (RFC 3501 §9: date, date-time)
// ---------------------------------------------------------------------------

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Days since 1970-01-01 of a date of the proleptic Gregorian calendar.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = month as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number (the inverse of [`days_from_civil`]).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + if month <= 2 { 1 } else { 0 };
    (year, month, day)
}

/// INTERNALDATE: `"17-Jul-1996 02:44:25 +0000"`, always in UTC here.
fn internal_date(secs: i64) -> String {
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{d:2}-{}-{y:04} {:02}:{:02}:{:02} +0000",
        MONTHS[(m - 1) as usize],
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

/// A search date, `1-Feb-1994`, as a day number.
fn parse_date(text: &str) -> Option<i64> {
    let mut parts = text.trim().split('-');
    let (d, m, y) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || d.is_empty() || d.len() > 2 || y.len() != 4 {
        return None;
    }
    let day: u32 = d.parse().ok().filter(|d| (1..=31).contains(d))?;
    let month = MONTHS.iter().position(|n| n.eq_ignore_ascii_case(m))? as u32 + 1;
    let year: i64 = y.parse().ok()?;
    Some(days_from_civil(year, month, day))
}

/// An APPEND date-time, `17-Jul-1996 02:44:25 -0700`, as Unix seconds.
fn parse_date_time(text: &str) -> Option<i64> {
    let mut parts = text.trim().split(' ').filter(|p| !p.is_empty());
    let (date, time, zone) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let day = parse_date(date)?;
    let hms: Vec<i64> = time
        .split(':')
        .map(|p| p.parse::<i64>().ok().filter(|_| p.len() == 2))
        .collect::<Option<_>>()?;
    let [h, m, s] = hms[..] else { return None };
    if h > 23 || m > 59 || s > 60 {
        return None;
    }
    let (sign, digits) = match zone.as_bytes().first()? {
        b'+' => (1, &zone[1..]),
        b'-' => (-1, &zone[1..]),
        _ => return None,
    };
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let zh: i64 = digits[..2].parse().ok()?;
    let zm: i64 = digits[2..].parse().ok()?;
    Some(day * 86_400 + h * 3600 + m * 60 + s - sign * (zh * 3600 + zm * 60))
}

// ---------------------------------------------------------------------------
// SEARCH (RFC 3501 §6.4.4)
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum SearchKey {
    All,
    /// Has (true) or has not (false) this flag.
    Flag(String, bool),
    /// NEW and RECENT: \Recent is not tracked, so these match nothing.
    Never,
    /// FROM, TO, CC, BCC, SUBJECT, HEADER: field name and substring.
    Header(String, String),
    Body(String),
    Text(String),
    Larger(u64),
    Smaller(u64),
    /// BEFORE/ON/SINCE on the internal date (`sent` false) or the Date:
    /// header (`sent` true): ordering wanted, day number.
    Date {
        sent: bool,
        cmp: std::cmp::Ordering,
        or_equal: bool,
        day: i64,
    },
    Uid(SeqSet),
    Seq(SeqSet),
    Not(Box<SearchKey>),
    Or(Box<SearchKey>, Box<SearchKey>),
    And(Vec<SearchKey>),
}

fn parse_search(toks: &[Tok]) -> Result<SearchKey, String> {
    let mut pos = 0;
    let mut keys = Vec::new();
    while pos < toks.len() {
        keys.push(parse_search_key(toks, &mut pos, 0)?);
    }
    if keys.is_empty() {
        return Err("SEARCH needs a search key".into());
    }
    Ok(SearchKey::And(keys))
}

fn parse_search_key(toks: &[Tok], pos: &mut usize, depth: usize) -> Result<SearchKey, String> {
    use std::cmp::Ordering::*;
    if depth > MAX_DEPTH {
        return Err("search keys nested too deeply".into());
    }
    let tok = toks.get(*pos).ok_or("missing search key")?;
    *pos += 1;
    let mut string = |what: &str| -> Result<String, String> {
        let t = toks.get(*pos).and_then(Tok::astring_text);
        *pos += 1;
        t.ok_or_else(|| format!("{what} needs an argument"))
    };
    let key = match tok {
        Tok::List(inner) => {
            let mut p = 0;
            let mut keys = Vec::new();
            while p < inner.len() {
                keys.push(parse_search_key(inner, &mut p, depth + 1)?);
            }
            if keys.is_empty() {
                return Err("empty search group".into());
            }
            SearchKey::And(keys)
        }
        Tok::Str(_) => return Err("unexpected string in SEARCH".into()),
        Tok::Atom(a) => {
            let up = a.to_ascii_uppercase();
            let flag = |f: &str, has: bool| SearchKey::Flag(f.to_string(), has);
            match up.as_str() {
                "ALL" => SearchKey::All,
                "ANSWERED" => flag("\\Answered", true),
                "DELETED" => flag("\\Deleted", true),
                "FLAGGED" => flag("\\Flagged", true),
                "SEEN" => flag("\\Seen", true),
                "DRAFT" => flag("\\Draft", true),
                "UNANSWERED" => flag("\\Answered", false),
                "UNDELETED" => flag("\\Deleted", false),
                "UNFLAGGED" => flag("\\Flagged", false),
                "UNSEEN" => flag("\\Seen", false),
                "UNDRAFT" => flag("\\Draft", false),
                "NEW" | "RECENT" => SearchKey::Never,
                // OLD = NOT RECENT: every message.
                "OLD" => SearchKey::All,
                "KEYWORD" | "UNKEYWORD" => {
                    let k = string(&up)?;
                    let k = SYSTEM_FLAGS
                        .iter()
                        .find(|s| s.eq_ignore_ascii_case(&k))
                        .map(|s| s.to_string())
                        .unwrap_or(k);
                    SearchKey::Flag(k, up == "KEYWORD")
                }
                "FROM" | "TO" | "CC" | "BCC" | "SUBJECT" => {
                    SearchKey::Header(up.clone(), string(&up)?)
                }
                "HEADER" => {
                    let field = string("HEADER")?;
                    SearchKey::Header(field, string("HEADER")?)
                }
                "BODY" => SearchKey::Body(string("BODY")?),
                "TEXT" => SearchKey::Text(string("TEXT")?),
                "LARGER" | "SMALLER" => {
                    let n: u64 = string(&up)?
                        .parse()
                        .map_err(|_| format!("{up} needs a number"))?;
                    if up == "LARGER" {
                        SearchKey::Larger(n)
                    } else {
                        SearchKey::Smaller(n)
                    }
                }
                "BEFORE" | "ON" | "SINCE" | "SENTBEFORE" | "SENTON" | "SENTSINCE" => {
                    let day = parse_date(&string(&up)?)
                        .ok_or_else(|| format!("{up} needs a date like 1-Feb-1994"))?;
                    let (cmp, or_equal) = match up.trim_start_matches("SENT") {
                        "BEFORE" => (Less, false),
                        "ON" => (Equal, true),
                        _ => (Greater, true),
                    };
                    SearchKey::Date {
                        sent: up.starts_with("SENT"),
                        cmp,
                        or_equal,
                        day,
                    }
                }
                "UID" => {
                    let set = string("UID")?;
                    SearchKey::Uid(SeqSet::parse(&set).ok_or("invalid UID set")?)
                }
                "NOT" => SearchKey::Not(Box::new(parse_search_key(toks, pos, depth + 1)?)),
                "OR" => {
                    let a = parse_search_key(toks, pos, depth + 1)?;
                    let b = parse_search_key(toks, pos, depth + 1)?;
                    SearchKey::Or(Box::new(a), Box::new(b))
                }
                _ => match SeqSet::parse(a) {
                    Some(set) => SearchKey::Seq(set),
                    None => return Err(format!("unknown search key {a}")),
                },
            }
        }
    };
    Ok(key)
}

/// One message being tested against a search key.
struct Candidate<'a> {
    seq: u32,
    uid: u32,
    max_seq: u32,
    max_uid: u32,
    flags: &'a BTreeSet<String>,
    msg: &'a StoredMessage,
    /// Parsed only if a key needs the contents.
    parsed: OnceCell<Option<Message<'a>>>,
}

impl<'a> Candidate<'a> {
    fn parsed(&self) -> Option<&Message<'a>> {
        self.parsed
            .get_or_init(|| MessageParser::default().parse(self.msg.data.as_slice()))
            .as_ref()
    }

    fn header_bytes(&self) -> &'a [u8] {
        let data: &'a [u8] = self.msg.data.as_slice();
        &data[..header_end(data)]
    }

    fn matches(&self, key: &SearchKey) -> bool {
        match key {
            SearchKey::All => true,
            SearchKey::Never => false,
            SearchKey::Flag(f, has) => self.flags.contains(f) == *has,
            SearchKey::Header(field, needle) => self.header_matches(field, needle),
            SearchKey::Body(needle) => {
                let data = self.msg.data.as_slice();
                contains_ci(&data[header_end(data)..], needle) || self.decoded_text_contains(needle)
            }
            SearchKey::Text(needle) => {
                contains_ci(self.msg.data.as_slice(), needle)
                    || self.decoded_text_contains(needle)
                    || ["FROM", "TO", "CC", "BCC", "SUBJECT"]
                        .iter()
                        .any(|f| self.header_matches(f, needle))
            }
            SearchKey::Larger(n) => self.msg.data.len() as u64 > *n,
            SearchKey::Smaller(n) => (self.msg.data.len() as u64) < *n,
            SearchKey::Date {
                sent,
                cmp,
                or_equal,
                day,
            } => {
                let mine = if *sent {
                    // §6.4.4: the Date: header, disregarding time and zone.
                    match self.parsed().and_then(|m| m.date()) {
                        Some(d) => days_from_civil(d.year as i64, d.month as u32, d.day as u32),
                        None => return false,
                    }
                } else {
                    self.msg.received.div_euclid(86_400)
                };
                let c = mine.cmp(day);
                c == *cmp || (*or_equal && c == std::cmp::Ordering::Equal)
            }
            SearchKey::Uid(set) => set.contains(self.uid, self.max_uid),
            SearchKey::Seq(set) => set.contains(self.seq, self.max_seq),
            SearchKey::Not(k) => !self.matches(k),
            SearchKey::Or(a, b) => self.matches(a) || self.matches(b),
            SearchKey::And(keys) => keys.iter().all(|k| self.matches(k)),
        }
    }

    /// Does a header field contain the string (case-insensitively), in its
    /// raw form or decoded (RFC 2047 words, address lists)?
    fn header_matches(&self, field: &str, needle: &str) -> bool {
        let raw = header_fields(self.header_bytes());
        let mut present = false;
        for f in raw
            .iter()
            .filter(|f| f.name.eq_ignore_ascii_case(field.as_bytes()))
        {
            present = true;
            if contains_ci(&unfold(f.value), needle) {
                return true;
            }
        }
        // An empty string matches every message that has the field.
        if needle.is_empty() {
            return present;
        }
        let Some(m) = self.parsed() else { return false };
        let Some(root) = m.parts.first() else {
            return false;
        };
        root.headers
            .iter()
            .filter(|h| h.name.as_str().eq_ignore_ascii_case(field))
            .any(|h| contains_ci(header_value_text(&h.value).as_bytes(), needle))
    }

    fn decoded_text_contains(&self, needle: &str) -> bool {
        let Some(m) = self.parsed() else { return false };
        m.parts.iter().any(|p| match &p.body {
            PartType::Text(t) | PartType::Html(t) => contains_ci(t.as_bytes(), needle),
            _ => false,
        })
    }
}

/// Case-insensitive substring test (Unicode lower case).
fn contains_ci(haystack: &[u8], needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    let needle = needle.to_lowercase();
    let hay = String::from_utf8_lossy(haystack).to_lowercase();
    hay.contains(&needle)
}

/// A decoded header value as text, for SEARCH.
fn header_value_text(v: &HeaderValue) -> String {
    fn addr(a: &Addr) -> String {
        match (&a.name, &a.address) {
            (Some(n), Some(x)) => format!("{n} <{x}>"),
            (Some(n), None) => n.to_string(),
            (None, Some(x)) => x.to_string(),
            (None, None) => String::new(),
        }
    }
    match v {
        HeaderValue::Text(t) => t.to_string(),
        HeaderValue::TextList(l) => l.join(" "),
        HeaderValue::Address(Address::List(l)) => l.iter().map(addr).collect::<Vec<_>>().join(", "),
        HeaderValue::Address(Address::Group(g)) => g
            .iter()
            .flat_map(|g| {
                g.name
                    .iter()
                    .map(|n| n.to_string())
                    .chain(g.addresses.iter().map(addr))
            })
            .collect::<Vec<_>>()
            .join(", "),
        _ => String::new(),
    }
}

// ---------------------------------------------------------------------------
// Header fields (RFC 5322 §2.2)
// ---------------------------------------------------------------------------

/// Where the body starts: after the first empty line (or the end).
fn header_end(data: &[u8]) -> usize {
    if data.starts_with(b"\r\n") {
        return 2;
    }
    if data.starts_with(b"\n") {
        return 1;
    }
    let crlf = memchr::memmem::find(data, b"\r\n\r\n").map(|i| i + 4);
    let lf = memchr::memmem::find(data, b"\n\n").map(|i| i + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b).unwrap_or(data.len()),
    }
}

/// One header field as it is in the message.
struct HeaderField<'a> {
    name: &'a [u8],
    /// The whole field with its continuation lines and line endings.
    raw: &'a [u8],
    /// What follows the colon, still folded.
    value: &'a [u8],
}

/// Split a header into fields; a line starting with a space or tab
/// continues the previous field (folding).
fn header_fields(header: &[u8]) -> Vec<HeaderField<'_>> {
    let line_end = |from: usize| {
        memchr::memchr(b'\n', &header[from..])
            .map(|i| from + i + 1)
            .unwrap_or(header.len())
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < header.len() {
        let start = i;
        let mut end = line_end(i);
        while end < header.len() && matches!(header[end], b' ' | b'\t') {
            end = line_end(end);
        }
        i = end;
        let raw = &header[start..end];
        if raw == b"\r\n" || raw == b"\n" {
            break;
        }
        let Some(colon) = memchr::memchr(b':', raw) else {
            continue;
        };
        out.push(HeaderField {
            name: raw[..colon].trim_ascii(),
            raw,
            value: &raw[colon + 1..],
        });
    }
    out
}

/// A folded value on one line, trimmed.
fn unfold(value: &[u8]) -> Vec<u8> {
    let v: Vec<u8> = value
        .iter()
        .copied()
        .filter(|&b| b != b'\r' && b != b'\n')
        .collect();
    v.trim_ascii().to_vec()
}

// ---------------------------------------------------------------------------
// FETCH items (RFC 3501 §6.4.5)
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum FetchItem {
    Flags,
    Uid,
    Size,
    InternalDate,
    Envelope,
    /// BODY without a section: the structure without extension data.
    Body,
    BodyStructure,
    /// BODY[...], BODY.PEEK[...], RFC822, RFC822.HEADER, RFC822.TEXT.
    Section {
        /// The name in the answer, e.g. `BODY[HEADER]` or `RFC822.TEXT`.
        name: String,
        section: Section,
        /// `<start.count>`: only these bytes.
        partial: Option<(u64, u64)>,
        peek: bool,
    },
}

impl FetchItem {
    fn sets_seen(&self) -> bool {
        matches!(self, FetchItem::Section { peek: false, .. })
    }
}

/// Which bytes of a message: a part path like `1.2` and what of it.
#[derive(Debug, Clone, PartialEq)]
struct Section {
    path: Vec<u32>,
    text: SectionText,
}

#[derive(Debug, Clone, PartialEq)]
enum SectionText {
    /// The whole message (empty path) or the part's body.
    Full,
    Header,
    HeaderFields {
        not: bool,
        names: Vec<String>,
    },
    Text,
    /// The MIME header of a part.
    Mime,
}

fn parse_fetch_items(tok: &Tok) -> Result<Vec<FetchItem>, String> {
    use FetchItem::*;
    match tok {
        Tok::List(list) => list
            .iter()
            .map(|t| parse_fetch_item(t.atom().ok_or("invalid FETCH item")?))
            .collect(),
        Tok::Atom(a) => match a.to_ascii_uppercase().as_str() {
            // The macros of §6.4.5.
            "ALL" => Ok(vec![Flags, InternalDate, Size, Envelope]),
            "FAST" => Ok(vec![Flags, InternalDate, Size]),
            "FULL" => Ok(vec![Flags, InternalDate, Size, Envelope, Body]),
            _ => Ok(vec![parse_fetch_item(a)?]),
        },
        Tok::Str(_) => Err("invalid FETCH item".into()),
    }
}

fn parse_fetch_item(text: &str) -> Result<FetchItem, String> {
    let whole = |name: &str, text, peek| FetchItem::Section {
        name: name.to_string(),
        section: Section {
            path: Vec::new(),
            text,
        },
        partial: None,
        peek,
    };
    let up = text.to_ascii_uppercase();
    match up.as_str() {
        "FLAGS" => return Ok(FetchItem::Flags),
        "UID" => return Ok(FetchItem::Uid),
        "RFC822.SIZE" => return Ok(FetchItem::Size),
        "INTERNALDATE" => return Ok(FetchItem::InternalDate),
        "ENVELOPE" => return Ok(FetchItem::Envelope),
        "BODY" => return Ok(FetchItem::Body),
        "BODYSTRUCTURE" => return Ok(FetchItem::BodyStructure),
        // The RFC 822 forms: RFC822 = BODY[], RFC822.HEADER =
        // BODY.PEEK[HEADER], RFC822.TEXT = BODY[TEXT].
        "RFC822" => return Ok(whole("RFC822", SectionText::Full, false)),
        "RFC822.HEADER" => return Ok(whole("RFC822.HEADER", SectionText::Header, true)),
        "RFC822.TEXT" => return Ok(whole("RFC822.TEXT", SectionText::Text, false)),
        _ => {}
    }
    let bad = || format!("invalid FETCH item {text}");
    let (prefix, rest) = up.split_at(up.find('[').ok_or_else(bad)?);
    let peek = match prefix {
        "BODY" => false,
        "BODY.PEEK" => true,
        _ => return Err(bad()),
    };
    let close = rest.rfind(']').ok_or_else(bad)?;
    // Use the original text inside the brackets (field names keep their
    // spelling), the upper-case copy has the same byte offsets.
    let inner = &text[prefix.len() + 1..prefix.len() + close];
    let after = &rest[close + 1..];
    let partial = if after.is_empty() {
        None
    } else {
        let range = after
            .strip_prefix('<')
            .and_then(|a| a.strip_suffix('>'))
            .ok_or_else(bad)?;
        let (start, count) = range.split_once('.').ok_or_else(bad)?;
        let start: u64 = start.parse().map_err(|_| bad())?;
        let count: u64 = count.parse().map_err(|_| bad())?;
        Some((start, count))
    };
    let section = parse_section(inner).ok_or_else(bad)?;
    Ok(FetchItem::Section {
        name: format!("BODY[{}]", section_text(&section)),
        section,
        partial,
        peek,
    })
}

/// `1.2.HEADER.FIELDS (From To)` and friends (§6.4.5, section-spec in §9).
fn parse_section(inner: &str) -> Option<Section> {
    let (spec, fields) = match inner.split_once(' ') {
        Some((s, f)) => (s, Some(f)),
        None => (inner, None),
    };
    let mut path = Vec::new();
    let mut words = spec.split('.').filter(|w| !w.is_empty()).peekable();
    while let Some(w) = words.peek() {
        if !w.bytes().all(|b| b.is_ascii_digit()) {
            break;
        }
        let n: u32 = w.parse().ok().filter(|&n| n > 0)?;
        path.push(n);
        if path.len() > MAX_DEPTH {
            return None;
        }
        words.next();
    }
    let rest = words.collect::<Vec<_>>().join(".").to_ascii_uppercase();
    let text = match (rest.as_str(), fields) {
        ("", None) => SectionText::Full,
        ("HEADER", None) => SectionText::Header,
        ("TEXT", None) => SectionText::Text,
        ("MIME", None) if !path.is_empty() => SectionText::Mime,
        ("HEADER.FIELDS" | "HEADER.FIELDS.NOT", Some(list)) => {
            let mut segs = [Segment::Line(list.as_bytes().to_vec())];
            let toks = tokenize(&mut segs).ok()?;
            let [Tok::List(names)] = &toks[..] else {
                return None;
            };
            let names: Vec<String> = names.iter().map(Tok::astring_text).collect::<Option<_>>()?;
            if names.is_empty() {
                return None;
            }
            SectionText::HeaderFields {
                not: rest.ends_with(".NOT"),
                names,
            }
        }
        _ => return None,
    };
    Some(Section { path, text })
}

/// A section as it is named in the answer.
fn section_text(s: &Section) -> String {
    let mut out: Vec<String> = s.path.iter().map(u32::to_string).collect();
    match &s.text {
        SectionText::Full => {}
        SectionText::Header => out.push("HEADER".into()),
        SectionText::Text => out.push("TEXT".into()),
        SectionText::Mime => out.push("MIME".into()),
        SectionText::HeaderFields { not, names } => {
            let names: Vec<String> = names.iter().map(|n| n.to_ascii_uppercase()).collect();
            out.push(format!(
                "HEADER.FIELDS{} ({})",
                if *not { ".NOT" } else { "" },
                names.join(" ")
            ));
        }
    }
    out.join(".")
}

/// One `* n FETCH (...)` line for a message.
fn fetch_response(
    seq: u32,
    v: &ViewMsg,
    msg: &StoredMessage,
    items: &[FetchItem],
    flags_changed: bool,
) -> Vec<u8> {
    let data = msg.data.as_slice();
    // The MIME tree is built only when an item needs it.
    let tree: OnceCell<MimeTree> = OnceCell::new();
    let tree = || tree.get_or_init(|| MimeTree::new(data));
    let mut out = format!("* {seq} FETCH (").into_bytes();
    for (k, item) in items.iter().enumerate() {
        if k > 0 {
            out.push(b' ');
        }
        match item {
            FetchItem::Flags => {
                out.extend_from_slice(format!("FLAGS ({})", flag_list(&v.flags)).as_bytes())
            }
            FetchItem::Uid => out.extend_from_slice(format!("UID {}", v.uid).as_bytes()),
            FetchItem::Size => {
                out.extend_from_slice(format!("RFC822.SIZE {}", data.len()).as_bytes())
            }
            FetchItem::InternalDate => out.extend_from_slice(
                format!("INTERNALDATE \"{}\"", internal_date(msg.received)).as_bytes(),
            ),
            FetchItem::Envelope => {
                out.extend_from_slice(b"ENVELOPE ");
                out.extend_from_slice(&tree().envelope);
            }
            FetchItem::Body => {
                out.extend_from_slice(b"BODY ");
                write_structure(&mut out, &tree().root, data, false);
            }
            FetchItem::BodyStructure => {
                out.extend_from_slice(b"BODYSTRUCTURE ");
                write_structure(&mut out, &tree().root, data, true);
            }
            FetchItem::Section {
                name,
                section,
                partial,
                ..
            } => {
                out.extend_from_slice(name.as_bytes());
                let bytes = if section.path.is_empty() && section.text == SectionText::Full {
                    Some(Cow::Borrowed(data))
                } else {
                    section_bytes(data, tree(), section)
                };
                match (bytes, partial) {
                    (None, _) => out.extend_from_slice(b" NIL"),
                    (Some(b), None) => {
                        out.push(b' ');
                        push_literal(&mut out, &b);
                    }
                    (Some(b), Some((start, count))) => {
                        // §6.4.5: the answer names only the origin octet.
                        out.extend_from_slice(format!("<{start}> ").as_bytes());
                        let from = (*start).min(b.len() as u64) as usize;
                        let to = start.saturating_add(*count).min(b.len() as u64) as usize;
                        push_literal(&mut out, &b[from..to]);
                    }
                }
            }
        }
    }
    if flags_changed && !items.contains(&FetchItem::Flags) {
        out.extend_from_slice(format!(" FLAGS ({})", flag_list(&v.flags)).as_bytes());
    }
    out.extend_from_slice(b")\r\n");
    out
}

// ---------------------------------------------------------------------------
// The MIME tree: sections, BODYSTRUCTURE, ENVELOPE (RFC 3501 §6.4.5, §7.4.2)
// ---------------------------------------------------------------------------

/// A message's MIME structure with byte ranges into the raw message.
struct MimeTree {
    root: MimeNode,
    /// The top-level ENVELOPE, already in IMAP syntax.
    envelope: Vec<u8>,
}

struct MimeNode {
    /// The part's MIME header, blank line included.
    header: Range<usize>,
    body: Range<usize>,
    /// Type and subtype, lower case.
    media: (String, String),
    params: Vec<(String, String)>,
    id: Option<String>,
    description: Option<String>,
    encoding: Option<String>,
    disposition: Option<(String, Vec<(String, String)>)>,
    kind: NodeKind,
}

enum NodeKind {
    Single,
    Multipart(Vec<MimeNode>),
    /// message/rfc822: the envelope and structure of the message inside.
    Message {
        envelope: Vec<u8>,
        root: Box<MimeNode>,
    },
}

impl MimeTree {
    fn new(data: &[u8]) -> MimeTree {
        match MessageParser::default().parse(data) {
            Some(m) if !m.parts.is_empty() => MimeTree {
                root: build_node(&m, 0, data.len(), 0),
                envelope: envelope(&m),
            },
            // Not even a header: one text part, an empty envelope.
            _ => {
                let split = header_end(data);
                MimeTree {
                    root: MimeNode {
                        header: 0..split,
                        body: split..data.len(),
                        media: ("text".into(), "plain".into()),
                        params: Vec::new(),
                        id: None,
                        description: None,
                        encoding: None,
                        disposition: None,
                        kind: NodeKind::Single,
                    },
                    envelope: b"(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)".to_vec(),
                }
            }
        }
    }
}

/// Turn part `id` of a parsed message (and its children) into a node.
/// mail-parser's offsets all point into the outermost raw message, also
/// for the parts of an attached message.
fn build_node(m: &Message, id: usize, len: usize, depth: usize) -> MimeNode {
    let Some(p) = m.parts.get(id) else {
        return MimeNode {
            header: 0..0,
            body: 0..0,
            media: ("text".into(), "plain".into()),
            params: Vec::new(),
            id: None,
            description: None,
            encoding: None,
            disposition: None,
            kind: NodeKind::Single,
        };
    };
    let range = |a: u32, b: u32| {
        let a = (a as usize).min(len);
        a..(b as usize).min(len).max(a)
    };
    let kind = match &p.body {
        PartType::Multipart(ids) if depth < MAX_DEPTH && !ids.is_empty() => NodeKind::Multipart(
            ids.iter()
                .map(|&c| build_node(m, c as usize, len, depth + 1))
                .collect(),
        ),
        PartType::Message(inner) if depth < MAX_DEPTH && !inner.parts.is_empty() => {
            NodeKind::Message {
                envelope: envelope(inner),
                root: Box::new(build_node(inner, 0, len, depth + 1)),
            }
        }
        _ => NodeKind::Single,
    };
    let ct = p.content_type();
    let media = match (ct, &kind) {
        (Some(c), _) => (
            c.ctype().to_ascii_lowercase(),
            c.subtype().unwrap_or("").to_ascii_lowercase(),
        ),
        (None, NodeKind::Multipart(_)) => ("multipart".into(), "mixed".into()),
        (None, NodeKind::Message { .. }) => ("message".into(), "rfc822".into()),
        (None, NodeKind::Single) => ("text".into(), "plain".into()),
    };
    let attrs = |c: &mail_parser::ContentType| -> Vec<(String, String)> {
        c.attributes()
            .unwrap_or(&[])
            .iter()
            .map(|a| (a.name.to_string(), a.value.to_string()))
            .collect()
    };
    MimeNode {
        header: range(p.offset_header, p.offset_body),
        body: range(p.offset_body, p.offset_end),
        params: ct.map(attrs).unwrap_or_default(),
        id: p.content_id().map(str::to_string),
        description: p.content_description().map(str::to_string),
        encoding: p.content_transfer_encoding().map(str::to_string),
        disposition: p
            .content_disposition()
            .map(|d| (d.ctype().to_string(), attrs(d))),
        media,
        kind,
    }
}

/// The bytes a section names, or None if there is no such part (§6.4.5).
///
/// Part numbers: the children of a multipart are 1, 2, ...; a message
/// that is not multipart has just part 1, its body; the numbers after a
/// message/rfc822 part go into the attached message.
fn section_bytes<'d>(data: &'d [u8], tree: &MimeTree, s: &Section) -> Option<Cow<'d, [u8]>> {
    let slice = |r: &Range<usize>| data.get(r.clone()).map(Cow::Borrowed);
    let mut node = &tree.root;
    // Is `node` the root of a message (the top one or an attached one)?
    let mut message_root = true;
    for &n in &s.path {
        if !message_root && let NodeKind::Message { root, .. } = &node.kind {
            node = root;
            message_root = true;
        }
        match &node.kind {
            NodeKind::Multipart(children) => node = children.get(n as usize - 1)?,
            _ if message_root && n == 1 => {}
            _ => return None,
        }
        message_root = false;
    }
    match &s.text {
        SectionText::Full => slice(&node.body),
        SectionText::Mime => slice(&node.header),
        text => {
            // HEADER, TEXT and HEADER.FIELDS are about a message: the top
            // one, or the one inside a message/rfc822 part.
            let message = if s.path.is_empty() {
                node
            } else {
                match &node.kind {
                    NodeKind::Message { root, .. } => root,
                    _ => return None,
                }
            };
            match text {
                SectionText::Header => slice(&message.header),
                SectionText::Text => slice(&message.body),
                SectionText::HeaderFields { not, names } => {
                    let header = data.get(message.header.clone())?;
                    let mut out = Vec::new();
                    for f in header_fields(header) {
                        let listed = names
                            .iter()
                            .any(|n| n.as_bytes().eq_ignore_ascii_case(f.name));
                        if listed != *not {
                            out.extend_from_slice(f.raw);
                            if !f.raw.ends_with(b"\n") {
                                out.extend_from_slice(b"\r\n");
                            }
                        }
                    }
                    // The blank line that ends a header is part of it.
                    out.extend_from_slice(b"\r\n");
                    Some(Cow::Owned(out))
                }
                _ => None,
            }
        }
    }
}

/// Write BODY (`ext` false) or BODYSTRUCTURE (`ext` true), §7.4.2.
fn write_structure(out: &mut Vec<u8>, n: &MimeNode, data: &[u8], ext: bool) {
    let write_params = |out: &mut Vec<u8>, params: &[(String, String)]| {
        if params.is_empty() {
            out.extend_from_slice(b"NIL");
            return;
        }
        out.push(b'(');
        for (k, (name, value)) in params.iter().enumerate() {
            if k > 0 {
                out.push(b' ');
            }
            push_string(out, name.as_bytes());
            out.push(b' ');
            push_string(out, value.as_bytes());
        }
        out.push(b')');
    };
    let write_disposition = |out: &mut Vec<u8>| match &n.disposition {
        Some((kind, params)) => {
            out.push(b'(');
            push_string(out, kind.as_bytes());
            out.push(b' ');
            write_params(out, params);
            out.push(b')');
        }
        None => out.extend_from_slice(b"NIL"),
    };
    out.push(b'(');
    if let NodeKind::Multipart(children) = &n.kind {
        // body-type-mpart: the parts one after the other, then the subtype.
        for c in children {
            write_structure(out, c, data, ext);
        }
        out.push(b' ');
        push_string(out, n.media.1.to_ascii_uppercase().as_bytes());
        if ext {
            out.push(b' ');
            write_params(out, &n.params);
            out.push(b' ');
            write_disposition(out);
            out.extend_from_slice(b" NIL");
        }
        out.push(b')');
        return;
    }
    let body = data.get(n.body.clone()).unwrap_or(&[]);
    push_string(out, n.media.0.to_ascii_uppercase().as_bytes());
    out.push(b' ');
    push_string(out, n.media.1.to_ascii_uppercase().as_bytes());
    out.push(b' ');
    let mut params = n.params.clone();
    if n.media.0 == "text"
        && !params
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("charset"))
    {
        params.push(("charset".into(), "us-ascii".into()));
    }
    write_params(out, &params);
    out.push(b' ');
    push_nstring(out, n.id.as_deref().map(str::as_bytes));
    out.push(b' ');
    push_nstring(out, n.description.as_deref().map(str::as_bytes));
    out.push(b' ');
    let encoding = n.encoding.as_deref().unwrap_or("7bit").to_ascii_uppercase();
    push_string(out, encoding.as_bytes());
    out.extend_from_slice(format!(" {}", body.len()).as_bytes());
    let lines = memchr::memchr_iter(b'\n', body).count();
    match &n.kind {
        NodeKind::Message { envelope, root } => {
            out.push(b' ');
            out.extend_from_slice(envelope);
            out.push(b' ');
            write_structure(out, root, data, ext);
            out.extend_from_slice(format!(" {lines}").as_bytes());
        }
        _ if n.media.0 == "text" => out.extend_from_slice(format!(" {lines}").as_bytes()),
        _ => {}
    }
    if ext {
        // MD5, disposition, language.
        out.extend_from_slice(b" NIL ");
        write_disposition(out);
        out.extend_from_slice(b" NIL");
    }
    out.push(b')');
}

/// ENVELOPE (§7.4.2): date, subject, from, sender, reply-to, to, cc, bcc,
/// in-reply-to, message-id. Strings are the raw header values; addresses
/// are (name adl mailbox host).
fn envelope(m: &Message) -> Vec<u8> {
    let raw = |name: &str| -> Option<Vec<u8>> {
        let h = m
            .parts
            .first()?
            .headers
            .iter()
            .find(|h| h.name.as_str().eq_ignore_ascii_case(name))?;
        let bytes = m
            .raw_message
            .get(h.offset_start as usize..h.offset_end as usize)?;
        Some(unfold(bytes))
    };
    let present = |a: Option<&Address>| match a {
        Some(Address::List(l)) => !l.is_empty(),
        Some(Address::Group(g)) => !g.is_empty(),
        None => false,
    };
    let mut out = b"(".to_vec();
    push_nstring(&mut out, raw("Date").as_deref());
    out.push(b' ');
    push_nstring(&mut out, raw("Subject").as_deref());
    out.push(b' ');
    push_addresses(&mut out, m.from());
    // §7.4.2: a missing Sender or Reply-To is the From.
    out.push(b' ');
    push_addresses(
        &mut out,
        if present(m.sender()) {
            m.sender()
        } else {
            m.from()
        },
    );
    out.push(b' ');
    push_addresses(
        &mut out,
        if present(m.reply_to()) {
            m.reply_to()
        } else {
            m.from()
        },
    );
    for a in [m.to(), m.cc(), m.bcc()] {
        out.push(b' ');
        push_addresses(&mut out, a);
    }
    out.push(b' ');
    push_nstring(&mut out, raw("In-Reply-To").as_deref());
    out.push(b' ');
    push_nstring(&mut out, raw("Message-ID").as_deref());
    out.push(b')');
    out
}

/// An address list; groups are written as RFC 3501 §7.4.2 says: a start
/// marker `(NIL NIL "name" NIL)`, the members, an end marker
/// `(NIL NIL NIL NIL)`.
fn push_addresses(out: &mut Vec<u8>, a: Option<&Address>) {
    let one = |out: &mut Vec<u8>, a: &Addr| {
        let address = a.address.as_deref().unwrap_or("");
        let (mailbox, host) = address.rsplit_once('@').unwrap_or((address, ""));
        out.push(b'(');
        push_nstring(out, a.name.as_deref().map(str::as_bytes));
        out.extend_from_slice(b" NIL ");
        push_string(out, mailbox.as_bytes());
        out.push(b' ');
        push_string(out, host.as_bytes());
        out.push(b')');
    };
    match a {
        Some(Address::List(list)) if !list.is_empty() => {
            out.push(b'(');
            for a in list {
                one(out, a);
            }
            out.push(b')');
        }
        Some(Address::Group(groups)) if !groups.is_empty() => {
            out.push(b'(');
            for g in groups {
                match &g.name {
                    Some(name) => {
                        out.extend_from_slice(b"(NIL NIL ");
                        push_string(out, name.as_bytes());
                        out.extend_from_slice(b" NIL)");
                        for a in &g.addresses {
                            one(out, a);
                        }
                        out.extend_from_slice(b"(NIL NIL NIL NIL)");
                    }
                    None => g.addresses.iter().for_each(|a| one(out, a)),
                }
            }
            out.push(b')');
        }
        _ => out.extend_from_slice(b"NIL"),
    }
}

// ---------------------------------------------------------------------------
// Writing strings (RFC 3501 §4.3)
// ---------------------------------------------------------------------------

/// A string: quoted when it is short, printable ASCII; otherwise a
/// literal (quoted strings cannot hold CR, LF or 8-bit bytes).
fn push_string(out: &mut Vec<u8>, s: &[u8]) {
    if s.len() <= 1024 && s.iter().all(|&b| (0x20..0x7f).contains(&b)) {
        out.push(b'"');
        for &b in s {
            if b == b'"' || b == b'\\' {
                out.push(b'\\');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        push_literal(out, s);
    }
}

fn push_nstring(out: &mut Vec<u8>, s: Option<&[u8]>) {
    match s {
        Some(s) => push_string(out, s),
        None => out.extend_from_slice(b"NIL"),
    }
}

/// `{n}` CRLF and the n bytes.
fn push_literal(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(format!("{{{}}}\r\n", s.len()).as_bytes());
    out.extend_from_slice(s);
}

// ---------------------------------------------------------------------------
// LIST patterns (RFC 3501 §6.3.8)
// ---------------------------------------------------------------------------

/// Does `name` match `pattern`, where `*` matches any run of characters and
/// `%` any run without the delimiter? Dynamic programming over the
/// pattern, so a hostile pattern costs O(pattern × name), never more.
fn wildcard_match(pattern: &[u8], name: &[u8]) -> bool {
    // can[j]: the pattern so far matches name[..j].
    let mut can = vec![false; name.len() + 1];
    can[0] = true;
    for &p in pattern {
        let mut next = vec![false; name.len() + 1];
        match p {
            b'*' => {
                let mut any = false;
                for j in 0..=name.len() {
                    any |= can[j];
                    next[j] = any;
                }
            }
            b'%' => {
                let mut any = false;
                for j in 0..=name.len() {
                    if j > 0 && name[j - 1] == DELIMITER as u8 {
                        any = false;
                    }
                    any |= can[j];
                    next[j] = any;
                }
            }
            c => {
                for j in 1..=name.len() {
                    next[j] = can[j - 1] && name[j - 1] == c;
                }
            }
        }
        can = next;
    }
    can[name.len()]
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::host::{Accounts, AuthThrottle, Policy};
    use crate::world::recorder::Recorder;
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    use tokio::net::{TcpListener, TcpStream};

    const MSG1: &[u8] = b"From: Alice <alice@crepes.fr>\r\n\
To: Bob <bob@hamburger.edu>\r\n\
Subject: Hello Bob\r\n\
Date: Mon, 1 Dec 2025 10:00:00 +0000\r\n\
Message-ID: <1@crepes.fr>\r\n\
\r\n\
Hi Bob,\r\n\
see you at the lecture.\r\n";

    const MSG2: &[u8] = b"From: Carol <carol@example.org>\r\n\
To: bob@hamburger.edu\r\n\
Subject: Slides\r\n\
Date: Tue, 2 Dec 2025 11:00:00 +0000\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"XYZ\"\r\n\
\r\n\
--XYZ\r\n\
Content-Type: text/plain; charset=us-ascii\r\n\
\r\n\
The slides are attached.\r\n\
--XYZ\r\n\
Content-Type: application/pdf; name=\"slides.pdf\"\r\n\
Content-Disposition: attachment; filename=\"slides.pdf\"\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
JVBERi0xLjQKJcfsj6IK\r\n\
--XYZ--\r\n";

    /// 2025-12-01 10:00:00 UTC and 2025-12-02 11:00:00 UTC.
    const T1: i64 = 1_764_583_200;
    const T2: i64 = 1_764_673_200;

    fn host(plaintext_auth: bool) -> Arc<Host> {
        let store = Store::in_memory();
        store.ensure_user("bob").unwrap();
        let none = BTreeSet::new();
        store.deliver("bob", INBOX, MSG1, &none, T1).unwrap();
        store.deliver("bob", INBOX, MSG2, &none, T2).unwrap();
        Arc::new(Host {
            name: "hamburger.edu".into(),
            domains: vec!["hamburger.edu".into()],
            accounts: Accounts::new(&[("bob", "hungry")]),
            store,
            tls: None,
            policy: Policy {
                plaintext_auth,
                ..Default::default()
            },
            recorder: Recorder::new(),
            throttle: AuthThrottle::default(),
            log_sessions: false,
        })
    }

    /// Start a server for `host` that accepts any number of connections.
    async fn serve(host: Arc<Host>) -> std::net::SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let host = host.clone();
                let conn = LineConn::server(socket, &host.recorder).unwrap();
                tokio::spawn(async move {
                    let _ = run_session(conn, host).await;
                });
            }
        });
        addr
    }

    /// A raw test client that reads whole responses, literals included.
    struct Client {
        r: BufReader<TcpStream>,
    }

    impl Client {
        async fn connect(addr: std::net::SocketAddr) -> (Client, String) {
            let s = TcpStream::connect(addr).await.unwrap();
            let mut c = Client {
                r: BufReader::new(s),
            };
            let greeting = c.response_line().await;
            (c, String::from_utf8(greeting).unwrap())
        }

        /// One response line; a `{n}` at its end pulls in n bytes and the
        /// rest of the line.
        async fn response_line(&mut self) -> Vec<u8> {
            let mut out = Vec::new();
            loop {
                let mut line = Vec::new();
                let n = tokio::time::timeout(
                    Duration::from_secs(10),
                    self.r.read_until(b'\n', &mut line),
                )
                .await
                .expect("server answered in time")
                .unwrap();
                assert!(
                    n > 0,
                    "connection closed; got so far {:?}",
                    String::from_utf8_lossy(&out)
                );
                out.extend_from_slice(&line);
                match literal_marker(line.strip_suffix(b"\r\n").unwrap_or(&line)) {
                    Some(LiteralMarker { size: Some(n), .. }) => {
                        let mut buf = vec![0; n];
                        self.r.read_exact(&mut buf).await.unwrap();
                        out.extend_from_slice(&buf);
                    }
                    _ => return out,
                }
            }
        }

        async fn send(&mut self, bytes: &[u8]) {
            self.r.get_mut().write_all(bytes).await.unwrap();
        }

        /// Everything up to and including the tagged line.
        async fn until_tagged(&mut self, tag: &str) -> Vec<u8> {
            let mut out = Vec::new();
            loop {
                let l = self.response_line().await;
                out.extend_from_slice(&l);
                if l.starts_with(format!("{tag} ").as_bytes()) {
                    return out;
                }
            }
        }

        /// Send `tag command` and return the whole answer as text.
        async fn cmd(&mut self, line: &str) -> String {
            let tag = line.split(' ').next().unwrap().to_string();
            self.send(format!("{line}\r\n").as_bytes()).await;
            String::from_utf8_lossy(&self.until_tagged(&tag).await).into_owned()
        }

        async fn cmd_bytes(&mut self, line: &str) -> Vec<u8> {
            let tag = line.split(' ').next().unwrap().to_string();
            self.send(format!("{line}\r\n").as_bytes()).await;
            self.until_tagged(&tag).await
        }
    }

    async fn logged_in(host: Arc<Host>) -> Client {
        let addr = serve(host).await;
        let (mut c, _) = Client::connect(addr).await;
        assert_eq!(
            c.cmd("l LOGIN bob hungry").await,
            "l OK LOGIN completed\r\n"
        );
        c
    }

    async fn selected(host: Arc<Host>) -> Client {
        let mut c = logged_in(host).await;
        let r = c.cmd("s SELECT INBOX").await;
        assert!(r.ends_with("s OK [READ-WRITE] SELECT completed\r\n"), "{r}");
        c
    }

    const CAPS: &str = "IMAP4rev1 AUTH=PLAIN SASL-IR IDLE UIDPLUS UNSELECT CHILDREN LITERAL+";

    #[tokio::test]
    async fn greeting_and_capability() {
        let addr = serve(host(true)).await;
        let (mut c, greeting) = Client::connect(addr).await;
        assert_eq!(
            greeting,
            format!("* OK [CAPABILITY {CAPS}] hamburger.edu IMAP4rev1 mailscope ready\r\n")
        );
        assert_eq!(
            c.cmd("a1 CAPABILITY").await,
            format!("* CAPABILITY {CAPS}\r\na1 OK CAPABILITY completed\r\n")
        );
        assert_eq!(c.cmd("a2 NOOP").await, "a2 OK NOOP completed\r\n");
        assert_eq!(c.cmd("a3 FROB").await, "a3 BAD unknown command\r\n");
        assert_eq!(
            c.cmd("a4 SELECT INBOX").await,
            "a4 BAD please log in first\r\n"
        );
        assert_eq!(
            c.cmd("a5 STARTTLS").await,
            "a5 BAD TLS is not available here\r\n"
        );
        assert_eq!(
            c.cmd("a6 LOGOUT").await,
            "* BYE hamburger.edu IMAP4rev1 server logging out\r\na6 OK LOGOUT completed\r\n"
        );
        let mut rest = Vec::new();
        c.r.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty(), "the server closes after LOGOUT");
    }

    #[tokio::test]
    async fn login_ok_and_bad_password() {
        let addr = serve(host(true)).await;
        let (mut c, _) = Client::connect(addr).await;
        let started = Instant::now();
        assert_eq!(
            c.cmd("a1 LOGIN bob wrong").await,
            "a1 NO [AUTHENTICATIONFAILED] invalid user name or password\r\n"
        );
        assert!(
            started.elapsed() >= Duration::from_millis(50),
            "failures are slowed down: {:?}",
            started.elapsed()
        );
        assert_eq!(
            c.cmd("a2 LOGIN nobody hungry").await,
            "a2 NO [AUTHENTICATIONFAILED] invalid user name or password\r\n"
        );
        // Quoted strings work as well as atoms.
        assert_eq!(
            c.cmd("a3 LOGIN \"bob\" \"hungry\"").await,
            "a3 OK LOGIN completed\r\n"
        );
        assert_eq!(
            c.cmd("a4 LOGIN bob hungry").await,
            "a4 BAD already logged in\r\n"
        );
        assert_eq!(
            c.cmd("a5 FETCH 1 FLAGS").await,
            "a5 BAD no mailbox selected\r\n"
        );
    }

    #[tokio::test]
    async fn login_with_a_literal_password() {
        let addr = serve(host(true)).await;
        let (mut c, _) = Client::connect(addr).await;
        c.send(b"a1 LOGIN bob {6}\r\n").await;
        assert_eq!(c.response_line().await, b"+ Ready for literal data\r\n");
        c.send(b"hungry\r\n").await;
        assert_eq!(c.until_tagged("a1").await, b"a1 OK LOGIN completed\r\n");
        // LITERAL+: no continuation request.
        let addr2 = serve(host(true)).await;
        let (mut c, _) = Client::connect(addr2).await;
        assert_eq!(
            c.cmd("b1 LOGIN {3+}\r\nbob {6+}\r\nhungry").await,
            "b1 OK LOGIN completed\r\n"
        );
    }

    #[tokio::test]
    async fn login_refused_before_tls() {
        let addr = serve(host(false)).await;
        let (mut c, greeting) = Client::connect(addr).await;
        assert_eq!(
            greeting,
            "* OK [CAPABILITY IMAP4rev1 LOGINDISABLED SASL-IR IDLE UIDPLUS UNSELECT CHILDREN LITERAL+] \
             hamburger.edu IMAP4rev1 mailscope ready\r\n"
        );
        assert_eq!(
            c.cmd("a1 LOGIN bob hungry").await,
            "a1 NO [PRIVACYREQUIRED] LOGIN needs TLS first (STARTTLS)\r\n"
        );
        assert_eq!(
            c.cmd("a2 AUTHENTICATE PLAIN AGJvYgBodW5ncnk=").await,
            "a2 NO [PRIVACYREQUIRED] AUTHENTICATE PLAIN needs TLS first (STARTTLS)\r\n"
        );
    }

    #[tokio::test]
    async fn starttls_then_login() {
        use crate::world::tls::Pki;
        let pki = Pki::new().unwrap();
        let plain = host(false);
        let h = Arc::new(Host {
            name: "hamburger.edu".into(),
            domains: vec!["hamburger.edu".into()],
            accounts: Accounts::new(&[("bob", "hungry")]),
            store: plain.store.clone(),
            tls: Some(tokio_rustls::TlsAcceptor::from(
                pki.server_config("hamburger.edu").unwrap(),
            )),
            policy: Policy::default(),
            recorder: Recorder::new(),
            throttle: AuthThrottle::default(),
            log_sessions: false,
        });
        let addr = serve(h).await;
        let mut c = LineConn::client(TcpStream::connect(addr).await.unwrap());
        let line = async |c: &mut LineConn| match c.read_line(100_000).await.unwrap() {
            Some(Line::Text(t)) => String::from_utf8(t).unwrap(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            line(&mut c).await,
            "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED SASL-IR IDLE UIDPLUS UNSELECT \
             CHILDREN LITERAL+] hamburger.edu IMAP4rev1 mailscope ready"
        );
        c.send_line("t1 STARTTLS").await.unwrap();
        assert_eq!(line(&mut c).await, "t1 OK Begin TLS negotiation now");
        c.connect_tls(pki.client_config().unwrap(), "hamburger.edu")
            .await
            .unwrap();
        c.send_line("t2 CAPABILITY").await.unwrap();
        assert_eq!(line(&mut c).await, format!("* CAPABILITY {CAPS}"));
        assert_eq!(line(&mut c).await, "t2 OK CAPABILITY completed");
        c.send_line("t3 STARTTLS").await.unwrap();
        assert_eq!(line(&mut c).await, "t3 BAD TLS is already active");
        c.send_line("t4 LOGIN bob hungry").await.unwrap();
        assert_eq!(line(&mut c).await, "t4 OK LOGIN completed");
    }

    #[tokio::test]
    async fn authenticate_plain() {
        let addr = serve(host(true)).await;
        let (mut c, _) = Client::connect(addr).await;
        // Cancelled with "*".
        c.send(b"a1 AUTHENTICATE PLAIN\r\n").await;
        assert_eq!(c.response_line().await, b"+ \r\n");
        c.send(b"*\r\n").await;
        assert_eq!(
            c.until_tagged("a1").await,
            b"a1 BAD AUTHENTICATE cancelled\r\n"
        );
        // Continuation, wrong password.
        c.send(b"a2 AUTHENTICATE PLAIN\r\n").await;
        assert_eq!(c.response_line().await, b"+ \r\n");
        c.send(format!("{}\r\n", crate::world::host::b64(b"\0bob\0nope")).as_bytes())
            .await;
        assert_eq!(
            c.until_tagged("a2").await,
            b"a2 NO [AUTHENTICATIONFAILED] invalid user name or password\r\n"
        );
        // SASL-IR: the response on the command line.
        assert_eq!(
            c.cmd("a3 AUTHENTICATE PLAIN AGJvYgBodW5ncnk=").await,
            "a3 OK AUTHENTICATE completed\r\n"
        );
    }

    #[tokio::test]
    async fn throttle_locks_out_guessers() {
        let h = host(true);
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        for _ in 0..AuthThrottle::LOCKOUT_AFTER {
            h.throttle.failed(ip);
        }
        let addr = serve(h).await;
        let (mut c, _) = Client::connect(addr).await;
        assert_eq!(
            c.cmd("a1 LOGIN bob hungry").await,
            "a1 NO [UNAVAILABLE] too many failures, try later\r\n"
        );
    }

    #[tokio::test]
    async fn select_and_examine() {
        let h = host(true);
        let uv = h.store.snapshot("bob", INBOX).unwrap().uidvalidity;
        let mut c = logged_in(h).await;
        assert_eq!(
            c.cmd("a1 SELECT inbox").await,
            format!(
                "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n\
                 * OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted\r\n\
                 * 2 EXISTS\r\n\
                 * 0 RECENT\r\n\
                 * OK [UNSEEN 1] First unseen message\r\n\
                 * OK [UIDVALIDITY {uv}] UIDs valid\r\n\
                 * OK [UIDNEXT 3] Predicted next UID\r\n\
                 a1 OK [READ-WRITE] SELECT completed\r\n"
            )
        );
        let r = c.cmd("a2 EXAMINE INBOX").await;
        assert!(
            r.contains("* OK [PERMANENTFLAGS ()] Read-only mailbox\r\n"),
            "{r}"
        );
        assert!(
            r.ends_with("a2 OK [READ-ONLY] EXAMINE completed\r\n"),
            "{r}"
        );
        assert_eq!(
            c.cmd("a3 STORE 1 +FLAGS (\\Deleted)").await,
            "a3 NO [READ-ONLY] mailbox is read-only\r\n"
        );
        assert_eq!(
            c.cmd("a4 EXPUNGE").await,
            "a4 NO [READ-ONLY] mailbox is read-only\r\n"
        );
        // Reading a body in EXAMINE does not set \Seen.
        let r = c.cmd("a5 FETCH 1 (BODY[TEXT] FLAGS)").await;
        assert!(
            r.ends_with(" FLAGS ())\r\na5 OK FETCH completed\r\n"),
            "{r}"
        );
        assert_eq!(
            c.cmd("a6 SELECT Nowhere").await,
            "a6 NO [NONEXISTENT] no such mailbox\r\n"
        );
        assert_eq!(
            c.cmd("a7 FETCH 1 FLAGS").await,
            "a7 BAD no mailbox selected\r\n"
        );
    }

    #[tokio::test]
    async fn fetch_items_and_sections() {
        let mut c = selected(host(true)).await;
        assert_eq!(
            c.cmd("a1 FETCH 1 (FLAGS UID RFC822.SIZE)").await,
            format!(
                "* 1 FETCH (FLAGS () UID 1 RFC822.SIZE {})\r\na1 OK FETCH completed\r\n",
                MSG1.len()
            )
        );
        // The whole message, byte for byte.
        let mut want = format!("* 2 FETCH (BODY[] {{{}}}\r\n", MSG2.len()).into_bytes();
        want.extend_from_slice(MSG2);
        want.extend_from_slice(b")\r\na2 OK FETCH completed\r\n");
        assert_eq!(c.cmd_bytes("a2 FETCH 2 BODY.PEEK[]").await, want);
        assert_eq!(
            c.cmd("a3 FETCH 1 BODY.PEEK[HEADER.FIELDS (SUBJECT)]").await,
            "* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {22}\r\nSubject: Hello Bob\r\n\r\n)\r\n\
             a3 OK FETCH completed\r\n"
        );
        assert_eq!(
            c.cmd("a4 FETCH 1 BODY.PEEK[HEADER.FIELDS.NOT (FROM TO DATE MESSAGE-ID)]")
                .await,
            "* 1 FETCH (BODY[HEADER.FIELDS.NOT (FROM TO DATE MESSAGE-ID)] {22}\r\n\
             Subject: Hello Bob\r\n\r\n)\r\na4 OK FETCH completed\r\n"
        );
        assert_eq!(
            c.cmd("a5 FETCH 1 BODY.PEEK[]<6.5>").await,
            "* 1 FETCH (BODY[]<6> {5}\r\nAlice)\r\na5 OK FETCH completed\r\n"
        );
        assert_eq!(
            c.cmd("a6 FETCH 2 BODY.PEEK[2]").await,
            "* 2 FETCH (BODY[2] {20}\r\nJVBERi0xLjQKJcfsj6IK)\r\na6 OK FETCH completed\r\n"
        );
        let mime = "Content-Type: application/pdf; name=\"slides.pdf\"\r\n\
                    Content-Disposition: attachment; filename=\"slides.pdf\"\r\n\
                    Content-Transfer-Encoding: base64\r\n\r\n";
        assert_eq!(
            c.cmd("a7 FETCH 2 BODY.PEEK[2.MIME]").await,
            format!(
                "* 2 FETCH (BODY[2.MIME] {{{}}}\r\n{mime})\r\na7 OK FETCH completed\r\n",
                mime.len()
            )
        );
        assert_eq!(
            c.cmd("a8 FETCH 2 BODY.PEEK[1]").await,
            "* 2 FETCH (BODY[1] {24}\r\nThe slides are attached.)\r\na8 OK FETCH completed\r\n"
        );
        // A single-part message: part 1 is its body.
        assert_eq!(
            c.cmd("a9 FETCH 1 BODY.PEEK[1]").await,
            "* 1 FETCH (BODY[1] {34}\r\nHi Bob,\r\nsee you at the lecture.\r\n)\r\na9 OK FETCH completed\r\n"
        );
        assert_eq!(
            c.cmd("b1 FETCH 2 BODY.PEEK[3]").await,
            "* 2 FETCH (BODY[3] NIL)\r\nb1 OK FETCH completed\r\n"
        );
        assert_eq!(
            c.cmd("b2 FETCH 1 (INTERNALDATE ENVELOPE)").await,
            "* 1 FETCH (INTERNALDATE \" 1-Dec-2025 10:00:00 +0000\" ENVELOPE (\
             \"Mon, 1 Dec 2025 10:00:00 +0000\" \"Hello Bob\" ((\"Alice\" NIL \"alice\" \"crepes.fr\")) \
             ((\"Alice\" NIL \"alice\" \"crepes.fr\")) ((\"Alice\" NIL \"alice\" \"crepes.fr\")) \
             ((\"Bob\" NIL \"bob\" \"hamburger.edu\")) NIL NIL NIL \"<1@crepes.fr>\"))\r\n\
             b2 OK FETCH completed\r\n"
        );
        assert_eq!(
            c.cmd("b3 FETCH 2 BODYSTRUCTURE").await,
            "* 2 FETCH (BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 24 0 NIL NIL NIL)\
             (\"APPLICATION\" \"PDF\" (\"name\" \"slides.pdf\") NIL NIL \"BASE64\" 20 NIL \
             (\"attachment\" (\"filename\" \"slides.pdf\")) NIL) \"MIXED\" (\"boundary\" \"XYZ\") NIL NIL))\r\n\
             b3 OK FETCH completed\r\n"
        );
        assert_eq!(
            c.cmd("b4 FETCH 1 BODY").await,
            "* 1 FETCH (BODY (\"TEXT\" \"PLAIN\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 34 2))\r\n\
             b4 OK FETCH completed\r\n"
        );
        assert_eq!(
            c.cmd("b5 FETCH 1 FAST").await,
            format!(
                "* 1 FETCH (FLAGS () INTERNALDATE \" 1-Dec-2025 10:00:00 +0000\" RFC822.SIZE {})\r\n\
                 b5 OK FETCH completed\r\n",
                MSG1.len()
            )
        );
        // Without .PEEK the message becomes \Seen, and says so.
        assert_eq!(
            c.cmd("b6 FETCH 1 BODY[TEXT]<0.6>").await,
            "* 1 FETCH (BODY[TEXT]<0> {6}\r\nHi Bob FLAGS (\\Seen))\r\nb6 OK FETCH completed\r\n"
        );
        assert_eq!(
            c.cmd("b7 FETCH 1:* FLAGS").await,
            "* 1 FETCH (FLAGS (\\Seen))\r\n* 2 FETCH (FLAGS ())\r\nb7 OK FETCH completed\r\n"
        );
        assert_eq!(
            c.cmd("b8 FETCH 3 FLAGS").await,
            "b8 BAD invalid message sequence number\r\n"
        );
        assert_eq!(
            c.cmd("b9 FETCH 1 (FLAGS BOGUS)").await,
            "b9 BAD invalid FETCH item BOGUS\r\n"
        );
        assert_eq!(
            c.cmd("c1 UID FETCH 2 (FLAGS)").await,
            "* 2 FETCH (UID 2 FLAGS ())\r\nc1 OK FETCH completed\r\n"
        );
        assert_eq!(
            c.cmd("c2 UID FETCH 5:* FLAGS").await,
            "* 2 FETCH (UID 2 FLAGS ())\r\nc2 OK FETCH completed\r\n",
            "n:* includes the last message even when n is larger (§6.4.8)"
        );
        assert_eq!(
            c.cmd("c3 UID FETCH 7 FLAGS").await,
            "c3 OK FETCH completed\r\n"
        );
        let r = c.cmd("c4 FETCH 2 RFC822.HEADER").await;
        assert!(r.starts_with("* 2 FETCH (RFC822.HEADER {"), "{r}");
        assert!(!r.contains("\\Seen"), "{r}");
    }

    #[tokio::test]
    async fn search_keys() {
        let mut c = selected(host(true)).await;
        c.cmd("a0 STORE 1 +FLAGS.SILENT (\\Seen)").await;
        let cases = [
            ("SEARCH UNSEEN", "2"),
            ("SEARCH SEEN", "1"),
            ("SEARCH ALL", "1 2"),
            ("SEARCH FROM alice", "1"),
            ("SEARCH FROM \"CAROL\"", "2"),
            ("SEARCH SUBJECT slides", "2"),
            ("SEARCH SUBJECT {5}\r\nhello", "1"),
            ("SEARCH OR FROM alice SUBJECT slides", "1 2"),
            ("SEARCH NOT FROM alice", "2"),
            ("SEARCH (NOT SEEN) SUBJECT slides", "2"),
            ("SEARCH TO bob@hamburger.edu", "1 2"),
            ("SEARCH BODY lecture", "1"),
            ("SEARCH TEXT ATTACHED", "2"),
            ("SEARCH HEADER Message-ID crepes", "1"),
            ("SEARCH HEADER MIME-Version \"\"", "2"),
            ("SEARCH LARGER 300", "2"),
            ("SEARCH SMALLER 300", "1"),
            ("SEARCH ON 1-Dec-2025", "1"),
            ("SEARCH SINCE 2-Dec-2025", "2"),
            ("SEARCH BEFORE 2-Dec-2025", "1"),
            ("SEARCH SENTON 2-Dec-2025", "2"),
            ("SEARCH UID 2", "2"),
            ("SEARCH 2:*", "2"),
            ("SEARCH CHARSET UTF-8 NEW", ""),
            ("SEARCH OLD", "1 2"),
            ("UID SEARCH NOT UID 1", "2"),
            ("SEARCH KEYWORD $Important", ""),
            ("SEARCH UNKEYWORD \\seen", "2"),
        ];
        for (i, (cmd, want)) in cases.iter().enumerate() {
            let tag = format!("s{i}");
            let sep = if want.is_empty() { "" } else { " " };
            let line = if let Some((head, lit)) = cmd.split_once("\r\n") {
                c.send(format!("{tag} {head}\r\n").as_bytes()).await;
                assert_eq!(c.response_line().await, b"+ Ready for literal data\r\n");
                format!("{lit}\r\n")
            } else {
                format!("{tag} {cmd}\r\n")
            };
            c.send(line.as_bytes()).await;
            let got = String::from_utf8(c.until_tagged(&tag).await).unwrap();
            assert_eq!(
                got,
                format!("* SEARCH{sep}{want}\r\n{tag} OK SEARCH completed\r\n"),
                "{cmd}"
            );
        }
        assert_eq!(
            c.cmd("x1 SEARCH CHARSET KOI8-R ALL").await,
            "x1 NO [BADCHARSET (UTF-8 US-ASCII)] unsupported charset\r\n"
        );
        assert_eq!(
            c.cmd("x2 SEARCH FROBNICATE").await,
            "x2 BAD unknown search key FROBNICATE\r\n"
        );
        assert_eq!(
            c.cmd("x3 SEARCH").await,
            "x3 BAD SEARCH needs a search key\r\n"
        );
    }

    #[tokio::test]
    async fn store_and_expunge() {
        let h = host(true);
        let mut c = selected(h.clone()).await;
        assert_eq!(
            c.cmd("a1 STORE 1 +FLAGS (\\Deleted)").await,
            "* 1 FETCH (FLAGS (\\Deleted))\r\na1 OK STORE completed\r\n"
        );
        assert_eq!(
            c.cmd("a2 STORE 1:2 +FLAGS (\\Deleted \\seen $Later)").await,
            "* 1 FETCH (FLAGS ($Later \\Deleted \\Seen))\r\n\
             * 2 FETCH (FLAGS ($Later \\Deleted \\Seen))\r\na2 OK STORE completed\r\n"
        );
        assert_eq!(
            c.cmd("a3 STORE 2 -FLAGS.SILENT ($Later)").await,
            "a3 OK STORE completed\r\n"
        );
        assert_eq!(
            c.cmd("a4 UID STORE 2 FLAGS (\\Deleted)").await,
            "* 2 FETCH (UID 2 FLAGS (\\Deleted))\r\na4 OK STORE completed\r\n"
        );
        assert_eq!(
            c.cmd("a5 STORE 1 +FLAGS (\\Bogus)").await,
            "a5 BAD invalid flag \\Bogus\r\n"
        );
        // The flags are in the store.
        let snap = h.store.snapshot("bob", INBOX).unwrap();
        assert!(snap.messages[0].flags.contains("\\Deleted"));
        assert_eq!(
            c.cmd("a6 EXPUNGE").await,
            "* 1 EXPUNGE\r\n* 1 EXPUNGE\r\na6 OK EXPUNGE completed\r\n"
        );
        assert!(h.store.snapshot("bob", INBOX).unwrap().messages.is_empty());
        assert_eq!(
            c.cmd("a7 SEARCH ALL").await,
            "* SEARCH\r\na7 OK SEARCH completed\r\n"
        );
    }

    #[tokio::test]
    async fn uid_expunge_and_close() {
        let h = host(true);
        let mut c = selected(h.clone()).await;
        c.cmd("a1 STORE 1:2 +FLAGS.SILENT (\\Deleted)").await;
        assert_eq!(
            c.cmd("a2 UID EXPUNGE 2").await,
            "* 2 EXPUNGE\r\na2 OK EXPUNGE completed\r\n"
        );
        assert_eq!(c.cmd("a3 CLOSE").await, "a3 OK CLOSE completed\r\n");
        assert!(h.store.snapshot("bob", INBOX).unwrap().messages.is_empty());
        assert_eq!(c.cmd("a4 UNSELECT").await, "a4 BAD no mailbox selected\r\n");
    }

    #[tokio::test]
    async fn folders_copy_status_append() {
        let h = host(true);
        let mut c = selected(h.clone()).await;
        assert_eq!(
            c.cmd("a1 CREATE Work/2026").await,
            "a1 OK CREATE completed\r\n"
        );
        assert_eq!(
            c.cmd("a2 CREATE Work/2026").await,
            "a2 NO [ALREADYEXISTS] mailbox already exists\r\n"
        );
        assert_eq!(
            c.cmd("a3 LIST \"\" *").await,
            "* LIST (\\HasNoChildren) \"/\" \"INBOX\"\r\n\
             * LIST (\\Noselect \\HasChildren) \"/\" \"Work\"\r\n\
             * LIST (\\HasNoChildren) \"/\" \"Work/2026\"\r\n\
             a3 OK LIST completed\r\n"
        );
        assert_eq!(
            c.cmd("a4 LIST \"\" %").await,
            "* LIST (\\HasNoChildren) \"/\" \"INBOX\"\r\n\
             * LIST (\\Noselect \\HasChildren) \"/\" \"Work\"\r\n\
             a4 OK LIST completed\r\n"
        );
        assert_eq!(
            c.cmd("a5 LIST \"\" \"\"").await,
            "* LIST (\\Noselect) \"/\" \"\"\r\na5 OK LIST completed\r\n"
        );
        assert_eq!(
            c.cmd("a6 LSUB Work/ %").await,
            "* LSUB (\\HasNoChildren) \"/\" \"Work/2026\"\r\na6 OK LSUB completed\r\n"
        );
        let uv = h.store.snapshot("bob", "Work/2026").unwrap().uidvalidity;
        assert_eq!(
            c.cmd("a7 COPY 1:2 Work/2026").await,
            format!("a7 OK [COPYUID {uv} 1:2 1:2] COPY completed\r\n")
        );
        assert_eq!(
            c.cmd("a8 UID COPY 2 \"Work/2026\"").await,
            format!("a8 OK [COPYUID {uv} 2 3] COPY completed\r\n")
        );
        assert_eq!(
            c.cmd("a9 COPY 1 Nowhere").await,
            "a9 NO [TRYCREATE] no such mailbox\r\n"
        );
        assert_eq!(
            c.cmd("b1 STATUS Work/2026 (MESSAGES UIDNEXT UIDVALIDITY UNSEEN RECENT)")
                .await,
            format!(
                "* STATUS \"Work/2026\" (MESSAGES 3 UIDNEXT 4 UIDVALIDITY {uv} UNSEEN 3 RECENT 0)\r\n\
                 b1 OK STATUS completed\r\n"
            )
        );
        // APPEND with a literal, to the selected folder: EXISTS comes too.
        let msg = "Subject: appended\r\n\r\nhello\r\n";
        c.send(
            format!(
                "b2 APPEND INBOX (\\Seen) \"17-Jul-1996 02:44:25 -0700\" {{{}}}\r\n",
                msg.len()
            )
            .as_bytes(),
        )
        .await;
        assert_eq!(c.response_line().await, b"+ Ready for literal data\r\n");
        c.send(format!("{msg}\r\n").as_bytes()).await;
        let inbox_uv = h.store.snapshot("bob", INBOX).unwrap().uidvalidity;
        assert_eq!(
            String::from_utf8(c.until_tagged("b2").await).unwrap(),
            format!("* 3 EXISTS\r\nb2 OK [APPENDUID {inbox_uv} 3] APPEND completed\r\n")
        );
        let snap = h.store.snapshot("bob", INBOX).unwrap();
        assert_eq!(snap.messages[2].data.as_slice(), msg.as_bytes());
        assert_eq!(snap.messages[2].received, 837_596_665);
        assert_eq!(
            c.cmd("b3 FETCH 3 (FLAGS INTERNALDATE)").await,
            "* 3 FETCH (FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 09:44:25 +0000\")\r\nb3 OK FETCH completed\r\n"
        );
        assert_eq!(
            c.cmd("b4 APPEND Nowhere {1+}\r\nx").await,
            "b4 NO [TRYCREATE] no such mailbox\r\n"
        );
        // A hostile name is just a name.
        assert_eq!(
            c.cmd("b5 CREATE ../../x").await,
            "b5 OK CREATE completed\r\n"
        );
        assert!(h.store.folders("bob").contains(&"../../x".to_string()));
        assert_eq!(
            c.cmd("b6 RENAME Work/2026 Archive").await,
            "b6 OK RENAME completed\r\n"
        );
        assert_eq!(
            c.cmd("b7 DELETE Archive").await,
            "b7 OK DELETE completed\r\n"
        );
        assert_eq!(
            c.cmd("b8 DELETE Archive").await,
            "b8 NO [NONEXISTENT] no such mailbox\r\n"
        );
        assert_eq!(
            c.cmd("b9 DELETE INBOX").await,
            "b9 NO [INUSE] the mailbox is selected; CLOSE it first\r\n"
        );
        assert_eq!(c.cmd("c0 UNSELECT").await, "c0 OK UNSELECT completed\r\n");
        assert_eq!(
            c.cmd("c1 DELETE INBOX").await,
            "c1 NO [CANNOT] INBOX cannot be deleted or renamed\r\n"
        );
        assert_eq!(
            c.cmd("c2 CREATE \"bad\\\\//name\"").await,
            "c2 NO [CANNOT] bad mailbox name: empty hierarchy level\r\n"
        );
    }

    #[tokio::test]
    async fn idle_reports_new_mail() {
        let h = host(true);
        let mut c = selected(h.clone()).await;
        c.send(b"i1 IDLE\r\n").await;
        assert_eq!(c.response_line().await, b"+ idling\r\n");
        // Let a poll or two pass with nothing to say, then send half of
        // DONE: the interrupted reads must not lose it.
        tokio::time::sleep(Duration::from_millis(450)).await;
        c.send(b"DO").await;
        tokio::time::sleep(Duration::from_millis(450)).await;
        h.store
            .deliver(
                "bob",
                INBOX,
                b"Subject: new\r\n\r\nnew\r\n",
                &BTreeSet::new(),
                T2,
            )
            .unwrap();
        assert_eq!(c.response_line().await, b"* 3 EXISTS\r\n");
        c.send(b"NE\r\n").await;
        assert_eq!(c.until_tagged("i1").await, b"i1 OK IDLE terminated\r\n");
        assert_eq!(
            c.cmd("i2 FETCH 3 UID").await,
            "* 3 FETCH (UID 3)\r\ni2 OK FETCH completed\r\n"
        );
        // Someone else expunges message 1: NOOP reports it.
        h.store.remove("bob", INBOX, &[1]).unwrap();
        assert_eq!(
            c.cmd("i3 NOOP").await,
            "* 1 EXPUNGE\r\ni3 OK NOOP completed\r\n"
        );
    }

    #[tokio::test]
    async fn huge_literal_and_long_line() {
        let mut c = logged_in(host(true)).await;
        assert_eq!(
            c.cmd("a1 LOGIN {4294967295}").await,
            "a1 BAD literal too large (at most 10485760 octets)\r\n"
        );
        assert_eq!(c.cmd("a2 NOOP").await, "a2 OK NOOP completed\r\n");
        let long = format!("a3 NOOP {}\r\n", "x".repeat(100 * 1024));
        c.send(long.as_bytes()).await;
        assert_eq!(c.response_line().await, b"* BAD line too long\r\n");
        assert_eq!(c.cmd("a4 NOOP").await, "a4 OK NOOP completed\r\n");
        assert_eq!(
            c.cmd("a5 LIST \"\" \"unterminated").await,
            "a5 BAD unterminated quoted string\r\n"
        );
        assert_eq!(
            c.cmd("a6 STATUS INBOX (MESSAGES").await,
            "a6 BAD missing )\r\n"
        );
        let deep = format!("a7 SEARCH {}ALL{}", "(".repeat(200), ")".repeat(200));
        assert_eq!(c.cmd(&deep).await, "a7 BAD lists nested too deeply\r\n");
        c.send(b"+bad NOOP\r\n").await;
        assert_eq!(c.response_line().await, b"* BAD invalid tag\r\n");
        assert_eq!(c.cmd("a8 NOOP").await, "a8 OK NOOP completed\r\n");
    }

    #[tokio::test]
    async fn too_many_commands_and_idle_timeout() {
        let store_host = host(true);
        let h = Arc::new(Host {
            name: "hamburger.edu".into(),
            domains: vec![],
            accounts: Accounts::new(&[("bob", "hungry")]),
            store: store_host.store.clone(),
            tls: None,
            policy: Policy {
                plaintext_auth: true,
                max_commands: 2,
                idle_timeout: Duration::from_millis(300),
                ..Default::default()
            },
            recorder: Recorder::new(),
            throttle: AuthThrottle::default(),
            log_sessions: false,
        });
        let addr = serve(h).await;
        let (mut c, _) = Client::connect(addr).await;
        c.cmd("a1 NOOP").await;
        c.cmd("a2 NOOP").await;
        c.send(b"a3 NOOP\r\n").await;
        assert_eq!(c.response_line().await, b"* BYE too many commands\r\n");
        let (mut c, _) = Client::connect(addr).await;
        assert_eq!(
            c.response_line().await,
            b"* BYE Autologout; idle for too long\r\n"
        );
    }

    #[tokio::test]
    async fn python_imaplib_client() {
        if std::process::Command::new("python3")
            .arg("--version")
            .output()
            .is_err()
        {
            eprintln!("python3 not found; skipped");
            return;
        }
        let addr = serve(host(true)).await;
        let script = format!(
            r#"
import imaplib
m = imaplib.IMAP4("127.0.0.1", {port})
print(m.login("bob", "hungry")[0])
typ, data = m.select("INBOX")
print(typ, data[0].decode())
typ, data = m.fetch("1", "(RFC822)")
print(typ, len(data[0][1]), data[0][1].split(b"\r\n")[2].decode())
typ, data = m.search(None, "FROM", "carol")
print(typ, data[0].decode())
typ, data = m.store("1:2", "+FLAGS", "(\\Deleted)")
print(typ, len(data))
typ, data = m.expunge()
print(typ, [d.decode() for d in data])
print(m.logout()[0])
"#,
            port = addr.port()
        );
        let out = tokio::task::spawn_blocking(move || {
            std::process::Command::new("python3")
                .arg("-c")
                .arg(script)
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!(
                "OK\nOK 2\nOK {} Subject: Hello Bob\nOK 2\nOK 2\nOK ['1', '1']\nBYE\n",
                MSG1.len()
            )
        );
    }

    #[test]
    fn tokenizer_handles_strings_lists_and_literals() {
        let mut segs = [
            Segment::Line(
                b"a1 FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (A B)]<0.5>) \"q\\\"x\\\\\" {3}"
                    .to_vec(),
            ),
            Segment::Literal(b"a b".to_vec()),
            Segment::Line(b" NIL".to_vec()),
        ];
        let toks = tokenize(&mut segs).unwrap();
        assert_eq!(
            toks,
            vec![
                Tok::Atom("a1".into()),
                Tok::Atom("FETCH".into()),
                Tok::Atom("1:*".into()),
                Tok::List(vec![
                    Tok::Atom("FLAGS".into()),
                    Tok::Atom("BODY.PEEK[HEADER.FIELDS (A B)]<0.5>".into())
                ]),
                Tok::Str(b"q\"x\\".to_vec()),
                Tok::Str(b"a b".to_vec()),
                Tok::Atom("NIL".into()),
            ]
        );
        let mut segs = [Segment::Line(b"a {3} x".to_vec())];
        assert!(tokenize(&mut segs).is_err());
    }

    #[test]
    fn sequence_sets() {
        let s = SeqSet::parse("2,4:6,10:*").unwrap();
        let hits: Vec<u32> = (1..=12).filter(|&n| s.contains(n, 12)).collect();
        assert_eq!(hits, vec![2, 4, 5, 6, 10, 11, 12]);
        assert!(SeqSet::parse("*").unwrap().contains(7, 7));
        assert!(SeqSet::parse("0").is_none());
        assert!(SeqSet::parse("1,,2").is_none());
        assert!(SeqSet::parse("99999999999").is_none());
        assert_eq!(uid_set_text(&[1, 2, 3, 5, 7, 8]), "1:3,5,7:8");
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match(b"*", b"Work/2026"));
        assert!(!wildcard_match(b"%", b"Work/2026"));
        assert!(wildcard_match(b"Work/%", b"Work/2026"));
        assert!(wildcard_match(b"W*6", b"Work/2026"));
        assert!(!wildcard_match(b"W*7", b"Work/2026"));
        let hostile = "*a".repeat(2000);
        assert!(!wildcard_match(
            hostile.as_bytes(),
            b"aaaaaaaaaaaaaaaaaaaaaaaaab"
        ));
    }

    #[test]
    fn dates() {
        assert_eq!(internal_date(0), " 1-Jan-1970 00:00:00 +0000");
        assert_eq!(internal_date(T1), " 1-Dec-2025 10:00:00 +0000");
        assert_eq!(parse_date("1-Feb-1994"), Some(days_from_civil(1994, 2, 1)));
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
        assert_eq!(parse_date("31-Foo-1994"), None);
        assert_eq!(
            parse_date_time("17-Jul-1996 02:44:25 -0700"),
            Some(837_596_665)
        );
        assert_eq!(
            parse_date_time(" 7-Jul-1996 02:44:25 +0000"),
            Some(836_707_465)
        );
        assert_eq!(parse_date_time("17-Jul-1996 02:44 -0700"), None);
    }

    #[test]
    fn nested_message_sections() {
        let m = b"Subject: outer\r\nContent-Type: multipart/mixed; boundary=X\r\n\r\n--X\r\n\
Content-Type: text/plain\r\n\r\nfirst\r\n--X\r\nContent-Type: message/rfc822\r\n\r\n\
Subject: inner\r\nContent-Type: multipart/alternative; boundary=Y\r\n\r\n--Y\r\n\r\nplain\r\n\
--Y\r\nContent-Type: text/html\r\n\r\n<b>html</b>\r\n--Y--\r\n\r\n--X--\r\n";
        let tree = MimeTree::new(m);
        let get = |s: &str| {
            let sec = parse_section(s).unwrap();
            section_bytes(m, &tree, &sec).map(|b| String::from_utf8_lossy(&b).into_owned())
        };
        assert_eq!(get("1").as_deref(), Some("first"));
        assert_eq!(
            get("2.HEADER").as_deref(),
            Some("Subject: inner\r\nContent-Type: multipart/alternative; boundary=Y\r\n\r\n")
        );
        assert_eq!(get("2.1").as_deref(), Some("plain"));
        assert_eq!(get("2.2").as_deref(), Some("<b>html</b>"));
        assert_eq!(
            get("2.2.MIME").as_deref(),
            Some("Content-Type: text/html\r\n\r\n")
        );
        assert_eq!(
            get("2.HEADER.FIELDS (subject)").as_deref(),
            Some("Subject: inner\r\n\r\n")
        );
        assert_eq!(get("1.1"), None);
        assert_eq!(get("3"), None);
        let mut out = Vec::new();
        write_structure(&mut out, &tree.root, m, false);
        let s = String::from_utf8(out).unwrap();
        assert!(s.contains("\"MESSAGE\" \"RFC822\""), "{s}");
        assert!(s.contains("\"ALTERNATIVE\")"), "{s}");
        assert!(s.ends_with(" \"MIXED\")"), "{s}");
    }

    #[test]
    fn strings_are_quoted_or_literal() {
        let mut out = Vec::new();
        push_string(&mut out, b"say \"hi\" \\o/");
        assert_eq!(out, b"\"say \\\"hi\\\" \\\\o/\"");
        let mut out = Vec::new();
        push_string(&mut out, "Grüße".as_bytes());
        assert_eq!(out, "{7}\r\nGrüße".as_bytes());
        let mut out = Vec::new();
        push_string(&mut out, b"a\r\nb");
        assert_eq!(out, b"{4}\r\na\r\nb");
    }
}
