//! Classroom mode (`mailscope serve`): one mail host with every service,
//! for students to talk to by hand — `nc`/`telnet` to send mail,
//! `openssl s_client -starttls smtp` with AUTH PLAIN in base64, POP3 and
//! IMAP sessions — without any network beyond this machine.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use super::dns::{self, Zone};
use super::host::{Accounts, AuthThrottle, Host, Policy};
use super::policy_server;
use super::recorder::Recorder;
use super::relay::{self, RelaySettings};
use super::servers::{self, Service};
use super::store::Store;
use super::sts_sender::StsSender;
use super::tls::{CA_CERT_FILE, CaOrigin, Pki};
use super::topology::PortPlan;
use crate::proto::mta_sts;

#[derive(Clone, Debug)]
pub struct ClassroomOptions {
    pub domain: String,
    pub accounts: Accounts,
    pub listen: IpAddr,
    pub ports: PortPlan,
    pub plaintext_auth: bool,
    pub open_relay: bool,
    pub store: Option<PathBuf>,
    pub policy: Policy,
    pub log_sessions: bool,
    /// Record every session for a capture (`serve -w`).
    pub record: bool,
    /// Publish an MTA-STS policy in enforce mode for the domain (RFC
    /// 8461: the `_mta-sts` TXT record in the room's DNS, the policy over
    /// HTTPS on the https port) and apply MTA-STS when relaying.
    pub mta_sts: bool,
}

pub struct Classroom {
    pub host: Arc<Host>,
    pub pki: Pki,
    /// Where the CA certificate was written for outside clients.
    pub ca_path: PathBuf,
    /// How long that CA lasts, in words for the line that prints its path.
    pub ca_note: &'static str,
    pub services: Vec<(SocketAddr, Service)>,
    pub recorder: Recorder,
    tasks: Vec<JoinHandle<()>>,
}

impl Classroom {
    pub async fn start(opts: ClassroomOptions) -> io::Result<Classroom> {
        let (pki, ca_path, ca_note) = ca(opts.store.as_deref())?;
        let recorder = if opts.record {
            Recorder::new()
        } else {
            Recorder::off()
        };
        recorder.name_host(opts.listen, &opts.domain);
        let store = match &opts.store {
            Some(root) => Store::open(root)?,
            None => Store::in_memory(),
        };
        for u in opts.accounts.users() {
            store.ensure_user(u)?;
        }
        let acceptor = TlsAcceptor::from(
            pki.server_config_for(&opts.domain, &certificate_names(opts.listen))
                .map_err(io::Error::other)?,
        );
        let host = Arc::new(Host {
            name: opts.domain.clone(),
            domains: vec![opts.domain.clone()],
            accounts: opts.accounts.clone(),
            store,
            tls: Some(acceptor),
            policy: Policy {
                plaintext_auth: opts.plaintext_auth,
                open_relay: opts.open_relay,
                ..opts.policy.clone()
            },
            recorder: recorder.clone(),
            throttle: AuthThrottle::default(),
            connections: Default::default(),
            log_sessions: opts.log_sessions,
        });
        let wake = Arc::new(Notify::new());
        let mut services = Vec::new();
        let mut tasks = Vec::new();
        for service in Service::ALL {
            let at = SocketAddr::new(opts.listen, service.port(&opts.ports));
            let (local, task) = servers::listen(at, host.clone(), service, wake.clone())
                .await
                .map_err(|e| io::Error::new(e.kind(), format!("cannot listen on {at}: {e}")))?;
            services.push((local, service));
            tasks.push(task);
        }
        // A DNS server that knows only this domain: mail for any other
        // domain (with --open-relay) bounces with "no such domain", as it
        // would on a network cut off from the Internet.
        let mut zone = Zone::default();
        zone.mx
            .insert(opts.domain.clone(), (10, opts.domain.clone()));
        if let IpAddr::V4(a) = opts.listen {
            zone.a.insert(opts.domain.clone(), a);
        }
        if opts.mta_sts {
            let policy = mta_sts::Policy {
                mode: mta_sts::Mode::Enforce,
                mx: vec![opts.domain.clone()],
                max_age: 86_400,
            };
            let record = mta_sts::StsRecord {
                id: format!("{}", super::store::unix_now()),
            };
            let host = mta_sts::policy_host(&opts.domain);
            zone.txt
                .insert(mta_sts::record_name(&opts.domain), vec![record.emit()]);
            if let IpAddr::V4(a) = opts.listen {
                zone.a.insert(host.clone(), a);
            }
            let config = pki
                .server_config_for(&host, &certificate_names(opts.listen))
                .map_err(io::Error::other)?;
            let at = SocketAddr::new(opts.listen, opts.ports.https);
            let (local, task) =
                policy_server::listen(at, TlsAcceptor::from(config), &policy, recorder.clone())
                    .await
                    .map_err(|e| io::Error::new(e.kind(), format!("cannot listen on {at}: {e}")))?;
            services.push((local, Service::Https));
            tasks.push(task);
        }
        let dns_addr = SocketAddr::new(opts.listen, opts.ports.dns);
        let udp = UdpSocket::bind(dns_addr).await?;
        let rec = recorder.clone();
        tasks.push(tokio::spawn(async move {
            let _ = dns::serve(udp, Arc::new(zone), rec).await;
        }));
        let settings_tls = pki.client_config().map_err(io::Error::other)?;
        let settings = RelaySettings {
            dns: dns_addr,
            bind: opts.listen,
            smtp_port: opts.ports.smtp,
            tls: settings_tls.clone(),
            retry_base: Duration::from_secs(5),
            via: None,
            mta_sts: opts.mta_sts.then(|| {
                Arc::new(StsSender::new(
                    dns_addr,
                    opts.listen,
                    opts.ports.https,
                    settings_tls.clone(),
                ))
            }),
        };
        tasks.push(tokio::spawn(relay::run(host.clone(), settings, wake)));
        Ok(Classroom {
            host,
            pki,
            ca_path,
            ca_note,
            services,
            recorder,
            tasks,
        })
    }

    /// Stop accepting and end every session. Mail already acknowledged is
    /// on disk (or in memory for an in-memory store).
    pub fn shutdown(&mut self) {
        for t in self.tasks.drain(..) {
            t.abort();
        }
    }
}

/// The CA and where outside clients find it. With a store it is kept
/// there and used again on every start, so students trust it once; an
/// in-memory room makes a new one each time, in the temp directory.
fn ca(store: Option<&Path>) -> io::Result<(Pki, PathBuf, &'static str)> {
    match store {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            let (pki, origin) = Pki::load_or_create(dir).map_err(io::Error::other)?;
            let note = match origin {
                CaOrigin::Kept => "kept in the store: the same as before this start",
                CaOrigin::Made => "new, saved in the store: it stays the same on later starts",
            };
            Ok((pki, dir.join(CA_CERT_FILE), note))
        }
        None => {
            let pki = Pki::new().map_err(io::Error::other)?;
            let path =
                std::env::temp_dir().join(format!("mailscope-ca-{}.pem", std::process::id()));
            std::fs::write(&path, pki.ca_pem())?;
            Ok((
                pki,
                path,
                "new on every --memory start: trust it again after a restart",
            ))
        }
    }
}

/// What the server certificate names besides the domain: `localhost` and
/// the listen address as an IP SAN (RFC 5280 §4.2.1.6), since students
/// type `127.0.0.1` or `localhost` as often as the domain. A wildcard
/// listen address (0.0.0.0, ::) is no name a client can dial: then the
/// loopback addresses stand in for it.
fn certificate_names(listen: IpAddr) -> Vec<String> {
    let mut names = vec!["localhost".to_string()];
    if listen.is_unspecified() {
        names.push("127.0.0.1".to_string());
        names.push("::1".to_string());
    } else {
        names.push(listen.to_string());
    }
    names
}

impl Drop for Classroom {
    fn drop(&mut self) {
        self.shutdown();
    }
}
