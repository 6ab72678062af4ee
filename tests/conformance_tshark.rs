//! Conformance over other projects' captures (`../shared/captures`): the
//! analyzer must not panic on any of them, and every flow's reassembled bytes
//! must equal what tshark's "Follow TCP Stream" gives, direction by
//! direction, unless a documented policy difference explains it (listed).

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

use common::{capture_files, collect_flows, have_tool, shared_captures_dir};
use mailscope::flow::{Direction, FlowSummary};

/// One `-z follow,tcp,raw,N` block: the two nodes and their bytes.
#[derive(Debug, Default)]
struct Followed {
    nodes: [Option<SocketAddr>; 2],
    data: [Vec<u8>; 2],
}

fn parse_node(line: &str) -> Option<SocketAddr> {
    let addr = line.split_once(": ")?.1.trim();
    // tshark writes IPv6 nodes as "[addr]:port" in recent versions and
    // "addr:port" in older ones.
    addr.parse().ok().or_else(|| {
        let (ip, port) = addr.rsplit_once(':')?;
        Some(SocketAddr::new(
            ip.trim_matches(['[', ']']).parse().ok()?,
            port.parse().ok()?,
        ))
    })
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// Runs tshark once for all streams of a file.
fn tshark_follow(path: &Path, streams: u64) -> BTreeMap<u64, Followed> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r").arg(path).arg("-q");
    for n in 0..streams {
        cmd.arg("-z").arg(format!("follow,tcp,raw,{n}"));
    }
    let out = cmd.output().expect("tshark runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut result = BTreeMap::new();
    let mut current: Option<(u64, Followed)> = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("Filter: tcp.stream eq ") {
            current = Some((rest.trim().parse().unwrap(), Followed::default()));
        } else if let Some((_, f)) = current.as_mut() {
            if line.starts_with("Node 0: ") {
                f.nodes[0] = parse_node(line);
            } else if line.starts_with("Node 1: ") {
                f.nodes[1] = parse_node(line);
            } else if line.starts_with("=====") {
                let (n, f) = current.take().unwrap();
                result.insert(n, f);
            } else if let Some(hex) = line.strip_prefix('\t') {
                f.data[1].extend(unhex(hex.trim()));
            } else if !line.is_empty() {
                f.data[0].extend(unhex(line.trim()));
            }
        }
    }
    result
}

/// Why our bytes may legitimately differ from tshark's for a flow, or None.
fn explanation(s: &FlowSummary, dir: Direction) -> Option<String> {
    let st = &s.streams[dir.index()];
    let mut why = Vec::new();
    if st.gaps > 0 {
        why.push(format!(
            "{} gap(s), {} bytes missing from the capture: mailscope marks the gap and delivers every captured byte after it, tshark's follow output differs around gaps",
            st.gaps, st.gap_bytes
        ));
    }
    if st.overlap_conflicts > 0 {
        why.push(format!(
            "{} overlapping bytes differ: mailscope keeps the first copy",
            st.overlap_conflicts
        ));
    }
    if st.before_start > 0 {
        why.push(format!(
            "{} bytes arrived before the point where the capture picked the stream up",
            st.before_start
        ));
    }
    (!why.is_empty()).then(|| why.join("; "))
}

#[test]
fn reassembled_bytes_match_tshark_follow() {
    let Some(dir) = shared_captures_dir() else {
        eprintln!("SKIPPED: ../shared/captures is absent");
        return;
    };
    if !have_tool("tshark") {
        eprintln!("SKIPPED: tshark is not installed (.ci/run installs it)");
        return;
    }
    let files = capture_files(&dir);
    assert!(
        files.len() >= 90,
        "expected the shared corpus, found {} files",
        files.len()
    );
    let mut compared = 0;
    let mut explained = Vec::new();
    let mut failures = Vec::new();
    for path in &files {
        let rel = path.strip_prefix(&dir).unwrap().display().to_string();
        let flows = collect_flows(path);
        let follow = tshark_follow(path, flows.len() as u64);
        for (summary, ours) in &flows {
            let Some(theirs) = follow.get(&summary.id) else {
                failures.push(format!(
                    "{rel} flow {}: tshark has no such stream",
                    summary.id
                ));
                continue;
            };
            for dir in [Direction::ClientToServer, Direction::ServerToClient] {
                let sender = match dir {
                    Direction::ClientToServer => summary.client,
                    Direction::ServerToClient => summary.server,
                };
                let node = theirs.nodes.iter().position(|n| *n == Some(sender));
                let Some(node) = node else {
                    failures.push(format!(
                        "{rel} flow {}: endpoints differ (ours {} → {}, tshark {:?})",
                        summary.id, summary.client, summary.server, theirs.nodes
                    ));
                    break;
                };
                compared += 1;
                if ours.bytes(dir) == theirs.data[node].as_slice() {
                    continue;
                }
                let what = format!(
                    "{rel} flow {} {}: {} bytes here, {} in tshark",
                    summary.id,
                    dir.as_str(),
                    ours.bytes(dir).len(),
                    theirs.data[node].len()
                );
                match explanation(summary, dir) {
                    Some(why) => explained.push(format!("{what} — {why}")),
                    None => failures.push(what),
                }
            }
        }
    }
    println!(
        "compared {compared} stream directions in {} captures",
        files.len()
    );
    println!("{} differences explained by policy:", explained.len());
    for e in &explained {
        println!("  {e}");
    }
    assert!(
        failures.is_empty(),
        "{} unexplained differences from tshark:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
