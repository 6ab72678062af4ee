//! File names from a capture made safe to create.
//!
//! An attachment's file name comes from a stranger (RFC 2183 `filename`,
//! RFC 2231 lets it hold any character), and some are written to hurt:
//! `../../.bashrc`, `/etc/passwd`, `C:\Windows\evil.exe`, `CON`, a NUL
//! byte, 10 000 characters. Before such a name is used for a file, it
//! loses its path, its control characters and what Windows reserves, and
//! gets a bounded length.

use std::collections::HashSet;

/// Longest file name written, in bytes (most file systems allow 255).
const MAX_NAME: usize = 200;

/// Windows' reserved device names (a file called `CON.txt` cannot be
/// created or opened there).
const RESERVED: [&str; 22] = [
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// A file name from a capture made safe to create inside one folder, on
/// any operating system, and unique there (case-insensitively, for
/// Windows and macOS). `index` (1-based) names attachments that have no
/// usable name: `attachment-3.pdf`.
pub(crate) fn safe_file_name(
    name: Option<&str>,
    index: usize,
    content_type: &str,
    taken: &mut HashSet<String>,
) -> String {
    // Only the last path component: `../../x` → `x`, `C:\a\b.exe` → `b.exe`.
    let base = name.unwrap_or("").rsplit(['/', '\\']).next().unwrap_or("");
    let base = match base.split_once(':') {
        // A drive or stream prefix (`C:evil.exe`, `file.txt:stream`).
        Some((before, after)) if before.len() == 1 => after,
        _ => base,
    };
    let mut clean: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*'))
        .collect();
    // No hidden files, no `.`/`..`, nothing Windows would silently trim.
    clean = clean
        .trim_start_matches(['.', ' '])
        .trim_end_matches(['.', ' '])
        .to_string();
    let stem = clean.split('.').next().unwrap_or("").to_ascii_uppercase();
    if RESERVED.contains(&stem.as_str()) {
        clean = format!("_{clean}");
    }
    if clean.is_empty() {
        clean = format!("attachment-{index}{}", extension_for(content_type));
    }
    let mut name = bound(&clean, MAX_NAME);
    let mut n = 2;
    while !taken.insert(name.to_lowercase()) {
        name = bound(&numbered_copy(&clean, n), MAX_NAME);
        n += 1;
    }
    name
}

/// Cuts a name to `max` bytes on a character boundary, keeping a short
/// extension.
fn bound(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_string();
    }
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e)
        .filter(|e| e.len() <= 16)
        .map(|e| format!(".{e}"))
        .unwrap_or_default();
    let mut cut = max - ext.len();
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{ext}", &name[..cut])
}

fn extension_for(content_type: &str) -> &'static str {
    match content_type {
        "text/plain" => ".txt",
        "text/html" => ".html",
        "message/rfc822" => ".eml",
        "application/pdf" => ".pdf",
        "application/zip" => ".zip",
        "image/png" => ".png",
        "image/jpeg" => ".jpg",
        "image/gif" => ".gif",
        _ => ".bin",
    }
}

/// `name (n).ext`, the way file managers number copies.
pub(crate) fn numbered_copy(name: &str, n: usize) -> String {
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem} ({n}).{ext}"),
        _ => format!("{name} ({n})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn safe(names: &[&str]) -> Vec<String> {
        let mut taken = HashSet::new();
        names
            .iter()
            .enumerate()
            .map(|(i, n)| safe_file_name(Some(n), i + 1, "application/pdf", &mut taken))
            .collect()
    }

    #[test]
    fn hostile_names_are_tamed() {
        assert_eq!(
            safe(&[
                "../../x",
                "/etc/passwd",
                "C:\\Windows\\evil.exe",
                "C:evil2.exe",
                "a\0b\x01c.txt",
                "..",
                ".bashrc",
                "CON",
                "nul.txt",
                "what?<>|*\".doc",
                "trailing. . ",
            ]),
            [
                "x",
                "passwd",
                "evil.exe",
                "evil2.exe",
                "abc.txt",
                "attachment-6.pdf",
                "bashrc",
                "_CON",
                "_nul.txt",
                "what.doc",
                "trailing",
            ]
        );
    }

    #[test]
    fn duplicates_and_long_names() {
        assert_eq!(
            safe(&["a.txt", "A.TXT", "a.txt", "noext", "noext"]),
            ["a.txt", "A (2).TXT", "a (3).txt", "noext", "noext (2)"]
        );
        let long = format!("{}.pdf", "é".repeat(5000));
        let got = &safe(&[&long])[0];
        assert!(got.len() <= MAX_NAME && got.ends_with(".pdf"), "{got}");
        let mut taken = HashSet::new();
        assert_eq!(
            safe_file_name(None, 3, "image/png", &mut taken),
            "attachment-3.png"
        );
    }
}
