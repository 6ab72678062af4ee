//! The IMAP grammar the server parses commands with: fuzzer bytes cut
//! into lines, each `{n}`/`{n+}` at a line's end taking the next n bytes
//! as its literal → `Command::parse` strictly (the server's way) and
//! leniently (the analyzer's), and `Response::parse`. Neither may panic;
//! a command the strict parser accepts must read back the same after
//! `emit`, with synchronizing and with non-synchronizing literals.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailscope::proto::imap::command::Command;
use mailscope::proto::imap::response::Response;
use mailscope::proto::imap::syntax::{Fragment, Mode, literal_marker};

/// Lines and the literals they announce, as the server's reader gathers
/// them.
fn fragments(mut rest: &[u8]) -> Vec<Fragment> {
    let mut out = Vec::new();
    while !rest.is_empty() {
        let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        let line = rest[..end].strip_suffix(b"\r").unwrap_or(&rest[..end]);
        out.push(Fragment::Line(line.to_vec()));
        rest = rest.get(end + 1..).unwrap_or_default();
        if let Some(n) = literal_marker(line).and_then(|m| m.size) {
            let n = (n as usize).min(rest.len());
            out.push(Fragment::Literal(rest[..n].to_vec()));
            rest = &rest[n..];
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let _ = Command::parse(&mut fragments(data), Mode::Lenient);
    if let Ok(r) = Response::parse(&mut fragments(data)) {
        std::hint::black_box(r.emit());
    }
    if let Ok(cmd) = Command::parse(&mut fragments(data), Mode::Strict) {
        for literal_plus in [false, true] {
            let wire = cmd.emit(literal_plus);
            let back = Command::parse(&mut fragments(&wire), Mode::Strict);
            assert_eq!(
                back.as_ref(),
                Ok(&cmd),
                "{:?}",
                String::from_utf8_lossy(&wire)
            );
        }
    }
});
