//! One IMAP connection: the greeting, the command loop and the state
//! machine of RFC 3501 §3. Each command is handed to the file that
//! implements it; the commands valid in any state (§6.1: CAPABILITY,
//! NOOP, LOGOUT) are small enough to live here.
//!
//! The loop is: read a command with its literals ([`super::reader`]),
//! parse it with the shared grammar ([`Command::parse`], strictly: what is
//! not IMAP gets BAD), check that the state allows it
//! ([`Session::dispatch`], §6), run it, report what changed in the
//! selected folder (§5.2, §7), then write the tagged reply (§7.1,
//! [`Response::status`]).

use std::io;
use std::net::IpAddr;
use std::sync::Arc;

use super::super::conn::LineConn;
use super::super::host::Host;
use super::super::store::{Store, StoreError};
use super::reply::{Reply, bad, ok};
use super::selection::Selected;
use crate::proto::imap::command::{Command, CommandError};
use crate::proto::imap::response::{Response, Status};
use crate::proto::imap::syntax::{Fragment, Mode, Tok};

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
        "[CAPABILITY {}] {} IMAP4rev1 mailscope ready",
        s.capabilities(),
        s.host.name
    );
    s.untagged(Status::Ok, &greeting);
    s.run().await
}

/// One connection. The RFC 3501 §3 state follows from the fields: no
/// `user` is "not authenticated", a `user` without `selected` is
/// "authenticated", both is "selected".
pub(super) struct Session {
    pub(super) conn: LineConn,
    pub(super) host: Arc<Host>,
    pub(super) ip: IpAddr,
    /// Set once LOGIN or AUTHENTICATE succeeded.
    pub(super) user: Option<String>,
    /// The selected folder, in the selected state.
    pub(super) selected: Option<Selected>,
    /// Commands read so far, held against the policy's limit.
    pub(super) commands: usize,
}

impl Session {
    /// The main loop: read a command, run it, until LOGOUT or the end.
    async fn run(&mut self) -> io::Result<()> {
        loop {
            let fragments = match self.read_command().await? {
                Some(Some(fragments)) => fragments,
                Some(None) => continue,
                None => return Ok(()),
            };
            if !self.execute(fragments).await? {
                return Ok(());
            }
        }
    }

    /// Say goodbye (an untagged BYE, RFC 3501 §7.1.5) and close.
    pub(super) async fn bye(&mut self, text: &str) -> io::Result<()> {
        self.host.log(format_args!("{}: BYE {text}", self.ip));
        self.untagged(Status::Bye, text);
        self.conn.shutdown().await
    }

    /// RFC 3501 §5.4: the client was silent for longer than the
    /// autologout timer allows.
    pub(super) async fn autologout(&mut self) -> io::Result<()> {
        self.bye("Autologout; idle for too long").await
    }

    /// Queue an untagged status line (§7.1): `* OK …`, `* BAD …`, `* BYE …`.
    pub(super) fn untagged(&mut self, status: Status, text: &str) {
        self.conn
            .queue(&Response::status(None, status, text).emit());
    }

    /// Queue a continuation request (§7.5): `+ text`.
    pub(super) fn continuation(&mut self, text: &str) {
        self.conn
            .queue(&Response::Continuation(text.as_bytes().to_vec()).emit());
    }

    /// Queue the tagged line that ends a command (§7.1).
    pub(super) fn tagged(&mut self, tag: &str, status: Status, text: &str) {
        self.conn
            .queue(&Response::status(Some(tag), status, text).emit());
    }

    /// Run one command; false when the session is over.
    async fn execute(&mut self, mut fragments: Vec<Fragment>) -> io::Result<bool> {
        let command = match Command::parse(&mut fragments, Mode::Strict) {
            Ok(c) => c,
            Err(CommandError::Syntax { tag, why }) => {
                self.tagged(&tag, Status::Bad, &why);
                return Ok(true);
            }
            Err(CommandError::NoName { tag }) => {
                self.tagged(&tag, Status::Bad, "missing command");
                return Ok(true);
            }
            // A name no command has, like any other unknown command.
            Err(CommandError::BadName { tag }) => {
                return Ok(self.complete(&tag, "", false, bad("unknown command")));
            }
            // The reader answered these before reading any literal.
            Err(CommandError::Empty | CommandError::BadTag) => {
                self.untagged(Status::Bad, "invalid tag");
                return Ok(true);
            }
        };
        let Command {
            tag,
            mut name,
            args,
        } = command;
        let mut args = args.as_slice();
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
                    self.tagged(
                        &tag,
                        Status::Bad,
                        "UID needs FETCH, SEARCH, STORE, COPY or EXPUNGE",
                    );
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
        Ok(self.complete(&tag, &name, uid, reply))
    }

    /// End command `name`: the untagged updates, then the tagged line.
    /// False when the session is over.
    fn complete(&mut self, tag: &str, name: &str, uid: bool, reply: Reply) -> bool {
        let (status, text) = match reply {
            Reply::Ok(t) => (Status::Ok, t),
            Reply::No(t) => (Status::No, t),
            Reply::Bad(t) => (Status::Bad, t),
            Reply::Sent => return true,
            Reply::Close => return false,
        };
        // Tell the client about changes to the selected folder before the
        // tagged reply (RFC 3501 §5.2, §7). EXPUNGE responses are not
        // allowed during FETCH, STORE and SEARCH (§7.4.1), but they are
        // during the UID versions of those commands.
        if self.selected.is_some() {
            let expunge_ok = uid || !["FETCH", "STORE", "SEARCH"].contains(&name);
            self.refresh(expunge_ok);
        }
        self.tagged(tag, status, &text);
        true
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

    /// The logged-in user (empty before login).
    pub(super) fn user(&self) -> String {
        self.user.clone().unwrap_or_default()
    }

    /// Run a store operation that may write to the disk (fsync) on a
    /// blocking thread, so the async workers stay free.
    pub(super) async fn store_op<T: Send + 'static>(
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
        let bye = format!("{} IMAP4rev1 server logging out", self.host.name);
        self.untagged(Status::Bye, &bye);
        // The tagged OK comes after the BYE, then the server closes.
        self.tagged(tag, Status::Ok, "LOGOUT completed");
        self.conn.shutdown().await?;
        Ok(Reply::Close)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use tokio::io::AsyncReadExt;

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
}
