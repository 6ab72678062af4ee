//! The client side of the line protocols, as the user agents and the relay
//! speak them: connect from a given host address, send a command, read the
//! reply (SMTP multi-line replies, POP3 `+OK`/`-ERR`, IMAP tagged
//! responses with literals). SMTP and POP3 commands and replies are the
//! analyzer's grammar (`proto::smtp`, `proto::pop3`): written with `emit`,
//! read with `parse`.

use std::io;
use std::net::{IpAddr, SocketAddr};

use tokio::net::{TcpSocket, TcpStream};

use super::conn::{Line, LineConn};
use crate::proto::dot::{self, DotLine, Unstuffer};
use crate::proto::imap::command::Command;
use crate::proto::imap::response::{Response, Status};
use crate::proto::imap::syntax::{Fragment, literal_marker};
use crate::proto::pop3;
use crate::proto::smtp::reply::{NotAReply, ReplyReader};
use crate::proto::smtp::{self, Reply};

/// Longest reply line we accept from a server.
const MAX_REPLY_LINE: usize = 64 * 1024;

/// Connect to `server` from the address `from` (each simulated host has its
/// own loopback address, so the capture shows who talks to whom).
pub async fn connect(from: IpAddr, server: SocketAddr) -> io::Result<LineConn> {
    Ok(LineConn::client(connect_stream(from, server).await?))
}

/// [`connect`]'s socket itself, for a relay that copies bytes rather than
/// lines (Eve, `world::eve`).
pub async fn connect_stream(from: IpAddr, server: SocketAddr) -> io::Result<TcpStream> {
    let socket = match from {
        IpAddr::V4(_) => TcpSocket::new_v4()?,
        IpAddr::V6(_) => TcpSocket::new_v6()?,
    };
    socket.bind(SocketAddr::new(from, 0))?;
    let stream = socket.connect(server).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "server closed the connection")
}

async fn line(conn: &mut LineConn) -> io::Result<String> {
    match conn.read_line(MAX_REPLY_LINE).await? {
        Some(Line::Text(t)) => Ok(String::from_utf8_lossy(&t).into_owned()),
        Some(Line::TooLong) => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "reply line too long",
        )),
        None => Err(closed()),
    }
}

/// Read one SMTP reply (RFC 5321 §4.2.1): lines `250-…` continue,
/// `250 …` ends it.
pub async fn smtp_reply(conn: &mut LineConn) -> io::Result<Reply> {
    let mut reader = ReplyReader::default();
    loop {
        let l = line(conn).await?;
        match reader.line(l.as_bytes()) {
            Ok(Some(reply)) => return Ok(reply),
            Ok(None) => {}
            Err(NotAReply) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("not an SMTP reply: {l:?}"),
                ));
            }
        }
    }
}

/// Send one SMTP command and read the reply.
pub async fn smtp(conn: &mut LineConn, command: &smtp::Command) -> io::Result<Reply> {
    conn.queue_with(|out| command.emit(out));
    conn.flush().await?;
    smtp_reply(conn).await
}

/// Send message content after a 354 reply: dot-stuffed and ended with
/// CRLF . CRLF (RFC 5321 §4.5.2, [`crate::proto::dot`]).
pub async fn smtp_data(conn: &mut LineConn, message: &[u8]) -> io::Result<Reply> {
    conn.queue_with(|out| dot::stuff(message, out));
    conn.flush().await?;
    smtp_reply(conn).await
}

/// Send a POP3 command (none: read the greeting) and read the status line,
/// `+OK …` or `-ERR …`.
pub async fn pop3(
    conn: &mut LineConn,
    command: Option<&pop3::Command>,
) -> io::Result<pop3::Response> {
    if let Some(c) = command {
        conn.queue_with(|out| c.emit(out));
        conn.flush().await?;
    }
    let l = line(conn).await?;
    pop3::Response::parse(l.as_bytes()).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("not a POP3 response: {l:?}"),
        )
    })
}

/// The lines of a POP3 multi-line answer up to the final ".", with the
/// byte-stuffing removed (RFC 1939 §3, [`crate::proto::dot`]), joined with
/// CRLF.
pub async fn pop3_multiline(conn: &mut LineConn) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut dot = Unstuffer::default();
    loop {
        let (l, ending) = match conn.read_line_ending(MAX_REPLY_LINE).await? {
            Some((Line::Text(t), ending)) => (t, ending),
            Some((Line::TooLong, _)) => {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "line too long"));
            }
            None => return Err(closed()),
        };
        match dot.line(&l, ending) {
            DotLine::End => return Ok(out),
            DotLine::Text(text) | DotLine::BareLfDot(text) => {
                out.extend_from_slice(text);
                out.extend_from_slice(b"\r\n");
            }
        }
    }
}

/// One IMAP response with the literals it announced: the text (with
/// `{n}` markers left in place), the literal bytes in order, and the
/// response as the shared grammar reads it (None for a line that is no
/// response: empty, or a tag without a status). The literals' bytes are
/// kept once, in `literals`: in `response` they read as empty strings.
#[derive(Debug)]
pub struct ImapLine {
    pub text: String,
    pub literals: Vec<Vec<u8>>,
    pub response: Option<Response>,
}

/// Longest literal a response may bring.
const MAX_LITERAL: u64 = 64 * 1024 * 1024;

/// Read one logical IMAP response (RFC 3501 §4.3: a line ending in `{n}`
/// is followed by n bytes, then the line continues). A `{n+}` marker is
/// read the same way: LITERAL+ (RFC 7888) is for clients, but a lenient
/// reader takes it for the literal it announces rather than for text.
pub async fn imap_line(conn: &mut LineConn) -> io::Result<ImapLine> {
    let mut text = String::new();
    let mut fragments = Vec::new();
    loop {
        let l = match conn.read_line(MAX_REPLY_LINE).await? {
            Some(Line::Text(t)) => t,
            Some(Line::TooLong) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "reply line too long",
                ));
            }
            None => return Err(closed()),
        };
        text.push_str(&String::from_utf8_lossy(&l));
        let marker = literal_marker(&l);
        fragments.push(Fragment::Line(l));
        let Some(marker) = marker else { break };
        let n = match marker.size {
            Some(n) if n <= MAX_LITERAL => n as usize,
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "literal too large",
                ));
            }
        };
        let mut bytes = Vec::with_capacity(n);
        if !conn.read_counted(n, &mut bytes).await? {
            return Err(closed());
        }
        fragments.push(Fragment::Literal(bytes));
    }
    let mut literals = Vec::new();
    for f in &mut fragments {
        if let Fragment::Literal(bytes) = f {
            let n = bytes.len() as u64;
            literals.push(std::mem::take(bytes));
            *f = Fragment::Omitted(n);
        }
    }
    let response = Response::parse(&mut fragments).ok();
    Ok(ImapLine {
        text,
        literals,
        response,
    })
}

/// Send a tagged IMAP command, written by the shared grammar
/// ([`Command::emit`]), and collect the untagged responses up to the tagged
/// one. Returns (tagged OK?, untagged responses, tagged line).
///
/// Strings that cannot travel quoted go as non-synchronizing literals
/// (`{n+}`, RFC 7888): the world's server announces LITERAL+, and our agents
/// speak only to it, so there is no `+` continuation to wait for.
pub async fn imap(
    conn: &mut LineConn,
    command: &Command,
) -> io::Result<(bool, Vec<ImapLine>, String)> {
    let tag = command.tag.as_str();
    conn.queue_with(|out| out.extend_from_slice(&command.emit(true)));
    conn.flush().await?;
    let mut untagged = Vec::new();
    loop {
        let l = imap_line(conn).await?;
        match &l.response {
            Some(Response::Status {
                tag: Some(t),
                status,
                ..
            }) if t == tag => return Ok((*status == Status::Ok, untagged, l.text)),
            // Our tag without OK, NO or BAD: the command ended, not well.
            None if l.text.split(' ').next() == Some(tag) => return Ok((false, untagged, l.text)),
            _ => untagged.push(l),
        }
    }
}
