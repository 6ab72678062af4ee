//! Which protocol does a flow speak?
//!
//! Ports are only a hint: mail servers run on odd ports, and other services
//! (a Redis or a web server) sometimes sit on a mail port. So we look at the
//! first bytes each side sends, and use the port where the bytes say nothing.
//!
//! SMTP, POP3 and IMAP are "server speaks first" protocols: the server
//! greets before the client says anything (RFC 5321 §3.1, RFC 1939 §4,
//! RFC 9051 §7.1). Their greetings are recognisable:
//!
//! | protocol | greeting (first server line)        |
//! |----------|--------------------------------------|
//! | SMTP     | `220 hamburger.edu ESMTP …`          |
//! | POP3     | `+OK POP3 server ready`              |
//! | IMAP     | `* OK [CAPABILITY IMAP4rev1 …] …`    |
//!
//! HTTP and Redis are "client speaks first": a flow where the client opened
//! with `GET /` or `*1\r\n$4\r\nPING` is not mail, whatever its port.

use super::tunnel::{TunnelReader, TunnelState};
use super::{Protocol, TlsMode, tls};
use crate::flow::{Direction, StreamEvent, StreamHandler};
use crate::trace::Tunnel;
pub use crate::trace::Verdict;

/// How many leading bytes of each direction are kept for the decision.
pub const SNIFF_LEN: usize = 64;

/// Bytes a flow may show at most before the protocol is decided on what
/// was seen (the analysis holds them back until then).
pub const MAX_UNDECIDED: usize = 16 * 1024;

/// Standard ports: SMTP relay, submission (RFC 6409), SMTPS (RFC 8314) and
/// the common alternative 2525; POP3 and POP3S; IMAP and IMAPS.
pub fn port_protocol(port: u16) -> Option<Protocol> {
    match port {
        25 | 465 | 587 | 2525 => Some(Protocol::Smtp),
        110 | 995 => Some(Protocol::Pop3),
        143 | 993 => Some(Protocol::Imap),
        _ => None,
    }
}

/// Every port of [`port_protocol`].
pub const MAIL_PORTS: [u16; 8] = [25, 465, 587, 2525, 110, 995, 143, 993];

pub fn is_mail_port(port: u16) -> bool {
    port_protocol(port).is_some()
}

/// Ports where TLS starts with the first byte (RFC 8314 §3.3).
pub fn is_implicit_tls_port(port: u16) -> bool {
    matches!(port, 465 | 993 | 995)
}

/// The protocol of a decrypted implicit-TLS flow on a port that does not
/// say, from the server's first plaintext line (its greeting).
pub fn protocol_of_greeting(server: &[u8]) -> Option<Protocol> {
    greeting(server, None, true)
}

/// Keeps the first bytes of both directions, decides once what the flow
/// speaks, and watches for a switch to TLS. Cheap enough to run on every
/// flow: after the first [`SNIFF_LEN`] bytes it only looks at the first
/// bytes of each later chunk.
///
/// First it looks for a proxy tunnel's set-up (`proto::tunnel`); the
/// protocol is then the one spoken inside. The decision is made as soon as
/// the evidence cannot change any more — TLS from the first byte, a server
/// greeting that names its protocol, or the first line of both directions
/// — or when [`MAX_UNDECIDED`] bytes went by, or at the end of the flow;
/// then it is frozen. `flows` and `analyze` both ask this one decision, so
/// they cannot disagree.
#[derive(Clone, Debug)]
pub struct ProtocolSniffer {
    server_port: u16,
    /// The tunnel set-up being read; None once it is settled.
    tunnel_reader: Option<Box<TunnelReader>>,
    /// `(dir, offset, len, packet)` of the chunks seen while the tunnel
    /// question was open (replayed once it is answered).
    pending: Vec<(Direction, u64, usize, u64)>,
    tunnel: Option<Tunnel>,
    prefix: [[u8; SNIFF_LEN]; 2],
    prefix_len: [u8; 2],
    /// Capture index of the first data packet of each direction.
    first_packet: [Option<u64>; 2],
    /// Whether each direction has shown its first line (or enough bytes).
    ready: [bool; 2],
    /// Bytes seen in both directions (up to the decision).
    seen: usize,
    /// A TLS handshake record started a chunk after plaintext data.
    tls_after_plaintext: bool,
    /// The frozen decision (its `tls` is updated by later evidence).
    decided: Option<Verdict>,
}

impl ProtocolSniffer {
    pub fn new(server_port: u16) -> Self {
        ProtocolSniffer {
            server_port,
            tunnel_reader: Some(Box::default()),
            pending: Vec::new(),
            tunnel: None,
            prefix: [[0; SNIFF_LEN]; 2],
            prefix_len: [0; 2],
            first_packet: [None; 2],
            ready: [false; 2],
            seen: 0,
            tls_after_plaintext: false,
            decided: None,
        }
    }

    /// The decision, once the evidence allows one (see the type's doc).
    pub fn decided(&self) -> Option<Verdict> {
        let mut v = self.decided.clone()?;
        if v.tls == TlsMode::None && self.tls_after_plaintext && v.protocol != Protocol::Unknown {
            v.tls = TlsMode::Starttls;
        }
        Some(v)
    }

    /// The decision, made now on what was seen if it was not made yet
    /// (the flow is over).
    pub fn decide(&mut self) -> Verdict {
        if let Some(mut reader) = self.tunnel_reader.take() {
            let state = reader.finish();
            self.tunnel_settled(state, &reader);
        }
        if self.decided.is_none() {
            self.decided = Some(self.verdict());
        }
        self.decided().expect("decided above")
    }

    /// Freezes the decision when the evidence is complete.
    fn maybe_decide(&mut self) {
        if self.decided.is_some() || self.tunnel_reader.is_some() {
            return;
        }
        let client = self.prefix(Direction::ClientToServer);
        let server = self.prefix(Direction::ServerToClient);
        let by_port = port_protocol(self.inner_port());
        let server_first = self.server_first();
        let tls_start = looks_like_tls_start(client) || looks_like_tls_start(server);
        let named = self.ready[Direction::ServerToClient.index()]
            && greeting(server, by_port, server_first).is_some();
        let both = self.ready[0] && self.ready[1];
        if tls_start || named || both || self.seen >= MAX_UNDECIDED {
            self.decided = Some(self.verdict());
        }
    }

    /// The port the protocol inside is meant for: the tunnel's target port,
    /// else the flow's server port.
    fn inner_port(&self) -> u16 {
        self.tunnel.as_ref().map_or(self.server_port, |t| t.port)
    }

    fn server_first(&self) -> bool {
        match self.first_packet {
            [Some(c), Some(s)] => s < c,
            [None, Some(_)] => true,
            _ => false,
        }
    }

    fn prefix(&self, dir: Direction) -> &[u8] {
        let d = dir.index();
        &self.prefix[d][..self.prefix_len[d] as usize]
    }

    /// Decides from what was seen so far (the `tls` of plaintext stays
    /// `none`: [`decided`](Self::decided) adds a later STARTTLS).
    fn verdict(&self) -> Verdict {
        let client = self.prefix(Direction::ClientToServer);
        let server = self.prefix(Direction::ServerToClient);
        let by_port = port_protocol(self.inner_port());
        let server_first = self.server_first();
        let verdict = |protocol, tls, reason| Verdict {
            protocol,
            tls,
            reason,
            tunnel: self.tunnel.clone(),
        };

        if looks_like_tls_start(server) {
            return verdict(
                by_port.unwrap_or(Protocol::Tls),
                TlsMode::Implicit,
                "TLS records from the first byte",
            );
        }
        // A server that greets in clear is plaintext, even on 465/993/995
        // and even when the client opened with a ClientHello (a client set
        // up for implicit TLS talking to a plaintext port).
        if let Some(p) = greeting(server, by_port, server_first) {
            return verdict(p, TlsMode::None, "server greeting");
        }
        if looks_like_tls_start(client) {
            return verdict(
                by_port.unwrap_or(Protocol::Tls),
                TlsMode::Implicit,
                "TLS records from the first byte",
            );
        }
        if is_http(client) || is_http(server) {
            return verdict(Protocol::Unknown, TlsMode::None, "HTTP, not mail");
        }
        if is_resp(client) {
            return verdict(Protocol::Unknown, TlsMode::None, "Redis protocol, not mail");
        }
        // The client's side names the protocol on any port (Zeek's dynamic
        // protocol detection works the same way): EHLO/HELO/MAIL FROM are
        // SMTP's own, a tagged LOGIN/CAPABILITY is IMAP's, CAPA/STLS/APOP
        // and USER/AUTH answered `+OK`/`-ERR` are POP3's.
        if let Some(p) = client_protocol(client, server)
            && by_port != Some(p)
        {
            return verdict(p, TlsMode::None, "client commands");
        }
        if let Some(p) = by_port {
            if client.is_empty() && server.is_empty() {
                return verdict(p, TlsMode::None, "port (no payload)");
            }
            if looks_like_commands(p, client) || looks_like_replies(p, server) {
                return verdict(
                    p,
                    TlsMode::None,
                    "commands and replies (greeting not captured)",
                );
            }
            return verdict(
                Protocol::Unknown,
                TlsMode::None,
                "payload does not match the port's protocol",
            );
        }
        for p in [Protocol::Smtp, Protocol::Pop3, Protocol::Imap] {
            if looks_like_commands(p, client) && looks_like_replies(p, server) {
                return verdict(
                    p,
                    TlsMode::None,
                    "commands and replies (greeting not captured)",
                );
            }
        }
        verdict(
            Protocol::Unknown,
            TlsMode::None,
            "no mail protocol recognised",
        )
    }

    /// The tunnel (if any) through which the flow's protocol is spoken.
    pub fn tunnel(&self) -> Option<&Tunnel> {
        self.tunnel.as_ref()
    }

    /// The tunnel question is answered: what was held is looked at again,
    /// from the first tunnelled byte of each direction (or from the start
    /// when there is no tunnel).
    fn tunnel_settled(&mut self, state: TunnelState, reader: &TunnelReader) {
        let start = match state {
            TunnelState::Open(t) => {
                let start = t.inner_start;
                self.tunnel = Some(t);
                start
            }
            _ => [0, 0],
        };
        for (dir, offset, len, packet) in std::mem::take(&mut self.pending) {
            let d = dir.index();
            let head = reader.head(dir);
            let from = offset.max(start[d]);
            let to = (offset + len as u64).min(head.len() as u64);
            if from < to {
                self.observe(dir, &head[from as usize..to as usize], packet);
            }
        }
    }

    /// Bytes of the flow's protocol (after any tunnel set-up).
    fn observe(&mut self, dir: Direction, bytes: &[u8], packet: u64) {
        let d = dir.index();
        let first_chunk = self.first_packet[d].is_none();
        if first_chunk {
            self.first_packet[d] = Some(packet);
        } else if !self.tls_after_plaintext
            && tls::looks_like_handshake(bytes)
            && !looks_like_tls_start(self.prefix(dir))
        {
            // STARTTLS (RFC 3207) / STLS (RFC 2595): after the plaintext
            // "go ahead", the next thing on the wire is a TLS handshake.
            self.tls_after_plaintext = true;
        }
        let have = self.prefix_len[d] as usize;
        if have < SNIFF_LEN {
            let take = (SNIFF_LEN - have).min(bytes.len());
            self.prefix[d][have..have + take].copy_from_slice(&bytes[..take]);
            self.prefix_len[d] = (have + take) as u8;
        }
        if self.decided.is_none() {
            self.seen += bytes.len();
            if !self.ready[d]
                && (self.prefix(dir).contains(&b'\n') || self.prefix_len[d] as usize >= SNIFF_LEN)
            {
                self.ready[d] = true;
            }
            self.maybe_decide();
        }
    }
}

impl StreamHandler for ProtocolSniffer {
    fn on_event(&mut self, dir: Direction, event: StreamEvent<'_>) {
        let Some(reader) = self.tunnel_reader.as_mut() else {
            if let StreamEvent::Data(p) = event {
                self.observe(dir, p.bytes, p.packet);
            }
            return;
        };
        match event {
            StreamEvent::Data(p) => {
                reader.data(dir, p.offset, p.bytes);
                self.pending.push((dir, p.offset, p.bytes.len(), p.packet));
            }
            StreamEvent::Gap { .. } => reader.gap(),
        }
        let state = reader.state();
        if state != TunnelState::Undecided {
            let reader = self.tunnel_reader.take().expect("checked above");
            self.tunnel_settled(state, &reader);
        }
    }
}

/// The protocol the client's first line names on its own (with the
/// server's first line to tell POP3's USER from FTP's).
fn client_protocol(client: &[u8], server: &[u8]) -> Option<Protocol> {
    let line = first_line(client);
    let word = |w: &[u8]| {
        starts_with_ignore_case(line, w)
            && matches!(line.get(w.len()), None | Some(b' ' | b'\r' | b':'))
    };
    if word(b"EHLO") || word(b"HELO") || starts_with_ignore_case(line, b"MAIL FROM:") {
        return Some(Protocol::Smtp);
    }
    if is_imap_command(line) {
        return Some(Protocol::Imap);
    }
    let pop3_reply = line_is_pop3_reply(first_line(server));
    if word(b"CAPA") || word(b"STLS") || word(b"APOP") {
        // CAPA alone is POP3's (RFC 2449); a server that answered with a
        // numeric code is something else.
        return (!starts_with_digit(server)).then_some(Protocol::Pop3);
    }
    if (word(b"USER") || word(b"AUTH")) && (pop3_reply || server.is_empty()) {
        return Some(Protocol::Pop3);
    }
    None
}

fn starts_with_digit(bytes: &[u8]) -> bool {
    bytes.first().is_some_and(u8::is_ascii_digit)
}

fn line_is_pop3_reply(line: &[u8]) -> bool {
    line.starts_with(b"+OK") || line.starts_with(b"-ERR")
}

/// `tag SP command` where the tag is an IMAP atom (RFC 9051 §2.2.1, §9:
/// no `+`, `(`, `)`, `{`, `%`, `*`, `"`, `\`, SP or control characters) and
/// the command opens a session: LOGIN, CAPABILITY, AUTHENTICATE, STARTTLS.
fn is_imap_command(line: &[u8]) -> bool {
    let Some(sp) = line.iter().position(|&b| b == b' ') else {
        return false;
    };
    let tag = &line[..sp];
    let atom = !tag.is_empty()
        && tag
            .iter()
            .all(|&b| b > b' ' && b < 0x7F && !b"(){%*\"\\+]".contains(&b));
    let rest = &line[sp + 1..];
    atom && [&b"LOGIN "[..], b"CAPABILITY", b"AUTHENTICATE ", b"STARTTLS"]
        .iter()
        .any(|c| starts_with_ignore_case(rest, c))
}

fn looks_like_tls_start(prefix: &[u8]) -> bool {
    tls::looks_like_record(prefix, None)
}

fn first_line(bytes: &[u8]) -> &[u8] {
    let end = bytes
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(bytes.len());
    &bytes[..end]
}

fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

fn starts_with_ignore_case(bytes: &[u8], prefix: &[u8]) -> bool {
    bytes.len() >= prefix.len() && bytes[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// Recognises a server greeting. On a port of another (or no) mail protocol
/// the greeting must name its protocol, since `220` is also FTP's greeting.
fn greeting(server: &[u8], by_port: Option<Protocol>, server_first: bool) -> Option<Protocol> {
    let line = first_line(server);
    let on_port = |p| by_port == Some(p);
    // RFC 5321 §4.2: "220" then SP or "-" (a multi-line greeting).
    let smtp_code = line.len() >= 3
        && &line[..3] == b"220"
        && matches!(line.get(3), None | Some(b' ' | b'-' | b'\r'));
    if smtp_code
        && (on_port(Protocol::Smtp) || (server_first && contains_ignore_case(line, b"SMTP")))
    {
        return Some(Protocol::Smtp);
    }
    if line.starts_with(b"+OK") && (on_port(Protocol::Pop3) || server_first) {
        return Some(Protocol::Pop3);
    }
    let imap = line.starts_with(b"* OK") || line.starts_with(b"* PREAUTH");
    if imap && (on_port(Protocol::Imap) || (server_first && contains_ignore_case(line, b"IMAP"))) {
        return Some(Protocol::Imap);
    }
    None
}

fn is_http(bytes: &[u8]) -> bool {
    const METHODS: [&[u8]; 9] = [
        b"GET ",
        b"POST ",
        b"HEAD ",
        b"PUT ",
        b"DELETE ",
        b"OPTIONS ",
        b"CONNECT ",
        b"PATCH ",
        b"HTTP/1.",
    ];
    METHODS.iter().any(|m| bytes.starts_with(m))
}

/// Redis' RESP: a client command is an array `*<n>\r\n` or an inline PING.
fn is_resp(bytes: &[u8]) -> bool {
    matches!(bytes, [b'*', d, ..] if d.is_ascii_digit())
}

fn looks_like_commands(p: Protocol, client: &[u8]) -> bool {
    let line = first_line(client);
    let verbs: &[&[u8]] = match p {
        Protocol::Smtp => &[
            b"EHLO ",
            b"HELO ",
            b"MAIL FROM",
            b"RCPT TO",
            b"DATA",
            b"QUIT",
            b"RSET",
            b"NOOP",
            b"AUTH ",
            b"STARTTLS",
            b"BDAT ",
            b"VRFY ",
            b"EXPN ",
            b"HELP",
        ],
        Protocol::Pop3 => &[
            b"USER ", b"PASS ", b"APOP ", b"AUTH", b"CAPA", b"STAT", b"LIST", b"RETR ", b"TOP ",
            b"DELE ", b"UIDL", b"QUIT", b"STLS", b"NOOP", b"RSET",
        ],
        Protocol::Imap => {
            // "tag SP command" (RFC 9051 §2.2.1).
            let Some(sp) = line.iter().position(|&b| b == b' ') else {
                return false;
            };
            let rest = &line[sp + 1..];
            const CMDS: [&[u8]; 16] = [
                b"LOGIN ",
                b"CAPABILITY",
                b"AUTHENTICATE ",
                b"SELECT ",
                b"EXAMINE ",
                b"FETCH ",
                b"UID ",
                b"LIST ",
                b"LSUB ",
                b"STARTTLS",
                b"LOGOUT",
                b"NOOP",
                b"APPEND ",
                b"STORE ",
                b"SEARCH ",
                b"IDLE",
            ];
            return sp > 0 && CMDS.iter().any(|c| starts_with_ignore_case(rest, c));
        }
        _ => return false,
    };
    // A verb alone on its line counts too ("EHLO", "STARTTLS").
    verbs.iter().any(|v| {
        starts_with_ignore_case(line, v)
            || (v.ends_with(b" ")
                && starts_with_ignore_case(line, v.trim_ascii_end())
                && matches!(line.get(v.len() - 1), None | Some(b'\r')))
    })
}

fn looks_like_replies(p: Protocol, server: &[u8]) -> bool {
    let line = first_line(server);
    match p {
        Protocol::Smtp => {
            // "250 ok", "250-…", or a bare "250" (RFC 5321 §4.2: the text
            // is optional).
            let code = matches!(line, [a @ b'2'..=b'5', b, c, ..]
                if b.is_ascii_digit() && c.is_ascii_digit() && *a != b'3');
            let after = line.get(3);
            (code && matches!(after, None | Some(b' ' | b'-' | b'\r'))) || line.starts_with(b"354")
        }
        Protocol::Pop3 => line.starts_with(b"+OK") || line.starts_with(b"-ERR"),
        Protocol::Imap => line.starts_with(b"* ") || line.starts_with(b"+ "),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::Timestamp;

    fn sniff(port: u16, script: &[(Direction, &[u8])]) -> Verdict {
        let mut s = ProtocolSniffer::new(port);
        let mut off = [0u64; 2];
        for (i, (dir, bytes)) in script.iter().enumerate() {
            s.on_event(
                *dir,
                StreamEvent::Data(crate::flow::Piece {
                    offset: off[dir.index()],
                    bytes,
                    packet: i as u64,
                    ts: Timestamp::default(),
                }),
            );
            off[dir.index()] += bytes.len() as u64;
        }
        s.decide()
    }

    use Direction::{ClientToServer as C, ServerToClient as S};

    #[test]
    fn greetings_on_any_port() {
        let v = sniff(
            8025,
            &[(S, b"220 mx.example ESMTP Postfix\r\n"), (C, b"EHLO x\r\n")],
        );
        assert_eq!((v.protocol, v.tls), (Protocol::Smtp, TlsMode::None));
        assert_eq!(
            sniff(8110, &[(S, b"+OK ready\r\n")]).protocol,
            Protocol::Pop3
        );
        let v = sniff(8143, &[(S, b"* OK [CAPABILITY IMAP4rev1] hi\r\n")]);
        assert_eq!(v.protocol, Protocol::Imap);
        // FTP's 220 is not SMTP.
        assert_eq!(
            sniff(21, &[(S, b"220 ProFTPD ready\r\n")]).protocol,
            Protocol::Unknown
        );
    }

    #[test]
    fn non_mail_on_mail_ports() {
        let http = sniff(
            25,
            &[(C, b"GET / HTTP/1.1\r\n"), (S, b"HTTP/1.1 200 OK\r\n")],
        );
        assert_eq!(http.protocol, Protocol::Unknown);
        let redis = sniff(110, &[(C, b"*1\r\n$4\r\nPING\r\n"), (S, b"+PONG\r\n")]);
        assert_eq!(redis.protocol, Protocol::Unknown);
        // Redis answering +OK to a client that spoke first is still not POP3.
        let redis = sniff(8110, &[(C, b"*3\r\n$3\r\nSET\r\n"), (S, b"+OK\r\n")]);
        assert_eq!(redis.protocol, Protocol::Unknown);
    }

    #[test]
    fn tls_implicit_and_starttls() {
        let hello = [0x16, 3, 1, 0, 0x40, 1, 0, 0, 0x3c];
        let v = sniff(993, &[(C, &hello)]);
        assert_eq!((v.protocol, v.tls), (Protocol::Imap, TlsMode::Implicit));
        assert_eq!(sniff(4443, &[(C, &hello)]).protocol, Protocol::Tls);
        let v = sniff(
            25,
            &[
                (S, b"220 mx ESMTP\r\n"),
                (C, b"EHLO a.example\r\n"),
                (S, b"250-mx\r\n250 STARTTLS\r\n"),
                (C, b"STARTTLS\r\n"),
                (S, b"220 go ahead\r\n"),
                (C, &hello),
            ],
        );
        assert_eq!((v.protocol, v.tls), (Protocol::Smtp, TlsMode::Starttls));
    }

    #[test]
    fn midstream_and_port_only() {
        let v = sniff(
            25,
            &[(C, b"RCPT TO:<bob@hamburger.edu>\r\n"), (S, b"250 ok\r\n")],
        );
        assert_eq!(v.protocol, Protocol::Smtp);
        assert_eq!(sniff(143, &[]).protocol, Protocol::Imap);
        assert_eq!(sniff(143, &[]).reason, "port (no payload)");
        assert_eq!(sniff(5555, &[]).protocol, Protocol::Unknown);
    }
}
