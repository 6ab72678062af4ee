//! POP3 responses (RFC 1939 §3): a status indicator and text on one line.
//!
//! ```text
//! +OK 2 messages (320 octets)      it worked
//! -ERR no such message             it did not
//! + VXNlcm5hbWU6                   a SASL challenge (RFC 5034 §4)
//! ```
//!
//! Some `+OK`s start a multi-line response (LIST and UIDL without
//! argument, RETR, TOP, CAPA, AUTH without argument): lines of text,
//! dot-stuffed, up to a line holding only "." (see [`crate::proto::dot`]).
//! Whether one does depends on the command it answers, not on the line
//! itself.

use std::fmt;

use crate::proto::dot;

/// One status line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Response {
    /// `+OK text`.
    Ok(String),
    /// `-ERR text`.
    Err(String),
    /// `+ text`: the server waits for the next SASL response.
    Continue(String),
}

impl Response {
    /// `+OK`, `-ERR` or `+ ` at the start of the line; `None` for anything
    /// else. The text is what follows, one space removed.
    pub fn parse(line: &[u8]) -> Option<Response> {
        let text = |rest: &[u8]| {
            let rest = rest.strip_prefix(b" ").unwrap_or(rest);
            String::from_utf8_lossy(rest).into_owned()
        };
        if let Some(rest) = line.strip_prefix(b"+OK") {
            Some(Response::Ok(text(rest)))
        } else if let Some(rest) = line.strip_prefix(b"-ERR") {
            Some(Response::Err(text(rest)))
        } else if line == b"+" || line.starts_with(b"+ ") {
            Some(Response::Continue(text(&line[1..])))
        } else {
            None
        }
    }

    pub fn is_ok(&self) -> bool {
        matches!(self, Response::Ok(_))
    }

    /// The text after the status indicator.
    pub fn text(&self) -> &str {
        match self {
            Response::Ok(t) | Response::Err(t) | Response::Continue(t) => t,
        }
    }

    /// The status line with its CRLF.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.to_string().as_bytes());
        out.extend_from_slice(b"\r\n");
    }

    /// The status line, then `body` as a multi-line response: dot-stuffed
    /// lines and the final "." (RFC 1939 §3).
    pub fn emit_multiline(&self, body: &[u8], out: &mut Vec<u8>) {
        self.emit(out);
        dot::stuff(body, out);
    }
}

/// The status line without CRLF: `+OK` alone when there is no text.
impl fmt::Display for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (status, text) = match self {
            Response::Ok(t) => ("+OK", t),
            Response::Err(t) => ("-ERR", t),
            // RFC 5034 §4: "+" SP [base64], the space always there.
            Response::Continue(t) => return write!(f, "+ {t}"),
        };
        if text.is_empty() {
            f.write_str(status)
        } else {
            write!(f, "{status} {text}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines() {
        assert_eq!(
            Response::parse(b"+OK 2 messages"),
            Some(Response::Ok("2 messages".into()))
        );
        assert_eq!(Response::parse(b"+OK"), Some(Response::Ok(String::new())));
        assert_eq!(
            Response::parse(b"-ERR no such message"),
            Some(Response::Err("no such message".into()))
        );
        assert_eq!(
            Response::parse(b"+ VXNlcm5hbWU6"),
            Some(Response::Continue("VXNlcm5hbWU6".into()))
        );
        assert_eq!(
            Response::parse(b"+"),
            Some(Response::Continue(String::new()))
        );
        assert_eq!(Response::parse(b"HTTP/1.1 200 OK"), None);
    }

    #[test]
    fn what_is_emitted_reads_back() {
        for r in [
            Response::Ok(String::new()),
            Response::Ok("send PASS".into()),
            Response::Err("unknown command".into()),
            Response::Continue(String::new()),
        ] {
            let mut wire = Vec::new();
            r.emit(&mut wire);
            assert_eq!(Response::parse(&wire[..wire.len() - 2]), Some(r));
        }
        assert_eq!(Response::Continue(String::new()).to_string(), "+ ");
    }

    #[test]
    fn multi_line_responses_are_dot_stuffed() {
        let mut wire = Vec::new();
        Response::Ok("2 octets".into()).emit_multiline(b".x\r\nend\r\n", &mut wire);
        assert_eq!(wire, b"+OK 2 octets\r\n..x\r\nend\r\n.\r\n");
    }
}
