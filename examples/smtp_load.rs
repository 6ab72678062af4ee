//! Load benchmark for the embedded SMTP server (not a test: it reports
//! figures, it does not assert timings).
//!
//! N concurrent SMTP sessions each send messages, one after the other,
//! for a fixed time to a `serve`-style host with an on-disk store (every
//! message fsync'ed before its 250). At the end every message that got a
//! 250 must be in the store exactly once.
//!
//! ```text
//! bash bench/load.sh                 # 1000 sessions, 10 s
//! cargo run --release --example smtp_load -- --sessions 200 --seconds 5 --memory
//! ```

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mailscope::proto::smtp::{Command, Path};
use mailscope::world::classroom::{Classroom, ClassroomOptions};
use mailscope::world::client;
use mailscope::world::host::{Accounts, Policy};
use mailscope::world::store::INBOX;
use mailscope::world::topology::PortPlan;

struct Args {
    sessions: usize,
    seconds: u64,
    memory: bool,
}

fn args() -> Args {
    let mut a = Args {
        sessions: 1000,
        seconds: 10,
        memory: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        match k.as_str() {
            "--sessions" => {
                a.sessions = it.next().and_then(|v| v.parse().ok()).unwrap_or(a.sessions)
            }
            "--seconds" => a.seconds = it.next().and_then(|v| v.parse().ok()).unwrap_or(a.seconds),
            "--memory" => a.memory = true,
            other => {
                eprintln!("unknown argument {other}");
                std::process::exit(2);
            }
        }
    }
    a
}

/// One session: send messages until the deadline. Returns the Message-IDs
/// that got a 250 and the latency of each (MAIL sent → 250 after the dot).
async fn session(
    server: SocketAddr,
    id: usize,
    deadline: Instant,
    connected: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
) -> std::io::Result<(Vec<String>, Vec<Duration>)> {
    let from: IpAddr = [127, 0, 0, 1].into();
    let mut c = client::connect(from, server).await?;
    let now = connected.fetch_add(1, Ordering::SeqCst) + 1;
    peak.fetch_max(now, Ordering::SeqCst);
    // Every exchange gets a deadline: a server that never answers counts as
    // a failed session instead of hanging the benchmark.
    let result = tokio::time::timeout(Duration::from_secs(60), async {
        client::smtp_reply(&mut c).await?;
        client::smtp(&mut c, &Command::Ehlo(format!("load-{id}"))).await?;
        let (mut ids, mut latencies) = (Vec::new(), Vec::new());
        let mut n = 0;
        while Instant::now() < deadline {
            n += 1;
            let mid = format!("s{id}-{n}@load.test");
            let started = Instant::now();
            client::smtp(&mut c, &Command::Mail(Some(Path::new("alice@crepes.fr")))).await?;
            client::smtp(&mut c, &Command::Rcpt(Some(Path::new("bob@hamburger.edu")))).await?;
            client::smtp(&mut c, &Command::Data).await?;
            let body = format!(
                "From: alice@crepes.fr\r\nTo: bob@hamburger.edu\r\nMessage-ID: <{mid}>\r\nSubject: load {n}\r\n\r\n{}\r\n",
                "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ".repeat(16)
            );
            let reply = client::smtp_data(&mut c, body.as_bytes()).await?;
            if reply.code == 250 {
                latencies.push(started.elapsed());
                ids.push(mid);
            }
        }
        client::smtp(&mut c, &Command::Quit).await?;
        Ok((ids, latencies))
    })
    .await
    .unwrap_or_else(|_| Err(std::io::Error::other("no answer within 60 s")));
    connected.fetch_sub(1, Ordering::SeqCst);
    result
}

fn main() {
    let a = args();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let store_dir = std::env::temp_dir().join(format!("mailscope-load-{}", std::process::id()));
        let ip: IpAddr = [127, 0, 88, 1].into();
        let ports = PortPlan::offset(20_000);
        let mut room = Classroom::start(ClassroomOptions {
            domain: "hamburger.edu".into(),
            accounts: Accounts::new(&[("bob", "hungry")]),
            listen: ip,
            ports,
            plaintext_auth: false,
            open_relay: false,
            store: (!a.memory).then(|| store_dir.clone()),
            // Every session comes from this one machine's address.
            policy: Policy {
                max_connections_per_address: usize::MAX,
                ..Policy::default()
            },
            log_sessions: false,
            mta_sts: false,
            record: false,
        })
        .await
        .expect("server starts");
        let server = SocketAddr::new(ip, ports.smtp);
        let connected = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let deadline = started + Duration::from_secs(a.seconds);
        let mut tasks = tokio::task::JoinSet::new();
        for id in 0..a.sessions {
            tasks.spawn(session(
                server,
                id,
                deadline,
                connected.clone(),
                peak.clone(),
            ));
        }
        let watch = connected.clone();
        let watchdog = tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(2)).await;
                if Instant::now() > deadline {
                    eprintln!(
                        "[watch] {} sessions still connected",
                        watch.load(Ordering::SeqCst)
                    );
                }
            }
        });
        let (mut acked, mut latencies, mut failed_sessions) = (Vec::new(), Vec::new(), 0);
        while let Some(r) = tasks.join_next().await {
            match r {
                Ok(Ok((ids, lat))) => {
                    acked.extend(ids);
                    latencies.extend(lat);
                }
                _ => failed_sessions += 1,
            }
        }
        watchdog.abort();
        let elapsed = started.elapsed();
        let stored = room.host.store.snapshot("bob", INBOX).expect("bob's inbox");
        let mut seen = HashSet::new();
        let mut duplicated = 0;
        for m in &stored.messages {
            let text = String::from_utf8_lossy(&m.data);
            let id = text
                .split("Message-ID: <")
                .nth(1)
                .and_then(|r| r.split('>').next())
                .unwrap_or("")
                .to_string();
            if !seen.insert(id) {
                duplicated += 1;
            }
        }
        let lost = acked.iter().filter(|id| !seen.contains(*id)).count();
        let unexpected = seen.len().saturating_sub(acked.len() - lost);
        latencies.sort();
        let pct = |p: f64| {
            latencies
                .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
                .map(|d| format!("{:.1} ms", d.as_secs_f64() * 1000.0))
                .unwrap_or_else(|| "-".into())
        };
        println!("sessions requested   {}", a.sessions);
        println!("sessions held (peak) {}", peak.load(Ordering::SeqCst));
        println!("sessions failed      {failed_sessions}");
        println!(
            "store                {}",
            if a.memory {
                "memory"
            } else {
                "disk (fsync per message)"
            }
        );
        println!("duration             {:.1} s", elapsed.as_secs_f64());
        println!("messages with 250    {}", acked.len());
        println!(
            "messages/s           {:.0}",
            acked.len() as f64 / elapsed.as_secs_f64()
        );
        println!("latency p50 / p99    {} / {}", pct(0.50), pct(0.99));
        println!("lost (250, not stored)      {lost}");
        println!("duplicated in the store     {duplicated}");
        println!("stored without a 250        {unexpected}");
        room.shutdown();
        drop(room);
        let _ = std::fs::remove_dir_all(&store_dir);
        if lost > 0 || duplicated > 0 {
            std::process::exit(1);
        }
    });
}
