//! The shape of the library, checked: its top-level modules form layers
//! (each imports only modules below it, never one that imports it back),
//! and no source file holds more than about a thousand lines of code
//! besides its tests. The layers, bottom up, are described in `src/lib.rs`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

mod common;

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    common::files_under(dir, |path| path.extension().is_some_and(|e| e == "rs"))
}

/// The code of a file without its test module (by this project's
/// convention, `#[cfg(test)] mod tests` closes a file) and without the
/// files that are test support only.
fn code_of(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).unwrap();
    if text.starts_with("#![cfg(test)]") {
        return None;
    }
    let end = text.find("#[cfg(test)]\nmod tests").unwrap_or(text.len());
    Some(text[..end].to_string())
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The top-level module a file belongs to (`src/proto/smtp/reply.rs` →
/// `proto`); None for the crate roots.
fn top_module(path: &Path) -> Option<String> {
    let rel = path.strip_prefix(src()).unwrap();
    let first = rel.components().next()?.as_os_str().to_str()?.to_string();
    let name = first.trim_end_matches(".rs").to_string();
    (!matches!(name.as_str(), "lib" | "main")).then_some(name)
}

/// Which top-level modules each one imports (`crate::x` in its code).
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for path in rust_files(&src()) {
        let Some(module) = top_module(&path) else {
            continue;
        };
        // The command line lives with the binary, above everything.
        if module == "cli" {
            continue;
        }
        let Some(code) = code_of(&path) else { continue };
        let entry = graph.entry(module.clone()).or_default();
        for (at, _) in code.match_indices("crate::") {
            let name: String = code[at + 7..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            if !name.is_empty() && name != module {
                entry.insert(name);
            }
        }
    }
    graph
}

#[test]
fn top_level_modules_form_layers() {
    let graph = imports();
    assert!(graph.len() >= 8, "{graph:?}");
    // Depth-first search for a cycle.
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) {
        if done.contains(node) {
            return;
        }
        if let Some(at) = path.iter().position(|n| n == node) {
            panic!("import cycle: {} → {node}", path[at..].join(" → "));
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            visit(next, graph, path, done);
        }
        path.pop();
        done.insert(node.to_string());
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        visit(node, &graph, &mut Vec::new(), &mut done);
    }
    // The bottom layers import nothing above them.
    for low in ["capture", "mail"] {
        assert!(
            graph.get(low).is_none_or(|g| g.is_empty()),
            "{low} imports {:?}",
            graph[low]
        );
    }
    assert_eq!(graph["flow"], BTreeSet::from(["capture".to_string()]));
    for above in ["analysis", "report", "world", "gui", "proto"] {
        assert!(
            !graph["trace"].contains(above),
            "trace (the records) imports {above}"
        );
    }
}

#[test]
fn no_source_file_is_over_a_thousand_lines_of_code() {
    let mut big = Vec::new();
    for path in rust_files(&src()) {
        let Some(code) = code_of(&path) else { continue };
        let lines = code.lines().count();
        if lines > 1000 {
            big.push(format!("{} ({lines} lines)", path.display()));
        }
    }
    assert!(big.is_empty(), "split these by concept: {big:?}");
}
