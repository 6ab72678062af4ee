//! The relay: Alice's server empties its outgoing queue by delivering each
//! message to the mail exchanger of the recipient's domain.
//!
//! For each queued message and each recipient domain (RFC 5321 §5):
//!
//! 1. ask DNS for the domain's MX records (and the exchanger's address);
//! 2. connect to the exchanger on port 25, read the 220 greeting, EHLO;
//! 3. if it offers STARTTLS, upgrade and EHLO again (opportunistic TLS,
//!    RFC 3207 — a real MTA would also fall back to clear text if TLS
//!    failed; we do not, so the lesson sees a clear failure);
//! 4. MAIL FROM, RCPT TO for each recipient, DATA, the message, QUIT.
//!
//! With MTA-STS (`mta_sts`), a domain whose policy is in enforce mode
//! gets its mail only over TLS, from an exchanger its policy names; when
//! that cannot be had (STARTTLS missing, stripped, or failing) the message
//! stays queued, as for a 4xx (RFC 8461 §5.1).
//!
//! A 4xx reply or a connection that fails is a temporary failure: the
//! message stays queued and is tried again after a delay that doubles each
//! time (RFC 5321 §4.5.4.1). A 5xx reply is permanent: the sender gets a
//! delivery status notification (RFC 3464) and the message leaves the
//! queue. So does a message that failed [`MAX_ATTEMPTS`] times.

use std::collections::BTreeMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use super::client;
use super::dns;
use super::host::Host;
use super::store::{INBOX, Queued, unix_now};
use super::sts_sender::StsSender;
use crate::proto::mta_sts::Mode;
use crate::proto::smtp::{Command, EnhancedStatus, Path, Reply, domain_of};

/// After this many temporary failures the message is bounced.
pub const MAX_ATTEMPTS: u32 = 8;

/// How the relay reaches the rest of the world.
#[derive(Clone)]
pub struct RelaySettings {
    /// The DNS server to ask for MX records.
    pub dns: SocketAddr,
    /// Our own address (connections and DNS queries start from it).
    pub bind: IpAddr,
    /// The port mail exchangers listen on (25, or the offset port).
    pub smtp_port: u16,
    pub tls: Arc<rustls::ClientConfig>,
    /// First retry delay; doubles with each failure.
    pub retry_base: Duration,
    /// Where the route to every exchanger leads instead (Eve's relay, in
    /// the attack lessons): connections go there, while DNS, the TLS
    /// server name and any MTA-STS policy still speak of the exchanger.
    pub via: Option<SocketAddr>,
    /// Apply MTA-STS (RFC 8461) to every delivery.
    pub mta_sts: Option<Arc<StsSender>>,
}

/// What happened to one recipient.
#[derive(Clone, Debug)]
enum Outcome {
    Delivered,
    Temporary(String),
    Permanent(String),
}

/// Run the queue until the task is dropped: wake when a message is queued
/// (`wake`) or when the earliest retry is due.
pub async fn run(host: Arc<Host>, settings: RelaySettings, wake: Arc<Notify>) {
    loop {
        let now = unix_now();
        for q in host.store.queued() {
            if q.next_attempt <= now {
                attempt(&host, &settings, q).await;
            }
        }
        // The earliest retry still pending, after this round's attempts.
        let next_due = host.store.queued().iter().map(|q| q.next_attempt).min();
        if next_due.is_some_and(|d| d <= unix_now()) {
            continue;
        }
        let sleep = next_due
            .map(|d| Duration::from_secs((d - unix_now()).max(0) as u64))
            .unwrap_or(Duration::from_secs(3600));
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(sleep) => {}
        }
    }
}

async fn attempt(host: &Arc<Host>, settings: &RelaySettings, q: Queued) {
    let mut by_domain: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in &q.rcpt_to {
        let domain = domain_of(r).unwrap_or_default();
        by_domain.entry(domain).or_default().push(r.clone());
    }
    let mut retry = Vec::new();
    let mut failed: Vec<(String, String)> = Vec::new();
    for (domain, rcpts) in by_domain {
        let outcomes = match deliver_domain(host, settings, &q, &domain, &rcpts).await {
            Ok(o) => o,
            Err(e) => rcpts
                .iter()
                .map(|r| (r.clone(), Outcome::Temporary(format!("{domain}: {e}"))))
                .collect(),
        };
        for (rcpt, o) in outcomes {
            host.log(format_args!("queue {}: <{rcpt}> {o:?}", q.id));
            match o {
                Outcome::Delivered => {}
                Outcome::Temporary(why) if q.attempts + 1 < MAX_ATTEMPTS => retry.push((rcpt, why)),
                Outcome::Temporary(why) => failed.push((
                    rcpt,
                    format!("gave up after {MAX_ATTEMPTS} attempts: {why}"),
                )),
                Outcome::Permanent(why) => failed.push((rcpt, why)),
            }
        }
    }
    if !failed.is_empty() && !q.mail_from.is_empty() {
        // A null sender (<>) marks a bounce itself: never bounce a bounce
        // (RFC 5321 §4.5.5).
        if let Err(e) = bounce(host, &q, &failed) {
            host.log(format_args!(
                "queue {}: could not send the bounce: {e}",
                q.id
            ));
        }
    }
    let result = if retry.is_empty() {
        host.store.dequeue(q.id)
    } else {
        let delay = settings.retry_base.as_secs_f64() * f64::from(1u32 << q.attempts.min(16));
        let next = unix_now() + delay.ceil().max(1.0) as i64;
        let why = retry.first().map(|(_, w)| w.clone()).unwrap_or_default();
        host.store
            .reschedule(q.id, retry.into_iter().map(|(r, _)| r).collect(), next, why)
    };
    if let Err(e) = result {
        host.log(format_args!("queue {}: {e}", q.id));
    }
}

fn classify(reply: &Reply) -> Outcome {
    match reply.code {
        200..=399 => Outcome::Delivered,
        400..=499 => Outcome::Temporary(reply.summary()),
        _ => Outcome::Permanent(reply.summary()),
    }
}

/// One SMTP session to the exchanger of `domain` for these recipients.
async fn deliver_domain(
    host: &Host,
    settings: &RelaySettings,
    q: &Queued,
    domain: &str,
    rcpts: &[String],
) -> io::Result<Vec<(String, Outcome)>> {
    let bind = SocketAddr::new(settings.bind, 0);
    let exchangers = dns::lookup_mx(settings.dns, bind, domain).await;
    let exchangers = match exchangers {
        Ok(e) if !e.is_empty() => e,
        Ok(_) => return Err(io::Error::other("no MX record")),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let why = format!("550 5.1.2 {domain}: no such domain (DNS NXDOMAIN)");
            return Ok(rcpts
                .iter()
                .map(|r| (r.clone(), Outcome::Permanent(why.clone())))
                .collect());
        }
        Err(e) => return Err(e),
    };
    let (exchange, Some(addr)) = exchangers[0].clone() else {
        return Err(io::Error::other("MX host has no address"));
    };
    let all = |o: Outcome| rcpts.iter().map(|r| (r.clone(), o.clone())).collect();
    // MTA-STS (RFC 8461 §5): in enforce mode, deliver only to an exchanger
    // the policy names (§4.1), only over TLS with a valid certificate
    // (§4.2); otherwise keep the message.
    let mut enforced = None;
    if let Some(sts) = &settings.mta_sts {
        let (known, how) = sts.policy_for(domain).await;
        host.log(format_args!("queue {}: MTA-STS for {domain}: {how}", q.id));
        enforced = known.filter(|k| k.policy.mode == Mode::Enforce);
    }
    if let Some(k) = &enforced
        && !k.policy.allows_mx(&exchange)
    {
        return Ok(all(Outcome::Temporary(format!(
            "MTA-STS policy of {domain} (id {}): the exchanger {exchange} is not one of its mx ({}); not delivering",
            k.id,
            k.policy.mx.join(", ")
        ))));
    }
    let target = settings
        .via
        .unwrap_or(SocketAddr::new(addr.into(), settings.smtp_port));
    let mut conn = client::connect(settings.bind, target).await?;
    let greeting = client::smtp_reply(&mut conn).await?;
    if greeting.code != 220 {
        let o = classify(&greeting);
        return Ok(rcpts.iter().map(|r| (r.clone(), o.clone())).collect());
    }
    let hello = Command::Ehlo(host.name.clone());
    let mut ehlo = client::smtp(&mut conn, &hello).await?;
    if ehlo.has_extension("STARTTLS") {
        let r = client::smtp(&mut conn, &Command::Starttls).await?;
        if r.code == 220 {
            conn.connect_tls(settings.tls.clone(), &exchange).await?;
            ehlo = client::smtp(&mut conn, &hello).await?;
        }
    }
    if let Some(k) = &enforced
        && !conn.is_tls()
    {
        let _ = client::smtp(&mut conn, &Command::Quit).await;
        let _ = conn.shutdown().await;
        return Ok(all(Outcome::Temporary(format!(
            "MTA-STS policy of {domain} (mode enforce, id {}) requires TLS, but {exchange} offered no STARTTLS: not delivering in clear",
            k.id
        ))));
    }
    if !ehlo.is_positive() {
        let o = classify(&ehlo);
        return Ok(rcpts.iter().map(|r| (r.clone(), o.clone())).collect());
    }
    let from = Command::Mail(Some(Path::new(&q.mail_from)));
    let mail = client::smtp(&mut conn, &from).await?;
    if !mail.is_positive() {
        let o = classify(&mail);
        let _ = client::smtp(&mut conn, &Command::Quit).await;
        return Ok(rcpts.iter().map(|r| (r.clone(), o.clone())).collect());
    }
    let mut outcomes = Vec::new();
    let mut accepted = Vec::new();
    for r in rcpts {
        let reply = client::smtp(&mut conn, &Command::Rcpt(Some(Path::new(r)))).await?;
        if reply.is_positive() {
            accepted.push(r.clone());
        } else {
            outcomes.push((r.clone(), classify(&reply)));
        }
    }
    if accepted.is_empty() {
        let _ = client::smtp(&mut conn, &Command::Quit).await;
        return Ok(outcomes);
    }
    let data = client::smtp(&mut conn, &Command::Data).await?;
    let final_reply = if data.code == 354 {
        client::smtp_data(&mut conn, &q.data).await?
    } else {
        data
    };
    let o = classify(&final_reply);
    outcomes.extend(accepted.into_iter().map(|r| (r, o.clone())));
    let _ = client::smtp(&mut conn, &Command::Quit).await;
    let _ = conn.shutdown().await;
    Ok(outcomes)
}

/// The enhanced status code (RFC 3463) inside a reply text like
/// "550 5.1.1 …", for the DSN's Status field; 5.0.0 when there is none.
fn status_of(why: &str) -> String {
    why.split_whitespace()
        .filter_map(EnhancedStatus::parse)
        .find(|s| s.class != 2)
        .map_or("5.0.0".to_string(), |s| s.to_string())
}

/// Send a delivery status notification (RFC 3464) to the sender:
/// a multipart/report with a human-readable part, the machine-readable
/// `message/delivery-status` part and the original headers.
fn bounce(host: &Host, q: &Queued, failed: &[(String, String)]) -> io::Result<()> {
    let boundary = format!("bounce-{}-{}", q.id, unix_now());
    let date = mail_parser::DateTime::from_timestamp(unix_now()).to_rfc822();
    let header_end = memchr::memmem::find(&q.data, b"\r\n\r\n").map_or(q.data.len(), |p| p + 2);
    let mut m = String::new();
    m.push_str(&format!(
        "From: Mail Delivery System <MAILER-DAEMON@{}>\r\n",
        host.name
    ));
    m.push_str(&format!("To: <{}>\r\n", q.mail_from));
    m.push_str("Subject: Undelivered Mail Returned to Sender\r\n");
    m.push_str(&format!("Date: {date}\r\n"));
    m.push_str("MIME-Version: 1.0\r\n");
    m.push_str(&format!(
        "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"{boundary}\"\r\n\r\n"
    ));
    m.push_str(&format!(
        "--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    ));
    m.push_str(&format!(
        "This is the mail system at host {}.\r\n\r\nYour message could not be delivered to one or more recipients:\r\n\r\n",
        host.name
    ));
    for (r, why) in failed {
        m.push_str(&format!("<{r}>: {why}\r\n"));
    }
    m.push_str(&format!(
        "\r\n--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
    ));
    m.push_str(&format!("Reporting-MTA: dns; {}\r\n", host.name));
    for (r, why) in failed {
        m.push_str(&format!(
            "\r\nFinal-Recipient: rfc822; {r}\r\nAction: failed\r\nStatus: {}\r\nDiagnostic-Code: smtp; {why}\r\n",
            status_of(why)
        ));
    }
    m.push_str(&format!(
        "\r\n--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n"
    ));
    let mut bytes = m.into_bytes();
    bytes.extend_from_slice(&q.data[..header_end]);
    bytes.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    match host.local_user(&q.mail_from) {
        Some(user) => {
            host.store.ensure_user(&user)?;
            host.store
                .deliver(&user, INBOX, &bytes, &Default::default(), unix_now())
                .map_err(io::Error::other)?;
        }
        None => {
            host.store.enqueue("", vec![q.mail_from.clone()], &bytes)?;
        }
    }
    host.log(format_args!(
        "queue {}: bounce sent to <{}>",
        q.id, q.mail_from
    ));
    Ok(())
}
