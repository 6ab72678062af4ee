//! The web server of `mta-sts.DOMAIN` and the sender's fetch of its policy
//! (RFC 8461 §3.3): one GET of `/.well-known/mta-sts.txt` over HTTPS.
//!
//! Just enough HTTP/1.1 (RFC 9112) for that: a request line, headers up to
//! the empty line, and a reply with `Content-Length` and `Connection:
//! close`. The sender takes only a 200 with a `text/plain` body and
//! follows no redirect, as §3.3 asks, and checks the certificate against
//! `mta-sts.DOMAIN` through the world's PKI.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use super::client;
use super::conn::{Line, LineConn};
use super::recorder::Recorder;
use crate::proto::mta_sts::{MAX_POLICY, POLICY_PATH, Policy};

/// The longest request or header line either side reads.
const MAX_LINE: usize = 8 * 1024;
/// Header lines read at most before giving up on a request or reply.
const MAX_HEADERS: usize = 100;
/// How long a client may take over the whole exchange.
const DEADLINE: Duration = Duration::from_secs(10);

/// Serve `policy` at `at` over TLS until the task is dropped.
pub async fn listen(
    at: SocketAddr,
    acceptor: TlsAcceptor,
    policy: &Policy,
    recorder: Recorder,
) -> io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind(at).await?;
    let local = listener.local_addr()?;
    let body: Arc<str> = policy.emit().into();
    let task = tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let (acceptor, body, recorder) = (acceptor.clone(), body.clone(), recorder.clone());
            tokio::spawn(async move {
                let Ok(conn) = LineConn::server(socket, &recorder) else {
                    return;
                };
                let _ = tokio::time::timeout(DEADLINE, serve(conn, &acceptor, &body)).await;
            });
        }
    });
    Ok((local, task))
}

async fn serve(mut conn: LineConn, acceptor: &TlsAcceptor, body: &str) -> io::Result<()> {
    conn.accept_tls(acceptor).await?;
    let Some(Line::Text(request)) = conn.read_line(MAX_LINE).await? else {
        return Ok(());
    };
    read_headers(&mut conn).await?;
    let request = String::from_utf8_lossy(&request);
    let mut words = request.split(' ');
    let (status, content) = match (words.next(), words.next()) {
        (Some("GET"), Some(POLICY_PATH)) => ("200 OK", body),
        (Some("GET"), _) => ("404 Not Found", "not found\r\n"),
        _ => ("405 Method Not Allowed", "only GET\r\n"),
    };
    conn.queue_line(&format!("HTTP/1.1 {status}"));
    conn.queue_line("Content-Type: text/plain");
    conn.queue_line(&format!("Content-Length: {}", content.len()));
    conn.queue_line("Connection: close");
    conn.queue_line("");
    conn.queue(content.as_bytes());
    conn.flush().await?;
    conn.shutdown().await
}

/// The headers a side reads of the other's message.
#[derive(Default)]
struct Headers {
    content_length: Option<usize>,
    content_type: Option<String>,
}

/// Read header lines up to the empty one.
async fn read_headers(conn: &mut LineConn) -> io::Result<Headers> {
    let mut headers = Headers::default();
    for _ in 0..MAX_HEADERS {
        match conn.read_line(MAX_LINE).await? {
            Some(Line::Text(l)) if l.is_empty() => return Ok(headers),
            Some(Line::Text(l)) => {
                let l = String::from_utf8_lossy(&l);
                if let Some((name, value)) = l.split_once(':') {
                    let (name, value) = (name.trim(), value.trim());
                    if name.eq_ignore_ascii_case("content-length") {
                        headers.content_length = value.parse().ok();
                    } else if name.eq_ignore_ascii_case("content-type") {
                        headers.content_type = Some(value.to_ascii_lowercase());
                    }
                }
            }
            Some(Line::TooLong) => return Err(invalid("header line too long")),
            None => return Err(invalid("the connection closed inside the headers")),
        }
    }
    Err(invalid("too many header lines"))
}

fn invalid(why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why.to_string())
}

/// Fetch the policy from `host` (`mta-sts.DOMAIN`) at `server`, from the
/// address `bind`, checking the certificate with `tls`.
pub async fn fetch(
    bind: IpAddr,
    server: SocketAddr,
    host: &str,
    tls: Arc<rustls::ClientConfig>,
) -> io::Result<Policy> {
    tokio::time::timeout(DEADLINE, fetch_once(bind, server, host, tls))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "the policy fetch timed out"))?
}

async fn fetch_once(
    bind: IpAddr,
    server: SocketAddr,
    host: &str,
    tls: Arc<rustls::ClientConfig>,
) -> io::Result<Policy> {
    let mut conn = client::connect(bind, server).await?;
    conn.connect_tls(tls, host).await?;
    conn.queue_line(&format!("GET {POLICY_PATH} HTTP/1.1"));
    conn.queue_line(&format!("Host: {host}"));
    conn.queue_line("Connection: close");
    conn.queue_line("");
    conn.flush().await?;
    let status = match conn.read_line(MAX_LINE).await? {
        Some(Line::Text(l)) => String::from_utf8_lossy(&l).into_owned(),
        _ => return Err(invalid("no status line")),
    };
    // RFC 8461 §3.3: only a 200 counts; redirects are not followed.
    if status.split(' ').nth(1) != Some("200") {
        return Err(invalid(&format!("the policy server answered {status:?}")));
    }
    let headers = read_headers(&mut conn).await?;
    // §3.3: the policy is served as text/plain.
    if !headers
        .content_type
        .is_some_and(|t| t.starts_with("text/plain"))
    {
        return Err(invalid("the policy is not text/plain"));
    }
    let length = headers
        .content_length
        .ok_or_else(|| invalid("the policy reply has no Content-Length"))?;
    if length > MAX_POLICY {
        return Err(invalid("the policy is larger than 64 KiB"));
    }
    let mut body = Vec::with_capacity(length);
    if !conn.read_counted(length, &mut body).await? {
        return Err(invalid("the policy reply ended early"));
    }
    let _ = conn.shutdown().await;
    Policy::parse(&body).map_err(|e| invalid(&e.to_string()))
}
