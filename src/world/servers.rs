//! Listening sockets: one accept loop per service, one task per
//! connection (the tokio model), each running the session function of its
//! protocol.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::conn::LineConn;
use super::host::Host;
use super::smtp_server::SmtpService;
use super::{imap, pop3_server, smtp_server};
use crate::proto::Protocol;
use crate::proto::imap::response as imap_response;
use crate::proto::{pop3, smtp};

/// A mail service on one port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    /// SMTP relay, port 25.
    Smtp,
    /// Message submission, port 587 (STARTTLS).
    Submission,
    /// Submission with implicit TLS, port 465.
    Smtps,
    Pop3,
    Pop3s,
    Imap,
    Imaps,
    /// The web server of the MTA-STS policy (`world::policy_server`): not a
    /// mail service, so not in [`Service::ALL`].
    Https,
}

impl Service {
    pub const ALL: [Service; 7] = [
        Service::Smtp,
        Service::Submission,
        Service::Smtps,
        Service::Pop3,
        Service::Pop3s,
        Service::Imap,
        Service::Imaps,
    ];

    pub fn protocol(self) -> Protocol {
        match self {
            Service::Smtp | Service::Submission | Service::Smtps => Protocol::Smtp,
            Service::Pop3 | Service::Pop3s => Protocol::Pop3,
            Service::Imap | Service::Imaps => Protocol::Imap,
            Service::Https => Protocol::Unknown,
        }
    }

    /// TLS from the first byte (RFC 8314)?
    pub fn implicit_tls(self) -> bool {
        matches!(
            self,
            Service::Smtps | Service::Pop3s | Service::Imaps | Service::Https
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            Service::Smtp => "smtp",
            Service::Submission => "submission",
            Service::Smtps => "submissions",
            Service::Pop3 => "pop3",
            Service::Pop3s => "pop3s",
            Service::Imap => "imap",
            Service::Imaps => "imaps",
            Service::Https => "https",
        }
    }

    pub fn port(self, plan: &super::topology::PortPlan) -> u16 {
        match self {
            Service::Smtp => plan.smtp,
            Service::Submission => plan.submission,
            Service::Smtps => plan.smtps,
            Service::Pop3 => plan.pop3,
            Service::Pop3s => plan.pop3s,
            Service::Imap => plan.imap,
            Service::Imaps => plan.imaps,
            Service::Https => plan.https,
        }
    }
}

/// Run one session on an accepted socket.
async fn session(
    socket: tokio::net::TcpStream,
    host: Arc<Host>,
    service: Service,
    wake_relay: Arc<Notify>,
) -> io::Result<()> {
    socket.set_nodelay(true)?;
    let peer = socket.peer_addr()?;
    // Held until the session ends, whichever way it ends.
    let (_slot, open) = host.connections.open(peer.ip());
    let limit = host.policy.max_connections_per_address;
    if open > limit.saturating_mul(2) {
        // Refusals are bounded too: past twice the limit the socket is
        // closed without a word (a refusal on an implicit-TLS port costs a
        // handshake).
        host.log(format_args!(
            "{} refused {}: {open} connections open",
            service.name(),
            peer.ip()
        ));
        return Ok(());
    }
    let mut conn = LineConn::server(socket, &host.recorder)?;
    conn.set_timeouts(host.policy.write_timeout, host.policy.tls_handshake_timeout);
    if service.implicit_tls() {
        let Some(acceptor) = host.tls.clone() else {
            return Err(io::Error::other(
                "implicit TLS service without a certificate",
            ));
        };
        conn.accept_tls(&acceptor).await?;
    }
    if open > limit {
        host.log(format_args!(
            "{} refused {}: {open} connections open, {limit} allowed",
            service.name(),
            peer.ip()
        ));
        return refuse(conn, &host, service).await;
    }
    match service {
        Service::Smtp => smtp_server::run_session(conn, host, SmtpService::Relay, wake_relay).await,
        Service::Submission | Service::Smtps => {
            smtp_server::run_session(conn, host, SmtpService::Submission, wake_relay).await
        }
        Service::Pop3 | Service::Pop3s => pop3_server::run_session(conn, host).await,
        Service::Imap | Service::Imaps => imap::run_session(conn, host).await,
        Service::Https => Err(io::Error::other("the HTTPS port serves no mail session")),
    }
}

/// The greeting that refuses a client over its connection limit, then the
/// close: SMTP's 421 (RFC 5321 §3.1, §4.2.3: service not available,
/// closing), POP3's `-ERR` with the SYS/TEMP code of RFC 3206 §4 (a
/// temporary problem of the server, not of the password), IMAP's
/// greeting BYE (RFC 3501 §7.1.5).
async fn refuse(mut conn: LineConn, host: &Host, service: Service) -> io::Result<()> {
    const WHY: &str = "too many connections from your address, try again later";
    match service.protocol() {
        Protocol::Pop3 => {
            let r = pop3::Response::Err(format!("[SYS/TEMP] {WHY}"));
            conn.queue_with(|out| r.emit(out));
        }
        Protocol::Imap => {
            conn.queue(
                &imap_response::Response::status(None, imap_response::Status::Bye, WHY).emit(),
            );
        }
        _ => {
            let r = smtp::Reply::new(421, &format!("4.7.0 {} Error: {WHY}", host.name));
            conn.queue_with(|out| r.emit(out));
        }
    }
    conn.shutdown().await
}

/// Bind `addr` and serve `service` on it until the returned task is
/// aborted. Binding happens before this returns, so a client may connect
/// right away.
pub async fn listen(
    addr: SocketAddr,
    host: Arc<Host>,
    service: Service,
    wake_relay: Arc<Notify>,
) -> io::Result<(SocketAddr, JoinHandle<()>)> {
    // A deep accept queue: with the default of 128, a burst of clients
    // (the load benchmark opens 1 000 at once) overflows it, and Linux
    // silently drops the handshake's last ACK, leaving clients that believe
    // they are connected waiting for a greeting that never comes.
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    let listener: TcpListener = socket.listen(4096)?;
    let local = listener.local_addr()?;
    let task = tokio::spawn(async move {
        let mut sessions = tokio::task::JoinSet::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let (socket, peer) = match accepted {
                        Ok(a) => a,
                        Err(e) => {
                            host.log(format_args!("accept on {local}: {e}"));
                            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                    let host = host.clone();
                    let wake = wake_relay.clone();
                    sessions.spawn(async move {
                        if let Err(e) = session(socket, host.clone(), service, wake).await {
                            host.log(format_args!("{} session with {peer} {}", service.name(), ended(&e)));
                        }
                    });
                }
                Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
            }
        }
    });
    Ok((local, task))
}

/// How a session that failed with `e` ended, for the log. A client that
/// hangs up (closing TCP without TLS's close_notify, which many clients
/// do, or resetting it) is an ordinary end, said in plain words: rustls
/// words that one with a link to its manual, which is no news to a
/// teacher watching the log.
fn ended(e: &io::Error) -> String {
    use io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset, UnexpectedEof};
    match e.kind() {
        UnexpectedEof | ConnectionReset | ConnectionAborted | BrokenPipe => {
            "ended: the client disconnected".to_string()
        }
        _ => format!("ended: {e}"),
    }
}
