//! Shared pieces of the IMAP tests: two messages in Bob's INBOX, a server
//! on a loopback port, and a raw client that reads whole responses,
//! literals included.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use crate::world::conn::LineConn;
use crate::world::host::{Accounts, AuthThrottle, Host, Policy};
use crate::world::recorder::Recorder;
use crate::world::store::{INBOX, Store};

use super::run_session;
use crate::proto::imap::syntax::{LiteralMarker, literal_marker};

pub(super) const MSG1: &[u8] = b"From: Alice <alice@crepes.fr>\r\n\
To: Bob <bob@hamburger.edu>\r\n\
Subject: Hello Bob\r\n\
Date: Mon, 1 Dec 2025 10:00:00 +0000\r\n\
Message-ID: <1@crepes.fr>\r\n\
\r\n\
Hi Bob,\r\n\
see you at the lecture.\r\n";

pub(super) const MSG2: &[u8] = b"From: Carol <carol@example.org>\r\n\
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
pub(super) const T1: i64 = 1_764_583_200;
pub(super) const T2: i64 = 1_764_673_200;

/// Bob's host with the two messages in his INBOX; `plaintext_auth`: may
/// passwords cross without TLS?
pub(super) fn host(plaintext_auth: bool) -> Arc<Host> {
    host_with(
        bob_store(),
        None,
        Policy {
            plaintext_auth,
            ..Default::default()
        },
    )
}

/// A store where Bob's INBOX holds [`MSG1`] and [`MSG2`].
pub(super) fn bob_store() -> Arc<Store> {
    let store = Store::in_memory();
    store.ensure_user("bob").unwrap();
    let none = BTreeSet::new();
    store.deliver("bob", INBOX, MSG1, &none, T1).unwrap();
    store.deliver("bob", INBOX, MSG2, &none, T2).unwrap();
    store
}

/// Bob's host `hamburger.edu` (password "hungry") on `store`.
pub(super) fn host_with(store: Arc<Store>, tls: Option<TlsAcceptor>, policy: Policy) -> Arc<Host> {
    Arc::new(Host {
        name: "hamburger.edu".into(),
        domains: vec!["hamburger.edu".into()],
        accounts: Accounts::new(&[("bob", "hungry")]),
        store,
        tls,
        policy,
        recorder: Recorder::new(),
        throttle: AuthThrottle::default(),
        connections: Default::default(),
        log_sessions: false,
    })
}

/// Start a server for `host` that accepts any number of connections.
pub(super) async fn serve(host: Arc<Host>) -> std::net::SocketAddr {
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
pub(super) struct Client {
    pub(super) r: BufReader<TcpStream>,
}

impl Client {
    pub(super) async fn connect(addr: std::net::SocketAddr) -> (Client, String) {
        let s = TcpStream::connect(addr).await.unwrap();
        let mut c = Client {
            r: BufReader::new(s),
        };
        let greeting = c.response_line().await;
        (c, String::from_utf8(greeting).unwrap())
    }

    /// One response line; a `{n}` at its end pulls in n bytes and the
    /// rest of the line.
    pub(super) async fn response_line(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let mut line = Vec::new();
            let n =
                tokio::time::timeout(Duration::from_secs(10), self.r.read_until(b'\n', &mut line))
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
                    let mut buf = vec![0; n as usize];
                    self.r.read_exact(&mut buf).await.unwrap();
                    out.extend_from_slice(&buf);
                }
                _ => return out,
            }
        }
    }

    pub(super) async fn send(&mut self, bytes: &[u8]) {
        self.r.get_mut().write_all(bytes).await.unwrap();
    }

    /// Everything up to and including the tagged line.
    pub(super) async fn until_tagged(&mut self, tag: &str) -> Vec<u8> {
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
    pub(super) async fn cmd(&mut self, line: &str) -> String {
        String::from_utf8_lossy(&self.cmd_bytes(line).await).into_owned()
    }

    /// Send `tag command` and return the whole answer as bytes.
    pub(super) async fn cmd_bytes(&mut self, line: &str) -> Vec<u8> {
        let tag = line.split(' ').next().unwrap().to_string();
        self.send(format!("{line}\r\n").as_bytes()).await;
        self.until_tagged(&tag).await
    }
}

pub(super) async fn logged_in(host: Arc<Host>) -> Client {
    let addr = serve(host).await;
    let (mut c, _) = Client::connect(addr).await;
    assert_eq!(
        c.cmd("l LOGIN bob hungry").await,
        "l OK LOGIN completed\r\n"
    );
    c
}

pub(super) async fn selected(host: Arc<Host>) -> Client {
    let mut c = logged_in(host).await;
    let r = c.cmd("s SELECT INBOX").await;
    assert!(r.ends_with("s OK [READ-WRITE] SELECT completed\r\n"), "{r}");
    c
}

/// The capabilities before login when passwords may be sent.
pub(super) const CAPS: &str =
    "IMAP4rev1 AUTH=PLAIN SASL-IR IDLE UIDPLUS UNSELECT CHILDREN LITERAL+";

/// A message with a message/rfc822 part that is itself multipart.
pub(super) const NESTED: &[u8] =
    b"Subject: outer\r\nContent-Type: multipart/mixed; boundary=X\r\n\r\n--X\r\n\
Content-Type: text/plain\r\n\r\nfirst\r\n--X\r\nContent-Type: message/rfc822\r\n\r\n\
Subject: inner\r\nContent-Type: multipart/alternative; boundary=Y\r\n\r\n--Y\r\n\r\nplain\r\n\
--Y\r\nContent-Type: text/html\r\n\r\n<b>html</b>\r\n--Y--\r\n\r\n--X--\r\n";
