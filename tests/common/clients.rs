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

/// fetchmail in keep mode (UIDL, RFC 1939 §7) polling bob's maildrop
/// over POP3S with the CA checked; each message goes to an MDA that
/// appends it to `home/sink`, followed by a line `=====`. The `.fetchmailrc`
/// and the `.fetchids` file of seen UIDLs live in the private `home`, so
/// later runs with the same `home` remember what was fetched. Returns
/// fetchmail's exit status code (0: mail fetched, 1: none) and output.
pub fn fetchmail(room: &Classroom, home: &Path, port: u16) -> (i32, String) {
    require("fetchmail");
    let mda = home.join("mda.sh");
    std::fs::write(
        &mda,
        format!(
            "#!/bin/sh\ncat >> '{sink}'\necho ===== >> '{sink}'\n",
            sink = home.join("sink").display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&mda, std::fs::Permissions::from_mode(0o755)).unwrap();
    let rc = home.join(".fetchmailrc");
    write_private(
        &rc,
        &format!(
            "set no syslog\n\
             set invisible\n\
             set idfile \"{ids}\"\n\
             poll {ip} service {port} protocol pop3 uidl\n\
             \x20 user \"bob\" there with password \"hungry\"\n\
             \x20 ssl sslcertck sslcertfile \"{ca}\"\n\
             \x20 keep\n\
             \x20 mda \"{mda}\"\n",
            ids = home.join(".fetchids").display(),
            ip = room.ip,
            ca = room.ca.display(),
            mda = mda.display(),
        ),
    );
    let out = Command::new("fetchmail")
        .args(["-f", rc.to_str().unwrap(), "--nodetach", "-v"])
        .env("HOME", home)
        .env("FETCHMAILHOME", home)
        .stdin(Stdio::null())
        .output()
        .expect("fetchmail runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// The messages the fetchmail MDA wrote, in the order it got them.
pub fn fetched(home: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(home.join("sink")).unwrap_or_default();
    let mut out: Vec<String> = text.split("=====\n").map(str::to_string).collect();
    out.pop(); // after the last separator
    out
}
