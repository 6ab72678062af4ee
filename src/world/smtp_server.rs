//! The SMTP server of a simulated mail host (RFC 5321), with the extensions
//! the course meets: PIPELINING (RFC 2920), SIZE (RFC 1870), 8BITMIME
//! (RFC 6152), STARTTLS (RFC 3207), AUTH PLAIN/LOGIN/CRAM-MD5 (RFC 4954,
//! 4616, 2195), CHUNKING (RFC 3030), ENHANCEDSTATUSCODES (RFC 2034/3463).
//!
//! One function runs one session: read a command line, answer it. The same
//! code serves three roles (RFC 6409, RFC 8314):
//!
//! * port 25, relay: mail from other servers for our own domains; relaying
//!   to other domains needs authentication (or `--open-relay`);
//! * port 587, submission: a user agent hands in mail; AUTH is required;
//! * port 465, submissions: the same with TLS from the first byte.
//!
//! A message accepted with `250` is on the disk first: local recipients get
//! it in their INBOX, other recipients through the durable queue that the
//! relay (see `relay.rs`) empties.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::Notify;

use super::conn::{Line, LineConn};
use super::host::{Host, POSTMASTER, b64, decode_plain, hmac_md5, plain_malformed, unb64};
use crate::mail::hex;
use crate::proto::dot::{DotLine, Unstuffer};
use crate::proto::lines::Ending;
use crate::proto::smtp::command::split_verb;
use crate::proto::smtp::{Bdat, Command, Path, Reply, domain_of};

/// Which port the session arrived on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpService {
    /// Port 25: server-to-server relay.
    Relay,
    /// Port 587 (or 465 with implicit TLS): message submission, AUTH required.
    Submission,
}

/// The reply to a message whose data holds a lone "." next to a bare LF
/// or CR (ASCII only, like every reply: RFC 5321 §2.4).
const SMUGGLING_REFUSED: &str = "5.5.2 Message refused: a line holding only \".\" ends with a bare LF or CR, which some servers take for the end of the data (SMTP smuggling); only <CR><LF>.<CR><LF> ends it";

/// The reply to an AUTH response that is not base64 (or not a PLAIN
/// message): RFC 4954 §4 makes it a syntax error, 501, and no password
/// was tried, so it is not counted as a failed login.
const CANNOT_DECODE: &str =
    "5.5.2 Cannot decode the response (RFC 4954 section 4: base64 expected)";

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A short queue id like Postfix's, unique within the process.
fn next_id() -> String {
    format!("{:X}", NEXT_ID.fetch_add(1, Ordering::Relaxed) + 0x4A0)
}

/// One mail transaction (RFC 5321 §3.3): MAIL, RCPT…, DATA or BDAT.
#[derive(Default)]
struct Transaction {
    mail_from: Option<String>,
    rcpt_to: Vec<String>,
    /// BDAT chunks so far (RFC 3030).
    chunks: Vec<u8>,
    chunk_overflow: bool,
}

struct Session {
    host: Arc<Host>,
    service: SmtpService,
    client_ip: IpAddr,
    helo: Option<String>,
    esmtp: bool,
    user: Option<String>,
    tx: Transaction,
    wake_relay: Arc<Notify>,
}

/// How a command ended the session, if it did.
enum Flow {
    Continue,
    Quit,
}

/// Queue a reply, written by the grammar the analyzer reads
/// (`proto::smtp::Reply`, RFC 5321 §4.2).
fn send(conn: &mut LineConn, reply: &Reply) {
    conn.queue_with(|out| reply.emit(out));
}

/// Queue a one-line reply: `reply(conn, 250, "2.1.0 Sender OK")`.
fn reply(conn: &mut LineConn, code: u16, text: &str) {
    send(conn, &Reply::new(code, text));
}

/// Read one line (and how it ended), first sending what is queued when the
/// client has no more pipelined commands waiting (RFC 2920 §3.2: the server
/// may batch replies, but must flush before it would wait for input).
async fn next_line(
    conn: &mut LineConn,
    host: &Host,
    limit: usize,
) -> std::io::Result<Option<(Line, Ending)>> {
    conn.flush_before_read().await?;
    match tokio::time::timeout(host.policy.idle_timeout, conn.read_line_ending(limit)).await {
        Ok(r) => r,
        Err(_) => {
            // RFC 5321 §4.5.3.2: servers time out idle clients (5 minutes).
            let why = format!("4.4.2 {} Error: timeout exceeded", host.name);
            reply(conn, 421, &why);
            conn.flush().await?;
            Ok(None)
        }
    }
}

/// Serve one SMTP session. For port 465 the caller has already run the TLS
/// handshake.
pub async fn run_session(
    mut conn: LineConn,
    host: Arc<Host>,
    service: SmtpService,
    wake_relay: Arc<Notify>,
) -> std::io::Result<()> {
    let client_ip = conn
        .peer()
        .map(|a| a.ip())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]));
    host.log(format_args!("SMTP session from {client_ip} ({service:?})"));
    reply(&mut conn, 220, &format!("{} ESMTP mailscope", host.name));
    let mut s = Session {
        host: host.clone(),
        service,
        client_ip,
        helo: None,
        esmtp: false,
        user: None,
        tx: Transaction::default(),
        wake_relay,
    };
    let mut commands = 0usize;
    loop {
        let Some((line, ending)) =
            next_line(&mut conn, &host, host.policy.max_command_line).await?
        else {
            host.log(format_args!("{client_ip} went away"));
            return Ok(());
        };
        commands += 1;
        if commands > host.policy.max_commands {
            reply(
                &mut conn,
                421,
                "4.7.0 Too many commands in one session, closing",
            );
            conn.flush().await?;
            return conn.shutdown().await;
        }
        let Line::Text(line) = line else {
            reply(&mut conn, 500, "5.5.2 Line too long");
            continue;
        };
        match s.command(&mut conn, &line, ending).await? {
            Flow::Continue => {}
            Flow::Quit => return conn.shutdown().await,
        }
    }
}

impl Session {
    /// One command line (`ending`: how it ended, for DATA).
    async fn command(
        &mut self,
        conn: &mut LineConn,
        line: &[u8],
        ending: Ending,
    ) -> std::io::Result<Flow> {
        let text = String::from_utf8_lossy(line);
        // DATA and STARTTLS take no argument; the grammar reads them
        // leniently, the server refuses one.
        let (_, argument) = split_verb(&text);
        match Command::parse(line) {
            Command::Helo(arg) => self.hello(conn, "HELO", &arg),
            Command::Ehlo(arg) => self.hello(conn, "EHLO", &arg),
            Command::Mail(path) => self.mail(conn, path),
            Command::Rcpt(path) => self.rcpt(conn, path),
            Command::Data => return self.data(conn, argument, ending).await,
            Command::Bdat(bdat) => return self.bdat(conn, bdat).await,
            Command::Rset => {
                self.tx = Transaction::default();
                reply(conn, 250, "2.0.0 OK");
            }
            Command::Noop(_) => reply(conn, 250, "2.0.0 OK"),
            Command::Quit => {
                let bye = format!("2.0.0 {} closing connection", self.host.name);
                reply(conn, 221, &bye);
                return Ok(Flow::Quit);
            }
            // Confirming which users exist helps spammers; like most
            // servers we neither confirm nor deny (RFC 5321 §3.5.3).
            Command::Vrfy(_) => reply(
                conn,
                252,
                "2.5.2 Cannot VRFY user, but will accept message and attempt delivery",
            ),
            Command::Expn(_) => reply(conn, 502, "5.5.1 EXPN not available"),
            Command::Help(_) => send(
                conn,
                &Reply::multiline(
                    214,
                    [
                        "2.0.0 Commands supported:",
                        "2.0.0   HELO EHLO MAIL RCPT DATA BDAT RSET NOOP QUIT",
                        "2.0.0   VRFY HELP STARTTLS AUTH",
                        "2.0.0 See RFC 5321 for details",
                    ],
                ),
            ),
            Command::Starttls => return self.starttls(conn, argument).await,
            Command::Auth {
                mechanism,
                initial_response,
            } => return self.auth(conn, &mechanism, initial_response).await,
            // RFC 2645 §5.2.1: ATRN is refused unless the client has
            // authenticated (530); after AUTH, this server offers no
            // On-Demand Mail Relay (no ATRN in EHLO, not port 366), so the
            // command is known but not implemented: 502 (RFC 5321 §4.2.4).
            Command::Atrn(_) if self.user.is_none() => {
                reply(conn, 530, "5.7.0 Authentication required")
            }
            Command::Atrn(_) => reply(
                conn,
                502,
                "5.5.1 ATRN: On-Demand Mail Relay (RFC 2645) is not offered here",
            ),
            // Known commands this server does not implement: 502, not 500
            // (RFC 5321 §4.2.4). ETRN (RFC 1985) starts a queue run for
            // another host, which a single-host classroom has none of;
            // TURN is unsafe without authentication (RFC 5321 App. F.1).
            Command::Etrn(_) => reply(
                conn,
                502,
                "5.5.1 ETRN: remote queue starting (RFC 1985) is not offered here",
            ),
            Command::Turn => reply(
                conn,
                502,
                "5.5.1 TURN is not implemented (RFC 5321 Appendix F.1)",
            ),
            Command::Extension(_) | Command::Unknown(_) => {
                reply(conn, 500, "5.5.1 Command not recognized")
            }
        }
        Ok(Flow::Continue)
    }

    /// Mechanisms we offer now: passwords in clear only under TLS unless
    /// the lesson allows it (RFC 4954 §4, "should not advertise … without
    /// an encryption layer"); CRAM-MD5 never sends the password.
    fn mechanisms(&self, tls: bool) -> &'static str {
        if tls || self.host.policy.plaintext_auth {
            "PLAIN LOGIN CRAM-MD5"
        } else {
            "CRAM-MD5"
        }
    }

    fn hello(&mut self, conn: &mut LineConn, verb: &str, arg: &str) {
        if arg.is_empty() {
            reply(conn, 501, &format!("5.5.4 Syntax: {verb} hostname"));
            return;
        }
        // RFC 5321 §4.1.1.1: the argument is a domain or an address
        // literal, printable ASCII. A CR, ESC or BEL in it is refused,
        // never echoed in the greeting nor written into `Received:`,
        // where it would reach a terminal or a mail program.
        if arg.chars().any(|c| c.is_control()) {
            reply(
                conn,
                501,
                &format!("5.5.2 Syntax: {verb} hostname (control characters are not allowed)"),
            );
            return;
        }
        // A new HELO/EHLO resets the transaction (RFC 5321 §4.1.4).
        self.tx = Transaction::default();
        self.helo = Some(arg.split_whitespace().next().unwrap_or(arg).to_string());
        self.esmtp = verb == "EHLO";
        let greet = format!("{} Hello {} [{}]", self.host.name, arg, self.client_ip);
        if !self.esmtp {
            reply(conn, 250, &greet);
            return;
        }
        // RFC 5321 §4.1.1.1: the greeting, then one extension a line.
        let mut lines = vec![
            greet,
            "PIPELINING".to_string(),
            format!("SIZE {}", self.host.policy.max_message),
            "8BITMIME".to_string(),
        ];
        if self.host.tls.is_some() && !conn.is_tls() {
            lines.push("STARTTLS".into());
        }
        if self.user.is_none() {
            lines.push(format!("AUTH {}", self.mechanisms(conn.is_tls())));
        }
        lines.extend(["CHUNKING", "ENHANCEDSTATUSCODES", "HELP"].map(String::from));
        send(conn, &Reply::multiline(250, lines));
    }

    fn mail(&mut self, conn: &mut LineConn, from: Option<Path>) {
        if self.helo.is_none() {
            reply(conn, 503, "5.5.1 Send HELO/EHLO first");
            return;
        }
        if self.tx.mail_from.is_some() {
            reply(conn, 503, "5.5.1 Nested MAIL command");
            return;
        }
        if self.service == SmtpService::Submission && self.user.is_none() {
            reply(conn, 530, "5.7.0 Authentication required");
            return;
        }
        let Some(from) = from.filter(Path::is_well_formed) else {
            reply(conn, 501, "5.5.4 Syntax: MAIL FROM:<address>");
            return;
        };
        for p in &from.parameters {
            let value = p.value.as_deref().unwrap_or("");
            match p.keyword.to_ascii_uppercase().as_str() {
                "SIZE" => match value.parse::<u64>() {
                    Ok(n) if n > self.host.policy.max_message as u64 => {
                        reply(conn, 552, "5.3.4 Message size exceeds fixed limit");
                        return;
                    }
                    Ok(_) => {}
                    Err(_) => {
                        reply(conn, 501, "5.5.4 Bad SIZE parameter");
                        return;
                    }
                },
                "BODY" if ["7BIT", "8BITMIME"].contains(&value.to_ascii_uppercase().as_str()) => {}
                "AUTH" => {}
                _ => {
                    reply(
                        conn,
                        555,
                        &format!("5.5.4 Unsupported parameter {}", p.keyword),
                    );
                    return;
                }
            }
        }
        // `--strict-sender`: a logged-in user sends as themselves only (as
        // Postfix's reject_sender_login_mismatch); 553 is "mailbox name
        // not allowed" (RFC 5321 §4.2.3).
        if let Some(user) = self.user.as_deref()
            && self.host.policy.strict_sender
            && self.host.local_user(&from.mailbox).as_deref() != Some(user)
        {
            let why = format!(
                "5.7.1 <{}>: Sender address rejected: not owned by user {user}",
                from.mailbox
            );
            reply(conn, 553, &why);
            return;
        }
        self.tx.mail_from = Some(from.mailbox);
        reply(conn, 250, "2.1.0 Sender OK");
    }

    fn rcpt(&mut self, conn: &mut LineConn, to: Option<Path>) {
        if self.tx.mail_from.is_none() {
            reply(conn, 503, "5.5.1 Need MAIL before RCPT");
            return;
        }
        let Some(to) = to.filter(Path::is_well_formed).map(|p| p.mailbox) else {
            reply(conn, 501, "5.5.4 Syntax: RCPT TO:<address>");
            return;
        };
        if self.tx.rcpt_to.len() >= self.host.policy.max_recipients {
            reply(conn, 452, "4.5.3 Too many recipients");
            return;
        }
        // RFC 5321 §4.5.1: "<Postmaster>" without a domain must be
        // accepted (any case); it is this host's postmaster.
        let local = match domain_of(&to) {
            Some(domain) => self.host.is_local_domain(&domain),
            None if to.eq_ignore_ascii_case(POSTMASTER) => true,
            None => {
                reply(conn, 501, "5.1.3 Bad recipient address syntax");
                return;
            }
        };
        if local {
            if self.host.local_user(&to).is_none() {
                let why = format!("5.1.1 <{to}>: Recipient address rejected: User unknown");
                reply(conn, 550, &why);
                return;
            }
        } else if self.user.is_none() && !self.host.policy.open_relay {
            reply(conn, 554, &format!("5.7.1 <{to}>: Relay access denied"));
            return;
        }
        self.tx.rcpt_to.push(to);
        reply(conn, 250, "2.1.5 Recipient OK");
    }

    /// Checks shared by DATA and BDAT; `None` when the transaction may go on.
    fn ready_for_content(&self) -> Option<Reply> {
        if self.tx.mail_from.is_none() {
            Some(Reply::new(503, "5.5.1 Need MAIL command"))
        } else if self.tx.rcpt_to.is_empty() {
            Some(Reply::new(554, "5.5.1 No valid recipients"))
        } else {
            None
        }
    }

    /// DATA (RFC 5321 §4.1.1.4); `ending` is how the DATA line ended.
    async fn data(
        &mut self,
        conn: &mut LineConn,
        arg: &str,
        ending: Ending,
    ) -> std::io::Result<Flow> {
        if !arg.is_empty() {
            reply(conn, 501, "5.5.4 Syntax: DATA");
            return Ok(Flow::Continue);
        }
        if let Some(err) = self.ready_for_content() {
            send(conn, &err);
            return Ok(Flow::Continue);
        }
        reply(conn, 354, "End data with <CR><LF>.<CR><LF>");
        let max = self.host.policy.max_message;
        let mut body = Vec::new();
        let (mut too_big, mut too_long) = (false, false);
        // The one end rule of the analyzer too: only <CRLF>.<CRLF> ends the
        // message; a lone "." with a bare LF is text (`proto::dot`).
        let mut dot = Unstuffer::after(ending);
        loop {
            let Some((line, ending)) =
                next_line(conn, &self.host, self.host.policy.max_text_line).await?
            else {
                // The client vanished before the final dot: nothing is kept
                // (RFC 5321 §3.8: the transaction is aborted).
                self.host.log(format_args!(
                    "{} vanished in DATA after {} bytes",
                    self.client_ip,
                    body.len()
                ));
                return Ok(Flow::Quit);
            };
            let Line::Text(line) = line else {
                too_long = true;
                // Dropped, but it still ended where it ended.
                dot.line(b"", ending);
                continue;
            };
            let text = match dot.line(&line, ending) {
                DotLine::End => break,
                DotLine::Text(text) | DotLine::BareLfDot(text) => text,
            };
            if body.len() + text.len() + 2 > max {
                too_big = true;
                continue;
            }
            // Stored with CRLF line ends, whatever the client used.
            body.extend_from_slice(text);
            body.extend_from_slice(b"\r\n");
        }
        let tx = std::mem::take(&mut self.tx);
        if dot.saw_bare_dot() {
            // SMTP smuggling (CVE-2023-51764 and its siblings): a lone "."
            // with a bare LF or CR is the end of the data for some servers
            // and not for others, so what follows it can become a second,
            // forged message on the next hop. Read to the real end (RFC
            // 5321 §4.1.1.4) and refuse the whole message, as Postfix does
            // since 3.8.4; the transaction ends without a delivery.
            self.host.log(format_args!(
                "{} refused: lone \".\" with a bare LF or CR in DATA (SMTP smuggling)",
                self.client_ip
            ));
            reply(conn, 554, SMUGGLING_REFUSED);
        } else if too_big {
            reply(conn, 552, "5.3.4 Message size exceeds fixed limit");
        } else if too_long {
            reply(
                conn,
                554,
                "5.6.0 Message has a line longer than 1000 octets (RFC 5321 section 4.5.3.1.6)",
            );
        } else {
            let answer = self.accept(tx, body, conn.is_tls()).await;
            send(conn, &answer);
        }
        Ok(Flow::Continue)
    }

    /// BDAT (RFC 3030): a chunk of counted bytes.
    async fn bdat(&mut self, conn: &mut LineConn, bdat: Bdat) -> std::io::Result<Flow> {
        let (size, last) = match bdat {
            Bdat::Chunk { size, last } => (size, last),
            Bdat::BadEndMarker => {
                reply(conn, 501, "5.5.4 Syntax: BDAT size [LAST]");
                return Ok(Flow::Continue);
            }
            Bdat::NoSize => {
                // Without a valid size we cannot know where the chunk ends:
                // the only safe answer is to close (RFC 3030 §4.2).
                reply(conn, 501, "5.5.4 Syntax: BDAT size [LAST]; closing");
                return Ok(Flow::Quit);
            }
        };
        let refused = self.ready_for_content();
        let max = self.host.policy.max_message as u64;
        // The chunk is read even when it is refused, so the next command is
        // found where it begins. Bytes past the limit are read and dropped
        // in bounded pieces.
        let mut remaining = size;
        while remaining > 0 {
            let piece = remaining.min(64 * 1024) as usize;
            let mut buf = Vec::with_capacity(piece);
            if !conn.read_counted(piece, &mut buf).await? {
                self.host
                    .log(format_args!("{} vanished in BDAT", self.client_ip));
                return Ok(Flow::Quit);
            }
            remaining -= piece as u64;
            if refused.is_none() && !self.tx.chunk_overflow {
                if self.tx.chunks.len() as u64 + buf.len() as u64 > max {
                    self.tx.chunk_overflow = true;
                    self.tx.chunks = Vec::new();
                } else {
                    self.tx.chunks.extend_from_slice(&buf);
                }
            }
        }
        if let Some(err) = refused {
            send(conn, &err);
            return Ok(Flow::Continue);
        }
        if !last {
            reply(conn, 250, &format!("2.0.0 {size} octets received"));
            return Ok(Flow::Continue);
        }
        let mut tx = std::mem::take(&mut self.tx);
        if tx.chunk_overflow {
            reply(conn, 552, "5.3.4 Message size exceeds fixed limit");
        } else {
            let body = std::mem::take(&mut tx.chunks);
            let answer = self.accept(tx, body, conn.is_tls()).await;
            send(conn, &answer);
        }
        Ok(Flow::Continue)
    }

    /// The `with` word of the Received header (RFC 3848): ESMTP, plus S
    /// for TLS, plus A for an authenticated client.
    fn with_protocol(&self, tls: bool) -> String {
        let mut p = String::from(if self.esmtp { "ESMTP" } else { "SMTP" });
        if tls {
            p.push('S');
        }
        if self.user.is_some() {
            p.push('A');
        }
        if p == "SMTPS" || p == "SMTPA" || p == "SMTPSA" {
            p.insert(0, 'E'); // RFC 3848 registers the ESMTP forms only
        }
        p
    }

    /// Take responsibility for the message: store it for local users,
    /// queue it for the others. Returns the reply.
    async fn accept(&mut self, tx: Transaction, body: Vec<u8>, tls: bool) -> Reply {
        let id = next_id();
        let from = tx.mail_from.unwrap_or_default();
        let now = super::store::unix_now();
        let date = mail_parser::DateTime::from_timestamp(now).to_rfc822();
        let helo = self.helo.clone().unwrap_or_default();
        // RFC 5321 §4.4: each server that handles the message adds a
        // Received line at the top; "for" names the recipient when there
        // is exactly one.
        let for_clause = match tx.rcpt_to.as_slice() {
            [one] => format!("\r\n\tfor <{one}>"),
            _ => String::new(),
        };
        let received = format!(
            "Received: from {helo} ([{}])\r\n\tby {} (mailscope) with {} id {id}{for_clause};\r\n\t{date}\r\n",
            self.client_ip,
            self.host.name,
            self.with_protocol(tls)
        );
        let mut stamped = Vec::with_capacity(received.len() + body.len());
        stamped.extend_from_slice(received.as_bytes());
        stamped.extend_from_slice(&body);

        let host = self.host.clone();
        let rcpts = tx.rcpt_to.clone();
        let from_clone = from.clone();
        let result = tokio::task::spawn_blocking(move || -> std::io::Result<bool> {
            let mut local = Vec::new();
            let mut remote = Vec::new();
            for rcpt in &rcpts {
                match host.local_user(rcpt) {
                    Some(user) => {
                        host.store.ensure_user(&user)?;
                        local.push(user);
                    }
                    None => remote.push(rcpt.clone()),
                }
            }
            // Final delivery adds Return-Path (RFC 5321 §4.4).
            let mut copy = format!("Return-Path: <{from_clone}>\r\n").into_bytes();
            copy.extend_from_slice(&stamped);
            let queued = !remote.is_empty();
            let queue = queued.then_some((from_clone.as_str(), remote, stamped.as_slice()));
            // Every recipient or none: the 250 below answers for all of
            // them, and a client that gets no 250 sends the message again.
            host.store
                .deliver_all(&local, &copy, queue, now)
                .map_err(std::io::Error::other)?;
            Ok(queued)
        })
        .await;
        match result {
            Ok(Ok(queued)) => {
                if queued {
                    self.wake_relay.notify_one();
                }
                self.host.log(format_args!(
                    "accepted {id} from <{from}> for {} recipient(s)",
                    tx.rcpt_to.len()
                ));
                Reply::new(250, &format!("2.0.0 Ok: queued as {id}"))
            }
            Ok(Err(e)) => {
                self.host.log(format_args!("storing {id} failed: {e}"));
                Reply::new(451, "4.3.0 Error: local storage failed, try again later")
            }
            Err(_) => Reply::new(451, "4.3.0 Error: internal failure, try again later"),
        }
    }

    async fn starttls(&mut self, conn: &mut LineConn, arg: &str) -> std::io::Result<Flow> {
        if !arg.is_empty() {
            reply(conn, 501, "5.5.4 Syntax: STARTTLS");
        } else if conn.is_tls() {
            reply(conn, 503, "5.5.1 TLS already active");
        } else if let Some(acceptor) = self.host.tls.clone() {
            reply(conn, 220, "2.0.0 Ready to start TLS");
            if let Err(e) = conn.accept_tls(&acceptor).await {
                self.host.log(format_args!(
                    "TLS handshake with {} failed: {e}",
                    self.client_ip
                ));
                return Ok(Flow::Quit);
            }
            // RFC 3207 §4.2: forget everything learnt before TLS.
            self.helo = None;
            self.esmtp = false;
            self.user = None;
            self.tx = Transaction::default();
        } else {
            reply(conn, 454, "4.7.0 TLS not available");
        }
        Ok(Flow::Continue)
    }

    /// Read one SASL response line; `None` if the client cancelled with
    /// `*` (RFC 4954 §4) or went away.
    async fn sasl_line(
        &self,
        conn: &mut LineConn,
        challenge: &str,
    ) -> std::io::Result<Option<String>> {
        reply(conn, 334, challenge);
        match next_line(conn, &self.host, self.host.policy.max_command_line).await? {
            Some((Line::Text(t), _)) => {
                let t = String::from_utf8_lossy(&t).trim().to_string();
                Ok(if t == "*" { None } else { Some(t) })
            }
            _ => Ok(None),
        }
    }

    /// AUTH (RFC 4954 §4) with the mechanism and initial response sent.
    async fn auth(
        &mut self,
        conn: &mut LineConn,
        mechanism: &str,
        initial: Option<String>,
    ) -> std::io::Result<Flow> {
        let mechanism = mechanism.to_ascii_uppercase();
        if self.user.is_some() {
            reply(conn, 503, "5.5.1 Already authenticated");
            return Ok(Flow::Continue);
        }
        if self.tx.mail_from.is_some() {
            reply(
                conn,
                503,
                "5.5.1 AUTH not allowed during a mail transaction",
            );
            return Ok(Flow::Continue);
        }
        if self.helo.is_none() {
            reply(conn, 503, "5.5.1 Send EHLO first");
            return Ok(Flow::Continue);
        }
        if !self
            .mechanisms(conn.is_tls())
            .split(' ')
            .any(|m| m == mechanism)
        {
            if ["PLAIN", "LOGIN"].contains(&mechanism.as_str()) {
                reply(
                    conn,
                    538,
                    "5.7.11 Encryption required for requested authentication mechanism",
                );
            } else {
                reply(conn, 504, "5.5.4 Unrecognized authentication type");
            }
            return Ok(Flow::Continue);
        }
        let locked_out = |conn: &mut LineConn| {
            reply(
                conn,
                454,
                "4.7.0 Too many authentication failures, try again later",
            );
            Ok(Flow::Continue)
        };
        if self.host.throttle.locked(self.client_ip, None) {
            return locked_out(conn);
        }
        // The user the client tried to be (when it could be read) and
        // whether the proof was right.
        let attempt: Option<(String, bool)> = match mechanism.as_str() {
            "PLAIN" => {
                let response = match initial {
                    // "=" is an empty initial response (RFC 4954 §4).
                    Some(r) if r != "=" => Some(r),
                    _ => self.sasl_line(conn, "").await?,
                };
                let Some(response) = response else {
                    reply(conn, 501, "5.7.0 Authentication cancelled");
                    return Ok(Flow::Continue);
                };
                if plain_malformed(&response) {
                    reply(conn, 501, CANNOT_DECODE);
                    return Ok(Flow::Continue);
                }
                decode_plain(&response).map(|(u, p)| {
                    let good = self.host.accounts.check(&u, &p);
                    (u, good)
                })
            }
            "LOGIN" => {
                // Not in an RFC (draft-murchison-sasl-login): the server
                // asks "Username:" and "Password:" in base64.
                let user = match initial {
                    Some(u) => Some(u),
                    None => self.sasl_line(conn, &b64(b"Username:")).await?,
                };
                let pass = match user {
                    Some(_) => self.sasl_line(conn, &b64(b"Password:")).await?,
                    None => None,
                };
                let (Some(user), Some(pass)) = (user, pass) else {
                    reply(conn, 501, "5.7.0 Authentication cancelled");
                    return Ok(Flow::Continue);
                };
                let (Some(user), Some(pass)) = (unb64(&user), unb64(&pass)) else {
                    reply(conn, 501, CANNOT_DECODE);
                    return Ok(Flow::Continue);
                };
                String::from_utf8(user).ok().map(|u| {
                    let good =
                        String::from_utf8(pass).is_ok_and(|p| self.host.accounts.check(&u, &p));
                    (u, good)
                })
            }
            _ => {
                // CRAM-MD5 (RFC 2195): the client proves it knows the
                // password by an HMAC-MD5 over a one-time challenge.
                let challenge = format!(
                    "<{}.{}@{}>",
                    NEXT_ID.fetch_add(1, Ordering::Relaxed),
                    super::store::unix_now(),
                    self.host.name
                );
                let Some(response) = self.sasl_line(conn, &b64(challenge.as_bytes())).await? else {
                    reply(conn, 501, "5.7.0 Authentication cancelled");
                    return Ok(Flow::Continue);
                };
                let Some(text) = unb64(&response) else {
                    reply(conn, 501, CANNOT_DECODE);
                    return Ok(Flow::Continue);
                };
                String::from_utf8(text).ok().and_then(|t| {
                    let (user, digest) = t.rsplit_once(' ')?;
                    let good = self.host.accounts.password(user).is_some_and(|password| {
                        hex(&hmac_md5(password.as_bytes(), challenge.as_bytes()))
                            == digest.to_ascii_lowercase()
                    });
                    Some((user.to_string(), good))
                })
            }
        };
        // With the user's name now: a locked-out guesser is refused even
        // with the right password, or the answer would tell.
        let tried = attempt.as_ref().map(|(u, _)| u.clone());
        if self.host.throttle.locked(self.client_ip, tried.as_deref()) {
            return locked_out(conn);
        }
        match attempt {
            Some((user, true)) => {
                self.host.throttle.succeeded(&user);
                self.host.log(format_args!(
                    "{} authenticated as {user} ({mechanism})",
                    self.client_ip
                ));
                self.user = Some(user);
                reply(conn, 235, "2.7.0 Authentication successful");
            }
            _ => {
                let delay = self.host.throttle.failed(self.client_ip, tried.as_deref());
                self.host
                    .log(format_args!("{} failed AUTH {mechanism}", self.client_ip));
                conn.flush().await?;
                tokio::time::sleep(delay).await;
                reply(conn, 535, "5.7.8 Authentication credentials invalid");
            }
        }
        Ok(Flow::Continue)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::host::Policy;
    use crate::world::store::{INBOX, Store};
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    /// A relay-port server for hamburger.edu on an ephemeral port.
    async fn server(policy: Policy) -> (std::net::SocketAddr, Arc<Host>) {
        let store = Store::in_memory();
        store.ensure_user("bob").unwrap();
        let host = Host::for_tests(store, policy);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let h = host.clone();
        tokio::spawn(async move {
            loop {
                let (socket, _) = listener.accept().await.unwrap();
                let conn = LineConn::server(socket, &h.recorder).unwrap();
                let h = h.clone();
                tokio::spawn(run_session(
                    conn,
                    h,
                    SmtpService::Relay,
                    Arc::new(Notify::new()),
                ));
            }
        });
        (addr, host)
    }

    /// Send `input` in one write (pipelined), read until the server closes,
    /// return the reply lines.
    async fn exchange(addr: std::net::SocketAddr, input: &[u8]) -> Vec<String> {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(input).await.unwrap();
        let mut lines = BufReader::new(s).lines();
        let mut out = Vec::new();
        while let Ok(Some(l)) = lines.next_line().await {
            out.push(l);
        }
        out
    }

    fn inbox(host: &Host) -> Vec<Vec<u8>> {
        host.store
            .snapshot("bob", INBOX)
            .unwrap()
            .messages
            .iter()
            .map(|m| m.data.to_vec())
            .collect()
    }

    #[tokio::test]
    async fn pipelined_transaction_gets_replies_in_order() {
        let (addr, host) = server(Policy::default()).await;
        let replies = exchange(
            addr,
            b"EHLO nc\r\nMAIL FROM:<alice@crepes.fr>\r\nRCPT TO:<bob@hamburger.edu>\r\nRCPT TO:<eve@hamburger.edu>\r\nDATA\r\nSubject: p\r\n\r\n..dot\r\n.\r\nQUIT\r\n",
        )
        .await;
        let codes: Vec<&str> = replies.iter().map(|l| &l[..4]).collect();
        assert_eq!(
            codes,
            [
                "220 ", "250-", "250-", "250-", "250-", "250-", "250-", "250-", "250 ", "250 ",
                "250 ", "550 ", "354 ", "250 ", "221 "
            ]
        );
        let m = &inbox(&host)[0];
        assert!(
            m.ends_with(b"Subject: p\r\n\r\n.dot\r\n"),
            "{}",
            String::from_utf8_lossy(m)
        );
        assert!(
            String::from_utf8_lossy(m).contains("\tby hamburger.edu (mailscope) with ESMTP id ")
        );
    }

    #[tokio::test]
    async fn bdat_chunks_make_one_message_and_a_refused_chunk_is_skipped() {
        let (addr, host) = server(Policy::default()).await;
        let replies = exchange(
            addr,
            b"EHLO nc\r\nBDAT 5\r\nhelloMAIL FROM:<a@crepes.fr>\r\nRCPT TO:<bob@hamburger.edu>\r\nBDAT 10\r\nSubject: bBDAT 9 LAST\r\n\r\n\r\nchunkQUIT\r\n",
        )
        .await;
        let tail: Vec<&str> = replies.iter().skip(9).map(String::as_str).collect();
        assert_eq!(tail[0], "503 5.5.1 Need MAIL command");
        assert_eq!(tail[1], "250 2.1.0 Sender OK");
        assert_eq!(tail[2], "250 2.1.5 Recipient OK");
        assert_eq!(tail[3], "250 2.0.0 10 octets received");
        assert!(tail[4].starts_with("250 2.0.0 Ok: queued as "), "{tail:?}");
        let m = &inbox(&host)[0];
        assert!(
            m.ends_with(b"Subject: b\r\n\r\nchunk"),
            "{}",
            String::from_utf8_lossy(m)
        );
    }

    #[tokio::test]
    async fn limits_answer_clearly() {
        let policy = Policy {
            max_message: 100,
            max_recipients: 1,
            max_commands: 10,
            idle_timeout: std::time::Duration::from_secs(5),
            ..Policy::default()
        };
        let (addr, host) = server(policy).await;
        let mut input = b"EHLO nc\r\nHELP\r\nVRFY bob\r\n".to_vec();
        input.extend(b"NOOP ");
        input.extend(vec![b'x'; 20_000]);
        input.extend(b"\r\nMAIL FROM:<a@crepes.fr> SIZE=1000\r\nMAIL FROM:<a@crepes.fr>\r\nRCPT TO:<bob@hamburger.edu>\r\nRCPT TO:<bob@hamburger.edu>\r\nDATA\r\n");
        input.extend(vec![b'y'; 150]);
        input.extend(b"\r\n.\r\nNOOP\r\nNOOP\r\nNOOP\r\n");
        let replies = exchange(addr, &input).await;
        let after_ehlo: Vec<&str> = replies
            .iter()
            .skip_while(|l| l.starts_with("250-") || l.starts_with("220"))
            .skip(1)
            .map(String::as_str)
            .collect();
        assert_eq!(
            after_ehlo,
            [
                "214-2.0.0 Commands supported:",
                "214-2.0.0   HELO EHLO MAIL RCPT DATA BDAT RSET NOOP QUIT",
                "214-2.0.0   VRFY HELP STARTTLS AUTH",
                "214 2.0.0 See RFC 5321 for details",
                "252 2.5.2 Cannot VRFY user, but will accept message and attempt delivery",
                "500 5.5.2 Line too long",
                "552 5.3.4 Message size exceeds fixed limit",
                "250 2.1.0 Sender OK",
                "250 2.1.5 Recipient OK",
                "452 4.5.3 Too many recipients",
                "354 End data with <CR><LF>.<CR><LF>",
                "552 5.3.4 Message size exceeds fixed limit",
                "250 2.0.0 OK",
                "421 4.7.0 Too many commands in one session, closing",
            ]
        );
        assert!(inbox(&host).is_empty());
    }

    #[tokio::test]
    async fn only_crlf_dot_crlf_ends_data_so_nothing_is_smuggled() {
        // SMTP smuggling: a lone "." between bare LFs (or CRs), then a
        // second transaction inside the message. The old DATA loop (and
        // servers like it) ended the message at <LF>.<LF> and ran the
        // forged MAIL FROM as a command. Now the data ends only at
        // <CRLF>.<CRLF> (`proto::dot`), and the message is refused there.
        for dot in [&b"\n.\n"[..], b"\n.\r\n", b"\r\n.\n", b"\r.\r", b"\r\n.\r"] {
            let (addr, host) = server(Policy::default()).await;
            let mut input = b"EHLO nc\r\nMAIL FROM:<alice@crepes.fr>\r\nRCPT TO:<bob@hamburger.edu>\r\nDATA\r\nSubject: s\r\n\r\nhi".to_vec();
            input.extend_from_slice(dot);
            input.extend_from_slice(b"MAIL FROM:<eve@crepes.fr>\r\nRCPT TO:<bob@hamburger.edu>\r\nDATA\r\nSubject: forged\r\n\r\n.\r\nQUIT\r\n");
            let replies = exchange(addr, &input).await;
            let after_ehlo: Vec<&str> = replies
                .iter()
                .skip_while(|l| l.starts_with("250-") || l.starts_with("220"))
                .skip(1)
                .map(String::as_str)
                .collect();
            assert_eq!(
                after_ehlo,
                [
                    "250 2.1.0 Sender OK",
                    "250 2.1.5 Recipient OK",
                    "354 End data with <CR><LF>.<CR><LF>",
                    &format!("554 {SMUGGLING_REFUSED}"),
                    "221 2.0.0 hamburger.edu closing connection",
                ],
                "{dot:?}"
            );
            assert!(inbox(&host).is_empty(), "{dot:?}");
            assert!(host.store.queued().is_empty(), "{dot:?}");
        }
    }

    #[tokio::test]
    async fn bdat_with_words_after_last_is_refused() {
        // RFC 3030 §4: "BDAT" SP chunk-size [SP end-marker]; nothing else.
        let (addr, _) = server(Policy::default()).await;
        let replies = exchange(
            addr,
            b"EHLO nc\r\nMAIL FROM:<a@crepes.fr>\r\nRCPT TO:<bob@hamburger.edu>\r\nBDAT 2 LAST more\r\nQUIT\r\n",
        )
        .await;
        let tail: Vec<&str> = replies.iter().rev().take(2).map(String::as_str).collect();
        assert_eq!(
            tail,
            [
                "221 2.0.0 hamburger.edu closing connection",
                "501 5.5.4 Syntax: BDAT size [LAST]"
            ]
        );
    }
}
