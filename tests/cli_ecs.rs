//! `analyze --format ecs` (issue 20, "For SIEMs"): JSON Lines in the
//! Elastic Common Schema. Every key an event has outside the custom
//! `mailscope.*` namespace is an ECS field (the list in
//! `tests/data/ecs_fields.txt`, taken from ECS 9.4.0) holding the JSON
//! type ECS gives it, with allowed values where ECS lists them; there is
//! an event per record of `analyze --json`; and the events of one
//! message, one credential and one finding say exactly what those records
//! say.

mod common;

use std::collections::{BTreeMap, HashMap};

use common::{all_captures, json_lines, mailscope, stderr};
use serde_json::{Value, json};

/// The ECS facts the test checks against.
struct Ecs {
    /// Flat name → (ECS type, may be an array).
    fields: HashMap<String, (String, bool)>,
    /// Flat name → allowed values.
    allowed: HashMap<String, Vec<String>>,
    /// `event.category` → the `event.type`s ECS expects with it.
    types: HashMap<String, Vec<String>>,
}

fn ecs() -> Ecs {
    let text = include_str!("data/ecs_fields.txt");
    let mut ecs = Ecs {
        fields: HashMap::new(),
        allowed: HashMap::new(),
        types: HashMap::new(),
    };
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let words: Vec<&str> = line.split(' ').collect();
        let rest = || words[2..].iter().map(|w| w.to_string()).collect();
        match words[0] {
            "field" => {
                let array = words.get(3) == Some(&"array");
                ecs.fields
                    .insert(words[1].to_string(), (words[2].to_string(), array));
            }
            "allowed" => {
                ecs.allowed.insert(words[1].to_string(), rest());
            }
            "types" => {
                ecs.types.insert(words[1].to_string(), rest());
            }
            other => panic!("unknown line kind {other}"),
        }
    }
    assert!(ecs.fields.len() > 500, "the list is there");
    ecs
}

/// Whether `value` is what a field of ECS type `ty` holds in JSON.
fn holds(ty: &str, value: &Value) -> bool {
    match ty {
        "keyword" | "constant_keyword" | "wildcard" | "match_only_text" | "text" | "ip"
        | "date" => value.is_string(),
        "long" | "integer" | "short" | "byte" => value.is_i64() || value.is_u64(),
        "float" | "double" | "scaled_float" | "half_float" => value.is_number(),
        "boolean" => value.is_boolean(),
        "object" | "flattened" => value.is_object(),
        other => panic!("no JSON type for ECS type {other}"),
    }
}

/// Checks every key path of `value` (an object at `prefix`); `mailscope.*`
/// is the custom namespace and is not checked. Returns the paths seen.
fn check_keys(ecs: &Ecs, prefix: &str, value: &Value, seen: &mut Vec<String>, event: &Value) {
    let Value::Object(map) = value else {
        panic!("{prefix} is not an object in {event}");
    };
    for (key, v) in map {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        if path == "mailscope" {
            continue;
        }
        match ecs.fields.get(&path) {
            Some((ty, _)) if ty == "nested" => {
                let items = v.as_array().unwrap_or_else(|| panic!("{path}: {event}"));
                for item in items {
                    check_keys(ecs, &path, item, seen, event);
                }
                seen.push(path);
            }
            Some((ty, array)) => {
                let ok = match v {
                    Value::Array(items) => {
                        *array && !items.is_empty() && items.iter().all(|i| holds(ty, i))
                    }
                    v => holds(ty, v),
                };
                assert!(ok, "{path} is ECS {ty} (array: {array}), not {v}: {event}");
                if ty == "date" {
                    check_date(v.as_str().unwrap(), event);
                }
                seen.push(path);
            }
            // Not a field: an object on the way to fields.
            None if v.is_object() => check_keys(ecs, &path, v, seen, event),
            None => panic!("{path} is not an ECS field: {event}"),
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`: RFC 3339, in UTC.
fn check_date(text: &str, event: &Value) {
    let b = text.as_bytes();
    let shape = b.len() == 30
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'.',
            29 => *c == b'Z',
            _ => c.is_ascii_digit(),
        });
    assert!(shape, "{text} is not RFC 3339 UTC: {event}");
}

/// The events of a capture.
fn events(capture: &str) -> Vec<Value> {
    json_lines(&["analyze", "--format", "ecs", capture])
}

fn check_event(ecs: &Ecs, event: &Value) {
    let mut seen = Vec::new();
    check_keys(ecs, "", event, &mut seen, event);
    for required in [
        "@timestamp",
        "ecs.version",
        "event.kind",
        "event.category",
        "event.type",
        "event.dataset",
        "event.module",
        "agent.type",
        "observer.product",
    ] {
        assert!(seen.iter().any(|s| s == required), "{required}: {event}");
    }
    assert_eq!(event["ecs"]["version"], mailscope::report::ecs::ECS_VERSION);
    assert_eq!(event["observer"]["product"], "mailscope");
    let dataset = event["event"]["dataset"].as_str().unwrap();
    assert!(dataset.starts_with("mailscope."), "{event}");
    for field in ["event.kind", "event.outcome"] {
        let (set, key) = field.split_once('.').unwrap();
        if let Some(v) = event[set][key].as_str() {
            assert!(ecs.allowed[field].iter().any(|a| a == v), "{field} {v}");
        }
    }
    let categories = event["event"]["category"].as_array().unwrap();
    let types = event["event"]["type"].as_array().unwrap();
    for c in categories {
        let c = c.as_str().unwrap();
        assert!(ecs.allowed["event.category"].iter().any(|a| a == c), "{c}");
        for t in types {
            let t = t.as_str().unwrap();
            assert!(ecs.allowed["event.type"].iter().any(|a| a == t), "{t}");
            assert!(
                ecs.types[c].iter().any(|a| a == t),
                "event.type {t} does not go with event.category {c}"
            );
        }
    }
}

#[test]
fn every_key_is_an_ecs_field_of_its_type_on_every_capture() {
    let ecs = ecs();
    let mut datasets: BTreeMap<String, usize> = BTreeMap::new();
    for capture in all_captures() {
        let capture = capture.to_str().unwrap();
        let records = json_lines(&["analyze", "--json", capture]);
        let events = events(capture);
        // One event per record but the `capture` record.
        let mut expected: BTreeMap<String, usize> = BTreeMap::new();
        for r in &records {
            let kind = r["type"].as_str().unwrap();
            if kind != "capture" {
                *expected.entry(format!("mailscope.{kind}")).or_default() += 1;
            }
        }
        let mut got: BTreeMap<String, usize> = BTreeMap::new();
        for event in &events {
            check_event(&ecs, event);
            let dataset = event["event"]["dataset"].as_str().unwrap().to_string();
            *got.entry(dataset.clone()).or_default() += 1;
            *datasets.entry(dataset).or_default() += 1;
        }
        assert_eq!(got, expected, "{capture}");
        // A password is never the value of a standard field (it may be
        // part of one: some users take their name for one).
        for (r, event) in records.iter().filter(|r| r["type"] == "credential").zip(
            events
                .iter()
                .filter(|e| e["event"]["dataset"] == "mailscope.credential"),
        ) {
            let Some(password) = r["password"].as_str().filter(|p| !p.is_empty()) else {
                continue;
            };
            assert_eq!(event["mailscope"]["credential"]["password"], password);
            for other in &events {
                let mut leaves = Vec::new();
                let mut standard = other.clone();
                standard.as_object_mut().unwrap().remove("mailscope");
                strings(&standard, &mut leaves);
                assert!(!leaves.contains(&password), "{capture}: {other}");
            }
        }
    }
    // Every kind of record was met somewhere.
    for dataset in ["flow", "message", "transaction", "credential", "finding"] {
        assert!(
            datasets.contains_key(&format!("mailscope.{dataset}")),
            "{datasets:?}"
        );
    }
}

/// Every string in `value`.
fn strings<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::String(s) => out.push(s),
        Value::Array(items) => items.iter().for_each(|i| strings(i, out)),
        Value::Object(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

/// The record of `analyze --json` and the event of `--format ecs` that
/// come from it (the n-th of that kind).
fn pair(capture: &str, kind: &str, n: usize) -> (Value, Value) {
    let record = json_lines(&["analyze", "--json", capture])
        .into_iter()
        .filter(|r| r["type"] == kind)
        .nth(n)
        .unwrap();
    let event = events(capture)
        .into_iter()
        .filter(|e| e["event"]["dataset"] == format!("mailscope.{kind}"))
        .nth(n)
        .unwrap();
    (record, event)
}

/// The `@timestamp` is the record's `ts` (float seconds in the JSON).
fn same_time(event: &Value, ts: &Value) {
    let text = event["@timestamp"].as_str().unwrap();
    let secs: f64 = text[17..29].parse().unwrap();
    let ts = ts.as_f64().unwrap();
    assert!((ts.rem_euclid(60.0) - secs).abs() < 1e-6, "{text} vs {ts}");
}

fn common_keys() -> Value {
    json!({
        "ecs": {"version": "9.4.0"},
        "agent": {"type": "mailscope", "name": "mailscope", "version": env!("CARGO_PKG_VERSION")},
        "observer": {"product": "mailscope", "vendor": "mailscope", "version": env!("CARGO_PKG_VERSION")},
    })
}

fn without(event: &Value, keys: &[&str]) -> Value {
    let mut e = event.clone();
    for k in keys {
        e.as_object_mut().unwrap().remove(*k);
    }
    e
}

#[test]
fn a_message_event_says_what_its_record_says() {
    let capture = "captures/alice-to-bob-path.pcapng";
    let (m, e) = pair(capture, "message", 0);
    same_time(&e, &m["ts"]);
    let a = &m["attachments"][0];
    assert_eq!(a["filename"], "receta.txt");
    assert_eq!(
        e["email"],
        json!({
            "from": {"address": m["from"]},
            "to": {"address": m["to"]},
            "subject": m["subject"],
            "message_id": m["message_id"],
            "origination_timestamp": "2024-03-04T09:15:00.000000000Z",
            "sender": {"address": m["mail_from"].as_str().unwrap().trim_matches(['<', '>'])},
            "attachments": [{"file": {
                "name": "receta.txt",
                "mime_type": a["content_type"],
                "size": a["size"],
                "hash": {"md5": a["md5"], "sha256": a["sha256"]},
            }}],
        })
    );
    assert_eq!(m["date"], "2024-03-04T10:15:00+01:00");
    assert_eq!(
        e["event"],
        json!({"kind": "event", "category": ["email"], "type": ["info"],
               "module": "mailscope", "dataset": "mailscope.message"})
    );
    assert_eq!(
        e["related"]["hash"],
        json!([m["sha256"], a["sha256"], a["md5"]])
    );
    assert_eq!(e["mailscope"]["message"], 0);
    assert_eq!(e["mailscope"]["sha256"], m["sha256"]);
    assert_eq!(e["mailscope"]["flow"], m["flow"]);
    assert_eq!(e["mailscope"]["flow_uid"], m["flow_uid"]);
    // The endpoints are the flow's.
    let (flow, _) = pair(capture, "flow", 0);
    let client = flow["client"].as_str().unwrap();
    let (ip, port) = client.rsplit_once(':').unwrap();
    assert_eq!(
        e["source"],
        json!({"ip": ip, "port": port.parse::<u16>().unwrap()})
    );
    let keys = without(
        &e,
        &[
            "@timestamp",
            "email",
            "event",
            "related",
            "mailscope",
            "source",
            "destination",
            "network",
        ],
    );
    assert_eq!(keys, common_keys());
}

#[test]
fn a_credential_event_says_what_its_record_says() {
    let capture = "captures/pop3-bob.pcapng";
    let (c, e) = pair(capture, "credential", 0);
    assert_eq!(
        (c["username"].as_str(), c["success"].as_bool()),
        (Some("bob"), Some(true))
    );
    same_time(&e, &c["ts"]);
    assert_eq!(e["@timestamp"], "2024-03-04T09:15:00.127956789Z");
    assert_eq!(without(&e, &["@timestamp"]), {
        let mut expected = common_keys();
        let more = json!({
            "event": {"kind": "event", "category": ["authentication"], "type": ["info"],
                      "outcome": "success", "module": "mailscope",
                      "dataset": "mailscope.credential"},
            "user": {"name": "bob"},
            "related": {"ip": ["10.0.0.3", "10.0.0.2"], "user": ["bob"]},
            "source": {"ip": "10.0.0.3", "port": 49152},
            "destination": {"ip": "10.0.0.2", "port": 110},
            "network": {"transport": "tcp", "type": "ipv4", "protocol": "pop3"},
            "mailscope": {"flow": 0, "flow_uid": c["flow_uid"], "credential": {
                "mechanism": c["mechanism"], "password": c["password"], "reply": c["reply"],
            }},
        });
        for (k, v) in more.as_object().unwrap() {
            expected[k] = v.clone();
        }
        expected
    });
    assert_eq!(c["password"], "hungry");
}

#[test]
fn a_finding_event_says_what_its_record_says() {
    let capture = "captures/pop3-bob.pcapng";
    let (f, e) = pair(capture, "finding", 0);
    assert_eq!(f["code"], "plaintext-auth");
    assert_eq!(f["severity"], "high");
    same_time(&e, &f["ts"]);
    assert_eq!(
        e["event"],
        json!({"kind": "alert", "category": ["authentication"], "type": ["info"],
               "code": "plaintext-auth", "severity": 3, "risk_score": 73.0,
               "module": "mailscope", "dataset": "mailscope.finding"})
    );
    assert_eq!(e["rule"], json!({"name": "plaintext-auth"}));
    assert_eq!(e["message"], f["message"]);
    assert_eq!(e["mailscope"]["severity"], "high");
    assert_eq!(e["mailscope"]["flow"], f["flow"]);
    assert_eq!(e["source"]["ip"], "10.0.0.3");
}

#[test]
fn ecs_goes_to_stdout() {
    let out = mailscope(&[
        "analyze",
        "--format",
        "ecs",
        "-o",
        "/tmp/x",
        "captures/pop3-bob.pcapng",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("-o DIR goes with --format parquet"),
        "{}",
        stderr(&out)
    );
}
