//! Who a message says it is from, checked against itself: the findings a
//! phishing investigation starts with. SMTP does not authenticate the
//! sender (RFC 5321 §7.1), so every one of these is what a forger can
//! write; mail clients show the display name and hide the address, which
//! is what the forger counts on.
//!
//! * `from-mismatch` (medium): the envelope sender (MAIL FROM) and the
//!   From: header are of different domains. RFC 5321 §3.3 lets them
//!   differ (mailing lists, forwarding, bounces), so this is a hint.
//! * `display-name-spoof`: the From: display name holds an address that
//!   is not one of the From: addresses, compared without case:
//!   `"boss@hamburger.edu" <attacker@evil.example>`. High when its domain
//!   is none of the From: domains, medium when only the mailbox differs.
//!   An address is `local@domain` with a dot inside the domain (so
//!   `Alice @ home` is not one), as RFC 5322 §3.4.1 writes addr-specs.
//! * `reply-to-mismatch`: a Reply-To: address (RFC 5322 §3.6.2: where
//!   replies go) is of a domain that is neither the From: domain nor a
//!   domain inside it or around it (`mail.crepes.fr` and `crepes.fr` are
//!   one organisation). Medium; info when the message came through a
//!   mailing list (it has a `List-Id:`, RFC 2919), whose software points
//!   Reply-To at the list as a matter of course.

use crate::proto::smtp::domain_of;
use crate::trace::{Dialogue, FindingCode, Severity};

/// Every check on the message at `index`.
pub(super) fn check(out: &mut Dialogue, index: usize) {
    from_mismatch(out, index);
    display_name_spoof(out, index);
    reply_to_mismatch(out, index);
}

/// `from-mismatch` (see the module's comment).
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

/// `display-name-spoof` (see the module's comment).
fn display_name_spoof(out: &mut Dialogue, index: usize) {
    let record = &out.messages[index];
    let Some(name) = record.from_name.as_deref() else {
        return;
    };
    let Some(real) = record.from.first() else {
        return;
    };
    let senders: Vec<String> = record.from.iter().map(|a| a.to_ascii_lowercase()).collect();
    let sender_domains: Vec<String> = record.from.iter().filter_map(|a| domain_of(a)).collect();
    let Some(shown) = addresses_in(name)
        .into_iter()
        .find(|a| !senders.contains(&a.to_ascii_lowercase()))
    else {
        return;
    };
    let other_domain = domain_of(&shown).is_none_or(|d| !sender_domains.contains(&d));
    let severity = if other_domain {
        Severity::High
    } else {
        Severity::Medium
    };
    let msg = format!(
        "From: display name {name:?} shows {shown}, but the message is from {real}: a mail client shows the name"
    );
    out.finding(severity, FindingCode::DisplayNameSpoof, msg);
}

/// `reply-to-mismatch` (see the module's comment).
fn reply_to_mismatch(out: &mut Dialogue, index: usize) {
    let record = &out.messages[index];
    let Some(from) = record.from.first() else {
        return;
    };
    let Some(from_domain) = domain_of(from) else {
        return;
    };
    let elsewhere: Vec<&String> = record
        .reply_to
        .iter()
        .filter(|r| domain_of(r).is_some_and(|d| !same_organisation(&d, &from_domain)))
        .collect();
    let Some(first) = elsewhere.first() else {
        return;
    };
    let (severity, why) = match &record.list_id {
        Some(list) => (
            Severity::Info,
            format!(" (a mailing list's message, List-Id: {list})"),
        ),
        None => (Severity::Medium, String::new()),
    };
    let more = match elsewhere.len() {
        1 => String::new(),
        n => format!(" and {} more", n - 1),
    };
    let msg = format!(
        "Reply-To: {first}{more} sends answers to {}, but the message is from {from} ({from_domain}){why}",
        domain_of(first).unwrap_or_default()
    );
    out.finding(severity, FindingCode::ReplyToMismatch, msg);
}

/// Whether two domains (lower case) are one, or one sits inside the other.
fn same_organisation(a: &str, b: &str) -> bool {
    a == b || a.ends_with(&format!(".{b}")) || b.ends_with(&format!(".{a}"))
}

/// The addr-specs written inside a display name, in order: a run of
/// characters an unquoted local part may hold (RFC 5322 §3.2.3 atext and
/// dots), `@`, and a domain of letters, digits, hyphens and at least one
/// dot, ending in a letter.
fn addresses_in(name: &str) -> Vec<String> {
    let is_local = |c: char| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c);
    let is_domain = |c: char| c.is_alphanumeric() || c == '-' || c == '.';
    let mut found = Vec::new();
    for (at, _) in name.match_indices('@') {
        let local_start = name[..at]
            .char_indices()
            .rev()
            .take_while(|&(_, c)| is_local(c))
            .last()
            .map_or(at, |(i, _)| i);
        let after = &name[at + 1..];
        let domain_len = after
            .char_indices()
            .find(|&(_, c)| !is_domain(c))
            .map_or(after.len(), |(i, _)| i);
        let local = name[local_start..at].trim_matches('.');
        let domain = after[..domain_len].trim_matches(['.', '-']);
        let ends_in_letter = domain.chars().next_back().is_some_and(char::is_alphabetic);
        if !local.is_empty() && domain.contains('.') && ends_in_letter {
            found.push(format!("{local}@{domain}"));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::completion::completer;
    use crate::flow::Direction;
    use crate::trace::{DialogueOptions, Part, Protocol, RawMessage, Via};

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

    fn findings(d: &Dialogue) -> Vec<(Severity, FindingCode)> {
        d.findings.iter().map(|f| (f.severity, f.code)).collect()
    }

    #[test]
    fn envelope_and_header_senders_of_other_domains_are_a_finding() {
        let d = delivered(
            "<ceo@bank.example>",
            "From: alice@crepes.fr\r\nSubject: hi\r\n\r\nx\r\n",
        );
        assert_eq!(d.messages[0].subject.as_deref(), Some("hi"));
        assert_eq!(
            findings(&d),
            [(Severity::Medium, FindingCode::FromMismatch)]
        );
        assert_eq!(
            d.findings[0].message,
            "MAIL FROM <ceo@bank.example> (domain bank.example) but the message says From: alice@crepes.fr (domain crepes.fr)"
        );
        let same = delivered("<Alice@Crepes.FR>", "From: alice@crepes.fr\r\n\r\nx\r\n");
        assert!(same.findings.is_empty(), "{:?}", same.findings);
    }

    #[test]
    fn an_address_in_the_display_name_that_is_not_the_sender() {
        let d = delivered(
            "<attacker@evil.example>",
            "From: \"Bob Boss <boss@hamburger.edu>\" <attacker@evil.example>\r\n\r\nx\r\n",
        );
        assert_eq!(
            findings(&d),
            [(Severity::High, FindingCode::DisplayNameSpoof)]
        );
        assert_eq!(
            d.findings[0].message,
            "From: display name \"Bob Boss <boss@hamburger.edu>\" shows boss@hamburger.edu, but the message is from attacker@evil.example: a mail client shows the name"
        );
        // Same domain, another mailbox: medium.
        let d = delivered(
            "<intern@corp.example>",
            "From: ceo@corp.example <intern@corp.example>\r\n\r\nx\r\n",
        );
        assert_eq!(
            findings(&d),
            [(Severity::Medium, FindingCode::DisplayNameSpoof)]
        );
        // The name repeats the real address (many clients write that), or
        // holds no address at all: nothing.
        for from in [
            "\"Alice@Crepes.fr\" <alice@crepes.fr>",
            "Alice @ home <alice@crepes.fr>",
            "\"alice at crepes.fr\" <alice@crepes.fr>",
            "alice@crepes.fr",
        ] {
            let d = delivered("<alice@crepes.fr>", &format!("From: {from}\r\n\r\nx\r\n"));
            assert!(d.findings.is_empty(), "{from}: {:?}", d.findings);
        }
    }

    #[test]
    fn replies_sent_to_another_domain() {
        let d = delivered(
            "<alice@crepes.fr>",
            "From: alice@crepes.fr\r\nReply-To: <collect@evil.example>\r\n\r\nx\r\n",
        );
        assert_eq!(
            findings(&d),
            [(Severity::Medium, FindingCode::ReplyToMismatch)]
        );
        assert_eq!(
            d.findings[0].message,
            "Reply-To: collect@evil.example sends answers to evil.example, but the message is from alice@crepes.fr (crepes.fr)"
        );
        let list = delivered(
            "<owner-l@lists.example>",
            "From: alice@crepes.fr\r\nReply-To: l@lists.example\r\nList-Id: Cooking <l.lists.example>\r\n\r\nx\r\n",
        );
        let codes = findings(&list);
        assert!(codes.contains(&(Severity::Info, FindingCode::ReplyToMismatch)));
        let inside = delivered(
            "<alice@crepes.fr>",
            "From: alice@crepes.fr\r\nReply-To: alice@mail.crepes.fr, team@Crepes.FR\r\n\r\nx\r\n",
        );
        assert!(inside.findings.is_empty(), "{:?}", inside.findings);
    }

    #[test]
    fn addresses_inside_names() {
        assert_eq!(
            addresses_in("Bob <boss@hamburger.edu> and x.y+z@a-b.example."),
            ["boss@hamburger.edu", "x.y+z@a-b.example"]
        );
        assert!(addresses_in("@ @. a@b a@b.1 @x.example").is_empty());
    }
}
