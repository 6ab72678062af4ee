//! `mailscope serve`: classroom mode.

use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use super::Failure;
use mailscope::world::classroom::{Classroom, ClassroomOptions};
use mailscope::world::host::{Accounts, Policy};
use mailscope::world::servers::Service;
use mailscope::world::topology::PortPlan;

/// The options of `mailscope serve`.
#[derive(clap::Args, Clone, Debug)]
pub struct ServeArgs {
    /// The mail domain and host name.
    #[arg(long, default_value = "hamburger.edu")]
    domain: String,
    /// A user as NAME:PASSWORD (repeat; default bob:hungry and alice:secret).
    #[arg(long = "user")]
    users: Vec<String>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    listen: IpAddr,
    /// Ports: standard, offset, offset=N, or service=port,…
    #[arg(long)]
    ports: Option<String>,
    /// Accept passwords (USER/PASS, LOGIN, AUTH PLAIN/LOGIN) before TLS.
    #[arg(long)]
    plaintext_auth: bool,
    /// Relay mail from anyone to any domain (the lesson on spam).
    #[arg(long)]
    open_relay: bool,
    /// A logged-in user may send only from their own address (553
    /// otherwise); by default SMTP checks no sender, as in the lesson.
    #[arg(long)]
    strict_sender: bool,
    /// Publish an MTA-STS policy in enforce mode (RFC 8461): the TXT
    /// record `_mta-sts.DOMAIN` in the room's DNS and the policy at
    /// https://mta-sts.DOMAIN/.well-known/mta-sts.txt on the https port.
    #[arg(long)]
    mta_sts: bool,
    /// Keep the mail in this directory (it survives restarts).
    #[arg(long = "store", default_value = "mailscope-mail")]
    store_dir: PathBuf,
    /// Keep the mail in memory only (lost when the server stops).
    #[arg(long, conflicts_with = "store_dir")]
    memory: bool,
    /// Record every session and write the capture here at shutdown.
    #[arg(short = 'w', long = "write")]
    write: Option<PathBuf>,
    /// Largest message accepted, in bytes.
    #[arg(long)]
    max_message: Option<usize>,
    /// Seconds before an idle client is disconnected, on every service
    /// (default: the RFCs' minimums, SMTP 5 min, POP3 10 min, IMAP 30 min).
    #[arg(long)]
    idle_timeout: Option<u64>,
    /// Seconds a TLS handshake may take (465, 993, 995, STARTTLS, STLS).
    #[arg(long, value_name = "SECS")]
    tls_handshake_timeout: Option<u64>,
    /// Seconds a reply may wait for a client that reads nothing.
    #[arg(long, value_name = "SECS")]
    write_timeout: Option<u64>,
    /// Connections one client address may hold open at once (default 50).
    #[arg(long, value_name = "N")]
    max_connections_per_address: Option<usize>,
}

impl ServeArgs {
    /// Where the mail is kept: the directory, or None with `--memory`.
    fn store(&self) -> Option<&Path> {
        (!self.memory).then_some(self.store_dir.as_path())
    }
}

pub fn run(args: &ServeArgs, quiet: bool) -> Result<(), Failure> {
    let usage = |m: String| Failure {
        code: 2,
        message: m,
    };
    let mut accounts = Accounts::default();
    let users = if args.users.is_empty() {
        vec!["bob:hungry".to_string(), "alice:secret".to_string()]
    } else {
        args.users.clone()
    };
    for u in &users {
        accounts.add_spec(u).map_err(usage)?;
    }
    let rt = super::demo::runtime()?;
    rt.block_on(async {
        let mut ports = PortPlan::automatic(args.listen);
        if let Some(spec) = &args.ports {
            ports.apply(spec).map_err(usage)?;
        }
        let mut policy = Policy::default();
        if let Some(m) = args.max_message {
            policy.max_message = m;
        }
        policy.strict_sender = args.strict_sender;
        let secs = |t: u64| std::time::Duration::from_secs(t.max(1));
        if let Some(t) = args.idle_timeout {
            policy.set_idle_timeouts(secs(t));
        }
        if let Some(t) = args.tls_handshake_timeout {
            policy.tls_handshake_timeout = secs(t);
        }
        if let Some(t) = args.write_timeout {
            policy.write_timeout = secs(t);
        }
        if let Some(n) = args.max_connections_per_address {
            policy.max_connections_per_address = n.max(1);
        }
        let mut room = Classroom::start(ClassroomOptions {
            domain: args.domain.clone(),
            accounts,
            listen: args.listen,
            ports,
            plaintext_auth: args.plaintext_auth,
            open_relay: args.open_relay,
            store: args.store().map(Path::to_path_buf),
            policy,
            log_sessions: !quiet,
            record: args.write.is_some(),
            mta_sts: args.mta_sts,
        })
        .await
        .map_err(|e| Failure::input(format!("cannot start: {e}")))?;
        let stop = stop_signal()?;
        let list: Vec<String> = room
            .services
            .iter()
            .map(|(a, s)| format!("{} {}", s.name(), a.port()))
            .collect();
        {
            let mut out = std::io::stdout().lock();
            writeln!(out, "mailscope serve: {} on {}", args.domain, args.listen)?;
            writeln!(out, "ports: {}", list.join(", "))?;
            writeln!(
                out,
                "users: {}",
                room.host.accounts.users().collect::<Vec<_>>().join(", ")
            )?;
            writeln!(
                out,
                "CA certificate: {} ({})",
                room.ca_path.display(),
                room.ca_note
            )?;
            writeln!(
                out,
                "passwords in clear before TLS: {}",
                if args.plaintext_auth {
                    "accepted (--plaintext-auth)"
                } else {
                    "refused (use STARTTLS/STLS first)"
                }
            )?;
            if let Some((at, _)) = room.services.iter().find(|(_, s)| *s == Service::Https) {
                writeln!(
                    out,
                    "MTA-STS: TXT _mta-sts.{} in the DNS on port {}, policy at https://mta-sts.{}:{}/.well-known/mta-sts.txt",
                    args.domain,
                    ports.dns,
                    args.domain,
                    at.port()
                )?;
            }
            writeln!(out, "ready; Ctrl-C to stop")?;
            out.flush()?;
        }
        stop.await;
        room.shutdown();
        if !quiet {
            match args.store() {
                Some(dir) => eprintln!(
                    "stopping: every message answered with 250 is already on disk in {}",
                    dir.display()
                ),
                None => eprintln!("stopping: the in-memory mail is discarded (--memory)"),
            }
        }
        if let Some(path) = &args.write {
            let file = std::fs::File::create(path)?;
            let mut w = std::io::BufWriter::new(file);
            let key_log = room.pki.key_log().contents();
            let n = room.recorder.write_pcapng(&mut w, &key_log)?;
            w.flush()?;
            if !quiet {
                eprintln!(
                    "capture of the sessions written to {} ({n} packets)",
                    path.display()
                );
            }
        }
        Ok(())
    })
}

/// Ctrl-C (SIGINT) or SIGTERM. The handlers are installed when this is
/// called, not when the future is first polled: "ready" is printed after
/// it, and a SIGTERM that came before the handlers would kill the process
/// without its shutdown (a test that stops the server at once saw that).
fn stop_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = term.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}
