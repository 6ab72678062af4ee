//! The Alice → Bob demonstration: the delivery path of the textbook, run
//! once, recorded.
//!
//! 1. Alice's user agent submits a message to crepes.fr (port 587 with
//!    STARTTLS, 465 with implicit TLS, or 587 in clear for the lesson on
//!    eavesdropping) and authenticates with AUTH PLAIN;
//! 2. crepes.fr queues it, asks the DNS server for hamburger.edu's MX,
//!    and relays it to hamburger.edu on port 25 (STARTTLS when offered);
//! 3. hamburger.edu stores it in Bob's mailbox;
//! 4. Bob's user agent reads it with POP3 or IMAP.
//!
//! With `attack` (the attack lessons) Eve sits on the path between the two
//! servers (`world::eve`).
//!
//! With `open_relay` (the lesson on open relays) crepes.fr relays for
//! anyone: Alice's agent hands it the message on port 25 without
//! authenticating, and crepes.fr passes it on all the same. The capture
//! then shows what `open-relay` needs (`analysis::relay`): an
//! unauthenticated client's message leaving the server for another
//! domain's.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use super::agents::{self, AgentSettings, Pace};
use super::running::{ALICE, BOB, EveOnPath, World, WorldOptions};
use super::servers::Service;
use super::topology::PortPlan;
use super::transcript;
use crate::proto::{Protocol, TlsMode};

/// How Bob reads his mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadWith {
    Pop3,
    Imap,
}

#[derive(Clone, Debug)]
pub struct DemoOptions {
    pub tls: TlsMode,
    pub read: ReadWith,
    pub speed: f64,
    pub net: [u8; 3],
    pub ports: Option<PortPlan>,
    /// POP3: leave the message on the server.
    pub keep: bool,
    pub alice_domain: String,
    pub bob_domain: String,
    /// Only this TLS cipher suite (IANA number).
    pub tls_suite: Option<u16>,
    /// crepes.fr relays for anyone, and Alice's agent submits on port 25
    /// without AUTH.
    pub open_relay: bool,
    /// Eve's attack, if this is an attack lesson.
    pub attack: Option<Attack>,
    /// The defence hamburger.edu and crepes.fr put up.
    pub defend: Option<Defence>,
}

/// The defences of the attack lessons (`demo --defend`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Defence {
    /// hamburger.edu publishes an MTA-STS policy in enforce mode (RFC
    /// 8461) and crepes.fr applies it: no delivery without TLS.
    MtaSts,
}

/// The attack lessons (`demo --attack`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attack {
    /// Eve, on the path from crepes.fr to hamburger.edu, only listens: where
    /// STARTTLS is used she sees nothing but TLS records.
    Eavesdrop,
    /// Eve, on the path from crepes.fr to hamburger.edu, blanks STARTTLS
    /// out of the EHLO reply and reads the message in clear.
    StripStarttls,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            tls: TlsMode::Starttls,
            read: ReadWith::Pop3,
            speed: 1.0,
            net: [127, 0, 10],
            ports: None,
            keep: false,
            alice_domain: "crepes.fr".into(),
            bob_domain: "hamburger.edu".into(),
            tls_suite: None,
            open_relay: false,
            attack: None,
            defend: None,
        }
    }
}

/// The path the demo's mail takes, known before the first packet: who
/// will connect to which service, and who answers DNS. The window's live
/// view places the hosts from it, so the picture does not reshuffle as
/// the connections come one by one.
#[derive(Clone, Debug, Default)]
pub struct Stage {
    /// (client, server, protocol) of each hop, in the order they happen.
    pub hops: Vec<(IpAddr, SocketAddr, Protocol)>,
    /// The DNS server crepes.fr asks for the MX.
    pub dns: Option<IpAddr>,
}

/// How Alice's agent submits: the service, its TLS, and the credentials.
/// An open relay takes the message on SMTP's port 25 from anyone, as an MX
/// does (RFC 5321 §3.6.2), where submission (RFC 6409) would ask who is
/// sending; port 25 has no implicit TLS, only STARTTLS.
fn submission(opts: &DemoOptions) -> (Service, TlsMode, (&'static str, &'static str)) {
    match (opts.open_relay, opts.tls) {
        (true, TlsMode::Implicit) => (Service::Smtp, TlsMode::Starttls, ("", "")),
        (true, tls) => (Service::Smtp, tls, ("", "")),
        (false, TlsMode::Implicit) => (Service::Smtps, TlsMode::Implicit, ALICE),
        (false, tls) => (Service::Submission, tls, ALICE),
    }
}

/// How Bob's agent reads his mailbox.
fn reading(opts: &DemoOptions) -> Service {
    match (opts.read, opts.tls) {
        (ReadWith::Pop3, TlsMode::Implicit) => Service::Pop3s,
        (ReadWith::Pop3, _) => Service::Pop3,
        (ReadWith::Imap, TlsMode::Implicit) => Service::Imaps,
        (ReadWith::Imap, _) => Service::Imap,
    }
}

/// The demo's path in `world`: Alice's submission, crepes.fr's relay to
/// hamburger.edu (after the MX lookup), Bob's reading.
pub fn stage(opts: &DemoOptions, world: &World) -> Stage {
    let t = &world.topology;
    let hop = |client: IpAddr, server: &super::topology::Machine, service: Service| {
        (client, world.address(server, service), service.protocol())
    };
    let mut hops = vec![hop(t.alice_pc.addr, &t.crepes, submission(opts).0)];
    match &t.eve {
        Some(eve) => {
            hops.push(hop(t.crepes.addr, eve, Service::Smtp));
            hops.push(hop(eve.addr, &t.hamburger, Service::Smtp));
        }
        None => hops.push(hop(t.crepes.addr, &t.hamburger, Service::Smtp)),
    }
    hops.push(hop(t.bob_pc.addr, &t.hamburger, reading(opts)));
    Stage {
        hops,
        dns: Some(t.dns.addr),
    }
}

/// What the demo did.
pub struct DemoReport {
    pub world: World,
    /// The message as Alice's agent submitted it.
    pub sent: Vec<u8>,
    /// The message as Bob's agent received it.
    pub received: Vec<u8>,
    /// crepes.fr's final reply to Alice.
    pub submit_reply: String,
    /// The textbook transcript of every connection.
    pub transcript: String,
    /// The messages Eve read in clear on the path (attack lessons).
    pub eve_read: Vec<Vec<u8>>,
    /// Why crepes.fr still holds the message, when it could not deliver
    /// it (a defence refused the path); Bob then reads nothing.
    pub held: Option<String>,
}

pub async fn run(opts: &DemoOptions) -> io::Result<DemoReport> {
    run_with(opts, |_| {}).await
}

/// Like [`run`], calling `started` once the world is up, before the user
/// agents begin (the GUI takes the recorder there to follow the demo while
/// it records).
pub async fn run_with(opts: &DemoOptions, started: impl FnOnce(&World)) -> io::Result<DemoReport> {
    let world_opts = WorldOptions {
        net: opts.net,
        ports: opts.ports,
        alice_domain: opts.alice_domain.clone(),
        bob_domain: opts.bob_domain.clone(),
        tls: opts.tls != TlsMode::None,
        // Passwords in clear only in the lesson that is about them.
        plaintext_auth: opts.tls == TlsMode::None,
        tls_suite: opts.tls_suite,
        open_relay: opts.open_relay,
        eve: opts.attack.map(|attack| EveOnPath {
            strip_starttls: attack == Attack::StripStarttls,
        }),
        mta_sts: opts.defend == Some(Defence::MtaSts),
        ..WorldOptions::default()
    };
    let mut world = World::start(&world_opts).await?;
    started(&world);
    let pace = Pace::new(opts.speed);
    let t = world.topology.clone();
    let alice_addr = format!("{}@{}", ALICE.0, t.alice_domain);
    let bob_addr = format!("{}@{}", BOB.0, t.bob_domain);
    let now = super::store::unix_now();
    let sent = agents::compose(
        &alice_addr,
        &bob_addr,
        now,
        &format!("{now}.picnic@{}", t.alice_domain),
    );
    let tls_config = world.pki.client_config().map_err(io::Error::other)?;

    let (submission, tls, (user, password)) = submission(opts);
    let alice = AgentSettings {
        from: t.alice_pc.addr,
        client_name: t.alice_pc.name.clone(),
        server: world.address(&t.crepes, submission),
        server_name: t.crepes.name.clone(),
        tls,
        tls_config: tls_config.clone(),
        user: user.into(),
        password: password.into(),
        pace,
    };
    let submit_reply = agents::submit(&alice, &alice_addr, &bob_addr, &sent).await?;

    // With a defence, a refused try is the lesson's end; without one, a
    // failed try is retried as before and only the 30 s limit ends it.
    let settle = opts.defend.is_some();
    let held = match wait_for_delivery(&world, settle, Duration::from_secs(30)).await {
        Delivery::Delivered => None,
        Delivery::Held(why) => Some(why),
        Delivery::TimedOut => {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the message did not reach {} within 30 s", t.bob_domain),
            ));
        }
    };
    pace.pause().await;
    let received = match held {
        None => read_bobs_mail(opts, &world, &alice).await?,
        Some(_) => Vec::new(),
    };
    // Let the servers see the clients' FINs and close their side.
    tokio::time::sleep(Duration::from_millis(50)).await;
    world.shutdown();
    tokio::time::sleep(Duration::from_millis(10)).await;
    let transcript = transcript::render(&world.recorder, &world.topology, &world.services);
    let eve_read = match &world.topology.eve {
        Some(eve) => super::eve::messages_read(&world.recorder, eve.addr),
        None => Vec::new(),
    };
    Ok(DemoReport {
        eve_read,
        held,
        world,
        sent,
        received,
        submit_reply,
        transcript,
    })
}

/// Where the message went after Alice's submission.
enum Delivery {
    /// It is in Bob's mailbox.
    Delivered,
    /// crepes.fr tried, failed, and keeps it queued: why.
    Held(String),
    TimedOut,
}

/// Wait until the message is in Bob's mailbox, or (with `settle`) until
/// crepes.fr's queue says a try failed.
async fn wait_for_delivery(world: &World, settle: bool, limit: Duration) -> Delivery {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if world
            .wait_for_mail(&world.hamburger, BOB.0, 1, Duration::ZERO)
            .await
        {
            return Delivery::Delivered;
        }
        let failed = world
            .crepes
            .store
            .queued()
            .into_iter()
            .find_map(|q| q.last_error)
            .filter(|_| settle);
        if let Some(why) = failed {
            return Delivery::Held(why);
        }
        if tokio::time::Instant::now() > deadline {
            return Delivery::TimedOut;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Bob's agent reads his mailbox (POP3 or IMAP, as `opts` says).
async fn read_bobs_mail(
    opts: &DemoOptions,
    world: &World,
    alice: &AgentSettings,
) -> io::Result<Vec<u8>> {
    let t = &world.topology;
    let service = reading(opts);
    let bob = AgentSettings {
        from: t.bob_pc.addr,
        client_name: t.bob_pc.name.clone(),
        server: world.address(&t.hamburger, service),
        server_name: t.hamburger.name.clone(),
        tls: opts.tls,
        user: BOB.0.into(),
        password: BOB.1.into(),
        ..alice.clone()
    };
    match opts.read {
        ReadWith::Pop3 => agents::read_pop3(&bob, opts.keep).await,
        ReadWith::Imap => agents::read_imap(&bob).await,
    }
}
