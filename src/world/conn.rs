//! One TCP connection of the mail world, as the line protocols use it:
//! read a line (with a length limit), read a counted number of bytes (BDAT,
//! IMAP literals), write replies, and switch to TLS in the middle
//! (STARTTLS, RFC 3207 / RFC 2595) or from the first byte (implicit TLS,
//! RFC 8314).
//!
//! Reads go through a buffer so that pipelined commands (RFC 2920) are
//! taken one at a time; writes are buffered and sent when the protocol
//! code calls [`LineConn::flush`], which servers do when no more pipelined
//! input is waiting — one segment carries all the pipelined replies, as
//! real servers do.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::{TlsAcceptor, TlsConnector};

use super::recorder::{ConnectionId, Recorder, Tapped};
use crate::flow::Direction;
use crate::proto::lines::Ending;

/// The socket under the protocol: a tapped server socket or a client
/// socket, each possibly wrapped in TLS.
pub enum Stream {
    Server(Tapped<TcpStream>),
    ServerTls(Box<tokio_rustls::server::TlsStream<Tapped<TcpStream>>>),
    Client(TcpStream),
    ClientTls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
    /// Only while switching to TLS.
    Switching,
}

/// What every variant of [`Stream`] is underneath.
trait Socket: AsyncRead + AsyncWrite + Unpin {}

impl<T: AsyncRead + AsyncWrite + Unpin> Socket for T {}

impl Stream {
    /// The socket of the moment; none while switching to TLS.
    fn socket(&mut self) -> Option<Pin<&mut dyn Socket>> {
        match self {
            Stream::Server(s) => Some(Pin::new(s)),
            Stream::ServerTls(s) => Some(Pin::new(s.as_mut())),
            Stream::Client(s) => Some(Pin::new(s)),
            Stream::ClientTls(s) => Some(Pin::new(s.as_mut())),
            Stream::Switching => None,
        }
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut().socket() {
            Some(s) => s.poll_read(cx, buf),
            None => Poll::Ready(Err(io::ErrorKind::NotConnected.into())),
        }
    }
}

// Flushing or shutting down while switching has nothing to do.
impl AsyncWrite for Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, b: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut().socket() {
            Some(s) => s.poll_write(cx, b),
            None => Poll::Ready(Err(io::ErrorKind::NotConnected.into())),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut()
            .socket()
            .map_or(Poll::Ready(Ok(())), |s| s.poll_flush(cx))
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut()
            .socket()
            .map_or(Poll::Ready(Ok(())), |s| s.poll_shutdown(cx))
    }
}

/// One line read from the peer.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// The line without its CRLF (or bare LF).
    Text(Vec<u8>),
    /// The line was longer than the limit; its bytes were discarded up to
    /// and including the line ending.
    TooLong,
}

/// Where the endpoint view of a server connection goes.
struct ViewTap {
    recorder: Recorder,
    id: ConnectionId,
}

pub struct LineConn {
    stream: Stream,
    buf: Vec<u8>,
    /// Start of unread bytes in `buf`.
    pos: usize,
    out: Vec<u8>,
    view: Option<ViewTap>,
    tls: bool,
    /// A write making no progress for this long fails (see
    /// [`LineConn::set_timeouts`]).
    write_timeout: Option<Duration>,
    /// A server-side TLS handshake must finish within this time.
    handshake_timeout: Option<Duration>,
}

const READ_CHUNK: usize = 16 * 1024;

/// Replies queued beyond this are sent before the next command is read,
/// even when more pipelined commands wait: a client that pipelines
/// thousands of `RETR` and reads nothing must not make the server hold
/// gigabytes of replies in memory.
const FLUSH_AT: usize = 64 * 1024;

/// Runs `io`, failing with `TimedOut` ("{what} within N s") when a limit
/// is set and passes first.
async fn within<T>(
    limit: Option<Duration>,
    what: &str,
    io: impl Future<Output = io::Result<T>>,
) -> io::Result<T> {
    let Some(limit) = limit else {
        return io.await;
    };
    tokio::time::timeout(limit, io).await.map_err(|_| {
        io::Error::new(
            io::ErrorKind::TimedOut,
            format!("{what} within {} s", limit.as_secs_f64()),
        )
    })?
}

/// Why a write timed out.
const UNREAD: &str = "the client read none of the replies";

impl LineConn {
    /// A server connection: the socket is tapped for the capture, and the
    /// plaintext both ways is kept as the endpoint view.
    pub fn server(socket: TcpStream, recorder: &Recorder) -> io::Result<LineConn> {
        let client = socket.peer_addr()?;
        let server = socket.local_addr()?;
        let id = recorder.open(client, server);
        Ok(LineConn {
            stream: Stream::Server(Tapped::new(socket, recorder.clone(), id)),
            buf: Vec::new(),
            pos: 0,
            out: Vec::new(),
            view: Some(ViewTap {
                recorder: recorder.clone(),
                id,
            }),
            tls: false,
            write_timeout: None,
            handshake_timeout: None,
        })
    }

    /// A client connection (the servers' taps record it).
    pub fn client(socket: TcpStream) -> LineConn {
        LineConn {
            stream: Stream::Client(socket),
            buf: Vec::new(),
            pos: 0,
            out: Vec::new(),
            view: None,
            tls: false,
            write_timeout: None,
            handshake_timeout: None,
        }
    }

    /// Bound the time a write may make no progress (a client that never
    /// reads its replies) and the time a TLS handshake may take (a client
    /// that opens TLS and goes silent); either ends the connection with a
    /// `TimedOut` error.
    pub fn set_timeouts(&mut self, write: Duration, handshake: Duration) {
        self.write_timeout = Some(write);
        self.handshake_timeout = Some(handshake);
    }

    /// Has the connection switched to TLS?
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// The peer's address.
    pub fn peer(&self) -> Option<std::net::SocketAddr> {
        match &self.stream {
            Stream::Server(s) => s.get_ref().peer_addr().ok(),
            Stream::ServerTls(s) => s.get_ref().0.get_ref().peer_addr().ok(),
            Stream::Client(s) => s.peer_addr().ok(),
            Stream::ClientTls(s) => s.get_ref().0.peer_addr().ok(),
            Stream::Switching => None,
        }
    }

    /// Unread bytes already received (pipelined input).
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn note(&self, dir: Direction, bytes: &[u8]) {
        if let Some(v) = &self.view {
            v.recorder.endpoint_bytes(v.id, dir, bytes);
        }
    }

    /// Read more bytes into the buffer; `Ok(false)` at end of stream.
    ///
    /// Cancel-safe: `read_buf` appends only the bytes it actually read, so
    /// a read dropped half-way (a timeout, IDLE waiting for DONE) leaves
    /// the buffer as it was.
    async fn fill(&mut self) -> io::Result<bool> {
        if self.pos > 0 && self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        } else if self.pos > READ_CHUNK {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let start = self.buf.len();
        self.buf.reserve(READ_CHUNK);
        let n = self.stream.read_buf(&mut self.buf).await?;
        if n > 0 {
            let (dir, bytes) = (self.their_direction(), &self.buf[start..start + n]);
            self.note(dir, bytes);
        }
        Ok(n > 0)
    }

    fn their_direction(&self) -> Direction {
        match self.stream {
            Stream::Client(_) | Stream::ClientTls(_) => Direction::ServerToClient,
            _ => Direction::ClientToServer,
        }
    }

    /// Read one line of at most `limit` bytes (line ending included).
    /// `Ok(None)` when the peer closed the connection.
    pub async fn read_line(&mut self, limit: usize) -> io::Result<Option<Line>> {
        Ok(self.read_line_ending(limit).await?.map(|(line, _)| line))
    }

    /// [`read_line`](Self::read_line), and how the line ended (CRLF or a
    /// bare LF): the end of dot-stuffed data depends on it
    /// ([`crate::proto::dot`]).
    pub async fn read_line_ending(&mut self, limit: usize) -> io::Result<Option<(Line, Ending)>> {
        let mut too_long = false;
        // The last byte dropped from a too-long line was a CR.
        let mut dropped_cr = false;
        loop {
            let unread = &self.buf[self.pos..];
            if let Some(i) = memchr::memchr(b'\n', unread) {
                let end = self.pos + i + 1;
                let cr = match i {
                    0 => dropped_cr,
                    _ => unread[i - 1] == b'\r',
                };
                let ending = if cr { Ending::CrLf } else { Ending::Lf };
                let line = if too_long || i + 1 > limit {
                    Line::TooLong
                } else {
                    let text_end = if cr { end - 2 } else { end - 1 };
                    Line::Text(self.buf[self.pos..text_end].to_vec())
                };
                self.pos = end;
                return Ok(Some((line, ending)));
            }
            if unread.len() > limit {
                // Too long already: drop what we have and keep looking for
                // the end of the line, so memory stays bounded.
                too_long = true;
                dropped_cr = unread.last() == Some(&b'\r');
                self.pos = self.buf.len();
            }
            if !self.fill().await? {
                return Ok(None);
            }
        }
    }

    /// Read exactly `n` bytes (a BDAT chunk, an IMAP literal) into `out`.
    pub async fn read_counted(&mut self, mut n: usize, out: &mut Vec<u8>) -> io::Result<bool> {
        while n > 0 {
            if self.pos == self.buf.len() && !self.fill().await? {
                return Ok(false);
            }
            let take = n.min(self.buf.len() - self.pos);
            out.extend_from_slice(&self.buf[self.pos..self.pos + take]);
            self.pos += take;
            n -= take;
        }
        Ok(true)
    }

    /// Queue bytes to send.
    pub fn queue(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    /// Queue one line followed by CRLF.
    pub fn queue_line(&mut self, line: &str) {
        self.out.extend_from_slice(line.as_bytes());
        self.out.extend_from_slice(b"\r\n");
    }

    /// Queue what `write` writes: a reply or a command emitted by the
    /// protocol's grammar (`proto::smtp`, `proto::pop3`).
    pub fn queue_with(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        write(&mut self.out);
    }

    /// Send everything queued.
    pub async fn flush(&mut self) -> io::Result<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        let out = std::mem::take(&mut self.out);
        let dir = self.their_direction().reverse();
        self.note(dir, &out);
        // The limit is on progress, not on the whole write: a slow reader
        // of a large message is fine, a client that reads nothing is not.
        let mut rest = out.as_slice();
        while !rest.is_empty() {
            let n = within(self.write_timeout, UNREAD, self.stream.write(rest)).await?;
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            rest = &rest[n..];
        }
        within(self.write_timeout, UNREAD, self.stream.flush()).await
    }

    /// Send what is queued before reading the next command when the peer
    /// has no more pipelined input waiting (RFC 2920 §3.2: a server may
    /// batch replies but must send them before it waits for input), or
    /// when much is queued already.
    pub async fn flush_before_read(&mut self) -> io::Result<()> {
        if self.buffered() == 0 || self.out.len() >= FLUSH_AT {
            self.flush().await?;
        }
        Ok(())
    }

    /// Queue one line and send it with everything queued before.
    pub async fn send_line(&mut self, line: &str) -> io::Result<()> {
        self.queue_line(line);
        self.flush().await
    }

    /// Close our direction (FIN).
    pub async fn shutdown(&mut self) -> io::Result<()> {
        self.flush().await?;
        // TLS sends its close_notify here, a write like any other.
        within(self.write_timeout, UNREAD, self.stream.shutdown()).await
    }

    /// Server side of STARTTLS or of implicit TLS: run the TLS handshake on
    /// the socket. Bytes the client pipelined after the STARTTLS command
    /// are discarded (RFC 3207 §4.2 forbids acting on them: they could be
    /// injected by an attacker before the channel was protected).
    pub async fn accept_tls(&mut self, acceptor: &TlsAcceptor) -> io::Result<()> {
        self.flush().await?;
        self.buf.clear();
        self.pos = 0;
        let Stream::Server(tapped) = std::mem::replace(&mut self.stream, Stream::Switching) else {
            return Err(io::Error::other("TLS is already active"));
        };
        if let Some(v) = &self.view {
            v.recorder.tls_started(v.id);
        }
        let tls = within(
            self.handshake_timeout,
            "the TLS handshake did not finish",
            acceptor.accept(tapped),
        )
        .await?;
        self.stream = Stream::ServerTls(Box::new(tls));
        self.tls = true;
        Ok(())
    }

    /// Client side of STARTTLS or implicit TLS, checking the server's
    /// certificate for `server_name`.
    pub async fn connect_tls(
        &mut self,
        config: Arc<rustls::ClientConfig>,
        server_name: &str,
    ) -> io::Result<()> {
        self.flush().await?;
        self.buf.clear();
        self.pos = 0;
        let Stream::Client(socket) = std::mem::replace(&mut self.stream, Stream::Switching) else {
            return Err(io::Error::other("TLS is already active"));
        };
        let name = ServerName::try_from(server_name.to_string())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let tls = TlsConnector::from(config).connect(name, socket).await?;
        self.stream = Stream::ClientTls(Box::new(tls));
        self.tls = true;
        Ok(())
    }
}
