//! Starting the whole world: the DNS server, the two mail hosts with all
//! their services, and Alice's relay queue.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use super::dns::{self, Zone};
use super::eve::{self, EveSettings};
use super::host::{Accounts, AuthThrottle, Host, Policy};
use super::policy_server;
use super::recorder::Recorder;
use super::relay::{self, RelaySettings};
use super::servers::{self, Service};
use super::store::Store;
use super::sts_sender::StsSender;
use super::tls::Pki;
use super::topology::{Machine, PortPlan, Topology};
use crate::proto::mta_sts::{self, Mode, StsRecord};

/// The course's accounts: AUTH PLAIN of alice/secret is the textbook's
/// `AGFsaWNlAHNlY3JldA==`, Bob's POP3 password is "hungry".
pub const ALICE: (&str, &str) = ("alice", "secret");
pub const BOB: (&str, &str) = ("bob", "hungry");

/// How to build the world.
#[derive(Clone, Debug)]
pub struct WorldOptions {
    pub net: [u8; 3],
    /// Alice's and Bob's domains (crepes.fr and hamburger.edu).
    pub alice_domain: String,
    pub bob_domain: String,
    /// `None`: standard ports if they can be bound, else offset ports.
    pub ports: Option<PortPlan>,
    /// Offer TLS (STARTTLS and the implicit-TLS ports).
    pub tls: bool,
    /// Accept passwords without TLS (the eavesdropping lesson).
    pub plaintext_auth: bool,
    pub open_relay: bool,
    /// Keep the mail on disk under this directory (else in memory).
    pub store_root: Option<PathBuf>,
    /// Start Bob's server now (a fault test starts it later).
    pub bob_online: bool,
    pub max_message: usize,
    /// First retry delay of the relay queue.
    pub retry_base: Duration,
    pub log_sessions: bool,
    /// Only this TLS cipher suite (IANA number); rustls' defaults if None.
    pub tls_suite: Option<u16>,
    /// Put Eve on the path from crepes.fr to hamburger.edu.
    pub eve: Option<EveOnPath>,
    /// hamburger.edu publishes an MTA-STS policy in enforce mode (the TXT
    /// record and the HTTPS server of `mta-sts.hamburger.edu`) and
    /// crepes.fr applies MTA-STS to its deliveries.
    pub mta_sts: bool,
}

/// What Eve does on the path (`world::eve`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EveOnPath {
    /// Blank STARTTLS out of hamburger.edu's EHLO reply.
    pub strip_starttls: bool,
}

impl Default for WorldOptions {
    fn default() -> Self {
        WorldOptions {
            net: [127, 0, 10],
            alice_domain: "crepes.fr".into(),
            bob_domain: "hamburger.edu".into(),
            ports: None,
            tls: true,
            plaintext_auth: false,
            open_relay: false,
            store_root: None,
            bob_online: true,
            max_message: Policy::default().max_message,
            retry_base: Duration::from_secs(1),
            log_sessions: false,
            tls_suite: None,
            eve: None,
            mta_sts: false,
        }
    }
}

/// The running world.
pub struct World {
    pub topology: Topology,
    pub ports: PortPlan,
    pub pki: Pki,
    pub recorder: Recorder,
    pub crepes: Arc<Host>,
    pub hamburger: Arc<Host>,
    /// Every listening address and what it serves (for the transcript).
    pub services: Vec<(SocketAddr, Service)>,
    wake_crepes: Arc<Notify>,
    wake_hamburger: Arc<Notify>,
    tasks: Vec<JoinHandle<()>>,
    bob_tasks: Vec<JoinHandle<()>>,
}

fn make_host(
    machine: &Machine,
    domain: &str,
    users: &[(&str, &str)],
    pki: &Pki,
    opts: &WorldOptions,
    recorder: &Recorder,
    store: Arc<Store>,
) -> io::Result<Arc<Host>> {
    let tls = if opts.tls {
        let config = pki.server_config(&machine.name).map_err(io::Error::other)?;
        Some(TlsAcceptor::from(config))
    } else {
        None
    };
    for (u, _) in users {
        store.ensure_user(u)?;
    }
    Ok(Arc::new(Host {
        name: machine.name.clone(),
        domains: vec![domain.to_string()],
        accounts: Accounts::new(users),
        store,
        tls,
        policy: Policy {
            plaintext_auth: opts.plaintext_auth,
            open_relay: opts.open_relay,
            max_message: opts.max_message,
            ..Policy::default()
        },
        recorder: recorder.clone(),
        throttle: AuthThrottle::default(),
        connections: Default::default(),
        log_sessions: opts.log_sessions,
    }))
}

fn open_store(opts: &WorldOptions, which: &str) -> io::Result<Arc<Store>> {
    match &opts.store_root {
        Some(root) => Store::open(&root.join(which)),
        None => Ok(Store::in_memory()),
    }
}

impl World {
    pub async fn start(opts: &WorldOptions) -> io::Result<World> {
        let mut topology = Topology::named(opts.net, &opts.alice_domain, &opts.bob_domain);
        if opts.eve.is_some() {
            topology = topology.with_eve();
        }
        let ports = match opts.ports {
            Some(p) => p,
            None => PortPlan::automatic(topology.crepes.addr),
        };
        let mut pki = Pki::new().map_err(io::Error::other)?;
        pki.use_suite(opts.tls_suite);
        let recorder = Recorder::new();
        for m in topology.machines() {
            recorder.name_host(m.addr, &m.name);
        }
        let crepes = make_host(
            &topology.crepes,
            &topology.alice_domain,
            &[ALICE],
            &pki,
            opts,
            &recorder,
            open_store(opts, "alice-server")?,
        )?;
        let hamburger = make_host(
            &topology.hamburger,
            &topology.bob_domain,
            &[BOB],
            &pki,
            opts,
            &recorder,
            open_store(opts, "bob-server")?,
        )?;

        let mut zone = Zone::default();
        for (domain, m) in [
            (&topology.alice_domain, &topology.crepes),
            (&topology.bob_domain, &topology.hamburger),
        ] {
            zone.mx.insert(domain.clone(), (10, m.name.clone()));
        }
        for m in topology.machines() {
            if let std::net::IpAddr::V4(a) = m.addr {
                zone.a.insert(m.name.clone(), a);
            }
        }
        let policy = opts.mta_sts.then(|| mta_sts_policy(&topology));
        if let (Some(_), IpAddr::V4(a)) = (&policy, topology.hamburger.addr) {
            let domain = &topology.bob_domain;
            let record = StsRecord {
                id: format!("{}", super::store::unix_now()),
            };
            zone.txt
                .insert(mta_sts::record_name(domain), vec![record.emit()]);
            zone.a.insert(mta_sts::policy_host(domain), a);
        }
        let dns_addr = SocketAddr::new(topology.dns.addr, ports.dns);
        let udp = UdpSocket::bind(dns_addr).await?;
        let dns_recorder = recorder.clone();
        let zone = Arc::new(zone);
        let dns_task = tokio::spawn(async move {
            let _ = dns::serve(udp, zone, dns_recorder).await;
        });

        let mut world = World {
            topology,
            ports,
            pki,
            recorder,
            crepes,
            hamburger,
            services: Vec::new(),
            wake_crepes: Arc::new(Notify::new()),
            wake_hamburger: Arc::new(Notify::new()),
            tasks: vec![dns_task],
            bob_tasks: Vec::new(),
        };
        let crepes = world.crepes.clone();
        let addr = world.topology.crepes.addr;
        let wake = world.wake_crepes.clone();
        let crepes_tasks = world.serve_host(&crepes, addr, wake).await?;
        world.tasks.extend(crepes_tasks);
        if opts.bob_online {
            world.start_bob().await?;
        }
        if let Some(policy) = &policy {
            world.serve_policy(policy).await?;
        }
        let via = match (opts.eve, &world.topology.eve) {
            (Some(on_path), Some(eve)) => Some(world.start_eve(on_path, eve.addr).await?),
            _ => None,
        };
        for (host, wake, machine) in [
            (
                world.crepes.clone(),
                world.wake_crepes.clone(),
                world.topology.crepes.clone(),
            ),
            (
                world.hamburger.clone(),
                world.wake_hamburger.clone(),
                world.topology.hamburger.clone(),
            ),
        ] {
            let settings = RelaySettings {
                dns: dns_addr,
                bind: machine.addr,
                smtp_port: ports.smtp,
                tls: world.pki.client_config().map_err(io::Error::other)?,
                retry_base: opts.retry_base,
                // Eve sits on crepes.fr's way out.
                via: via.filter(|_| machine.addr == world.topology.crepes.addr),
                mta_sts: (opts.mta_sts && machine.addr == world.topology.crepes.addr)
                    .then(|| {
                        world.pki.client_config().map(|tls| {
                            Arc::new(StsSender::new(dns_addr, machine.addr, ports.https, tls))
                        })
                    })
                    .transpose()
                    .map_err(io::Error::other)?,
            };
            world
                .tasks
                .push(tokio::spawn(relay::run(host, settings, wake)));
        }
        Ok(world)
    }

    async fn serve_host(
        &mut self,
        host: &Arc<Host>,
        addr: std::net::IpAddr,
        wake: Arc<Notify>,
    ) -> io::Result<Vec<JoinHandle<()>>> {
        let mut tasks = Vec::new();
        for service in Service::ALL {
            if service.implicit_tls() && host.tls.is_none() {
                continue;
            }
            let at = SocketAddr::new(addr, service.port(&self.ports));
            let (local, task) = servers::listen(at, host.clone(), service, wake.clone())
                .await
                .map_err(|e| io::Error::new(e.kind(), format!("cannot listen on {at}: {e}")))?;
            if !self.services.contains(&(local, service)) {
                self.services.push((local, service));
            }
            tasks.push(task);
        }
        Ok(tasks)
    }

    /// Serve hamburger.edu's MTA-STS policy over HTTPS from its address,
    /// as `mta-sts.hamburger.edu` (RFC 8461 §3.3).
    async fn serve_policy(&mut self, policy: &mta_sts::Policy) -> io::Result<()> {
        let name = mta_sts::policy_host(&self.topology.bob_domain);
        let config = self.pki.server_config(&name).map_err(io::Error::other)?;
        let at = self.address(&self.topology.hamburger, Service::Https);
        let (local, task) =
            policy_server::listen(at, TlsAcceptor::from(config), policy, self.recorder.clone())
                .await
                .map_err(|e| io::Error::new(e.kind(), format!("cannot listen on {at}: {e}")))?;
        self.services.push((local, Service::Https));
        self.tasks.push(task);
        Ok(())
    }

    /// Start Eve's relay at `addr` towards hamburger.edu's SMTP port;
    /// returns where it listens.
    async fn start_eve(&mut self, on_path: EveOnPath, addr: IpAddr) -> io::Result<SocketAddr> {
        let settings = EveSettings {
            listen: SocketAddr::new(addr, self.ports.smtp),
            upstream: self.address(&self.topology.hamburger, Service::Smtp),
            strip_starttls: on_path.strip_starttls,
        };
        let (local, task) = eve::listen(settings, self.recorder.clone())
            .await
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("Eve cannot listen on {}: {e}", settings.listen),
                )
            })?;
        self.services.push((local, Service::Smtp));
        self.tasks.push(task);
        Ok(local)
    }

    /// Start (or restart) Bob's server.
    pub async fn start_bob(&mut self) -> io::Result<()> {
        if !self.bob_tasks.is_empty() {
            return Ok(());
        }
        let host = self.hamburger.clone();
        let addr = self.topology.hamburger.addr;
        let wake = self.wake_hamburger.clone();
        self.bob_tasks = self.serve_host(&host, addr, wake).await?;
        Ok(())
    }

    /// Stop Bob's server (its listening sockets close).
    pub fn stop_bob(&mut self) {
        for t in self.bob_tasks.drain(..) {
            t.abort();
        }
    }

    /// The address of a service of crepes.fr or hamburger.edu.
    pub fn address(&self, machine: &Machine, service: Service) -> SocketAddr {
        SocketAddr::new(machine.addr, service.port(&self.ports))
    }

    /// The TLS key log of every session so far (NSS format).
    pub fn key_log(&self) -> String {
        self.pki.key_log().contents()
    }

    /// Wait until `user` at `host` has at least `count` messages in INBOX.
    pub async fn wait_for_mail(
        &self,
        host: &Host,
        user: &str,
        count: usize,
        limit: Duration,
    ) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if host
                .store
                .snapshot(user, super::store::INBOX)
                .is_ok_and(|s| s.messages.len() >= count)
            {
                return true;
            }
            if tokio::time::Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stop every server and queue.
    pub fn shutdown(&mut self) {
        self.stop_bob();
        for t in self.tasks.drain(..) {
            t.abort();
        }
    }
}

/// hamburger.edu's policy: enforce, its own exchanger only, a day.
fn mta_sts_policy(topology: &Topology) -> mta_sts::Policy {
    mta_sts::Policy {
        mode: Mode::Enforce,
        mx: vec![topology.hamburger.name.clone()],
        max_age: 86_400,
    }
}

impl Drop for World {
    fn drop(&mut self) {
        self.shutdown();
    }
}
