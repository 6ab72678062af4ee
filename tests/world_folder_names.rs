//! IMAP folder names that real clients turn into paths (issue 21, point
//! 4): `.`, `..`, `../../etc`, `a/../b` and empty levels are refused by
//! CREATE and RENAME with a clear NO, over a raw socket; and mbsync, which
//! stops a whole account when a folder has a `..` level, still syncs
//! after someone tried `CREATE ..`.

mod common;

use std::process::Command;

use common::classroom::{self, Classroom};
use common::raw::Raw;

const DOTS: &str =
    "NO [CANNOT] bad mailbox name: \".\" and \"..\" are not allowed as hierarchy levels\r\n";
const EMPTY: &str = "NO [CANNOT] bad mailbox name: empty hierarchy level\r\n";

/// Log in as bob over a raw IMAP socket.
fn bob(room: &Classroom) -> Raw {
    let mut i = Raw::connect(&room.ip, classroom::IMAP);
    assert!(i.line().starts_with("* OK"));
    assert_eq!(
        i.ask("l LOGIN bob hungry", "l "),
        ["l OK LOGIN completed\r\n"]
    );
    i
}

/// Try `CREATE ..` the way an attacker types it.
fn try_dots(i: &mut Raw) {
    assert_eq!(i.ask("c1 CREATE ..", "c1"), [format!("c1 {DOTS}")]);
}

#[test]
fn create_and_rename_refuse_dot_levels_and_empty_levels() {
    let room = Classroom::start("127.0.121.5", &["--plaintext-auth"]);
    let mut i = bob(&room);
    let mut n = 0;
    let mut ask = |i: &mut Raw, command: &str| {
        n += 1;
        let tag = format!("t{n}");
        let reply = i.ask(&format!("{tag} {command}"), &tag);
        assert_eq!(reply.len(), 1, "{command}: {reply:?}");
        reply[0]
            .strip_prefix(&format!("{tag} "))
            .unwrap()
            .to_string()
    };
    for name in [".", "..", "../../etc", "a/../b", "a/.", "\"./a\""] {
        assert_eq!(ask(&mut i, &format!("CREATE {name}")), DOTS, "{name}");
    }
    for name in ["\"\"", "/a", "a//b"] {
        let want = if name == "\"\"" {
            "NO [CANNOT] bad mailbox name: empty\r\n"
        } else {
            EMPTY
        };
        assert_eq!(ask(&mut i, &format!("CREATE {name}")), want, "{name}");
    }
    assert_eq!(ask(&mut i, "CREATE Work"), "OK CREATE completed\r\n");
    for name in ["..", "../Work", "Work/../x", "x//y"] {
        let want = if name.contains("//") { EMPTY } else { DOTS };
        assert_eq!(ask(&mut i, &format!("RENAME Work {name}")), want, "{name}");
    }
    // Nothing was made; the one good folder is still there.
    assert_eq!(
        i.ask("l1 LIST \"\" *", "l1"),
        [
            "* LIST (\\HasNoChildren) \"/\" \"INBOX\"\r\n",
            "* LIST (\\HasNoChildren) \"/\" \"Work\"\r\n",
            "l1 OK LIST completed\r\n"
        ]
    );
    try_dots(&mut i);
}

#[test]
fn mbsync_still_syncs_after_a_refused_create_dot_dot() {
    if Command::new("mbsync").arg("--version").output().is_err() {
        eprintln!("mbsync not found (package isync); skipped");
        return;
    }
    let room = Classroom::start("127.0.121.6", &["--plaintext-auth"]);
    let dir = common::temp_dir("mbsync-dots");
    let maildir = dir.join("mail");
    std::fs::create_dir_all(&maildir).unwrap();
    let config = dir.join("mbsyncrc");
    // Every folder, both ways, new folders made on both sides.
    std::fs::write(
        &config,
        format!(
            "IMAPAccount bob\nHost {ip}\nPort {port}\nUser bob\nPass hungry\n\
             SSLType None\nAuthMechs LOGIN\n\n\
             IMAPStore remote\nAccount bob\n\n\
             MaildirStore local\nPath {maildir}/\nInbox {maildir}/INBOX\nSubFolders Verbatim\n\n\
             Channel bob\nFar :remote:\nNear :local:\nPatterns *\n\
             Create Both\nSync All\nSyncState *\n",
            ip = room.ip,
            port = classroom::IMAP,
            maildir = maildir.display(),
        ),
    )
    .unwrap();
    let sync = || {
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
    };
    // A folder made on the client side goes to the server.
    std::fs::create_dir_all(maildir.join("Notes").join("cur")).unwrap();
    for sub in ["new", "tmp"] {
        std::fs::create_dir_all(maildir.join("Notes").join(sub)).unwrap();
    }
    std::fs::write(
        maildir.join("Notes/cur/1.host:2,S"),
        "Subject: note\n\nremember\n",
    )
    .unwrap();
    sync();
    let mut i = bob(&room);
    assert_eq!(
        i.ask("l1 LIST \"\" *", "l1"),
        [
            "* LIST (\\HasNoChildren) \"/\" \"INBOX\"\r\n",
            "* LIST (\\HasNoChildren) \"/\" \"Notes\"\r\n",
            "l1 OK LIST completed\r\n"
        ]
    );
    // Someone tries to plant a ".." folder; it is refused, and the next
    // sync of the whole account still works.
    try_dots(&mut i);
    assert_eq!(i.ask("c2 CREATE Notes/../..", "c2"), [format!("c2 {DOTS}")]);
    sync();
    let stored = std::fs::read(
        room.store
            .join("mail/bob/Notes/cur")
            .read_dir()
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path(),
    )
    .unwrap();
    // The bytes mbsync uploaded: the note with CRLF line ends and the
    // X-TUID header mbsync adds to find its copy again.
    let stored = String::from_utf8_lossy(&stored).replace("\r\n", "\n");
    let without_tuid: String = stored
        .split_inclusive('\n')
        .filter(|l| !l.starts_with("X-TUID: "))
        .collect();
    assert_eq!(without_tuid, "Subject: note\n\nremember\n");
}
