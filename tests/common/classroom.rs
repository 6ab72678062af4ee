//! Start `mailscope serve` as a real process for client tests.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running `mailscope serve` on its own loopback address with the
/// offset ports (25 → 10025 …), its mail kept in a temporary directory.
pub struct Classroom {
    pub child: Child,
    /// What serve printed up to and including its "ready" line.
    pub banner: String,
    pub ip: String,
    pub store: PathBuf,
    pub ca: PathBuf,
    pub stderr_log: PathBuf,
}

pub const SMTP: u16 = 10025;
pub const SUBMISSION: u16 = 10587;
pub const SMTPS: u16 = 10465;
pub const POP3: u16 = 10110;
pub const POP3S: u16 = 10995;
pub const IMAP: u16 = 10143;
pub const IMAPS: u16 = 10993;

impl Classroom {
    /// `ip` must be unique among the tests running at the same time.
    pub fn start(ip: &str, extra: &[&str]) -> Classroom {
        let store = super::temp_dir(&format!("serve-{ip}"));
        Self::start_with_store(ip, store, extra)
    }

    pub fn start_with_store(ip: &str, store: PathBuf, extra: &[&str]) -> Classroom {
        // Beside the store, one per room (`with_extension` would cut the
        // name at the last "." of the address and share one file).
        let stderr_log = PathBuf::from(format!("{}.log", store.display()));
        let log = std::fs::File::create(&stderr_log).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_mailscope"))
            .args(["serve", "--listen", ip, "--ports", "offset", "--store"])
            .arg(&store)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("mailscope serve starts");
        let banner = until_ready(&mut child).unwrap_or_else(|seen| {
            panic!(
                "serve exited before it was ready: {seen}{}",
                std::fs::read_to_string(&stderr_log).unwrap_or_default()
            )
        });
        let ca = store.join("ca.pem");
        Classroom {
            child,
            banner,
            ip: ip.to_string(),
            store,
            ca,
            stderr_log,
        }
    }

    /// The messages in a user's INBOX on disk, by UID.
    pub fn inbox(&self, user: &str) -> Vec<Vec<u8>> {
        let dir = self.store.join("mail").join(user).join("INBOX").join("cur");
        let mut files: Vec<(u32, PathBuf)> = std::fs::read_dir(&dir)
            .map(|d| {
                d.filter_map(|e| {
                    let p = e.ok()?.path();
                    let uid = p.file_stem()?.to_str()?.parse().ok()?;
                    Some((uid, p))
                })
                .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
            .into_iter()
            .map(|(_, p)| std::fs::read(p).unwrap())
            .collect()
    }

    /// Wait until the INBOX holds `n` messages (delivery is synchronous
    /// with the 250 reply, so this only covers the relay's queue).
    pub fn wait_inbox(&self, user: &str, n: usize) -> Vec<Vec<u8>> {
        for _ in 0..200 {
            let m = self.inbox(user);
            if m.len() >= n {
                return m;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        self.inbox(user)
    }

    /// Stop like Ctrl-C would (SIGTERM) and wait.
    pub fn stop(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let status = self.child.wait().unwrap();
        std::mem::forget(self);
        status
    }

    /// kill -9: no chance to clean up.
    pub fn kill_hard(mut self) -> PathBuf {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let store = self.store.clone();
        std::mem::forget(self);
        store
    }
}

impl Drop for Classroom {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Read `child`'s stdout up to its "ready" line and return what it
/// printed; keeps draining it afterwards so the server never blocks on it.
/// `Err` with what it printed when it exited first.
fn until_ready(child: &mut Child) -> Result<String, String> {
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        if out.read_line(&mut line).unwrap_or(0) == 0 {
            return Err(seen);
        }
        seen.push_str(&line);
        if line.starts_with("ready") {
            break;
        }
    }
    std::thread::spawn(move || for _ in out.lines() {});
    Ok(seen)
}

/// `mailscope serve --memory --plaintext-auth` on `ip` with the offset
/// ports and `extra` options; returns once it is ready, with what it
/// printed.
pub fn serve_in_memory(ip: &str, extra: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mailscope"))
        .args(["serve", "--memory", "--plaintext-auth", "--listen", ip])
        .args(["--ports", "offset"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("mailscope serve starts");
    let banner = until_ready(&mut child).unwrap_or_else(|seen| panic!("serve exited: {seen}"));
    (child, banner)
}

/// The body of a stored message after the headers our servers add
/// (Return-Path and Received), for comparing with what a client sent.
pub fn without_trace_headers(stored: &[u8]) -> Vec<u8> {
    let text = stored;
    let mut pos = 0;
    loop {
        let rest = &text[pos..];
        let is_trace = rest.starts_with(b"Return-Path:") || rest.starts_with(b"Received:");
        if !is_trace {
            return rest.to_vec();
        }
        // Skip the field and its folded continuation lines.
        let mut end = pos;
        loop {
            match text[end..].windows(2).position(|w| w == b"\r\n") {
                Some(i) => end += i + 2,
                None => return Vec::new(),
            }
            if !matches!(text.get(end), Some(b' ' | b'\t')) {
                break;
            }
        }
        pos = end;
    }
}

/// `openssl s_client` to `port` of `room`, trusting its CA and asking for
/// hamburger.edu, with `extra` options (`-starttls smtp`, `-tls1_2`,
/// `-keylogfile F`, …). `script` is typed one line at a time, a little
/// apart, like a person typing; returns what the server said.
pub fn s_client(room: &Classroom, port: u16, extra: &[&str], script: &str) -> String {
    use std::io::Write;
    let mut child = Command::new("openssl")
        .args(["s_client", "-connect", &format!("{}:{port}", room.ip)])
        .args([
            "-CAfile",
            room.ca.to_str().unwrap(),
            "-servername",
            "hamburger.edu",
        ])
        .args(["-crlf", "-quiet", "-ign_eof"])
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("openssl runs");
    let mut stdin = child.stdin.take().unwrap();
    for line in script.lines() {
        let sent = stdin
            .write_all(format!("{line}\n").as_bytes())
            .and_then(|()| stdin.flush());
        if sent.is_err() {
            break; // openssl ended: the server closed the connection
        }
        std::thread::sleep(Duration::from_millis(60));
    }
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}
