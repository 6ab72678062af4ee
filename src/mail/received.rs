//! The `Received:` chain read as the hops a message made.
//!
//! Every server that takes a message on puts a `Received:` field on top of
//! it (RFC 5321 §4.4), so the header holds the path newest first:
//!
//! ```text
//! Received: from crepes.fr (crepes.fr [10.0.0.1])      ← the last hop
//!         by hamburger.edu with ESMTP id 4711; Mon, 4 Mar 2024 10:15:03 +0100
//! Received: from [192.168.1.7] by crepes.fr with ESMTPSA id 17;
//!         Mon, 4 Mar 2024 10:15:00 +0100                ← the first hop
//! ```
//!
//! Each field is `from` (the name the sender gave in HELO/EHLO, then in
//! parentheses the name its address resolves to and the address), `by`
//! (the receiving server), `with` (the protocol: `ESMTP`, `ESMTPSA` with
//! TLS and AUTH, RFC 3848), `id` (the server's queue id, what its log
//! lines say), `for` (the recipient) and, after `;`, the time it arrived.
//! Fields are taken apart by mail-parser's `Received` parser, which knows
//! the many shapes real servers write.
//!
//! The hops are listed oldest first, the way the message travelled, and
//! each carries the delay since the hop before it, as header analysers
//! show it: a long delay is a queue that held the message; a negative one
//! a clock that is wrong (or a forged field below a real one: everything
//! under the first hop a trusted server wrote is only what the sender
//! claims).

use mail_parser::{Host, Received};
use serde::Serialize;

/// Hops kept per message: the newest ones, when there are more. RFC 5321
/// §6.3 has servers refuse a message after about 100 `Received:` fields
/// (it loops), so no message that reached anyone has more.
pub const MAX_RECEIVED_HOPS: usize = 100;

/// One `Received:` field, taken apart (the `received_hops` of a message
/// record). A part the field does not give is absent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ReceivedHop {
    /// The sender as it named itself (`from crepes.fr`), else as the
    /// receiving server saw its HELO.
    pub from: Option<String>,
    /// The sender's address, as the receiving server saw the connection.
    pub from_ip: Option<String>,
    /// The name the sender's address resolves to (the reverse DNS name in
    /// the parentheses), when the server wrote one.
    pub from_rdns: Option<String>,
    /// The server that received it.
    pub by: Option<String>,
    /// The protocol (`SMTP`, `ESMTPS`, `LMTP`…, RFC 3848 §4).
    pub with: Option<String>,
    /// The receiving server's id for the message (its queue id).
    pub id: Option<String>,
    /// The recipient the server received it for.
    #[serde(rename = "for")]
    pub for_: Option<String>,
    /// When it arrived there, RFC 3339 with the offset the server wrote.
    pub time: Option<String>,
    /// Seconds since the hop before it (negative when this server's clock
    /// says it came earlier); absent on the first hop and when either time
    /// is unknown.
    pub delay_secs: Option<i64>,
    /// Seconds since the Unix epoch, for the delays.
    #[serde(skip)]
    pub(crate) epoch: Option<i64>,
}

impl ReceivedHop {
    /// One field as mail-parser read it.
    pub(crate) fn of(r: &Received<'_>) -> ReceivedHop {
        let host = |h: &Host<'_>| h.to_string();
        let from = r.from.as_ref().or(r.helo.as_ref());
        // `from [192.168.1.7]`: the sender gave no name, only its address
        // (an address literal, RFC 5321 §4.1.3).
        let literal = match from {
            Some(Host::IpAddr(ip)) => Some(*ip),
            _ => None,
        };
        ReceivedHop {
            from: from.map(host),
            from_ip: r.from_ip.or(literal).map(|ip| ip.to_string()),
            from_rdns: r.from_iprev.as_ref().map(|n| n.to_string()),
            by: r.by.as_ref().map(host),
            with: r.with.map(|w| w.to_string()),
            id: r.id.as_ref().map(|id| id.to_string()),
            for_: r.for_.as_ref().map(|f| f.to_string()),
            time: r.date.as_ref().map(|d| d.to_rfc3339()),
            delay_secs: None,
            epoch: r.date.as_ref().map(|d| d.to_timestamp()),
        }
    }
}

/// The hops of `fields` (the `Received:` fields as the header lists them,
/// newest first), oldest first, with their delays; at most the newest
/// [`MAX_RECEIVED_HOPS`].
pub(crate) fn hops_oldest_first(fields: Vec<ReceivedHop>) -> Vec<ReceivedHop> {
    let mut hops: Vec<ReceivedHop> = fields.into_iter().take(MAX_RECEIVED_HOPS).collect();
    hops.reverse();
    let mut previous: Option<i64> = None;
    for (i, hop) in hops.iter_mut().enumerate() {
        if i > 0 {
            hop.delay_secs = previous.zip(hop.epoch).map(|(before, now)| now - before);
        }
        previous = hop.epoch;
    }
    hops
}

#[cfg(test)]
mod tests {
    use crate::mail::inspect;
    use crate::mail::samples::crlf;

    #[test]
    fn the_chain_oldest_first_with_delays() {
        let m = crlf(&[
            "Received: from crepes.fr (mail.crepes.fr [10.0.0.1])",
            "        by hamburger.edu with ESMTPS id 4711",
            "        for <bob@hamburger.edu>; Mon, 4 Mar 2024 10:15:03 +0100",
            "Received: from [192.168.1.7] by crepes.fr with ESMTPSA id 17;",
            "        Mon, 4 Mar 2024 10:14:00 +0100",
            "From: alice@crepes.fr",
            "",
            "hi",
        ]);
        let hops = inspect(&m, None).received_hops;
        assert_eq!(hops.len(), 2);
        let (first, last) = (&hops[0], &hops[1]);
        assert_eq!(first.from_ip.as_deref(), Some("192.168.1.7"));
        assert_eq!(first.by.as_deref(), Some("crepes.fr"));
        assert_eq!(first.with.as_deref(), Some("ESMTPSA"));
        assert_eq!(first.id.as_deref(), Some("17"));
        assert_eq!(first.time.as_deref(), Some("2024-03-04T10:14:00+01:00"));
        assert_eq!(first.delay_secs, None);
        assert_eq!(last.from.as_deref(), Some("crepes.fr"));
        assert_eq!(last.from_rdns.as_deref(), Some("mail.crepes.fr"));
        assert_eq!(last.from_ip.as_deref(), Some("10.0.0.1"));
        assert_eq!(last.by.as_deref(), Some("hamburger.edu"));
        assert_eq!(last.with.as_deref(), Some("ESMTPS"));
        assert_eq!(last.id.as_deref(), Some("4711"));
        assert_eq!(last.for_.as_deref(), Some("bob@hamburger.edu"));
        assert_eq!(last.delay_secs, Some(63));
        let json = serde_json::to_value(last).unwrap();
        assert_eq!(json["for"], "bob@hamburger.edu");
        assert_eq!(json["delay_secs"], 63);
    }

    #[test]
    fn a_clock_behind_gives_a_negative_delay_and_garbage_gives_empty_hops() {
        let m = crlf(&[
            "Received: by b.example; Mon, 4 Mar 2024 09:00:00 +0000",
            "Received: ;;;((( garbage [[",
            "Received: by a.example; Mon, 4 Mar 2024 10:00:00 +0000",
            "",
            "x",
        ]);
        let hops = inspect(&m, None).received_hops;
        assert_eq!(hops.len(), 3);
        assert_eq!(hops[0].by.as_deref(), Some("a.example"));
        // The garbage field has no time: neither it nor the hop after it
        // has a delay.
        assert_eq!(hops[1].time, None);
        assert_eq!(hops[1].delay_secs, None);
        assert_eq!(hops[2].delay_secs, None);
        let m = crlf(&[
            "Received: by b.example; Mon, 4 Mar 2024 09:00:00 +0000",
            "Received: by a.example; Mon, 4 Mar 2024 10:00:00 +0000",
            "",
            "x",
        ]);
        assert_eq!(inspect(&m, None).received_hops[1].delay_secs, Some(-3600));
    }

    #[test]
    fn a_looping_message_keeps_the_newest_hundred() {
        let mut lines: Vec<String> = (0..150)
            .map(|i| format!("Received: by hop{i}.example; Mon, 4 Mar 2024 10:00:00 +0000"))
            .collect();
        lines.push(String::new());
        lines.push("x".into());
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let hops = inspect(&crlf(&refs), None).received_hops;
        assert_eq!(hops.len(), super::MAX_RECEIVED_HOPS);
        assert_eq!(hops[0].by.as_deref(), Some("hop99.example"));
        assert_eq!(hops[99].by.as_deref(), Some("hop0.example"));
    }
}
