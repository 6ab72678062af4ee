//! ENVELOPE (RFC 3501 §7.4.2): the addressing header fields of a message
//! in IMAP syntax, read from the message's header lines (the top one, or
//! the header of a message attached as message/rfc822):
//!
//! ```text
//! ("Mon, 1 Dec 2025 10:00:00 +0000" "Hello Bob"        date, subject
//!  (("Alice" NIL "alice" "crepes.fr")) …               from, sender, reply-to,
//!  ((NIL NIL "bob" "hamburger.edu")) NIL NIL           to, cc, bcc
//!  NIL "<1@crepes.fr>")                                in-reply-to, message-id
//! ```
//!
//! Strings are the raw header values, unfolded to the letter of RFC 5322
//! §2.2.3 (the line breaks go, the blanks stay); addresses are
//! `(name adl mailbox host)`, and groups get start and end markers.

use mail_parser::{Addr, Address, Message, MessageParser};

use crate::mail::headers::{fields, unfold_exact};
use crate::proto::imap::syntax::{emit_nstring, emit_string};

/// Write the ENVELOPE of the message whose header lines are `header`.
pub(super) fn write_envelope(out: &mut Vec<u8>, header: &[u8]) {
    let fields = fields(header);
    let raw = |name: &str| {
        fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name.as_bytes()))
            .map(|f| unfold_exact(f.value))
    };
    // The addresses as mail-parser reads them (RFC 5322 §3.4, groups,
    // RFC 2047 words in display names).
    let parsed = MessageParser::default().parse_headers(header);
    let m = parsed.as_ref();
    let present = |a: Option<&Address>| match a {
        Some(Address::List(l)) => !l.is_empty(),
        Some(Address::Group(g)) => !g.is_empty(),
        None => false,
    };
    let from = m.and_then(Message::from);
    out.push(b'(');
    emit_nstring(out, raw("Date").as_deref());
    out.push(b' ');
    emit_nstring(out, raw("Subject").as_deref());
    out.push(b' ');
    write_addresses(out, from);
    // §7.4.2: a missing Sender or Reply-To is the From.
    for other in [m.and_then(Message::sender), m.and_then(Message::reply_to)] {
        out.push(b' ');
        write_addresses(out, if present(other) { other } else { from });
    }
    for a in [
        m.and_then(Message::to),
        m.and_then(Message::cc),
        m.and_then(Message::bcc),
    ] {
        out.push(b' ');
        write_addresses(out, a);
    }
    out.push(b' ');
    emit_nstring(out, raw("In-Reply-To").as_deref());
    out.push(b' ');
    emit_nstring(out, raw("Message-ID").as_deref());
    out.push(b')');
}

/// An address list; groups are written as RFC 3501 §7.4.2 says: a start
/// marker `(NIL NIL "name" NIL)`, the members, an end marker
/// `(NIL NIL NIL NIL)`.
fn write_addresses(out: &mut Vec<u8>, a: Option<&Address>) {
    let one = |out: &mut Vec<u8>, a: &Addr| {
        let address = a.address.as_deref().unwrap_or("");
        let (mailbox, host) = address.rsplit_once('@').unwrap_or((address, ""));
        out.push(b'(');
        emit_nstring(out, a.name.as_deref().map(str::as_bytes));
        out.extend_from_slice(b" NIL ");
        emit_string(out, mailbox.as_bytes());
        out.push(b' ');
        emit_string(out, host.as_bytes());
        out.push(b')');
    };
    match a {
        Some(Address::List(list)) if !list.is_empty() => {
            out.push(b'(');
            for a in list {
                one(out, a);
            }
            out.push(b')');
        }
        Some(Address::Group(groups)) if !groups.is_empty() => {
            out.push(b'(');
            for g in groups {
                match &g.name {
                    Some(name) => {
                        out.extend_from_slice(b"(NIL NIL ");
                        emit_string(out, name.as_bytes());
                        out.extend_from_slice(b" NIL)");
                        for a in &g.addresses {
                            one(out, a);
                        }
                        out.extend_from_slice(b"(NIL NIL NIL NIL)");
                    }
                    None => g.addresses.iter().for_each(|a| one(out, a)),
                }
            }
            out.push(b')');
        }
        _ => out.extend_from_slice(b"NIL"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_values_keep_their_blanks_and_groups_have_markers() {
        let header = b"Subject: a\r\n  long one\r\nTo: friends: a@x.org, B <b@y.org>;\r\n\
Message-ID: <1@x>\r\n\r\n";
        let mut out = Vec::new();
        write_envelope(&mut out, header);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "(NIL \"a  long one\" NIL NIL NIL \
             ((NIL NIL \"friends\" NIL)(NIL NIL \"a\" \"x.org\")(\"B\" NIL \"b\" \"y.org\")\
             (NIL NIL NIL NIL)) NIL NIL NIL \"<1@x>\")"
        );
        let mut out = Vec::new();
        write_envelope(&mut out, b"");
        assert_eq!(out, b"(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
    }
}
