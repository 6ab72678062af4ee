//! Soak test of `mailscope serve` under load and faults (a benchmark and a
//! fault test, not a unit test: it reports figures and checks the ledger,
//! it asserts no timings).
//!
//! A real `mailscope serve` process keeps its mail on disk. SESSIONS
//! concurrent sessions talk to it for SECONDS: one POP3 reader per user
//! (log in, RETR and DELE everything, QUIT), the rest SMTP senders (up to
//! 20 messages per session to random users). Every few seconds the server
//! is killed with SIGKILL and started again on the same store; clients
//! reconnect. Each client keeps a ledger:
//!
//! * a message is *acknowledged* when its DATA got 250, *unknown* when the
//!   connection died after the final "." (stored or not: both are right);
//! * a deletion is *committed* when QUIT got +OK, *unknown* when the
//!   connection died after QUIT was sent (RFC 1939 §6: without QUIT
//!   nothing is deleted).
//!
//! At the end the store on disk must hold every acknowledged message that
//! was not deleted exactly once, no committed deletion, and nothing that
//! was never sent. Lost and duplicated messages must both be 0.
//!
//! ```text
//! bash bench/soak.sh                  # 1000 sessions, 600 s, a kill every 5–15 s
//! cargo run --release --example soak -- --sessions 200 --seconds 30
//! ```

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mailscope::proto::{pop3, smtp};
use mailscope::world::client;

const USERS: usize = 20;
const IP: [u8; 4] = [127, 0, 93, 1];
const SMTP: u16 = 10025;
const POP3: u16 = 10110;

struct Args {
    sessions: usize,
    seconds: u64,
    kill_every: (u64, u64),
}

fn args() -> Args {
    let mut a = Args {
        sessions: 1000,
        seconds: 600,
        kill_every: (5, 15),
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let num: Option<u64> = it.next().and_then(|v| v.parse().ok());
        match k.as_str() {
            "--sessions" => a.sessions = num.map_or(a.sessions, |n| n as usize),
            "--seconds" => a.seconds = num.unwrap_or(a.seconds),
            "--kill-min" => a.kill_every.0 = num.unwrap_or(a.kill_every.0),
            "--kill-max" => a.kill_every.1 = num.unwrap_or(a.kill_every.1),
            other => {
                eprintln!("unknown argument {other}");
                std::process::exit(2);
            }
        }
    }
    a
}

/// What the clients know happened.
#[derive(Default)]
struct Ledger {
    acked: HashSet<String>,
    unknown_sent: HashSet<String>,
    deleted: HashSet<String>,
    unknown_deleted: HashSet<String>,
    latencies: Vec<Duration>,
}

/// The running server process.
struct Server {
    binary: PathBuf,
    store: PathBuf,
    child: Option<Child>,
}

impl Server {
    fn start(&mut self) {
        let mut cmd = Command::new(&self.binary);
        cmd.args(["serve", "--listen", "127.0.93.1", "--ports", "offset"])
            .args(["--plaintext-auth", "--idle-timeout", "30"])
            // Every session comes from this one machine's address.
            .args(["--max-connections-per-address", "100000", "--store"])
            .arg(&self.store);
        for u in 0..USERS {
            cmd.args(["--user", &format!("u{u}:pw{u}")]);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("mailscope serve starts");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        while out.read_line(&mut line).unwrap_or(0) > 0 && !line.starts_with("ready") {
            line.clear();
        }
        std::thread::spawn(move || for _ in out.lines() {});
        self.child = Some(child);
    }

    fn kill_hard(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill(); // SIGKILL: no chance to clean up
            let _ = c.wait();
        }
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            let _ = c.wait();
        }
    }
}

/// A small deterministic generator (xorshift).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn from() -> IpAddr {
    [127, 0, 0, 1].into()
}

/// One SMTP session: up to 20 messages, each to a random user.
async fn send_session(
    id: usize,
    seq: &mut u64,
    rng: &mut Rng,
    ledger: &Mutex<Ledger>,
    deadline: Instant,
) -> std::io::Result<()> {
    let mut c = client::connect(from(), SocketAddr::new(IP.into(), SMTP)).await?;
    client::smtp_reply(&mut c).await?;
    client::smtp(&mut c, &smtp::Command::Ehlo(format!("soak-{id}"))).await?;
    for _ in 0..20 {
        if Instant::now() >= deadline {
            break;
        }
        *seq += 1;
        let mid = format!("soak-{id}-{seq}@crepes.fr");
        let user = rng.next() as usize % USERS;
        let started = Instant::now();
        let r = client::smtp(
            &mut c,
            &smtp::Command::Mail(Some(smtp::Path::new("alice@crepes.fr"))),
        )
        .await?;
        if r.code != 250 {
            return Ok(());
        }
        client::smtp(
            &mut c,
            &smtp::Command::Rcpt(Some(smtp::Path::new(&format!("u{user}@hamburger.edu")))),
        )
        .await?;
        client::smtp(&mut c, &smtp::Command::Data).await?;
        let body = format!(
            "From: alice@crepes.fr\r\nTo: u{user}@hamburger.edu\r\nMessage-ID: <{mid}>\r\nSubject: soak\r\n\r\n{}\r\n",
            "Lorem ipsum dolor sit amet. ".repeat(20)
        );
        // From here the server may have stored it whatever we hear.
        match client::smtp_data(&mut c, body.as_bytes()).await {
            Ok(reply) if reply.code == 250 => {
                let mut l = ledger.lock().unwrap();
                l.acked.insert(mid);
                l.latencies.push(started.elapsed());
            }
            Ok(_) => {}
            Err(e) => {
                ledger.lock().unwrap().unknown_sent.insert(mid);
                return Err(e);
            }
        }
    }
    let _ = client::smtp(&mut c, &smtp::Command::Quit).await;
    Ok(())
}

/// One POP3 session of user `u`: retrieve and delete everything, QUIT.
async fn read_session(u: usize, ledger: &Mutex<Ledger>) -> std::io::Result<()> {
    let mut c = client::connect(from(), SocketAddr::new(IP.into(), POP3)).await?;
    client::pop3(&mut c, None).await?;
    client::pop3(&mut c, Some(&pop3::Command::User(format!("u{u}")))).await?;
    let pass = pop3::Command::Pass(format!("pw{u}"));
    if !client::pop3(&mut c, Some(&pass)).await?.is_ok() {
        return Ok(());
    }
    let stat = client::pop3(&mut c, Some(&pop3::Command::Stat)).await?;
    let count: usize = stat
        .text()
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let mut retrieved = Vec::new();
    for n in 1..=count.min(50) {
        let retr = pop3::Command::Retr(Some(n as u64));
        if !client::pop3(&mut c, Some(&retr)).await?.is_ok() {
            continue;
        }
        let data = client::pop3_multiline(&mut c).await?;
        if let Some(mid) = message_id(&data) {
            client::pop3(&mut c, Some(&pop3::Command::Dele(Some(n as u64)))).await?;
            retrieved.push(mid);
        }
    }
    // Deletions happen at QUIT (the UPDATE state) or not at all.
    match client::pop3(&mut c, Some(&pop3::Command::Quit)).await {
        Ok(r) if r.is_ok() => ledger.lock().unwrap().deleted.extend(retrieved),
        Ok(_) => {}
        Err(e) => {
            ledger.lock().unwrap().unknown_deleted.extend(retrieved);
            return Err(e);
        }
    }
    Ok(())
}

fn message_id(data: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(data);
    let id = text.split("Message-ID: <").nth(1)?.split('>').next()?;
    Some(id.to_string())
}

/// Every message in the store on disk, by Message-ID, with its count.
fn stored(store: &Path) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for u in 0..USERS {
        let dir = store
            .join("mail")
            .join(format!("u{u}"))
            .join("INBOX")
            .join("cur");
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            if let Ok(data) = std::fs::read(entry.path())
                && let Some(id) = message_id(&data)
            {
                *out.entry(id).or_insert(0) += 1;
            }
        }
    }
    out
}

fn main() {
    let a = args();
    let binary = std::env::current_exe()
        .unwrap()
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .join("mailscope");
    let store = std::env::temp_dir().join(format!("mailscope-soak-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&store);
    let mut server = Server {
        binary,
        store: store.clone(),
        child: None,
    };
    server.start();
    let server = Arc::new(Mutex::new(server));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let connected = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(a.seconds);
    let done = Arc::new(AtomicBool::new(false));
    // The killer: SIGKILL at random moments, then a restart on the same
    // store.
    let kills = {
        let server = server.clone();
        let done = done.clone();
        let (lo, hi) = a.kill_every;
        std::thread::spawn(move || {
            let mut rng = Rng(0x2545_f491_4f6c_dd1d);
            let mut kills = 0;
            loop {
                let wait = lo * 1000 + rng.next() % ((hi - lo).max(1) * 1000);
                let until = Instant::now() + Duration::from_millis(wait);
                while Instant::now() < until {
                    if done.load(Ordering::SeqCst) {
                        return kills;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                if Instant::now() + Duration::from_secs(2) >= deadline {
                    continue;
                }
                let mut s = server.lock().unwrap();
                s.kill_hard();
                kills += 1;
                s.start();
            }
        })
    };
    rt.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for id in 0..a.sessions {
            let (ledger, connected, peak, failures) = (
                ledger.clone(),
                connected.clone(),
                peak.clone(),
                failures.clone(),
            );
            tasks.spawn(async move {
                let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (id as u64 + 1));
                let mut seq = 0;
                while Instant::now() < deadline {
                    let now = connected.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    let session = async {
                        if id < USERS {
                            read_session(id, &ledger).await
                        } else {
                            send_session(id, &mut seq, &mut rng, &ledger, deadline).await
                        }
                    };
                    let r = tokio::time::timeout(Duration::from_secs(60), session).await;
                    connected.fetch_sub(1, Ordering::SeqCst);
                    if !matches!(r, Ok(Ok(()))) {
                        failures.fetch_add(1, Ordering::SeqCst);
                        // The server is restarting: try again shortly.
                        let pause = 50 + rng.next() % 200;
                        tokio::time::sleep(Duration::from_millis(pause)).await;
                    } else if id < USERS {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
            });
        }
        while tasks.join_next().await.is_some() {}
    });
    done.store(true, Ordering::SeqCst);
    let kills = kills.join().unwrap();
    let elapsed = started.elapsed();
    server.lock().unwrap().stop();

    let l = ledger.lock().unwrap();
    let on_disk = stored(&store);
    let duplicated: usize = on_disk.values().map(|n| n - 1).sum();
    let lost = l
        .acked
        .iter()
        .filter(|m| {
            !on_disk.contains_key(*m) && !l.deleted.contains(*m) && !l.unknown_deleted.contains(*m)
        })
        .count();
    let phantom = on_disk
        .keys()
        .filter(|m| !l.acked.contains(*m) && !l.unknown_sent.contains(*m))
        .count();
    let undeleted = l
        .deleted
        .iter()
        .filter(|m| on_disk.contains_key(*m))
        .count();
    let mut lat = l.latencies.clone();
    lat.sort();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .map(|d| format!("{:.1} ms", d.as_secs_f64() * 1000.0))
            .unwrap_or_else(|| "-".into())
    };
    println!("sessions requested          {}", a.sessions);
    println!(
        "sessions held (peak)        {}",
        peak.load(Ordering::SeqCst)
    );
    println!("duration                    {:.1} s", elapsed.as_secs_f64());
    println!("kill -9 + restart           {kills}");
    println!(
        "sessions cut or refused     {}",
        failures.load(Ordering::SeqCst)
    );
    println!("messages with 250           {}", l.acked.len());
    println!(
        "messages/s (with 250)       {:.0}",
        l.acked.len() as f64 / elapsed.as_secs_f64()
    );
    println!("latency MAIL→250 p50 / p99  {} / {}", pct(0.50), pct(0.99));
    println!("sent, fate unknown (cut)    {}", l.unknown_sent.len());
    println!("deleted (QUIT +OK)          {}", l.deleted.len());
    println!("left in the store           {}", on_disk.len());
    println!("lost (250, neither stored nor deleted)  {lost}");
    println!("duplicated in the store                 {duplicated}");
    println!("stored but never sent                   {phantom}");
    println!("deleted at QUIT yet still stored        {undeleted}");
    let _ = std::fs::remove_dir_all(&store);
    if lost + duplicated + phantom + undeleted > 0 {
        std::process::exit(1);
    }
}
