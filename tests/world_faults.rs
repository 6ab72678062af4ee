//! Faults in the mail world: clients that vanish mid-DATA, a destination
//! server that is down, a server killed right after it said 250, refusals
//! and password guessing.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::classroom::{self, Classroom};
use mailscope::proto::TlsMode;
use mailscope::world::agents::{self, AgentSettings, Pace};
use mailscope::world::running::{World, WorldOptions};
use mailscope::world::servers::Service;
use mailscope::world::store::INBOX;

/// A line-at-a-time SMTP client on a raw socket, as `nc` would be.
struct Raw {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Raw {
    fn connect(ip: &str, port: u16) -> Raw {
        let s = TcpStream::connect((ip, port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut r = Raw {
            reader: BufReader::new(s.try_clone().unwrap()),
            writer: s,
        };
        r.reply();
        r
    }
    /// One SMTP reply (all its lines), returned as its last line.
    fn reply(&mut self) -> String {
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).unwrap();
            if line.as_bytes().get(3) != Some(&b'-') {
                return line.trim_end().to_string();
            }
        }
    }
    fn send(&mut self, text: &str) {
        self.writer.write_all(text.as_bytes()).unwrap();
    }
    fn cmd(&mut self, line: &str) -> String {
        self.send(&format!("{line}\r\n"));
        self.reply()
    }
}

#[test]
fn a_client_that_vanishes_mid_data_leaves_nothing_behind() {
    let room = Classroom::start("127.0.78.1", &[]);
    let mut c = Raw::connect(&room.ip, classroom::SMTP);
    assert!(c.cmd("EHLO nc").starts_with("250 "));
    assert!(c.cmd("MAIL FROM:<alice@crepes.fr>").starts_with("250 "));
    assert!(c.cmd("RCPT TO:<bob@hamburger.edu>").starts_with("250 "));
    assert!(c.cmd("DATA").starts_with("354 "));
    c.send("Subject: half\r\n\r\nThe first half of a message");
    drop(c); // the client's connection closes before the final dot
    std::thread::sleep(Duration::from_millis(200));
    assert!(room.inbox("bob").is_empty());
    // The server is fine and the next client gets through.
    let mut c = Raw::connect(&room.ip, classroom::SMTP);
    c.cmd("EHLO nc");
    c.cmd("MAIL FROM:<alice@crepes.fr>");
    c.cmd("RCPT TO:<bob@hamburger.edu>");
    c.cmd("DATA");
    assert!(
        c.cmd("Subject: whole\r\n\r\nAll of it\r\n.")
            .starts_with("250 2.0.0 Ok: queued as ")
    );
    assert!(c.cmd("QUIT").starts_with("221 "));
    let inbox = room.inbox("bob");
    assert_eq!(inbox.len(), 1);
    assert!(inbox[0].ends_with(b"Subject: whole\r\n\r\nAll of it\r\n"));
    // Nothing half-written is left in tmp/ either.
    let tmp = room.store.join("mail/bob/INBOX/tmp");
    assert_eq!(std::fs::read_dir(tmp).unwrap().count(), 0);
}

#[test]
fn a_message_acknowledged_with_250_survives_kill_9() {
    let store = common::temp_dir("kill9");
    let room = Classroom::start_with_store("127.0.78.2", store.clone(), &[]);
    let mut c = Raw::connect(&room.ip, classroom::SMTP);
    c.cmd("EHLO nc");
    c.cmd("MAIL FROM:<alice@crepes.fr>");
    c.cmd("RCPT TO:<bob@hamburger.edu>");
    c.cmd("DATA");
    let reply = c.cmd("Subject: durable\r\n\r\nStill here after kill -9\r\n.");
    // The very moment the 250 arrives, the server dies without warning.
    let store = room.kill_hard();
    assert!(reply.starts_with("250 "), "{reply}");
    let room = Classroom::start_with_store("127.0.78.2", store, &[]);
    let inbox = room.inbox("bob");
    assert_eq!(inbox.len(), 1);
    assert!(inbox[0].ends_with(b"Subject: durable\r\n\r\nStill here after kill -9\r\n"));
    // And it is served: POP3 over STLS sees it.
    let script = r#"
import poplib, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[3]); ctx.check_hostname = False
p = poplib.POP3(sys.argv[1], int(sys.argv[2])); p.stls(context=ctx)
p.user("bob"); p.pass_("hungry"); print(p.stat()[0]); p.quit()
"#;
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            script,
            &room.ip,
            &classroom::POP3.to_string(),
            room.ca.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "1\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn password_guessing_is_slowed_then_refused() {
    let room = Classroom::start("127.0.78.3", &["--plaintext-auth"]);
    let mut c = Raw::connect(&room.ip, classroom::SUBMISSION);
    c.cmd("EHLO guesser");
    for i in 0..5 {
        // "\0alice\0wrong<i>"
        let guess = mailscope::world::host::b64(format!("\0alice\0wrong{i}").as_bytes());
        assert_eq!(
            c.cmd(&format!("AUTH PLAIN {guess}")),
            "535 5.7.8 Authentication credentials invalid"
        );
    }
    // Locked out now, even with the right password.
    assert_eq!(
        c.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA=="),
        "454 4.7.0 Too many authentication failures, try again later"
    );
    // The same address is locked out on POP3 too (one throttle per host).
    let mut p = TcpStream::connect((room.ip.as_str(), classroom::POP3)).unwrap();
    p.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    p.write_all(b"USER bob\r\nQUIT\r\n").unwrap();
    let mut text = String::new();
    p.read_to_string(&mut text).unwrap();
    assert!(
        text.contains("-ERR [AUTH] too many failures, try again later"),
        "{text}"
    );
}

fn agent(world: &World, to_port: Service, user: (&str, &str)) -> AgentSettings {
    let t = &world.topology;
    AgentSettings {
        from: t.alice_pc.addr,
        client_name: t.alice_pc.name.clone(),
        server: world.address(&t.crepes, to_port),
        server_name: t.crepes.name.clone(),
        tls: TlsMode::Starttls,
        tls_config: world.pki.client_config().unwrap(),
        user: user.0.into(),
        password: user.1.into(),
        pace: Pace::new(0.0),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_waits_in_the_queue_while_bobs_server_is_down() {
    let mut world = World::start(&WorldOptions {
        net: [127, 0, 79],
        bob_online: false,
        retry_base: Duration::from_secs(1),
        ..WorldOptions::default()
    })
    .await
    .unwrap();
    let alice = agent(&world, Service::Submission, ("alice", "secret"));
    let message = agents::compose(
        "alice@crepes.fr",
        "bob@hamburger.edu",
        1_764_000_000,
        "down@crepes.fr",
    );
    let reply = agents::submit(&alice, "alice@crepes.fr", "bob@hamburger.edu", &message)
        .await
        .unwrap();
    assert!(reply.starts_with("250 "), "{reply}");
    // The relay tried, failed (connection refused) and rescheduled.
    let mut tries = 0;
    for _ in 0..100 {
        tries = world
            .crepes
            .store
            .queued()
            .first()
            .map_or(0, |q| q.attempts);
        if tries >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(tries >= 1, "the relay did not try");
    assert!(
        world
            .hamburger
            .store
            .snapshot("bob", INBOX)
            .unwrap()
            .messages
            .is_empty()
    );
    // Bob's server comes back: the next retry delivers.
    world.start_bob().await.unwrap();
    let hamburger = world.hamburger.clone();
    assert!(
        world
            .wait_for_mail(&hamburger, "bob", 1, Duration::from_secs(15))
            .await
    );
    assert!(queue_drains(&world).await);
    let got = &world
        .hamburger
        .store
        .snapshot("bob", INBOX)
        .unwrap()
        .messages[0];
    assert!(got.data.ends_with(&message));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_refusal_bounces_back_to_the_sender() {
    let world = World::start(&WorldOptions {
        net: [127, 0, 80],
        ..WorldOptions::default()
    })
    .await
    .unwrap();
    let alice = agent(&world, Service::Submission, ("alice", "secret"));
    let message = agents::compose(
        "alice@crepes.fr",
        "nobody@hamburger.edu",
        1_764_000_000,
        "bounce@crepes.fr",
    );
    // crepes.fr accepts (it cannot know Bob's users); hamburger.edu refuses.
    agents::submit(&alice, "alice@crepes.fr", "nobody@hamburger.edu", &message)
        .await
        .unwrap();
    let crepes = world.crepes.clone();
    assert!(
        world
            .wait_for_mail(&crepes, "alice", 1, Duration::from_secs(15))
            .await
    );
    let dsn = &world
        .crepes
        .store
        .snapshot("alice", INBOX)
        .unwrap()
        .messages[0];
    let text = String::from_utf8_lossy(&dsn.data);
    assert!(
        text.contains("Subject: Undelivered Mail Returned to Sender\r\n"),
        "{text}"
    );
    assert!(
        text.contains("Content-Type: multipart/report; report-type=delivery-status;"),
        "{text}"
    );
    assert!(
        text.contains(
            "Final-Recipient: rfc822; nobody@hamburger.edu\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("Message-ID: <bounce@crepes.fr>"),
        "the original headers come back: {text}"
    );
    assert!(queue_drains(&world).await);
}

/// Whether crepes.fr's queue is empty within two seconds: the relay drops
/// a message once the far server's reply is read (or the bounce filed), a
/// moment after the mail the test waited for was stored.
async fn queue_drains(world: &World) -> bool {
    for _ in 0..100 {
        if world.crepes.store.queued().is_empty() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}
