//! `--filter`, `--since` and `--until` on the analysis commands: the
//! frames left out are as if they had not been captured, every command
//! takes them, and a bad one is a usage error that says where.

mod common;

use common::{json_lines, mailscope, stderr, stdout};
use serde_json::Value;

/// The Alice → Bob path: submission (587), relay (25), POP3 (110), DNS.
const PATH: &str = "captures/alice-to-bob-path.pcapng";

fn of_type<'a>(records: &'a [Value], t: &str) -> Vec<&'a Value> {
    records.iter().filter(|r| r["type"] == t).collect()
}

fn sha256s(records: &[Value]) -> Vec<String> {
    let mut s: Vec<String> = of_type(records, "message")
        .iter()
        .map(|m| m["sha256"].as_str().unwrap().to_string())
        .collect();
    s.sort();
    s
}

#[test]
fn a_filter_keeps_only_its_flows_and_counts_what_it_left_out() {
    let all = json_lines(&["analyze", "--json", PATH]);
    let pop3 = json_lines(&["analyze", "--json", "--filter", "tcp port 110", PATH]);
    let capture = &pop3[0];
    assert_eq!(capture["packets"], 107, "the file's own count stays");
    assert_eq!(capture["tcp_flows"], 1);
    assert_eq!(capture["decode"]["tcp"], 33);
    assert_eq!(capture["decode"]["filtered_out"], 74);
    assert!(all[0]["decode"].get("filtered_out").is_none());
    let flows = of_type(&pop3, "flow");
    assert_eq!(flows.len(), 1);
    assert_eq!(flows[0]["id"], 0, "ids number the flows kept");
    assert_eq!(flows[0]["server"], "10.0.0.2:110");
    assert_eq!(flows[0]["protocol"], "pop3");
    assert_eq!(
        sha256s(&pop3),
        ["a43eb8b0d6a474cd1430be671d38a22c686f941fae8558c88d11257ef4bdd664"]
    );
    // The two SMTP hops, by an address and a port; the same messages as
    // in the whole capture.
    let smtp = json_lines(&[
        "analyze",
        "--json",
        "--filter",
        "host 10.0.0.5 or port 25",
        PATH,
    ]);
    let servers: Vec<&str> = of_type(&smtp, "flow")
        .iter()
        .map(|f| f["server"].as_str().unwrap())
        .collect();
    assert_eq!(servers, ["10.0.0.1:587", "10.0.0.2:25"]);
    let mut three = sha256s(&smtp);
    three.extend(sha256s(&pop3));
    three.sort();
    assert_eq!(three, sha256s(&all));
}

#[test]
fn every_analysis_command_takes_the_filter() {
    let creds = mailscope(&["creds", "--filter", "port 587", PATH]);
    assert!(creds.status.success(), "{}", stderr(&creds));
    let text = stdout(&creds);
    assert!(text.contains("alice") && !text.contains("bob"), "{text}");

    let dialog = mailscope(&["dialog", "--filter", "port pop3", PATH]);
    let text = stdout(&dialog);
    assert!(
        text.contains("C: USER bob") && !text.contains("EHLO"),
        "{text}"
    );

    let flows = mailscope(&["flows", "--filter", "not port 110", PATH]);
    let text = stdout(&flows);
    assert!(
        text.starts_with(&format!(
            "{PATH} (pcapng, 107 packets, 9601 bytes, 2 TCP flows, 33 packets left out by the filter)"
        )),
        "{text}"
    );

    let stream = mailscope(&["stream", "--flow", "0", "--filter", "dst port 110", PATH]);
    let text = stdout(&stream);
    assert!(text.contains("USER bob") && !text.contains("+OK"), "{text}");

    let dir = std::env::temp_dir().join(format!("mailscope-filter-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let extract = mailscope(&[
        "extract",
        "--filter",
        "port 25",
        PATH,
        "-o",
        dir.to_str().unwrap(),
    ]);
    assert!(extract.status.success(), "{}", stderr(&extract));
    let mut names: Vec<String> = std::fs::read_dir(dir.join("messages"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["0001.eml"]);
    let eml = std::fs::read(dir.join("messages/0001.eml")).unwrap();
    assert_eq!(eml.len(), 962);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn since_and_until_split_a_capture_without_losing_a_message() {
    let flows = json_lines(&["flows", "--json", PATH]);
    let flows = of_type(&flows, "flow");
    // A moment between two flows: the second flow's start.
    let split = flows[1]["start"].as_f64().unwrap();
    assert!(split > flows[0]["end"].as_f64().unwrap());
    let at = format!("{split:.9}");
    let before = json_lines(&["analyze", "--json", "--until", &at, PATH]);
    let after = json_lines(&["analyze", "--json", "--since", &at, PATH]);
    assert_eq!(of_type(&before, "flow").len(), 1);
    assert_eq!(of_type(&after, "flow").len(), 2);
    let mut both = sha256s(&before);
    both.extend(sha256s(&after));
    both.sort();
    assert_eq!(both, sha256s(&json_lines(&["analyze", "--json", PATH])));
    // The same moment in RFC 3339, in another zone: 2024-03-04T09:15:01.1234567Z.
    let rfc = json_lines(&[
        "analyze",
        "--json",
        "--since",
        "2024-03-04T10:15:01.1234567+01:00",
        PATH,
    ]);
    assert_eq!(sha256s(&rfc), sha256s(&after));
}

#[test]
fn a_time_window_on_a_real_capture() {
    let Some(dir) = common::shared_captures_dir() else {
        return;
    };
    let pop3 = dir.join("ndpi/pop3/pop3.pcap");
    let pop3 = pop3.to_str().unwrap();
    // nDPI's POP3 capture holds one session of October 2012 and five of
    // August 2013.
    let old = json_lines(&["flows", "--json", "--until", "2013-01-01", pop3]);
    let servers: Vec<&str> = of_type(&old, "flow")
        .iter()
        .map(|f| f["server"].as_str().unwrap())
        .collect();
    assert_eq!(servers, ["74.208.5.28:110"]);
    let new = json_lines(&["flows", "--json", "--since", "2013-01-01T00:00:00Z", pop3]);
    assert_eq!(of_type(&new, "flow").len(), 5);
    assert_eq!(new[0]["decode"]["filtered_out"], 31);
}

#[test]
fn a_bad_selection_is_a_usage_error_that_points_at_the_word() {
    let out = mailscope(&["analyze", "--filter", "host 10.0.0.1 and prot 25", PATH]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("bad filter: 'prot' is not an address")
            && err.contains("\n  host 10.0.0.1 and prot 25\n                    ^\n"),
        "{err}"
    );
    let out = mailscope(&["flows", "--since", "yesterday", PATH]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("'yesterday' is not a moment"),
        "{}",
        stderr(&out)
    );
    let out = mailscope(&[
        "creds",
        "--since",
        "2024-03-05",
        "--until",
        "2024-03-04",
        PATH,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--since must be earlier than --until"));
}
