//! A line client over a plain socket, for the attack tests: it types what
//! an attacker types and reads exactly what the server answers.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

pub struct Raw {
    pub reader: BufReader<TcpStream>,
    pub writer: TcpStream,
}

/// How the server ended a connection, as the client sees it.
#[derive(Debug, PartialEq, Eq)]
pub enum End {
    /// A FIN (or a reset): the server closed it.
    Closed,
    /// Still open when the read timeout passed.
    StillOpen,
}

impl Raw {
    /// Connect to `ip:port`; reads give up after 30 s.
    pub fn connect(ip: &str, port: u16) -> Raw {
        let s = TcpStream::connect((ip, port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        Raw {
            reader: BufReader::new(s.try_clone().unwrap()),
            writer: s,
        }
    }

    /// One line as sent, CRLF included; empty when the server closed.
    pub fn line(&mut self) -> String {
        let mut l = String::new();
        match self.reader.read_line(&mut l) {
            Ok(_) => l,
            Err(e) if e.kind() == ErrorKind::ConnectionReset => l,
            Err(e) => panic!("reading a line: {e} (so far {l:?})"),
        }
    }

    pub fn send(&mut self, text: &str) {
        self.writer.write_all(text.as_bytes()).unwrap();
    }

    /// Sends `command` and reads lines until one starts with `until`.
    pub fn ask(&mut self, command: &str, until: &str) -> Vec<String> {
        self.send(&format!("{command}\r\n"));
        let mut lines = Vec::new();
        loop {
            let l = self.line();
            let done = l.is_empty() || l.starts_with(until);
            lines.push(l);
            if done {
                return lines;
            }
        }
    }

    /// Reads until the server closes (or the read timeout passes);
    /// returns how it ended and how many bytes came before.
    pub fn drain(&mut self) -> (End, usize) {
        let mut total = 0;
        let mut buf = vec![0; 64 * 1024];
        loop {
            match self.reader.read(&mut buf) {
                Ok(0) => return (End::Closed, total),
                Ok(n) => total += n,
                Err(e) if e.kind() == ErrorKind::ConnectionReset => return (End::Closed, total),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return (End::StillOpen, total);
                }
                Err(e) => panic!("reading: {e}"),
            }
        }
    }
}

/// Deliver one message to bob over SMTP (port 25 of the offset plan).
pub fn deliver(ip: &str, subject: &str) {
    let mut s = Raw::connect(ip, super::classroom::SMTP);
    assert!(s.line().starts_with("220 "));
    s.ask("EHLO crepes.fr", "250 ");
    for (command, want) in [
        ("MAIL FROM:<alice@crepes.fr>", "250 "),
        ("RCPT TO:<bob@hamburger.edu>", "250 "),
        ("DATA", "354 "),
    ] {
        assert!(s.ask(command, "")[0].starts_with(want), "{command}");
    }
    let reply = s.ask(&format!("Subject: {subject}\r\n\r\nhello\r\n."), "");
    assert!(reply[0].starts_with("250 "), "{reply:?}");
}
