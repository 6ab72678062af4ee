//! The server certificate names what students type (issue 21, point 7):
//! the domain, `localhost` and the listen address as an IP SAN, so msmtp
//! pointed at `127.0.x.y` with the printed CA verifies; the CA of a
//! `--store` is the same file, byte for byte, after a restart; with
//! `--memory` the printed line says it is new on every start.

mod common;

use common::classroom::{self, Classroom, serve_in_memory, without_trace_headers};
use common::clients::{Tls, msmtp};

const MESSAGE: &str = "Date: Mon, 1 Dec 2025 10:00:00 +0000\nMessage-ID: <cert-1@crepes.fr>\nFrom: alice@crepes.fr\nTo: bob@hamburger.edu\nSubject: certificate\n\nsent to the IP address\n";

#[test]
fn msmtp_verifies_the_ip_address_and_the_ca_survives_a_restart() {
    let ip = "127.0.122.2";
    let room = Classroom::start(ip, &[]);
    let ca_line = format!(
        "CA certificate: {} (new, saved in the store: it stays the same on later starts)\n",
        room.ca.display()
    );
    assert!(room.banner.contains(&ca_line), "{}", room.banner);
    let out = msmtp(
        &room,
        classroom::SUBMISSION,
        Tls::StartTls,
        &room.ca,
        "bob@hamburger.edu",
        MESSAGE,
    );
    assert!(
        out.status.success(),
        "msmtp to {ip} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let inbox = room.wait_inbox("bob", 1);
    assert_eq!(
        String::from_utf8_lossy(&without_trace_headers(&inbox[0])),
        MESSAGE.replace('\n', "\r\n")
    );
    // The key is the owner's alone.
    use std::os::unix::fs::PermissionsExt;
    let key = room.store.join("ca-key.pem");
    let mode = std::fs::metadata(&key).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);

    let ca_before = std::fs::read(&room.ca).unwrap();
    let store = room.store.clone();
    assert!(room.stop().success());
    let room = Classroom::start_with_store(ip, store, &[]);
    assert_eq!(
        std::fs::read(&room.ca).unwrap(),
        ca_before,
        "the CA changed"
    );
    assert!(
        room.banner.contains(&format!(
            "CA certificate: {} (kept in the store: the same as before this start)\n",
            room.ca.display()
        )),
        "{}",
        room.banner
    );
    // The CA saved before the restart still verifies the new server
    // certificate, also by the name `localhost` (openssl checks it).
    let out = msmtp(
        &room,
        classroom::SMTPS,
        Tls::Implicit,
        &room.ca,
        "bob@hamburger.edu",
        MESSAGE,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(room.wait_inbox("bob", 2).len(), 2);
    for (flag, name) in [("-verify_hostname", "localhost"), ("-verify_ip", ip)] {
        let out = std::process::Command::new("openssl")
            .args([
                "s_client",
                "-connect",
                &format!("{ip}:{}", classroom::SMTPS),
            ])
            .args(["-CAfile", room.ca.to_str().unwrap(), "-verify_return_error"])
            .args([flag, name])
            .stdin(std::process::Stdio::null())
            .output()
            .expect("openssl runs");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("Verify return code: 0 (ok)"),
            "{name}: {text}"
        );
    }
    // A name the certificate does not hold still fails: the check is real.
    let out = std::process::Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &format!("{ip}:{}", classroom::SMTPS),
        ])
        .args(["-CAfile", room.ca.to_str().unwrap(), "-verify_return_error"])
        .args(["-verify_ip", "127.0.122.99"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("openssl runs");
    assert!(!out.status.success());
    assert!(room.stop().success());
}

#[test]
fn memory_mode_says_its_ca_is_new_on_every_start() {
    let ip = "127.0.122.3";
    let mut seen = Vec::new();
    for _ in 0..2 {
        let (mut child, banner) = serve_in_memory(ip, &[]);
        let line = banner
            .lines()
            .find(|l| l.starts_with("CA certificate: "))
            .unwrap_or_else(|| panic!("{banner}"))
            .to_string();
        let path = line
            .strip_prefix("CA certificate: ")
            .and_then(|l| {
                l.strip_suffix(" (new on every --memory start: trust it again after a restart)")
            })
            .unwrap_or_else(|| panic!("{line}"));
        assert!(
            path.starts_with(std::env::temp_dir().to_str().unwrap()),
            "{path}"
        );
        seen.push(std::fs::read(path).unwrap());
        let _ = std::fs::remove_file(path);
        child.kill().unwrap();
        child.wait().unwrap();
    }
    assert_ne!(seen[0], seen[1]);
}
