//! Issue 22: Eve on the path between crepes.fr and hamburger.edu, with real
//! sockets. `--attack strip-starttls`: she blanks STARTTLS out of the EHLO
//! reply, crepes.fr relays in clear, and she reads Alice's message;
//! `--defend mta-sts`: hamburger.edu's policy (a TXT record, the policy
//! over HTTPS) makes crepes.fr refuse to deliver in clear, so Eve reads
//! nothing and the message stays queued. Each capture is read back by
//! `analyze` and by tshark.

mod common;

use std::path::Path;
use std::process::Command;

use common::json_lines;
use mailscope::world::demo::{self, Attack, Defence, DemoOptions, DemoReport};
use serde_json::Value;

fn run(net: [u8; 3], attack: Option<Attack>, defend: Option<Defence>) -> DemoReport {
    let opts = DemoOptions {
        net,
        speed: 0.0,
        attack,
        defend,
        ..DemoOptions::default()
    };
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(demo::run(&opts))
        .expect("the demo runs")
}

/// The capture of `report`, written to a fresh file.
fn capture(report: &DemoReport, name: &str) -> std::path::PathBuf {
    let path = common::temp_dir(name).join("eve.pcapng");
    let mut file = std::fs::File::create(&path).unwrap();
    report
        .world
        .recorder
        .write_pcapng(&mut file, &report.world.key_log())
        .unwrap();
    path
}

/// tshark reads the capture to the end without a complaint.
fn tshark_reads(capture: &Path) -> usize {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(capture)
        .output()
        .unwrap();
    let errors: Vec<String> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| !l.contains("Running as user \"root\"") && !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    assert!(out.status.success() && errors.is_empty(), "{errors:?}");
    String::from_utf8_lossy(&out.stdout).lines().count()
}

/// The transcript section of the connection whose header contains `who`.
fn section<'a>(transcript: &'a str, who: &str) -> &'a str {
    let start = transcript.find(who).unwrap_or_else(|| panic!("no {who}"));
    let rest = &transcript[start..];
    let end = rest[1..].find("\n== ").map_or(rest.len(), |e| e + 2);
    &rest[..end]
}

fn findings(records: &[Value], code: &str) -> Vec<u64> {
    records
        .iter()
        .filter(|r| r["type"] == "finding" && r["code"] == code)
        .map(|r| r["flow"].as_u64().unwrap())
        .collect()
}

/// (client, server) of flow `id`.
fn endpoints(records: &[Value], id: u64) -> (String, String) {
    let f = records
        .iter()
        .find(|r| r["type"] == "flow" && r["id"] == id)
        .unwrap();
    (
        f["client"].as_str().unwrap().to_string(),
        f["server"].as_str().unwrap().to_string(),
    )
}

#[test]
fn eve_strips_starttls_and_reads_alices_message() {
    let report = run([127, 0, 140], Some(Attack::StripStarttls), None);
    assert_eq!(report.held, None);
    // What Eve read is Alice's message, byte for byte, behind the one
    // Received: line crepes.fr stamped on it (RFC 5321 §4.4) …
    assert_eq!(report.eve_read.len(), 1);
    let read = &report.eve_read[0];
    assert!(read.ends_with(&report.sent));
    let stamp = String::from_utf8_lossy(&read[..read.len() - report.sent.len()]).into_owned();
    assert!(
        stamp.starts_with("Received: from alice-pc.crepes.fr"),
        "{stamp}"
    );
    assert_eq!(stamp.matches("\r\nReceived:").count(), 0, "{stamp}");
    // … and she passed it on unchanged: Bob's copy ends with it.
    assert!(report.received.ends_with(read));

    // crepes.fr saw the blanked offer and never asked for TLS; Eve's own
    // leg to hamburger.edu shows the offer she removed.
    let to_eve = section(&report.transcript, "== crepes.fr → eve.example");
    assert!(to_eve.contains("\nS: 250-XXXXXXXA\n"), "{to_eve}");
    assert!(!to_eve.contains("STARTTLS"), "{to_eve}");
    assert!(to_eve.contains("\nC: DATA\n"), "{to_eve}");
    let onward = section(&report.transcript, "== eve.example → hamburger.edu");
    assert!(onward.contains("\nS: 250-STARTTLS\n"), "{onward}");
    assert!(!onward.contains("TLS handshake"), "{onward}");

    // The capture, read back: the stripping on crepes.fr's leg, and the
    // message on it is the one Eve read.
    let pcap = capture(&report, "eve-strip");
    let records = json_lines(&["analyze", "--json", pcap.to_str().unwrap()]);
    let stripped = findings(&records, "starttls-stripped");
    assert_eq!(stripped.len(), 1, "{records:?}");
    let (client, server) = endpoints(&records, stripped[0]);
    assert!(client.starts_with("127.0.140.2:"), "{client}");
    assert!(server.starts_with("127.0.140.66:"), "{server}");
    let sha = mailscope::mail::sha256_hex(read);
    let on_eves_leg: Vec<&Value> = records
        .iter()
        .filter(|r| r["type"] == "message" && r["flow"] == stripped[0])
        .collect();
    assert_eq!(on_eves_leg.len(), 1);
    assert_eq!(on_eves_leg[0]["sha256"], sha.as_str());
    assert_eq!(on_eves_leg[0]["size"], read.len());
    // No MTA-STS record in this capture: nothing to hold the session to.
    assert_eq!(findings(&records, "mta-sts-violation"), Vec::<u64>::new());
    assert!(tshark_reads(&pcap) > 100);
}

#[test]
fn eve_who_only_listens_sees_tls_records() {
    let report = run([127, 0, 144], Some(Attack::Eavesdrop), None);
    assert_eq!(report.held, None);
    assert!(report.eve_read.is_empty());
    assert!(report.received.ends_with(&report.sent));
    // She passes the TLS handshake through: crepes.fr checks the
    // certificate of hamburger.edu, which Eve cannot forge, and it holds.
    let to_eve = section(
        &report.transcript,
        "== crepes.fr → eve.example (smtp, STARTTLS;",
    );
    assert!(to_eve.contains("\nS: 250-STARTTLS\n"), "{to_eve}");
    let after = to_eve.split("TLS handshake").nth(1).unwrap();
    assert!(!after.contains("MAIL FROM"), "{to_eve}");
    let pcap = capture(&report, "eve-listen");
    let records = json_lines(&["analyze", "--json", pcap.to_str().unwrap()]);
    assert_eq!(findings(&records, "starttls-stripped"), Vec::<u64>::new());
    tshark_reads(&pcap);
}

#[test]
fn mta_sts_keeps_the_message_from_eve() {
    let report = run(
        [127, 0, 141],
        Some(Attack::StripStarttls),
        Some(Defence::MtaSts),
    );
    let why = report.held.as_deref().expect("crepes.fr holds the message");
    assert!(
        why.starts_with("MTA-STS policy of hamburger.edu (mode enforce, id ")
            && why.ends_with(
                "requires TLS, but hamburger.edu offered no STARTTLS: not delivering in clear"
            ),
        "{why}"
    );
    assert!(report.eve_read.is_empty());
    assert!(report.received.is_empty());
    // Still queued at crepes.fr, with the reason, for the next try.
    let queued = report.world.crepes.store.queued();
    assert_eq!(queued.len(), 1);
    assert!(queued[0].attempts >= 1);
    assert_eq!(queued[0].last_error.as_deref(), Some(why));
    assert!(queued[0].data.ends_with(&report.sent));

    // The transcript: the policy found in DNS and fetched over HTTPS, then
    // crepes.fr leaving Eve after the EHLO, before any envelope.
    let t = &report.transcript;
    assert!(t.contains("\nQ: TXT _mta-sts.hamburger.edu?\n"), "{t}");
    assert!(
        t.contains("\nA: _mta-sts.hamburger.edu TXT \"v=STSv1; id="),
        "{t}"
    );
    let fetch = section(t, "== crepes.fr → hamburger.edu (https, implicit TLS;");
    assert!(
        fetch.contains("\nC: GET /.well-known/mta-sts.txt HTTP/1.1\n")
            && fetch.contains("\nS: HTTP/1.1 200 OK\n")
            && fetch.contains("\nS: mode: enforce\nS: mx: hamburger.edu\nS: max_age: 86400\n"),
        "{fetch}"
    );
    let to_eve = section(t, "== crepes.fr → eve.example");
    assert!(to_eve.contains("\nS: 250-XXXXXXXA\n"), "{to_eve}");
    assert!(!to_eve.contains("MAIL FROM"), "{to_eve}");
    assert!(to_eve.contains("\nC: QUIT\n"), "{to_eve}");

    // The capture: the stripping is still there, and the only message is
    // Alice's submission (decrypted with the embedded secrets); none
    // crossed Eve's legs.
    let pcap = capture(&report, "eve-sts");
    let records = json_lines(&["analyze", "--json", pcap.to_str().unwrap()]);
    assert_eq!(findings(&records, "starttls-stripped").len(), 1);
    let messages: Vec<(String, String)> = records
        .iter()
        .filter(|r| r["type"] == "message")
        .map(|m| endpoints(&records, m["flow"].as_u64().unwrap()))
        .collect();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(messages[0].1.ends_with(".2:587"), "{messages:?}");
    // The TXT answer in the capture holds both of Eve's legs to the
    // policy: each an SMTP session without TLS to hamburger.edu's
    // exchanger (by its greeting, and by its address), with no message.
    let violations: Vec<(String, String)> = findings(&records, "mta-sts-violation")
        .into_iter()
        .map(|f| endpoints(&records, f))
        .collect();
    assert_eq!(violations.len(), 2, "{records:?}");
    assert!(violations[0].1 == "127.0.141.66:25" && violations[1].1 == "127.0.141.3:25");
    for f in records.iter().filter(|r| r["code"] == "mta-sts-violation") {
        assert_eq!(f["severity"], "medium");
        let m = f["message"].as_str().unwrap();
        assert!(m.contains(" (hamburger.edu), an exchanger of hamburger.edu, whose MTA-STS record (_mta-sts.hamburger.edu, id "), "{m}");
        assert!(m.ends_with("no message went: TLS was not to be had, and a sender applying the policy stops there (RFC 8461 §5.1), keeping the mail queued"), "{m}");
    }
    tshark_reads(&pcap);
}

#[test]
fn mta_sts_without_eve_delivers_over_tls() {
    let report = run([127, 0, 142], None, Some(Defence::MtaSts));
    assert_eq!(report.held, None);
    assert!(report.eve_read.is_empty());
    assert!(report.received.ends_with(&report.sent));
    let relay = section(&report.transcript, "== crepes.fr → hamburger.edu (smtp");
    assert!(relay.contains("\nC: STARTTLS\n"), "{relay}");
    assert!(relay.contains("TLS handshake"), "{relay}");
    assert!(!report.transcript.contains("eve.example"));
    assert!(
        report
            .transcript
            .contains("\nC: GET /.well-known/mta-sts.txt HTTP/1.1\n")
    );
    // The policy met: the TXT record is in the capture, and no finding.
    let pcap = capture(&report, "eve-sts-met");
    let records = json_lines(&["analyze", "--json", pcap.to_str().unwrap()]);
    assert_eq!(findings(&records, "mta-sts-violation"), Vec::<u64>::new());
}

#[test]
fn the_command_line_says_what_eve_read_and_why_the_message_waits() {
    let dir = common::temp_dir("eve-cli");
    let strip = dir.join("strip.pcapng");
    let attack = ["--attack", "strip-starttls"];
    let text = common::run_demo("starttls", "pop3", "127.0.143", &strip, &attack);
    let eve_line = text
        .lines()
        .find(|l| l.starts_with("Eve (eve.example) read a message in clear on the path: "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        eve_line.ends_with(", Alice's message with crepes.fr's Received: line"),
        "{eve_line}"
    );

    let held = dir.join("held.pcapng");
    let defended = ["--attack", "strip-starttls", "--defend", "mta-sts"];
    let text = common::run_demo("starttls", "pop3", "127.0.143", &held, &defended);
    assert!(
        text.contains("\ncrepes.fr did not deliver the message and keeps it queued (it will retry, then return it to Alice): MTA-STS policy of hamburger.edu"),
        "{text}"
    );
    assert!(
        text.contains(
            "\nEve (eve.example) read no message: crepes.fr would not send it in clear\n"
        ),
        "{text}"
    );
}
