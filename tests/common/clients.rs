//! Real mail programs (msmtp, fetchmail, neomutt) run against a
//! [`Classroom`], each with its own configuration in a private directory.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use super::classroom::Classroom;

/// Fail (never skip) when a program the tests need is missing: CI installs
/// it (`.ci/run`), so its absence is a broken setup, not a reason to pass.
pub fn require(program: &str) {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "{program} is not installed: .ci/run installs it from the distribution \
         (apt-get install {program})"
    );
}

/// Write `text` to `path` with mode 0600: msmtp and fetchmail refuse a
/// configuration holding a password that others can read.
pub fn write_private(path: &Path, text: &str) {
    use std::os::unix::fs::OpenOptionsExt;
    let _ = std::fs::remove_file(path);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

/// How msmtp reaches the server.
#[derive(Clone, Copy, Debug)]
pub enum Tls {
    /// Submission (587): plain TCP, then STARTTLS (RFC 3207).
    StartTls,
    /// Submissions (465): TLS from the first byte (RFC 8314).
    Implicit,
}

/// Send `message` (LF line ends, as a file on disk has them) from alice to
/// `rcpt` with msmtp, to the room's IP address (not a name), verifying the
/// certificate against `ca`, with AUTH PLAIN. Returns msmtp's output; it
/// succeeded when the status is success.
pub fn msmtp(
    room: &Classroom,
    port: u16,
    tls: Tls,
    ca: &Path,
    rcpt: &str,
    message: &str,
) -> Output {
    require("msmtp");
    let dir = super::temp_dir(&format!("msmtp-{}-{port}", room.ip));
    let rc = dir.join("msmtprc");
    let starttls = match tls {
        Tls::StartTls => "on",
        Tls::Implicit => "off",
    };
    write_private(
        &rc,
        &format!(
            "defaults\n\
             tls on\n\
             tls_trust_file {ca}\n\
             logfile {log}\n\
             account lab\n\
             host {ip}\n\
             port {port}\n\
             tls_starttls {starttls}\n\
             domain lab-pc\n\
             auth plain\n\
             user alice\n\
             password secret\n\
             from alice@crepes.fr\n",
            ca = ca.display(),
            log = dir.join("msmtp.log").display(),
            ip = room.ip,
        ),
    );
    let mut child = Command::new("msmtp")
        .args(["-C", rc.to_str().unwrap(), "-a", "lab", rcpt])
        .env("HOME", &dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("msmtp runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(message.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// A private HOME for one program run, under the temp directory.
pub fn home(name: &str) -> PathBuf {
    super::temp_dir(name)
}
