//! What happens to a message the moment a parser hands it over: it is read
//! (headers, MIME structure, attachments and their hashes, with `mail`),
//! checked against its envelope, and passed to the caller's hook (`extract`
//! writes it there) before its bytes are dropped.

use crate::mail;
use crate::proto::smtp::domain_of;
use crate::trace::{Dialogue, FindingCode, MessageCompleter, MessageHook, RawMessage, Severity};

/// The completer a session installs in its dialogue (also for parsers
/// run outside a session, such as the fuzz targets).
pub fn completer(hook: Option<MessageHook>) -> MessageCompleter {
    Box::new(move |out: &mut Dialogue, index: usize, raw: &RawMessage| {
        let mut contents = Vec::new();
        let mut info = mail::inspect(&raw.bytes, hook.is_some().then_some(&mut contents));
        if !raw.part.is_full() {
            // A header, TOP or section retrieval: the parts seen are not
            // the message's (a multipart header alone looks like an empty
            // attachment).
            info.attachments.clear();
            contents.clear();
        }
        let record = &mut out.messages[index];
        record.set_info(info);
        if let Some(hook) = &hook {
            hook(record, raw, &contents);
        }
        from_mismatch(out, index);
    })
}

/// `from-mismatch`: the envelope sender's domain is not the From: header's
/// (a classic sign of spoofing, also of mailing lists and of forwarding:
/// RFC 5321 §3.3 lets MAIL FROM and From: differ, so this is a hint).
fn from_mismatch(out: &mut Dialogue, index: usize) {
    let record = &out.messages[index];
    let (Some(env_from), Some(hdr_from)) = (record.mail_from.as_deref(), record.from.first())
    else {
        return;
    };
    let (Some(a), Some(b)) = (domain_of(env_from), domain_of(hdr_from)) else {
        return;
    };
    if a != b {
        let msg = format!(
            "MAIL FROM {env_from} (domain {a}) but the message says From: {hdr_from} (domain {b})"
        );
        out.finding(Severity::Medium, FindingCode::FromMismatch, msg);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::Direction;
    use crate::trace::{DialogueOptions, Part, Protocol, Via};

    fn delivered(mail_from: &str, message: &str) -> Dialogue {
        let mut d = Dialogue::new(0, Protocol::Smtp, DialogueOptions::default());
        d.set_completer(completer(None));
        let mut raw = RawMessage::new(Via::Data, Part::Full, "DATA");
        raw.mail_from = Some(mail_from.to_string());
        raw.bytes = message.as_bytes().to_vec();
        raw.complete = true;
        d.data_arrived(Direction::ClientToServer, 0, 0, Default::default());
        d.message(raw);
        d
    }

    #[test]
    fn envelope_and_header_senders_of_other_domains_are_a_finding() {
        let d = delivered(
            "<ceo@bank.example>",
            "From: alice@crepes.fr\r\nSubject: hi\r\n\r\nx\r\n",
        );
        assert_eq!(d.messages[0].subject.as_deref(), Some("hi"));
        let codes: Vec<_> = d.findings.iter().map(|f| f.code).collect();
        assert_eq!(codes, [FindingCode::FromMismatch]);
        assert_eq!(
            d.findings[0].message,
            "MAIL FROM <ceo@bank.example> (domain bank.example) but the message says From: alice@crepes.fr (domain crepes.fr)"
        );
        let same = delivered("<Alice@Crepes.FR>", "From: alice@crepes.fr\r\n\r\nx\r\n");
        assert!(same.findings.is_empty(), "{:?}", same.findings);
    }
}
