//! `smtp-hostile-names.pcapng`: attachment names chosen by an attacker.
//!
//! A sender picks the file names in Content-Disposition (RFC 2183) and may
//! encode them with RFC 2231, so a name can be a path ("../../x"), an
//! absolute or Windows path, a reserved device name ("CON"), a duplicate
//! that differs only in case, a name far longer than any file system allows,
//! or one with a NUL byte. It teaches that `extract` must never use such a
//! name as it is.

use mailscope::capture::builder::{Conversation, Dir};

use super::Sample;
use super::smtp::send_message;
use super::toolkit::{START_NANOS, addr, base64_lines, crlf_lines, pcapng_ethernet, summary};

/// Attachment names a hostile sender may choose, each meant to break an
/// extractor that trusts them.
pub fn hostile_names() -> Vec<String> {
    vec![
        "../../x".into(),
        "/etc/passwd".into(),
        "C:\\Windows\\evil.exe".into(),
        "dup.txt".into(),
        "DUP.TXT".into(),
        "dup.txt".into(),
        format!("{}.pdf", "A".repeat(10_000)),
        "..".into(),
        "CON".into(),
    ]
}

/// A message with one small attachment per hostile name, plus one whose
/// name carries a NUL byte through RFC 2231 percent-encoding.
fn hostile_message() -> Vec<u8> {
    let mut lines: Vec<String> = [
        "From: mallory@evil.example",
        "To: bob@hamburger.edu",
        "Subject: hostile attachment names",
        "Message-ID: <hostile.1@evil.example>",
        "MIME-Version: 1.0",
        "Content-Type: multipart/mixed; boundary=\"b\"",
        "",
        "--b",
        "Content-Type: text/plain",
        "",
        "Each attachment's name tries to escape the extract directory.",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for (i, name) in hostile_names().iter().enumerate() {
        lines.push("--b".into());
        lines.push("Content-Type: application/octet-stream".into());
        let quoted = name.replace('\\', "\\\\").replace('"', "\\\"");
        lines.push(format!(
            "Content-Disposition: attachment; filename=\"{quoted}\""
        ));
        lines.push("Content-Transfer-Encoding: base64".into());
        lines.push(String::new());
        lines.extend(base64_lines(format!("attachment {i}\n").as_bytes()));
    }
    lines.push("--b".into());
    lines.push("Content-Type: application/octet-stream".into());
    lines.push("Content-Disposition: attachment; filename*=utf-8''nul%00byte.txt".into());
    lines.push("Content-Transfer-Encoding: base64".into());
    lines.push(String::new());
    lines.extend(base64_lines(b"attachment nul\n"));
    lines.push("--b--".into());
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    crlf_lines(&refs)
}

pub fn smtp_hostile_names() -> Sample {
    use Dir::{ClientToServer as C, ServerToClient as S};
    let mut c = Conversation::new(addr("10.0.11.1:40100"), addr("10.0.11.2:25"), START_NANOS);
    c.handshake();
    c.line(S, "220 mx.hamburger.edu ESMTP");
    c.line(C, "EHLO evil.example");
    c.line(S, "250 mx.hamburger.edu");
    c.line(C, "MAIL FROM:<mallory@evil.example>");
    c.line(S, "250 Ok");
    c.line(C, "RCPT TO:<bob@hamburger.edu>");
    c.line(S, "250 Ok");
    send_message(&mut c, "354 go ahead", &hostile_message(), "250 Ok");
    c.line(C, "QUIT");
    c.line(S, "221 Bye");
    c.close();
    let flows = vec![summary("SMTP", &c)];
    Sample {
        file_name: "smtp-hostile-names.pcapng",
        description: format!(
            "An SMTP message with {} attachments whose names try to escape an extract \
             directory: {}, and nul%00byte.txt (RFC 2231). `extract` must write every attachment \
             inside the output directory under a sanitised, unique name.",
            hostile_names().len() + 1,
            hostile_names()
                .iter()
                .map(|n| if n.len() > 40 {
                    format!("\"{}…\" ({} characters)", &n[..12], n.chars().count())
                } else {
                    format!("{n:?}")
                })
                .collect::<Vec<_>>()
                .join(", ")
        ),
        flows,
        notes: vec![],
        bytes: pcapng_ethernet(&c.into_frames(), &[]),
    }
}
