//! The not-authenticated state (RFC 3501 §6.2): STARTTLS, LOGIN and
//! AUTHENTICATE PLAIN (RFC 4616, with the initial response of SASL-IR,
//! RFC 4959). Passwords travel only under TLS unless the policy allows
//! clear text (§6.2.3: LOGINDISABLED), and failures are slowed down.

use std::io;

use super::super::host::{decode_plain, plain_malformed};
use super::reader::Input;
use super::reply::{Reply, bad, no, ok};
use super::session::Session;
use crate::proto::imap::response::Status;
use crate::proto::imap::syntax::Tok;

impl Session {
    /// May a password cross this connection? Only under TLS, unless the
    /// policy allows clear text (the eavesdropping lesson).
    pub(super) fn plaintext_ok(&self) -> bool {
        self.conn.is_tls() || self.host.policy.plaintext_auth
    }

    /// STARTTLS (§6.2.1): OK, then the TLS handshake on the same socket.
    pub(super) async fn cmd_starttls(&mut self, tag: &str) -> io::Result<Reply> {
        if self.conn.is_tls() {
            return Ok(bad("TLS is already active"));
        }
        if self.user.is_some() {
            return Ok(bad("STARTTLS is only allowed before login"));
        }
        let Some(acceptor) = self.host.tls.clone() else {
            return Ok(bad("TLS is not available here"));
        };
        self.tagged(tag, Status::Ok, "Begin TLS negotiation now");
        // accept_tls flushes the OK first and discards anything the client
        // pipelined after STARTTLS (it could have been injected, §11.1).
        self.conn.accept_tls(&acceptor).await?;
        self.host.log(format_args!("{} started TLS", self.ip));
        Ok(Reply::Sent)
    }

    /// LOGIN user password (§6.2.3).
    pub(super) async fn cmd_login(&mut self, args: &[Tok]) -> io::Result<Reply> {
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
    pub(super) async fn cmd_authenticate(&mut self, args: &[Tok]) -> io::Result<Reply> {
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
                self.continuation("");
                self.conn.flush().await?;
                match self.next_line().await? {
                    Input::Text(t) => String::from_utf8_lossy(&t).trim().to_string(),
                    Input::TooLong => return Ok(bad("response too long")),
                    Input::Eof => return Ok(Reply::Close),
                    Input::Timeout => {
                        self.autologout().await?;
                        return Ok(Reply::Close);
                    }
                }
            }
        };
        // RFC 3501 §6.2.2: "*" cancels the exchange.
        if response == "*" {
            return Ok(bad("AUTHENTICATE cancelled"));
        }
        // RFC 3501 §6.2.2: a response that cannot be decoded is BAD, and
        // no password was tried (not counted as a failed login).
        if plain_malformed(&response) {
            return Ok(bad("malformed PLAIN response"));
        }
        match decode_plain(&response) {
            Some((user, pass)) => self.check_credentials(user, pass, "AUTHENTICATE").await,
            // Well formed, but asks to act as another user.
            None => Ok(no("[AUTHORIZATIONFAILED] cannot act as another user")),
        }
    }

    /// Check a user name and password, slowing down guessers.
    async fn check_credentials(
        &mut self,
        user: String,
        pass: String,
        what: &str,
    ) -> io::Result<Reply> {
        // Checked with the user's name: a locked-out guesser is refused
        // even with the right password, or the answer would tell.
        if self.host.throttle.locked(self.ip, Some(&user)) {
            return Ok(no("[UNAVAILABLE] too many failures, try later"));
        }
        let good = self.host.accounts.check(&user, &pass) && self.host.store.has_user(&user);
        if !good {
            let delay = self.host.throttle.failed(self.ip, Some(&user));
            self.conn.flush().await?;
            tokio::time::sleep(delay).await;
            self.host
                .log(format_args!("{} failed {what} as {user:?}", self.ip));
            return Ok(no("[AUTHENTICATIONFAILED] invalid user name or password"));
        }
        self.host.throttle.succeeded(&user);
        self.host
            .log(format_args!("{} logged in as {user}", self.ip));
        self.user = Some(user);
        Ok(ok(format!("{what} completed")))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use crate::world::conn::{Line, LineConn};
    use crate::world::host::{AuthThrottle, Policy};
    use std::net::IpAddr;
    use std::time::{Duration, Instant};
    use tokio::net::TcpStream;

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
        let h = host_with(
            bob_store(),
            Some(tokio_rustls::TlsAcceptor::from(
                pki.server_config("hamburger.edu").unwrap(),
            )),
            Policy::default(),
        );
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
            h.throttle.failed(ip, None);
        }
        let addr = serve(h).await;
        let (mut c, _) = Client::connect(addr).await;
        assert_eq!(
            c.cmd("a1 LOGIN bob hungry").await,
            "a1 NO [UNAVAILABLE] too many failures, try later\r\n"
        );
    }
}
