//! ENVELOPE (RFC 3501 §7.4.2): the addressing header fields of a message
//! in IMAP syntax. Strings are the raw header values; addresses are
//! `(name adl mailbox host)`, and groups get start and end markers.

use mail_parser::{Addr, Address, Message};

use super::headers::unfold;
use super::syntax::{push_nstring, push_string};

/// ENVELOPE (§7.4.2): date, subject, from, sender, reply-to, to, cc, bcc,
/// in-reply-to, message-id. Strings are the raw header values; addresses
/// are (name adl mailbox host).
pub(super) fn envelope(m: &Message) -> Vec<u8> {
    let raw = |name: &str| -> Option<Vec<u8>> {
        let h = m
            .parts
            .first()?
            .headers
            .iter()
            .find(|h| h.name.as_str().eq_ignore_ascii_case(name))?;
        let bytes = m
            .raw_message
            .get(h.offset_start as usize..h.offset_end as usize)?;
        Some(unfold(bytes))
    };
    let present = |a: Option<&Address>| match a {
        Some(Address::List(l)) => !l.is_empty(),
        Some(Address::Group(g)) => !g.is_empty(),
        None => false,
    };
    let mut out = b"(".to_vec();
    push_nstring(&mut out, raw("Date").as_deref());
    out.push(b' ');
    push_nstring(&mut out, raw("Subject").as_deref());
    out.push(b' ');
    push_addresses(&mut out, m.from());
    // §7.4.2: a missing Sender or Reply-To is the From.
    out.push(b' ');
    push_addresses(
        &mut out,
        if present(m.sender()) {
            m.sender()
        } else {
            m.from()
        },
    );
    out.push(b' ');
    push_addresses(
        &mut out,
        if present(m.reply_to()) {
            m.reply_to()
        } else {
            m.from()
        },
    );
    for a in [m.to(), m.cc(), m.bcc()] {
        out.push(b' ');
        push_addresses(&mut out, a);
    }
    out.push(b' ');
    push_nstring(&mut out, raw("In-Reply-To").as_deref());
    out.push(b' ');
    push_nstring(&mut out, raw("Message-ID").as_deref());
    out.push(b')');
    out
}

/// An address list; groups are written as RFC 3501 §7.4.2 says: a start
/// marker `(NIL NIL "name" NIL)`, the members, an end marker
/// `(NIL NIL NIL NIL)`.
fn push_addresses(out: &mut Vec<u8>, a: Option<&Address>) {
    let one = |out: &mut Vec<u8>, a: &Addr| {
        let address = a.address.as_deref().unwrap_or("");
        let (mailbox, host) = address.rsplit_once('@').unwrap_or((address, ""));
        out.push(b'(');
        push_nstring(out, a.name.as_deref().map(str::as_bytes));
        out.extend_from_slice(b" NIL ");
        push_string(out, mailbox.as_bytes());
        out.push(b' ');
        push_string(out, host.as_bytes());
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
                        push_string(out, name.as_bytes());
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
