//! Issue 22, point 6: `serve --mta-sts` for the lab. The room publishes
//! an MTA-STS policy (RFC 8461) that outside clients fetch for real: the
//! TXT record from the room's DNS (asked by a Python resolver written
//! here from RFC 1035), the policy over HTTPS with curl, which checks the
//! certificate against the room's CA.

mod common;

use std::process::Command;

use common::classroom::Classroom;

const IP: &str = "127.0.146.1";
const HTTPS: u16 = 10443;
const DNS: u16 = 10053;

fn curl(url_path: &str, ca: &std::path::Path) -> (String, String) {
    let host = "mta-sts.hamburger.edu";
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10", "--cacert"])
        .arg(ca)
        .args(["--resolve", &format!("{host}:{HTTPS}:{IP}")])
        .args(["-w", "\n%{http_code} %{content_type}"])
        .arg(format!("https://{host}:{HTTPS}{url_path}"))
        .output()
        .expect("curl runs");
    assert!(
        out.status.success(),
        "curl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let (body, status) = text.rsplit_once('\n').unwrap();
    (body.to_string(), status.to_string())
}

/// The TXT records of `name` from the room's DNS at `ip`, asked over UDP.
fn txt(ip: &str, name: &str) -> Vec<String> {
    ask(ip, name, 16)
}

/// The records of type `qtype` (TXT as text, MX as the exchanger's name).
fn ask(ip: &str, name: &str, qtype: u16) -> Vec<String> {
    let script = r#"
import socket, struct, sys
name, port = sys.argv[1], int(sys.argv[2])
q = struct.pack(">HHHHHH", 0x4d53, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
q += struct.pack(">HH", int(sys.argv[4]), 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(q, (sys.argv[3], port))
r, _ = s.recvfrom(1500)
an = struct.unpack(">H", r[6:8])[0]
p = len(q)
for _ in range(an):
    while r[p] != 0 and r[p] & 0xC0 != 0xC0:
        p += 1 + r[p]
    p += 2 if r[p] & 0xC0 == 0xC0 else 1
    rtype, _, _, rdlen = struct.unpack(">HHIH", r[p:p + 10])
    data = r[p + 10:p + 10 + rdlen]
    p += 10 + rdlen
    text, i = b"", 0
    while i < len(data):
        text += data[i + 1:i + 1 + data[i]]
        i += 1 + data[i]
    if rtype == 16:
        print(text.decode())
    if rtype == 15:
        print("mx")
"#;
    let out = Command::new("python3")
        .args(["-c", script, name, &DNS.to_string(), ip, &qtype.to_string()])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn the_room_publishes_its_policy_in_dns_and_over_https() {
    let room = Classroom::start(IP, &["--mta-sts"]);
    assert!(
        room.banner.contains(&format!(
            "MTA-STS: TXT _mta-sts.hamburger.edu in the DNS on port {DNS}, policy at https://mta-sts.hamburger.edu:{HTTPS}/.well-known/mta-sts.txt\n"
        )),
        "{}",
        room.banner
    );
    let records = txt(IP, "_mta-sts.hamburger.edu");
    assert_eq!(records.len(), 1, "{records:?}");
    let id = records[0]
        .strip_prefix("v=STSv1; id=")
        .and_then(|r| r.strip_suffix(';'))
        .unwrap_or_else(|| panic!("{records:?}"));
    assert!(
        !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()),
        "{id}"
    );

    let (body, status) = curl("/.well-known/mta-sts.txt", &room.ca);
    assert_eq!(status, "200 text/plain");
    assert_eq!(
        body,
        "version: STSv1\r\nmode: enforce\r\nmx: hamburger.edu\r\nmax_age: 86400\r\n"
    );
    let (_, status) = curl("/index.html", &room.ca);
    assert_eq!(status, "404 text/plain");
}

#[test]
fn without_the_switch_there_is_no_policy() {
    let room = Classroom::start("127.0.146.2", &[]);
    assert!(!room.banner.contains("MTA-STS"), "{}", room.banner);
    assert!(!room.banner.contains("https"), "{}", room.banner);
}

/// A student who ignores the policy and sends in clear: the room's
/// capture holds the TXT and MX answers and the session, and `analyze`
/// says what a sender applying MTA-STS would not have done.
#[test]
fn mail_sent_in_clear_despite_the_policy_is_a_finding() {
    let ip = "127.0.146.3";
    let dir = common::temp_dir("serve-sts-capture");
    let capture = dir.join("room.pcapng");
    let room = Classroom::start(ip, &["--mta-sts", "-w", capture.to_str().unwrap()]);
    assert_eq!(txt(ip, "_mta-sts.hamburger.edu").len(), 1);
    assert_eq!(ask(ip, "hamburger.edu", 15), ["mx"]);
    let script = r#"
import smtplib, sys
s = smtplib.SMTP(sys.argv[1], 10025, local_hostname="lab-pc")
s.sendmail("alice@crepes.fr", ["bob@hamburger.edu"], "Subject: in clear\r\n\r\nhi\r\n")
s.quit()
"#;
    let out = Command::new("python3")
        .args(["-c", script, ip])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(room.wait_inbox("bob", 1).len(), 1);
    assert!(room.stop().success());
    let records = common::json_lines(&["analyze", "--json", capture.to_str().unwrap()]);
    let found: Vec<(String, String)> = records
        .iter()
        .filter(|r| r["type"] == "finding" && r["code"] == "mta-sts-violation")
        .map(|f| {
            (
                f["severity"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(found.len(), 1, "{records:?}");
    assert_eq!(found[0].0, "high");
    let m = &found[0].1;
    assert!(
        m.starts_with("127.0.0.1:")
            && m.contains(&format!(
                " talked SMTP without TLS to {ip}:10025 (hamburger.edu), an exchanger of hamburger.edu, whose MTA-STS record (_mta-sts.hamburger.edu, id "
            ))
            && m.ends_with("is in this capture; 1 message(s) went in clear: a sender applying the policy in enforce mode would not have delivered them (RFC 8461 §5)"),
        "{m}"
    );
}
