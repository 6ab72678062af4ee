//! mbsync (isync), a real IMAP synchronizer, mirrors Bob's INBOX from
//! `mailscope serve` into a Maildir: LOGIN, SELECT, `UID FETCH` of flags,
//! sizes and header fields, then every message's `BODY.PEEK[]` as a
//! literal. The mirror must hold the server's messages byte for byte,
//! but for what mbsync itself changes: a Maildir keeps LF line ends, the
//! way Unix files do, and mbsync adds an `X-TUID` header of its own to
//! track each copy.

mod common;

use std::path::Path;
use std::process::Command;

use common::classroom::{self, Classroom};

/// Deliver one message to Bob over SMTP with curl.
fn deliver(room: &Classroom, dir: &Path, n: usize) {
    let file = dir.join(format!("m{n}.eml"));
    let message = format!(
        "From: Alice <alice@crepes.fr>\r\nTo: bob@hamburger.edu\r\n\
         Subject: =?UTF-8?Q?sincronizaci=C3=B3n?= {n} \"quoted\" (paren\r\n\
         Message-ID: <sync-{n}@crepes.fr>\r\n\r\nmensaje {n}\r\n"
    );
    std::fs::write(&file, message).unwrap();
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "20"])
        .arg(format!("smtp://{}:{}", room.ip, classroom::SMTP))
        .args([
            "--mail-from",
            "alice@crepes.fr",
            "--mail-rcpt",
            "bob@hamburger.edu",
            "-T",
        ])
        .arg(&file)
        .output()
        .expect("curl runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The files of a Maildir folder (`new` and `cur`) by the UID mbsync puts
/// in their names (`…,U=2:2,S`).
fn mirrored(folder: &Path) -> Vec<Vec<u8>> {
    let mut files: Vec<(u32, Vec<u8>)> = ["new", "cur"]
        .iter()
        .filter_map(|sub| std::fs::read_dir(folder.join(sub)).ok())
        .flatten()
        .filter_map(|e| {
            let path = e.ok()?.path();
            let name = path.file_name()?.to_str()?.to_string();
            let uid = name.split(",U=").nth(1)?.split(':').next()?.parse().ok()?;
            Some((uid, std::fs::read(path).ok()?))
        })
        .collect();
    files.sort();
    files.into_iter().map(|(_, bytes)| bytes).collect()
}

#[test]
fn mbsync_mirrors_the_inbox_byte_for_byte() {
    if Command::new("mbsync").arg("--version").output().is_err() {
        eprintln!("mbsync not found (package isync); skipped");
        return;
    }
    let room = Classroom::start("127.0.77.43", &["--plaintext-auth"]);
    let dir = common::temp_dir("mbsync");
    for n in 1..=3 {
        deliver(&room, &dir, n);
    }
    let stored = room.wait_inbox("bob", 3);
    assert_eq!(stored.len(), 3);

    let maildir = dir.join("mail");
    std::fs::create_dir_all(&maildir).unwrap();
    let config = dir.join("mbsyncrc");
    std::fs::write(
        &config,
        format!(
            "IMAPAccount bob\nHost {ip}\nPort {port}\nUser bob\nPass hungry\n\
             SSLType None\nAuthMechs LOGIN\n\n\
             IMAPStore remote\nAccount bob\n\n\
             MaildirStore local\nPath {maildir}/\nInbox {maildir}/INBOX\n\n\
             Channel bob\nFar :remote:\nNear :local:\nPatterns INBOX\n\
             Create Near\nSync Pull\nSyncState *\n",
            ip = room.ip,
            port = classroom::IMAP,
            maildir = maildir.display(),
        ),
    )
    .unwrap();
    let out = Command::new("timeout")
        .args(["60", "mbsync", "-c"])
        .arg(&config)
        .arg("-a")
        .output()
        .expect("mbsync runs");
    assert!(
        out.status.success(),
        "mbsync failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let with_lf = |m: &Vec<u8>| String::from_utf8_lossy(m).replace("\r\n", "\n");
    let without_tuid = |m: String| {
        let lines: Vec<&str> = m
            .split_inclusive('\n')
            .filter(|l| !l.starts_with("X-TUID: "))
            .collect();
        lines.concat()
    };
    let mirror: Vec<String> = mirrored(&maildir.join("INBOX"))
        .iter()
        .map(|m| without_tuid(with_lf(m)))
        .collect();
    let stored: Vec<String> = stored.iter().map(with_lf).collect();
    assert_eq!(mirror, stored);
}
