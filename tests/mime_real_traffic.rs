//! Messages as a mail client reads them, on the captures of
//! `tests/support/mime_edge_cases.rs` (issue "Traffic nobody showed us",
//! points 4–6): attachments inside attached messages, attachments cut by
//! the capture, header text in raw 8-bit bytes and folded around encoded
//! words. Every expected name, part number, size and digest is computed
//! here from the bytes the generator encoded, not read back from
//! mailscope.

mod common;
mod support;

use common::{json_lines, mailscope, temp_dir};
use mailscope::mail::{md5_hex, sha256_hex};
use serde_json::Value;
use support::mime_edge_cases::{
    ENCODED_PAYLOAD, MENU_CSV, PLAIN_PAYLOAD, REPORT_CHARS_KEPT, UNCLOSED_PAYLOAD, carol_message,
    dave_message, erin_message, first_txt, map_png, notes_txt, permit_pdf, report_doc, resume_pdf,
    reused_bin,
};

fn messages(capture: &str) -> Vec<Value> {
    json_lines(&["analyze", "--json", "--quiet", capture])
        .into_iter()
        .filter(|r| r["type"] == "message")
        .collect()
}

/// What an attachment record should say about `content`.
struct Want<'a> {
    filename: Option<&'a str>,
    content_type: &'a str,
    part: &'a str,
    container: Option<&'a str>,
    complete: bool,
    content: Vec<u8>,
}

fn want<'a>(
    filename: Option<&'a str>,
    content_type: &'a str,
    part: &'a str,
    container: Option<&'a str>,
    content: impl AsRef<[u8]>,
) -> Want<'a> {
    Want {
        filename,
        content_type,
        part,
        container,
        complete: true,
        content: content.as_ref().to_vec(),
    }
}

/// Checks every field of every attachment of `message`, in order.
fn check(message: &Value, wanted: &[Want]) {
    let got = message["attachments"].as_array().expect("attachments");
    let summary: Vec<String> = got
        .iter()
        .map(|a| format!("{} {} {}", a["part"], a["filename"], a["content_type"]))
        .collect();
    assert_eq!(got.len(), wanted.len(), "{summary:#?}");
    for (a, w) in got.iter().zip(wanted) {
        let label = format!("part {}", w.part);
        assert_eq!(a["filename"].as_str(), w.filename, "{label}");
        assert_eq!(a["content_type"], w.content_type, "{label}");
        assert_eq!(a["part"], w.part, "{label}");
        assert_eq!(a["container"].as_str(), w.container, "{label}");
        assert_eq!(a["complete"], w.complete, "{label}");
        assert_eq!(a["size"], w.content.len(), "{label}");
        assert_eq!(a["md5"], md5_hex(&w.content), "{label}");
        assert_eq!(a["sha256"], sha256_hex(&w.content), "{label}");
    }
}

/// Point 4: the attachments inside attached messages are listed and
/// hashed, each with its IMAP part number and the message it came out of.
#[test]
fn attached_messages_are_opened() {
    let m = messages("captures/smtp-attached-messages.pcapng");
    assert_eq!(m.len(), 2);
    assert_eq!(m[0]["subject"], "Fwd: picnic paperwork");
    check(
        &m[0],
        &[
            want(
                Some("carol.eml"),
                "message/rfc822",
                "2",
                None,
                carol_message(),
            ),
            want(
                Some("permit.pdf"),
                "application/pdf",
                "2.2",
                Some("2"),
                permit_pdf(),
            ),
            // Sent base64 inside carol.eml: decoded, then opened.
            want(
                Some("dave.eml"),
                "message/rfc822",
                "2.3",
                Some("2"),
                dave_message(),
            ),
            want(
                Some("map.png"),
                "image/png",
                "2.3.2",
                Some("2.3"),
                map_png(),
            ),
            want(
                Some("erin.eml"),
                "message/global",
                "3",
                None,
                erin_message(),
            ),
            want(Some("menu.csv"), "text/csv", "3.1", Some("3"), MENU_CSV),
        ],
    );
}

/// Point 4: the encapsulation tricks decode as a mail client decodes
/// them (RFC 2046 §5.1.1: a boundary line closes the innermost open
/// multipart whose boundary it is; RFC 2045 §6.1: a part without a
/// transfer encoding is 7bit, whatever encloses it).
#[test]
fn encapsulation_tricks_decode_as_a_mail_client_decodes_them() {
    let m = messages("captures/smtp-attached-messages.pcapng");
    assert_eq!(m[1]["subject"], "MIME tricks");
    // The whole encapsulated message: from its header to the line break
    // before the closing `--X--`.
    let raw = support::mime_edge_cases::tricks_message();
    let start = support::mime_edge_cases::find(&raw, b"Subject: encapsulated");
    let end = raw.len() - b"\r\n--X--\r\n".len();
    check(
        &m[1],
        &[
            want(
                Some("unclosed.bin"),
                "application/octet-stream",
                "2",
                None,
                UNCLOSED_PAYLOAD,
            ),
            want(
                Some("reused.bin"),
                "application/octet-stream",
                "3.2",
                None,
                reused_bin(),
            ),
            want(None, "message/rfc822", "4", None, &raw[start..end]),
            want(
                Some("plain.exe"),
                "application/octet-stream",
                "4.1",
                Some("4"),
                PLAIN_PAYLOAD,
            ),
            want(
                Some("encoded.exe"),
                "application/octet-stream",
                "4.2",
                Some("4"),
                ENCODED_PAYLOAD,
            ),
        ],
    );
}

/// Bytes `chars` base64 characters determine: 3 per whole group of 4, and
/// 1 or 2 for a group cut after 2 or 3 characters.
fn base64_prefix_len(chars: usize) -> usize {
    chars / 4 * 3 + [0, 0, 1, 2][chars % 4]
}

/// Point 5: a cut part decodes as far as its bytes go and is incomplete;
/// the parts before the cut are whole; `extract` writes what was decoded.
#[test]
fn cut_attachments_decode_as_far_as_the_bytes_go() {
    let capture = "captures/smtp-cut-attachments.pcapng";
    let m = messages(capture);
    assert_eq!(m.len(), 3);
    assert!(m.iter().all(|m| m["complete"] == false));

    // Flow 1: the capture ends 790 base64 characters into report.doc.
    let kept = base64_prefix_len(REPORT_CHARS_KEPT);
    assert_eq!(kept, 592);
    let mut report = want(
        Some("report.doc"),
        "application/msword",
        "3",
        None,
        &report_doc()[..kept],
    );
    report.complete = false;
    check(
        &m[0],
        &[
            want(Some("first.txt"), "text/plain", "2", None, first_txt()),
            report,
        ],
    );

    // Flow 2: the capture ends inside `=C3` of notes.txt.
    let notes = notes_txt();
    let upto = notes.windows(6).position(|w| w == b"reuni\xc3").unwrap() + 5;
    let mut cut_notes = want(Some("notes.txt"), "text/plain", "4", None, &notes[..upto]);
    cut_notes.complete = false;
    check(
        &m[1],
        &[
            want(Some("first.txt"), "text/plain", "2", None, first_txt()),
            want(
                Some("report.doc"),
                "application/msword",
                "3",
                None,
                report_doc(),
            ),
            cut_notes,
        ],
    );

    // Flow 3: a segment inside report.doc is missing, every part was
    // closed: the loss is somewhere inside and nothing is vouched for.
    let got = m[2]["attachments"].as_array().unwrap();
    let names: Vec<(&str, bool)> = got
        .iter()
        .map(|a| {
            (
                a["filename"].as_str().unwrap(),
                a["complete"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("first.txt", false),
            ("report.doc", false),
            ("notes.txt", false)
        ]
    );
    assert_eq!(got[0]["sha256"], sha256_hex(&first_txt()));
    assert_eq!(got[2]["sha256"], sha256_hex(&notes));
    let size = got[1]["size"].as_u64().unwrap() as usize;
    assert!(size < report_doc().len() && size > 600, "{size}");

    // `extract` writes what was decoded: never the base64 text.
    let dir = temp_dir("cut-attachments");
    let out = mailscope(&["extract", "--quiet", capture, "-o", dir.to_str().unwrap()]);
    assert!(out.status.success());
    let index: Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    // (Messages are written as they end: the order is not the flows'.)
    let saved_as = |name: &str, size: usize| -> Vec<u8> {
        let a = index
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|m| m["attachments"].as_array().unwrap())
            .find(|a| a["filename"] == name && a["size"] == size)
            .unwrap_or_else(|| panic!("no {name} of {size} bytes in {index:#}"));
        assert_eq!(a["complete"], false);
        let path = a["path"].as_str().unwrap();
        assert!(path.ends_with(name), "{path}");
        std::fs::read(dir.join(path)).unwrap()
    };
    assert_eq!(saved_as("report.doc", kept), &report_doc()[..kept]);
    assert_eq!(saved_as("notes.txt", upto), &notes[..upto]);
    for message in index.as_array().unwrap() {
        for a in message["attachments"].as_array().unwrap() {
            let saved = std::fs::read(dir.join(a["path"].as_str().unwrap())).unwrap();
            assert_eq!(sha256_hex(&saved), a["sha256"]);
            assert!(
                !saved.starts_with(b"0M8R4K"),
                "base64 text saved as {}",
                a["path"]
            );
        }
    }
    std::fs::remove_dir_all(dir).ok();
}

/// Point 6: header text as a mail client shows it.
#[test]
fn header_text_keeps_what_the_sender_wrote() {
    let m = messages("captures/smtp-header-text.pcapng");
    assert_eq!(m.len(), 2);
    // Raw windows-1252 bytes (0x92 is ’, 0x85 is …, 0xE9 is é).
    assert_eq!(m[0]["subject"], "What’s new:  the picnic… moved");
    assert_eq!(m[0]["from_name"], "José  Pérez");
    assert_eq!(m[0]["from"], serde_json::json!(["jose@example.es"]));
    check(
        &m[0],
        &[
            want(
                Some("résumé  2024.pdf"),
                "application/pdf",
                "2",
                None,
                resume_pdf(),
            ),
            want(Some("menú  del día .txt"), "text/plain", "3", None, "sopa"),
        ],
    );
    // The folded subject: line breaks go, their blanks stay; the blank
    // between the two adjacent encoded words goes, no other.
    let indent = " ".repeat(20);
    let expected = format!(
        "[Picnic]  Re: Fwd:  Mañana en el parque  (bring  sandwiches,  blankets,  and  big \
         umbrella){indent}café   and  cake  for  everyone  who  signed  up{indent}— see  you  there"
    );
    assert_eq!(m[1]["subject"], expected.as_str());
    assert_eq!(expected.chars().count(), 196);
    // A display name: an encoded word, then a quoted string whose blanks
    // are the sender's.
    assert_eq!(m[1]["from_name"], "Ana María de la  Cruz");
}
