//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod busy;
pub mod classroom;
pub mod clients;
pub mod raw;
#[cfg(feature = "gui")]
pub mod window;

use std::path::{Path, PathBuf};

use mailscope::analysis::{Pipeline, PipelineOptions};
use mailscope::flow::{CollectedStreams, FlowSummary};

/// `../shared/captures` beside the repository, when present.
pub fn shared_captures_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/captures");
    dir.is_dir().then_some(dir)
}

/// Every file under `dir` (in its folders too) that `keep` accepts, sorted.
pub fn files_under(dir: &Path, keep: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if keep(&path) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Every capture file under `dir`, sorted.
pub fn capture_files(dir: &Path) -> Vec<PathBuf> {
    files_under(dir, |path| {
        matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("pcap" | "pcapng" | "cap")
        )
    })
}

/// The project's own fixtures in `captures/`.
pub fn own_captures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("captures")
}

/// Every capture the corpus tests read: the project's own, then the shared
/// corpus (`../shared/captures`) when it is there (said on stderr when not).
pub fn all_captures() -> Vec<PathBuf> {
    let mut files = capture_files(&own_captures_dir());
    match shared_captures_dir() {
        Some(dir) => files.extend(capture_files(&dir)),
        None => eprintln!("../shared/captures is absent: only the project's own captures"),
    }
    files
}

/// Runs the analyzer over `path`, keeping every flow's bytes.
pub fn collect_flows(path: &Path) -> Vec<(FlowSummary, CollectedStreams)> {
    let mut pipeline = Pipeline::open(path, PipelineOptions::default())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut flows = Vec::new();
    pipeline
        .run(
            |_, _, _| CollectedStreams::default(),
            |f| flows.push((f.summary, f.handler)),
        )
        .unwrap();
    flows.sort_by_key(|(s, _)| s.id);
    flows
}

pub fn have_tool(name: &str) -> bool {
    std::process::Command::new(name)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs the `mailscope` binary from the repository root.
pub fn mailscope(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_mailscope"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .expect("mailscope runs")
}

pub fn stdout(o: &std::process::Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

pub fn stderr(o: &std::process::Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// Every line of a successful run's stdout, parsed as JSON.
pub fn json_lines(args: &[&str]) -> Vec<serde_json::Value> {
    let out = mailscope(args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{args:?}: {e}: {l}")))
        .collect()
}

/// A fresh empty directory under the system's temp dir.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mailscope-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Golden-file check of `mailscope <command…> captures/<file>` for every
/// fixture: the output must equal `tests/golden/<dir>/<file>.<ext>`.
/// `MAILSCOPE_UPDATE_GOLDEN=1` rewrites the files instead (review the diff).
pub fn check_golden(command: &[&str], dir: &str, ext: &str) {
    let update = std::env::var_os("MAILSCOPE_UPDATE_GOLDEN").is_some();
    let golden_dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(dir);
    std::fs::create_dir_all(&golden_dir).unwrap();
    let captures = capture_files(&own_captures_dir());
    assert!(captures.len() >= 20, "fixtures missing: {captures:?}");
    let mut mismatches = Vec::new();
    for path in captures {
        let name = path.file_name().unwrap().to_str().unwrap();
        let rel = format!("captures/{name}");
        let mut args = command.to_vec();
        args.push(&rel);
        let out = mailscope(&args);
        assert!(out.status.success(), "{rel}: {}", stderr(&out));
        let actual = stdout(&out);
        let golden = golden_dir.join(format!("{name}.{ext}"));
        if update {
            std::fs::write(&golden, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&golden)
            .unwrap_or_else(|_| panic!("no golden file {}", golden.display()));
        if expected != actual {
            mismatches.push(format!(
                "{rel}:\n--- expected\n{expected}+++ actual\n{actual}"
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// A copy of a pcapng without its Decryption Secrets Blocks (type 0x0A),
/// like a capture taken by a tool that knows no keys. The demo writes
/// little-endian blocks: type, total length, body, total length.
pub fn strip_secrets(from: &Path, to: &Path) {
    let bytes = std::fs::read(from).unwrap();
    let mut out = Vec::new();
    let mut at = 0;
    while at + 8 <= bytes.len() {
        let kind = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
        let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
        if kind != 0x0000_000A {
            out.extend_from_slice(&bytes[at..at + len]);
        }
        at += len;
    }
    assert_eq!(at, bytes.len());
    std::fs::write(to, out).unwrap();
}

/// `mailscope demo --speed 0` on its own loopback network, writing its
/// capture to `capture`; `extra` adds options. Returns what it printed.
pub fn run_demo(tls: &str, read: &str, net: &str, capture: &Path, extra: &[&str]) -> String {
    let mut args = vec![
        "demo",
        "--tls",
        tls,
        "--read",
        read,
        "--speed",
        "0",
        "--net",
        net,
        "-w",
        capture.to_str().unwrap(),
    ];
    args.extend(extra);
    let out = mailscope(&args);
    let text = stdout(&out);
    assert!(
        out.status.success(),
        "demo {tls} {read} failed: {text}\n{}",
        stderr(&out)
    );
    text
}
