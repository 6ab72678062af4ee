//! One analysis path: every command gives a flow the same `protocol` and
//! `tls`, whatever it does with the flow afterwards. `flows` runs the
//! recognizer alone and `analyze` the whole session, both through the one
//! driver; on every capture of the project and of the shared corpus their
//! verdicts must be equal, flow by flow.

mod common;

use std::collections::BTreeMap;

use common::{all_captures, json_lines};
use serde_json::Value;

/// `(protocol, tls)` of every `flow` record of `command --json file`.
fn verdicts(command: &str, file: &str) -> BTreeMap<u64, (String, String)> {
    json_lines(&[command, "--json", file])
        .into_iter()
        .filter(|r| r["type"] == "flow")
        .map(|r| {
            let text = |k: &str| r[k].as_str().unwrap().to_string();
            (r["id"].as_u64().unwrap(), (text("protocol"), text("tls")))
        })
        .collect()
}

#[test]
fn flows_and_analyze_give_every_flow_the_same_verdict() {
    let files = all_captures();
    assert!(files.len() >= 20, "{files:?}");
    let (mut flows_seen, mut disagreements) = (0, Vec::new());
    for file in &files {
        let file = file.to_str().unwrap();
        let by_flows = verdicts("flows", file);
        let by_analyze = verdicts("analyze", file);
        assert_eq!(
            by_flows.keys().collect::<Vec<_>>(),
            by_analyze.keys().collect::<Vec<_>>(),
            "{file}: the two commands list different flows"
        );
        for (id, v) in &by_flows {
            flows_seen += 1;
            if by_analyze[id] != *v {
                disagreements.push(format!(
                    "{file} flow {id}: flows {v:?}, analyze {:?}",
                    by_analyze[id]
                ));
            }
        }
    }
    assert!(flows_seen >= 40, "only {flows_seen} flows");
    assert!(
        disagreements.is_empty(),
        "{} of {flows_seen} flows disagree:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}

/// The `message_path` records of `analyze --json`, as comparable rows:
/// the key and the (flow, via) of each hop.
pub fn analyze_paths(file: &str) -> Vec<(String, Vec<(u64, String)>)> {
    let mut out: Vec<_> = json_lines(&["analyze", "--json", file])
        .into_iter()
        .filter(|r| r["type"] == "message_path")
        .map(|r| {
            let key = match &r["message_id"] {
                Value::String(id) => id.clone(),
                _ => r["sha256"].as_str().unwrap().to_string(),
            };
            let hops = r["hops"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| {
                    (
                        h["flow"].as_u64().unwrap(),
                        h["via"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            (key, hops)
        })
        .collect();
    out.sort();
    out
}

/// The window's message paths are `analyze`'s: the same definition
/// (`trace::paths`) on the same analysis.
#[cfg(feature = "gui")]
#[test]
fn the_window_draws_the_message_paths_analyze_reports() {
    use mailscope::gui::loader::{LoadOptions, analyze};

    let demo_dir = common::temp_dir("paths-demo");
    let demo = demo_dir.join("demo.pcapng");
    common::run_demo("starttls", "imap", "127.0.21", &demo, &[]);
    let mut files = all_captures();
    files.push(demo.clone());
    let mut multi = 0;
    for file in &files {
        let name = file.to_str().unwrap();
        let scene = analyze(file, &LoadOptions::default(), |_, _| {})
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut window: Vec<(String, Vec<(u64, String)>)> = scene
            .journeys
            .iter()
            .map(|j| {
                let mut hops: Vec<(u64, String)> = j
                    .hops
                    .iter()
                    .map(|h| {
                        let m = &scene.messages[h.msg];
                        (scene.conns[m.conn].flow, m.record.via.as_str().to_string())
                    })
                    .collect();
                // `analyze` lists hops in time order, then by flow.
                hops.sort_by_key(|h| h.0);
                (j.key.clone(), hops)
            })
            .filter(|(_, hops)| hops.iter().any(|h| h.0 != hops[0].0))
            .collect();
        window.sort();
        let mut reported = analyze_paths(name);
        for (_, hops) in &mut reported {
            hops.sort_by_key(|h| h.0);
        }
        assert_eq!(window, reported, "{name}");
        multi += window.len();
    }
    assert!(multi >= 2, "only {multi} message paths in all");
    let _ = std::fs::remove_dir_all(demo_dir);
}
