//! Mail inside a proxy tunnel: the set-up the client and the proxy
//! exchange before the tunnelled bytes, recognised and measured so the
//! analysis can skip it and read the dialogue inside.
//!
//! Spam bots and some mail clients reach their servers through proxies:
//!
//! | tunnel        | client says                                  | proxy answers                |
//! |---------------|----------------------------------------------|------------------------------|
//! | HTTP CONNECT  | `CONNECT mx.example:25 HTTP/1.1` + headers   | `HTTP/1.1 200 …` + headers   |
//! | SOCKS4 / 4a   | `04 01 port ip user\0 [host\0]`              | `00 5A port ip` (8 bytes)    |
//! | SOCKS5        | `05 n methods…`, then `05 01 00 atyp addr port` | `05 m`, then `05 00 00 atyp addr port` |
//!
//! (RFC 9110 §9.3.6 for CONNECT; SOCKS4 and its 4a extension are
//! documented by their authors, SOCKS5 is RFC 1928 with RFC 1929's
//! user/password sub-negotiation.) After the proxy's success reply, each
//! direction carries the tunnelled protocol from the next byte on.
//!
//! The reader sees at most [`MAX_SETUP`] bytes per direction; anything
//! else is "no tunnel" and the flow is read from its first byte.

use crate::flow::Direction;
pub use crate::trace::{Tunnel, TunnelKind};

/// Set-up bytes read at most per direction before giving up.
pub const MAX_SETUP: usize = 4096;

/// What the set-up bytes seen so far say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TunnelState {
    /// Not enough bytes yet.
    Undecided,
    /// Not a proxy set-up: the flow speaks from its first byte.
    None,
    /// The proxy said yes.
    Open(Tunnel),
}

/// Gathers the first bytes of both directions and recognises a tunnel.
#[derive(Clone, Debug, Default)]
pub struct TunnelReader {
    head: [Vec<u8>; 2],
    /// A direction ended or lost bytes before the set-up completed.
    cut: bool,
    state: Option<TunnelState>,
}

impl TunnelReader {
    /// The first bytes of `dir` (at most [`MAX_SETUP`]).
    pub fn head(&self, dir: Direction) -> &[u8] {
        &self.head[dir.index()]
    }

    /// The verdict so far.
    pub fn state(&self) -> TunnelState {
        self.state.clone().unwrap_or(TunnelState::Undecided)
    }

    /// In-order bytes of `dir` (at stream offset `offset`).
    pub fn data(&mut self, dir: Direction, offset: u64, bytes: &[u8]) {
        if self.state.is_some() {
            return;
        }
        let head = &mut self.head[dir.index()];
        if offset != head.len() as u64 {
            self.cut = true;
        } else {
            let take = (MAX_SETUP - head.len()).min(bytes.len());
            head.extend_from_slice(&bytes[..take]);
        }
        self.settle(false);
    }

    /// Bytes of `dir` are missing: a set-up cut by a gap is not followed.
    pub fn gap(&mut self) {
        self.cut = true;
        self.settle(false);
    }

    /// The flow is over: decide on what was seen.
    pub fn finish(&mut self) -> TunnelState {
        self.settle(true);
        self.state()
    }

    fn settle(&mut self, at_end: bool) {
        if self.state.is_some() {
            return;
        }
        let [client, server] = &self.head;
        let outcome = match client.first() {
            // A proxy never speaks first: a server that does is the
            // flow's own (a mail server's greeting).
            None if at_end || !server.is_empty() => Some(TunnelState::None),
            None => None,
            Some(b'C' | b'c') => http_connect(client, server),
            Some(4) => socks4(client, server),
            Some(5) => socks5(client, server),
            Some(_) => Some(TunnelState::None),
        };
        let full = client.len() >= MAX_SETUP || server.len() >= MAX_SETUP;
        self.state = match outcome {
            Some(s) => Some(s),
            None if at_end || self.cut || full => Some(TunnelState::None),
            None => None,
        };
    }
}

/// `CONNECT host:port HTTP/1.x` … empty line; the proxy's `HTTP/1.x 2xx`
/// … empty line (RFC 9110 §9.3.6: any 2xx means the tunnel is open).
fn http_connect(client: &[u8], server: &[u8]) -> Option<TunnelState> {
    const VERB: &[u8] = b"CONNECT ";
    let n = VERB.len().min(client.len());
    if !client[..n].eq_ignore_ascii_case(&VERB[..n]) {
        return Some(TunnelState::None);
    }
    let request_end = header_end(client)?;
    let line_end = client.iter().position(|&b| b == b'\n')?;
    let line = String::from_utf8_lossy(&client[VERB.len()..line_end]).into_owned();
    let mut words = line.split_whitespace();
    let target = words.next()?;
    if !words.next()?.starts_with("HTTP/") {
        return Some(TunnelState::None);
    }
    let (host, port) = split_host_port(target)?;
    let reply_end = header_end(server)?;
    let status = server.split(|&b| b == b' ').nth(1)?;
    if !server.starts_with(b"HTTP/") || !status.starts_with(b"2") {
        return Some(TunnelState::None);
    }
    Some(TunnelState::Open(Tunnel {
        kind: TunnelKind::HttpConnect,
        host,
        port,
        user: None,
        password: None,
        inner_start: [request_end as u64, reply_end as u64],
    }))
}

/// Offset just after the empty line that ends an HTTP head.
fn header_end(bytes: &[u8]) -> Option<usize> {
    let crlf = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4);
    let lf = bytes.windows(2).position(|w| w == b"\n\n").map(|p| p + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// `host:port` or `[v6]:port`.
fn split_host_port(target: &str) -> Option<(String, u16)> {
    let (host, port) = target.rsplit_once(':')?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Some((host.to_string(), port.parse().ok()?))
}

/// SOCKS4 CONNECT: `04 01 port(2) ip(4) userid 00`, and for SOCKS4a (an
/// address 0.0.0.x, x ≠ 0) the host name `00`-terminated after it; the
/// proxy answers 8 bytes, `00 5A …` when it grants the request.
fn socks4(client: &[u8], server: &[u8]) -> Option<TunnelState> {
    if client.get(1).is_some_and(|&c| c != 1) {
        return Some(TunnelState::None);
    }
    if client.len() < 9 {
        return None;
    }
    let port = u16::from_be_bytes([client[2], client[3]]);
    let ip = [client[4], client[5], client[6], client[7]];
    let user_end = 8 + client[8..].iter().position(|&b| b == 0)?;
    let user = String::from_utf8_lossy(&client[8..user_end]).into_owned();
    let (host, request_end) = if ip[..3] == [0, 0, 0] && ip[3] != 0 {
        let from = user_end + 1;
        let end = from + client[from..].iter().position(|&b| b == 0)?;
        (
            String::from_utf8_lossy(&client[from..end]).into_owned(),
            end + 1,
        )
    } else {
        (std::net::Ipv4Addr::from(ip).to_string(), user_end + 1)
    };
    if server.len() < 8 {
        return None;
    }
    if server[0] != 0 || server[1] != 0x5A {
        return Some(TunnelState::None);
    }
    Some(TunnelState::Open(Tunnel {
        kind: TunnelKind::Socks4,
        host,
        port,
        user: (!user.is_empty()).then_some(user),
        password: None,
        inner_start: [request_end as u64, 8],
    }))
}

/// SOCKS5 (RFC 1928): the client's method offer `05 n m…`, the proxy's
/// choice `05 m`; with method 02, RFC 1929's `01 ulen user plen pass` and
/// its `01 00`; then the request `05 01 00 atyp addr port` and the reply
/// `05 00 00 atyp addr port` (00: succeeded).
fn socks5(client: &[u8], server: &[u8]) -> Option<TunnelState> {
    let methods = *client.get(1)? as usize;
    let mut c = 2 + methods;
    if client.len() < c {
        return None;
    }
    if server.len() < 2 {
        return None;
    }
    if server[0] != 5 || server[1] == 0xFF {
        return Some(TunnelState::None);
    }
    let mut s = 2;
    let (mut user, mut password) = (None, None);
    if server[1] == 2 {
        // RFC 1929 §2: version 1, then the user and the password, in clear.
        if *client.get(c)? != 1 {
            return Some(TunnelState::None);
        }
        let ulen = *client.get(c + 1)? as usize;
        let u = client.get(c + 2..c + 2 + ulen)?;
        let plen = *client.get(c + 2 + ulen)? as usize;
        let p = client.get(c + 3 + ulen..c + 3 + ulen + plen)?;
        user = Some(String::from_utf8_lossy(u).into_owned());
        password = Some(String::from_utf8_lossy(p).into_owned());
        c += 3 + ulen + plen;
        if *server.get(s + 1)? != 0 {
            return Some(TunnelState::None);
        }
        s += 2;
    }
    // CONNECT (01), answered "succeeded" (00).
    let Some((host, port, request_len)) = socks5_message(client.get(c..)?, 1)? else {
        return Some(TunnelState::None);
    };
    let Some((_, _, reply_len)) = socks5_message(server.get(s..)?, 0)? else {
        return Some(TunnelState::None);
    };
    Some(TunnelState::Open(Tunnel {
        kind: TunnelKind::Socks5,
        host,
        port,
        user,
        password,
        inner_start: [(c + request_len) as u64, (s + reply_len) as u64],
    }))
}

/// A SOCKS5 request or reply with the command or reply code `code`: both
/// are `05 code 00 atyp addr port` (RFC 1928 §4, §6). The address, the
/// port and the message's length; `None` while bytes are missing,
/// `Some(None)` when the bytes are not that message.
fn socks5_message(bytes: &[u8], code: u8) -> Option<Option<(String, u16, usize)>> {
    if bytes.len() < 4 {
        return None;
    }
    if bytes[0] != 5 || bytes[1] != code {
        return Some(None);
    }
    let (host, addr_len) = socks5_address(&bytes[3..])?;
    let port_at = 3 + addr_len;
    let port = u16::from_be_bytes([*bytes.get(port_at)?, *bytes.get(port_at + 1)?]);
    Some(Some((host, port, port_at + 2)))
}

/// A SOCKS5 address (`atyp` then the address) and its length in bytes.
fn socks5_address(bytes: &[u8]) -> Option<(String, usize)> {
    match *bytes.first()? {
        1 => {
            let a: [u8; 4] = bytes.get(1..5)?.try_into().ok()?;
            Some((std::net::Ipv4Addr::from(a).to_string(), 5))
        }
        3 => {
            let len = *bytes.get(1)? as usize;
            let name = bytes.get(2..2 + len)?;
            Some((String::from_utf8_lossy(name).into_owned(), 2 + len))
        }
        4 => {
            let a: [u8; 16] = bytes.get(1..17)?.try_into().ok()?;
            Some((std::net::Ipv6Addr::from(a).to_string(), 17))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: Direction = Direction::ClientToServer;
    const S: Direction = Direction::ServerToClient;

    fn read(script: &[(Direction, &[u8])]) -> TunnelState {
        let mut r = TunnelReader::default();
        let mut off = [0u64; 2];
        for (dir, bytes) in script {
            r.data(*dir, off[dir.index()], bytes);
            off[dir.index()] += bytes.len() as u64;
        }
        r.finish()
    }

    fn open(state: TunnelState) -> Tunnel {
        match state {
            TunnelState::Open(t) => t,
            other => panic!("no tunnel: {other:?}"),
        }
    }

    #[test]
    fn http_connect_to_a_mail_server() {
        let request = b"CONNECT mail.example.com:25 HTTP/1.0\r\nHost: mail.example.com:25\r\n\r\n";
        let reply = b"HTTP/1.0 200 Connection established\r\n\r\n";
        let t = open(read(&[
            (C, request),
            (S, reply),
            (S, b"220 mail.example.com ESMTP\r\n"),
        ]));
        assert_eq!(t.kind, TunnelKind::HttpConnect);
        assert_eq!((t.host.as_str(), t.port), ("mail.example.com", 25));
        assert_eq!(t.inner_start, [request.len() as u64, reply.len() as u64]);
        let refused = read(&[(C, request), (S, b"HTTP/1.1 403 Forbidden\r\n\r\n")]);
        assert_eq!(refused, TunnelState::None);
    }

    #[test]
    fn socks4_and_4a() {
        let mut req = vec![4, 1, 0, 25, 192, 0, 2, 7];
        req.extend_from_slice(b"bot\0");
        let t = open(read(&[(C, &req), (S, &[0, 0x5A, 0, 0, 0, 0, 0, 0])]));
        assert_eq!(t.kind, TunnelKind::Socks4);
        assert_eq!((t.host.as_str(), t.port), ("192.0.2.7", 25));
        assert_eq!(t.user.as_deref(), Some("bot"));
        assert_eq!(t.inner_start, [12, 8]);
        let mut req = vec![4, 1, 1, 0x9B, 0, 0, 0, 1, 0];
        req.extend_from_slice(b"mx.example.org\0");
        let t = open(read(&[(C, &req), (S, &[0, 0x5A, 0, 0, 0, 0, 0, 0])]));
        assert_eq!(
            (t.host.as_str(), t.port, t.user),
            ("mx.example.org", 411, None)
        );
        assert_eq!(t.inner_start[0], req.len() as u64);
        let denied = read(&[(C, &req), (S, &[0, 0x5B, 0, 0, 0, 0, 0, 0])]);
        assert_eq!(denied, TunnelState::None);
    }

    #[test]
    fn socks5_with_and_without_a_password() {
        let mut request = vec![5, 1, 0, 3, 14];
        request.extend_from_slice(b"mx.example.org");
        request.extend_from_slice(&[0, 25]);
        let reply = [5, 0, 0, 1, 10, 0, 0, 1, 0x1F, 0x90];
        let mut client = vec![5, 1, 0];
        client.extend_from_slice(&request);
        let mut server = vec![5, 0];
        server.extend_from_slice(&reply);
        let t = open(read(&[(C, &client), (S, &server)]));
        assert_eq!(t.kind, TunnelKind::Socks5);
        assert_eq!((t.host.as_str(), t.port), ("mx.example.org", 25));
        assert_eq!(t.inner_start, [client.len() as u64, server.len() as u64]);

        let mut client = vec![5, 1, 2, 1, 5];
        client.extend_from_slice(b"alice");
        client.push(6);
        client.extend_from_slice(b"secret");
        client.extend_from_slice(&request);
        let mut server = vec![5, 2, 1, 0];
        server.extend_from_slice(&reply);
        let t = open(read(&[(C, &client), (S, &server)]));
        assert_eq!(t.user.as_deref(), Some("alice"));
        assert_eq!(t.password.as_deref(), Some("secret"));
        assert_eq!(t.inner_start, [client.len() as u64, server.len() as u64]);
    }

    #[test]
    fn mail_and_other_traffic_are_no_tunnel() {
        assert_eq!(
            read(&[(S, b"220 mx ESMTP\r\n"), (C, b"EHLO a\r\n")]),
            TunnelState::None
        );
        assert_eq!(read(&[(C, b"CAPA\r\n")]), TunnelState::None);
        assert_eq!(read(&[(C, b"GET / HTTP/1.1\r\n\r\n")]), TunnelState::None);
        // A client that speaks first with a byte 04 or 05 but no proxy.
        assert_eq!(read(&[(C, &[5, 1, 0])]), TunnelState::None);
    }
}
