//! The user agents: Alice writes and submits a message, Bob reads it.
//!
//! They are scripted clients with short pauses between steps (scaled by
//! `--speed`) so that a person, or an animation, can follow them.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;

use super::client;
use super::conn::LineConn;
use crate::proto::TlsMode;
use crate::proto::imap::command::Command as ImapCommand;
use crate::proto::imap::syntax::Tok;
use crate::proto::pop3::{self, Scan};
use crate::proto::smtp::{Command, Path};

/// The attachment Alice sends: a 1×1 PNG image (a real, valid file).
pub const ATTACHMENT_NAME: &str = "picnic-map.png";
pub const ATTACHMENT: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0,
    0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D, 0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];
/// Subject with non-ASCII letters: it travels as an RFC 2047 encoded word.
pub const SUBJECT: &str = "¿Pícnic el sábado? Información";
pub const BODY_TEXT: &str = "Hola Bob,\n\n¿Vienes al pícnic del sábado? Te mando el mapa.\nLlevo crêpes; tú traes las hamburguesas.\n\n.Esta línea empieza con un punto (transparencia SMTP).\n\nAlice\n";

/// Quoted-printable (RFC 2045 §6.7) for the text part: ASCII stays
/// readable, other bytes become =XX, lines stay under 76 characters.
fn quoted_printable(text: &str) -> String {
    let mut out = String::new();
    for line in text.split('\n') {
        let mut width = 0;
        let bytes = line.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            let last = i + 1 == bytes.len();
            let piece = if (b == b' ' || b == b'\t') && last {
                format!("={b:02X}") // trailing white space would be lost
            } else if (33..=126).contains(&b) && b != b'=' || b == b' ' || b == b'\t' {
                (b as char).to_string()
            } else {
                format!("={b:02X}")
            };
            if width + piece.len() > 75 {
                out.push_str("=\r\n"); // soft line break
                width = 0;
            }
            width += piece.len();
            out.push_str(&piece);
        }
        out.push_str("\r\n");
    }
    out.truncate(out.len() - 2);
    out
}

/// Build Alice's message: multipart/mixed with a text part and the image.
pub fn compose(from: &str, to: &str, date_unix: i64, message_id: &str) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let boundary = "=_mailscope_picnic_boundary";
    let mut m = String::new();
    m.push_str(&format!("From: Alice <{from}>\r\n"));
    m.push_str(&format!("To: Bob <{to}>\r\n"));
    // RFC 2047: non-ASCII header text as =?charset?B?base64?=
    m.push_str(&format!("Subject: =?UTF-8?B?{}?=\r\n", b64.encode(SUBJECT)));
    m.push_str(&format!(
        "Date: {}\r\n",
        mail_parser::DateTime::from_timestamp(date_unix).to_rfc822()
    ));
    m.push_str(&format!("Message-ID: <{message_id}>\r\n"));
    m.push_str("MIME-Version: 1.0\r\n");
    m.push_str(&format!(
        "Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n"
    ));
    m.push_str("This is a multi-part message in MIME format.\r\n\r\n");
    m.push_str(&format!("--{boundary}\r\n"));
    m.push_str("Content-Type: text/plain; charset=utf-8\r\n");
    m.push_str("Content-Transfer-Encoding: quoted-printable\r\n\r\n");
    m.push_str(&quoted_printable(BODY_TEXT));
    m.push_str(&format!("\r\n--{boundary}\r\n"));
    m.push_str(&format!(
        "Content-Type: image/png; name=\"{ATTACHMENT_NAME}\"\r\n"
    ));
    m.push_str("Content-Transfer-Encoding: base64\r\n");
    m.push_str(&format!(
        "Content-Disposition: attachment; filename=\"{ATTACHMENT_NAME}\"\r\n\r\n"
    ));
    let encoded = b64.encode(ATTACHMENT);
    for chunk in encoded.as_bytes().chunks(76) {
        m.push_str(std::str::from_utf8(chunk).unwrap_or(""));
        m.push_str("\r\n");
    }
    m.push_str(&format!("--{boundary}--\r\n"));
    m.into_bytes()
}

/// The pace of the scripted agents.
#[derive(Clone, Copy, Debug)]
pub struct Pace {
    pub step: Duration,
}

impl Pace {
    /// `speed` 1.0 waits 150 ms between steps; 2.0 twice as fast; 0 none.
    pub fn new(speed: f64) -> Pace {
        let step = if speed > 0.0 && speed.is_finite() {
            Duration::from_secs_f64((0.15 / speed).min(10.0))
        } else {
            Duration::ZERO
        };
        Pace { step }
    }
    pub async fn pause(&self) {
        if !self.step.is_zero() {
            tokio::time::sleep(self.step).await;
        }
    }
}

fn fail(what: impl std::fmt::Display) -> io::Error {
    io::Error::other(what.to_string())
}

/// Where and how an agent connects.
#[derive(Clone)]
pub struct AgentSettings {
    pub from: IpAddr,
    /// The agent's machine name, for EHLO.
    pub client_name: String,
    pub server: SocketAddr,
    pub server_name: String,
    pub tls: TlsMode,
    pub tls_config: Arc<rustls::ClientConfig>,
    pub user: String,
    pub password: String,
    pub pace: Pace,
}

async fn open(s: &AgentSettings) -> io::Result<LineConn> {
    let mut conn = client::connect(s.from, s.server).await?;
    if s.tls == TlsMode::Implicit {
        conn.connect_tls(s.tls_config.clone(), &s.server_name)
            .await?;
    }
    Ok(conn)
}

/// Alice's agent: submission with AUTH PLAIN (after STARTTLS unless the
/// lesson is about clear text); without AUTH when `s.user` is empty (an
/// open relay asks no one). Returns the server's final reply.
pub async fn submit(s: &AgentSettings, from: &str, to: &str, message: &[u8]) -> io::Result<String> {
    let mut c = open(s).await?;
    let greeting = client::smtp_reply(&mut c).await?;
    if greeting.code != 220 {
        return Err(fail(format!("greeting: {}", greeting.summary())));
    }
    s.pace.pause().await;
    let hello = Command::Ehlo(s.client_name.clone());
    let mut ehlo = client::smtp(&mut c, &hello).await?;
    if s.tls == TlsMode::Starttls {
        s.pace.pause().await;
        let r = client::smtp(&mut c, &Command::Starttls).await?;
        if r.code != 220 {
            return Err(fail(format!("STARTTLS refused: {}", r.summary())));
        }
        c.connect_tls(s.tls_config.clone(), &s.server_name).await?;
        ehlo = client::smtp(&mut c, &hello).await?;
    }
    if !ehlo.is_positive() {
        return Err(fail(format!("EHLO: {}", ehlo.summary())));
    }
    s.pace.pause().await;
    if !s.user.is_empty() {
        let plain = base64::engine::general_purpose::STANDARD
            .encode(format!("\0{}\0{}", s.user, s.password));
        let auth = Command::Auth {
            mechanism: "PLAIN".into(),
            initial_response: Some(plain),
        };
        let r = client::smtp(&mut c, &auth).await?;
        if r.code != 235 {
            return Err(fail(format!("AUTH: {}", r.summary())));
        }
        s.pace.pause().await;
    }
    for cmd in [
        Command::Mail(Some(Path::new(from))),
        Command::Rcpt(Some(Path::new(to))),
    ] {
        let r = client::smtp(&mut c, &cmd).await?;
        if !r.is_positive() {
            return Err(fail(format!("{cmd}: {}", r.summary())));
        }
        s.pace.pause().await;
    }
    let r = client::smtp(&mut c, &Command::Data).await?;
    if r.code != 354 {
        return Err(fail(format!("DATA: {}", r.summary())));
    }
    let done = client::smtp_data(&mut c, message).await?;
    if !done.is_positive() {
        return Err(fail(format!("message refused: {}", done.summary())));
    }
    s.pace.pause().await;
    client::smtp(&mut c, &Command::Quit).await?;
    c.shutdown().await?;
    Ok(done.summary())
}

/// Bob's agent over POP3: log in, STAT, LIST, RETR the first message and,
/// unless `keep`, DELE it; QUIT (which is when the deletion happens).
pub async fn read_pop3(s: &AgentSettings, keep: bool) -> io::Result<Vec<u8>> {
    let mut c = open(s).await?;
    let greeting = client::pop3(&mut c, None).await?;
    if !greeting.is_ok() {
        return Err(fail(greeting));
    }
    s.pace.pause().await;
    if s.tls == TlsMode::Starttls {
        let r = client::pop3(&mut c, Some(&pop3::Command::Stls)).await?;
        if !r.is_ok() {
            return Err(fail(format!("STLS: {r}")));
        }
        c.connect_tls(s.tls_config.clone(), &s.server_name).await?;
    }
    for cmd in [
        pop3::Command::User(s.user.clone()),
        pop3::Command::Pass(s.password.clone()),
        pop3::Command::Stat,
    ] {
        let r = client::pop3(&mut c, Some(&cmd)).await?;
        if !r.is_ok() {
            return Err(fail(format!("{cmd}: {r}")));
        }
        s.pace.pause().await;
    }
    let r = client::pop3(&mut c, Some(&pop3::Command::List(Scan::All))).await?;
    if !r.is_ok() {
        return Err(fail(r));
    }
    let list = client::pop3_multiline(&mut c).await?;
    if list.is_empty() {
        return Err(fail("the maildrop is empty"));
    }
    s.pace.pause().await;
    let r = client::pop3(&mut c, Some(&pop3::Command::Retr(Some(1)))).await?;
    if !r.is_ok() {
        return Err(fail(r));
    }
    let message = client::pop3_multiline(&mut c).await?;
    s.pace.pause().await;
    if !keep {
        let r = client::pop3(&mut c, Some(&pop3::Command::Dele(Some(1)))).await?;
        if !r.is_ok() {
            return Err(fail(r));
        }
        s.pace.pause().await;
    }
    client::pop3(&mut c, Some(&pop3::Command::Quit)).await?;
    c.shutdown().await?;
    Ok(message)
}

/// Bob's agent over IMAP: LOGIN, SELECT INBOX, FETCH the first message,
/// flag it \Deleted, EXPUNGE, LOGOUT.
pub async fn read_imap(s: &AgentSettings) -> io::Result<Vec<u8>> {
    let mut c = open(s).await?;
    let greeting = client::imap_line(&mut c).await?;
    if !greeting.text.starts_with("* OK") {
        return Err(fail(greeting.text));
    }
    s.pace.pause().await;
    let mut n = 0;
    // Each command from the shared IMAP grammar, with the next tag (RFC 3501
    // §2.2.1: a new tag per command); user and password go as astrings, so a
    // password with a space or a quote is quoted (§4.3), not split.
    let mut command = |name: &str, args: Vec<Tok>| {
        n += 1;
        ImapCommand::new(&format!("a{n}"), name, args)
    };
    let atoms = |words: &[&str]| words.iter().map(|w| Tok::Atom(w.to_string())).collect();
    if s.tls == TlsMode::Starttls {
        let (ok, _, l) = client::imap(&mut c, &command("STARTTLS", vec![])).await?;
        if !ok {
            return Err(fail(format!("STARTTLS: {l}")));
        }
        c.connect_tls(s.tls_config.clone(), &s.server_name).await?;
    }
    let login = vec![
        Tok::astring_of(s.user.as_bytes()),
        Tok::astring_of(s.password.as_bytes()),
    ];
    let flags = Tok::List(vec![Tok::Atom("\\Deleted".into())]);
    let mut message = None;
    for (name, args) in [
        ("LOGIN", login),
        ("SELECT", atoms(&["INBOX"])),
        (
            "FETCH",
            vec![
                Tok::Atom("1".into()),
                Tok::List(atoms(&["FLAGS", "BODY[]"])),
            ],
        ),
        (
            "STORE",
            vec![Tok::Atom("1".into()), Tok::Atom("+FLAGS".into()), flags],
        ),
        ("EXPUNGE", vec![]),
    ] {
        let (ok, untagged, l) = client::imap(&mut c, &command(name, args)).await?;
        if !ok {
            return Err(fail(format!("{name}: {l}")));
        }
        if name == "FETCH" {
            message = untagged
                .into_iter()
                .find_map(|u| u.literals.into_iter().next());
        }
        s.pace.pause().await;
    }
    client::imap(&mut c, &command("LOGOUT", vec![])).await?;
    c.shutdown().await?;
    message.ok_or_else(|| fail("FETCH returned no message"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::MimeHeaders;

    #[test]
    fn the_composed_message_parses_back() {
        let m = compose(
            "alice@crepes.fr",
            "bob@hamburger.edu",
            1_764_000_000,
            "1@crepes.fr",
        );
        let parsed = mail_parser::MessageParser::default().parse(&m).unwrap();
        assert_eq!(parsed.subject(), Some(SUBJECT));
        assert_eq!(
            parsed.body_text(0).as_deref(),
            Some(BODY_TEXT.replace('\n', "\r\n").as_str())
        );
        let att = parsed.attachment(0).unwrap();
        assert_eq!(att.attachment_name(), Some(ATTACHMENT_NAME));
        assert_eq!(att.contents(), ATTACHMENT);
        assert!(m.split(|b| *b == b'\n').all(|l| l.len() <= 78));
    }
}
