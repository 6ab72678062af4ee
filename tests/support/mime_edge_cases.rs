//! Messages as a mail client reads them: MIME that real traffic carries
//! and textbook examples do not.
//!
//! * `smtp-attached-messages.pcapng`: messages inside messages. A
//!   forwarded message (`message/rfc822`) carries a PDF and another
//!   message sent base64; a `message/global` carries a file of its own.
//!   A second message plays the encapsulation tricks a filter must not
//!   fall for: an inner multipart never closed, a boundary reused at two
//!   levels, an encapsulated part that declares its own transfer encoding
//!   inside a multipart that (wrongly) declares base64. It teaches that
//!   the attachments inside an attached message are attachments too, and
//!   that a boundary line closes the innermost open multipart whose
//!   boundary it is (RFC 2046 §5.1.1).
//! * `smtp-cut-attachments.pcapng`: the same report, with attachments,
//!   three times: the capture ends inside its base64 report.doc (mid
//!   group), ends inside its quoted-printable notes.txt (mid escape), and
//!   misses a segment inside report.doc. It teaches that a cut part
//!   decodes only as far as its bytes go and is incomplete, and that a
//!   file named report.doc never holds the base64 text of report.doc.
//! * `smtp-header-text.pcapng`: header text as senders write it: raw
//!   windows-1252 bytes (`What’s`, `José`), a long subject folded with
//!   deep indentation around encoded words, file names with raw 8-bit
//!   bytes and with encoded words. It teaches RFC 5322 unfolding (the
//!   line break goes, the blanks stay), RFC 2047 §6.2 (only the blanks
//!   between two encoded words go) and the WHATWG rule for 8-bit bytes.

use mailscope::capture::builder::{Conversation, Dir, Frame};

use super::Sample;
use super::frame_edits::drop_frame;
use super::smtp::send_message;
use super::toolkit::{
    START_NANOS, addr, base64_lines, crlf_lines, dot_stuff, pcapng_ethernet, seg, span, summary,
};

/// Deterministic bytes that look like a binary file: `magic` then a
/// counter pattern, `len` bytes in all.
fn binary(magic: &[u8], len: usize) -> Vec<u8> {
    let mut v = magic.to_vec();
    let mut x: u32 = 0x2545_F491;
    while v.len() < len {
        // xorshift: every byte value occurs, nothing is text.
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        v.push((x >> 11) as u8);
    }
    v
}

/// `lines` with the given lines appended, as owned strings.
fn owned(lines: &[&str]) -> Vec<String> {
    lines.iter().map(|s| s.to_string()).collect()
}

/// Joins owned lines with CRLF.
fn join(lines: &[String]) -> Vec<u8> {
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    crlf_lines(&refs)
}

// ---------------------------------------------------------------------------
// smtp-attached-messages.pcapng

/// The permit Carol attached (a PDF).
pub fn permit_pdf() -> Vec<u8> {
    binary(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", 700)
}

/// The map in Dave's message (a PNG).
pub fn map_png() -> Vec<u8> {
    binary(b"\x89PNG\r\n\x1a\n", 300)
}

/// The menu in Erin's message (text/csv, sent as is).
pub const MENU_CSV: &str = "dish,price\r\ncrepes,4\r\nhamburger,6";

/// Dave's message, which Carol attached base64-encoded.
pub fn dave_message() -> Vec<u8> {
    let mut lines = owned(&[
        "From: Dave <dave@hamburger.edu>",
        "Subject: where",
        "MIME-Version: 1.0",
        "Content-Type: multipart/mixed; boundary=\"dave\"",
        "",
        "--dave",
        "Content-Type: text/plain",
        "",
        "The park is here.",
        "--dave",
        "Content-Type: image/png; name=\"map.png\"",
        "Content-Transfer-Encoding: base64",
        "",
    ]);
    lines.extend(base64_lines(&map_png()));
    lines.push("--dave--".into());
    join(&lines)
}

/// Carol's message, attached to Alice's as `carol.eml`: a PDF and Dave's
/// message inside. Without its last line break (that one belongs to the
/// boundary line after it, RFC 2046 §5.1.1).
pub fn carol_message() -> Vec<u8> {
    let mut lines = owned(&[
        "From: Carol <carol@hamburger.edu>",
        "To: alice@crepes.fr",
        "Subject: paperwork",
        "MIME-Version: 1.0",
        "Content-Type: multipart/mixed; boundary=\"inner\"",
        "",
        "--inner",
        "Content-Type: text/plain",
        "",
        "Here is the permit, and Dave's note.",
        "--inner",
        "Content-Type: application/pdf; name=\"permit.pdf\"",
        "Content-Disposition: attachment; filename=\"permit.pdf\"",
        "Content-Transfer-Encoding: base64",
        "",
    ]);
    lines.extend(base64_lines(&permit_pdf()));
    lines.extend(owned(&[
        "--inner",
        "Content-Type: message/rfc822; name=\"dave.eml\"",
        "Content-Transfer-Encoding: base64",
        "",
    ]));
    lines.extend(base64_lines(&dave_message()));
    lines.push("--inner--".into());
    let mut m = join(&lines);
    m.truncate(m.len() - 2);
    m
}

/// Erin's message, carried as `message/global` (RFC 6532): a CSV file is
/// its only part. Without its last line break.
pub fn erin_message() -> Vec<u8> {
    let mut m = crlf_lines(&[
        "From: Erin <erin@crepes.fr>",
        "Subject: =?UTF-8?Q?men=C3=BA?=",
        "Content-Type: text/csv; name=\"menu.csv\"",
        "",
    ]);
    m.extend_from_slice(MENU_CSV.as_bytes());
    m
}

/// Alice forwards Carol's and Erin's messages to Bob.
pub fn forwarded_message() -> Vec<u8> {
    let mut m = crlf_lines(&[
        "From: Alice <alice@crepes.fr>",
        "To: bob@hamburger.edu",
        "Subject: Fwd: picnic paperwork",
        "Message-ID: <fwd.1@crepes.fr>",
        "MIME-Version: 1.0",
        "Content-Type: multipart/mixed; boundary=\"outer\"",
        "",
        "--outer",
        "Content-Type: text/plain; charset=utf-8",
        "",
        "Bob, see the messages Carol and Erin sent me.",
        "--outer",
        "Content-Type: message/rfc822",
        "Content-Disposition: attachment; filename=\"carol.eml\"",
        "",
    ]);
    m.extend_from_slice(&carol_message());
    m.extend_from_slice(&crlf_lines(&[
        "",
        "--outer",
        "Content-Type: message/global",
        "Content-Disposition: attachment; filename=\"erin.eml\"",
        "",
    ]));
    m.extend_from_slice(&erin_message());
    m.extend_from_slice(&crlf_lines(&["", "--outer--"]));
    m
}

/// The file behind `reused.bin` (sent base64).
pub fn reused_bin() -> Vec<u8> {
    binary(b"MZ\x90\x00", 120)
}

/// What `encoded.exe` holds once its base64 is undone.
pub const ENCODED_PAYLOAD: &str = "EICAR-MIME-ENCODED-PAYLOAD";

/// What `plain.exe` holds: sent as is, inside a multipart that declares
/// base64 (which must not leak into it).
pub const PLAIN_PAYLOAD: &str = "EICAR-MIME-BYPASS-TEST-PAYLOAD";

/// What `unclosed.bin` holds.
pub const UNCLOSED_PAYLOAD: &str = "UNCLOSED-PAYLOAD";

/// Mallory's message: the encapsulation tricks.
pub fn tricks_message() -> Vec<u8> {
    let mut lines = owned(&[
        "From: Mallory <mallory@evil.example>",
        "To: bob@hamburger.edu",
        "Subject: MIME tricks",
        "Message-ID: <tricks.1@evil.example>",
        "MIME-Version: 1.0",
        "Content-Type: multipart/mixed; boundary=\"X\"",
        // Forbidden on a multipart (RFC 2045 §6.4); it must not make the
        // parts inside base64.
        "Content-Transfer-Encoding: base64",
        "",
        "--X",
        "Content-Type: multipart/alternative; boundary=\"Y\"",
        "",
        "--Y",
        "Content-Type: text/plain",
        "",
        "This multipart is never closed: the next line of X closes it.",
        "--X",
        "Content-Type: application/octet-stream; name=\"unclosed.bin\"",
        "",
        UNCLOSED_PAYLOAD,
        "--X",
        "Content-Type: multipart/mixed; boundary=\"X\"",
        "",
        "--X",
        "Content-Type: text/plain",
        "",
        "Same boundary as the multipart around me.",
        "--X",
        "Content-Type: application/octet-stream; name=\"reused.bin\"",
        "Content-Transfer-Encoding: base64",
        "",
    ]);
    lines.extend(base64_lines(&reused_bin()));
    lines.extend(owned(&[
        "--X--",
        "--X",
        "Content-Type: message/rfc822",
        "Content-Transfer-Encoding: 8bit",
        "",
        "Subject: encapsulated",
        "Content-Type: multipart/mixed; boundary=\"Z\"",
        "",
        "--Z",
        "Content-Type: application/octet-stream; name=\"plain.exe\"",
        "",
        PLAIN_PAYLOAD,
        "--Z",
        "Content-Type: application/octet-stream; name=\"encoded.exe\"",
        "Content-Transfer-Encoding: base64",
        "",
    ]));
    lines.extend(base64_lines(ENCODED_PAYLOAD.as_bytes()));
    lines.extend(owned(&["--Z--", "--X--"]));
    join(&lines)
}

/// One ESMTP session from crepes.fr delivering `messages` to Bob.
fn deliver(client: &str, server: &str, start: u64, messages: &[(&str, Vec<u8>)]) -> Conversation {
    use Dir::{ClientToServer as C, ServerToClient as S};
    let mut c = Conversation::new(addr(client), addr(server), start);
    c.handshake();
    c.line(S, "220 mx.hamburger.edu ESMTP");
    c.line(C, "EHLO crepes.fr");
    c.line(S, "250 mx.hamburger.edu");
    for (from, message) in messages {
        c.line(C, &format!("MAIL FROM:<{from}>"));
        c.line(S, "250 Ok");
        c.line(C, "RCPT TO:<bob@hamburger.edu>");
        c.line(S, "250 Ok");
        send_message(&mut c, "354 go ahead", message, "250 Ok: queued");
    }
    c.line(C, "QUIT");
    c.line(S, "221 Bye");
    c.close();
    c
}

pub fn smtp_attached_messages() -> Sample {
    let c = deliver(
        "10.0.12.1:40200",
        "10.0.12.2:25",
        START_NANOS,
        &[
            ("alice@crepes.fr", forwarded_message()),
            ("mallory@evil.example", tricks_message()),
        ],
    );
    Sample {
        file_name: "smtp-attached-messages.pcapng",
        description: "Two SMTP messages with messages inside them. The first forwards carol.eml \
             (message/rfc822: permit.pdf, and dave.eml sent base64 with map.png inside) and \
             erin.eml (message/global: menu.csv): an analyzer should list carol.eml (part 2), \
             permit.pdf (2.2), dave.eml (2.3), map.png (2.3.2), erin.eml (3) and menu.csv (3.1), \
             each with the attached message it came out of. The second plays encapsulation \
             tricks: an inner multipart never closed, a boundary reused at two levels, \
             base64 declared on the outer multipart, an encapsulated message whose parts \
             declare their own encoding: unclosed.bin (2), reused.bin (3.2), the message (4), \
             plain.exe (4.1) and encoded.exe (4.2) must all come out decoded as a mail client \
             decodes them."
            .to_string(),
        flows: vec![summary("SMTP", &c)],
        notes: vec![],
        bytes: pcapng_ethernet(&c.into_frames(), &[]),
    }
}

// ---------------------------------------------------------------------------
// smtp-cut-attachments.pcapng

/// The text file attached first (sent quoted-printable).
pub fn first_txt() -> Vec<u8> {
    "Première partie: café crème.\r\n".as_bytes().to_vec()
}

/// The report (sent base64).
pub fn report_doc() -> Vec<u8> {
    binary(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 900)
}

/// The notes attached last (sent quoted-printable).
pub fn notes_txt() -> Vec<u8> {
    "Notas: reunión mañana, ¿café o té?".as_bytes().to_vec()
}

/// Quoted-printable of `data` (RFC 2045 §6.7): every byte outside
/// printable ASCII, and `=`, as `=XX`; lines of text kept.
pub fn quoted_printable(data: &[u8]) -> String {
    let mut out = String::new();
    for &b in data {
        match b {
            b'\r' | b'\n' => out.push(b as char),
            b'=' => out.push_str("=3D"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("={b:02X}")),
        }
    }
    out
}

/// Alice's report: a text body and three attachments.
pub fn report_message() -> Vec<u8> {
    let mut lines = owned(&[
        "From: Alice <alice@crepes.fr>",
        "To: bob@hamburger.edu",
        "Subject: the report",
        "Message-ID: <report.1@crepes.fr>",
        "MIME-Version: 1.0",
        "Content-Type: multipart/mixed; boundary=\"cut\"",
        "",
        "--cut",
        "Content-Type: text/plain",
        "",
        "Report attached.",
        "--cut",
        "Content-Type: text/plain; charset=utf-8; name=\"first.txt\"",
        "Content-Disposition: attachment; filename=\"first.txt\"",
        "Content-Transfer-Encoding: quoted-printable",
        "",
    ]);
    // The file's own last line break is encoded as part of its content.
    lines.push(quoted_printable(&first_txt()).trim_end().to_string() + "=0D=0A");
    lines.extend(owned(&[
        "--cut",
        "Content-Type: application/msword; name=\"report.doc\"",
        "Content-Disposition: attachment; filename=\"report.doc\"",
        "Content-Transfer-Encoding: base64",
        "",
    ]));
    lines.extend(base64_lines(&report_doc()));
    lines.extend(owned(&[
        "--cut",
        "Content-Type: text/plain; charset=utf-8; name=\"notes.txt\"",
        "Content-Disposition: attachment; filename=\"notes.txt\"",
        "Content-Transfer-Encoding: quoted-printable",
        "",
    ]));
    lines.push(quoted_printable(&notes_txt()));
    lines.push("--cut--".into());
    join(&lines)
}

/// Base64 characters of report.doc the first flow's capture holds: ten
/// full lines of 76 and 30 characters of the eleventh, 790 in all, which
/// is not a whole number of 4-character groups.
pub const REPORT_CHARS_KEPT: usize = 10 * 76 + 30;

/// Bytes of [`report_message`] the first flow's capture holds.
pub fn report_cut_in_base64() -> usize {
    let m = report_message();
    let start = find(&m, b"Content-Transfer-Encoding: base64\r\n\r\n") + 37;
    // 10 lines of 76 characters and their CRLFs, then 30 characters.
    start + 10 * 78 + 30
}

/// Bytes of [`report_message`] the second flow's capture holds: up to the
/// middle of the escape `=C3=B3` (`ó` of "reunión") in notes.txt, after
/// its `=C`.
pub fn report_cut_in_quoted_printable() -> usize {
    let m = report_message();
    let notes = find(&m, b"Notas: reuni");
    notes + b"Notas: reuni=C".len()
}

/// Where `needle` first occurs in `hay`.
pub fn find(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len())
        .position(|w| w == needle)
        .expect("present")
}

/// A session whose capture ends after `kept` bytes of the report: the
/// client was still sending it.
fn cut_delivery(client: &str, start: u64, kept: usize) -> Conversation {
    use Dir::{ClientToServer as C, ServerToClient as S};
    let mut c = Conversation::new(addr(client), addr("10.0.13.2:25"), start);
    c.handshake();
    c.line(S, "220 mx.hamburger.edu ESMTP");
    c.line(C, "EHLO crepes.fr");
    c.line(S, "250 mx.hamburger.edu");
    c.line(C, "MAIL FROM:<alice@crepes.fr>");
    c.line(S, "250 Ok");
    c.line(C, "RCPT TO:<bob@hamburger.edu>");
    c.line(S, "250 Ok");
    c.line(C, "DATA");
    c.line(S, "354 go ahead");
    c.client_sends(&dot_stuff(&report_message())[..kept]);
    c
}

/// MSS of the third flow, small enough that report.doc spans many
/// segments.
pub const GAP_MSS: usize = 250;

pub fn smtp_cut_attachments() -> Sample {
    use Dir::{ClientToServer as C, ServerToClient as S};
    let second = START_NANOS + 1_000_000_000;
    let third = START_NANOS + 2_000_000_000;
    let a = cut_delivery("10.0.13.1:40300", START_NANOS, report_cut_in_base64());
    let b = cut_delivery("10.0.13.1:40301", second, report_cut_in_quoted_printable());
    // Third flow: the whole report, one client segment inside report.doc
    // missing from the capture.
    let mut c =
        Conversation::new(addr("10.0.13.1:40302"), addr("10.0.13.2:25"), third).mss(GAP_MSS);
    c.handshake();
    c.line(S, "220 mx.hamburger.edu ESMTP");
    c.line(C, "EHLO crepes.fr");
    c.line(S, "250 mx.hamburger.edu");
    c.line(C, "MAIL FROM:<alice@crepes.fr>");
    c.line(S, "250 Ok");
    c.line(C, "RCPT TO:<bob@hamburger.edu>");
    c.line(S, "250 Ok");
    c.line(C, "DATA");
    c.line(S, "354 go ahead");
    let first_data = c.frames().len();
    let message = report_message();
    c.client_sends(&dot_stuff(&message));
    c.line(C, ".");
    c.line(S, "250 Ok: queued");
    c.line(C, "QUIT");
    c.line(S, "221 Bye");
    c.close();
    let mut flow_c = summary("SMTP", &c);
    let isn = c.isn_of(C);
    // Data segments alternate with their ACKs; the one holding the middle
    // of report.doc's base64 goes missing.
    let middle = find(&message, b"Content-Transfer-Encoding: base64\r\n\r\n") + 37 + 600;
    let lost_index = first_data + 2 * (middle / GAP_MSS);
    let mut frames_c = c.into_frames();
    let lost = seg(&frames_c[lost_index]);
    flow_c.client_bytes -= lost.payload.len() as u64;
    drop_frame(&mut frames_c, lost_index);
    let flow_a = summary("SMTP", &a);
    let flow_b = summary("SMTP", &b);
    let mut frames: Vec<Frame> = a.into_frames();
    frames.extend(b.into_frames());
    let gap_packet = frames.len() + lost_index + 1;
    frames.extend(frames_c);
    Sample {
        file_name: "smtp-cut-attachments.pcapng",
        description: format!(
            "Alice's report (first.txt quoted-printable, report.doc base64, notes.txt \
             quoted-printable) three times. Flow 1: the capture ends {REPORT_CHARS_KEPT} base64 \
             characters into report.doc, inside a 4-character group: report.doc decodes to its \
             first {} bytes and is incomplete, first.txt is complete. Flow 2: the capture ends \
             inside the escape `=C3` of notes.txt: notes.txt decodes up to `reuni` and is \
             incomplete, first.txt and report.doc are complete. Flow 3: one {}-byte client \
             segment inside report.doc is missing: the message is incomplete and, since every \
             part was closed, no attachment can be vouched for.",
            REPORT_CHARS_KEPT / 4 * 3 + 1,
            lost.payload.len()
        ),
        flows: vec![flow_a, flow_b, flow_c],
        notes: vec![
            "Flows 1 and 2 end without FIN: the client was still sending DATA.".to_string(),
            format!(
                "The segment missing from flow 3 would have been packet {gap_packet}: client {}.",
                span(lost.seq, lost.payload.len(), isn)
            ),
        ],
        bytes: pcapng_ethernet(&frames, &[]),
    }
}

// ---------------------------------------------------------------------------
// smtp-header-text.pcapng

/// The résumé attached to José's message.
pub fn resume_pdf() -> Vec<u8> {
    binary(b"%PDF-1.7\n", 200)
}

/// José's message: windows-1252 bytes written raw in the header (the
/// display name, the subject, a file name).
pub fn windows_1252_message() -> Vec<u8> {
    let mut m: Vec<u8> = Vec::new();
    let raw_lines: [&[u8]; 8] = [
        b"From: \"Jos\xe9  P\xe9rez\" <jose@example.es>",
        b"To: bob@hamburger.edu",
        b"Subject: What\x92s new:  the picnic\x85 moved",
        b"Message-ID: <cp1252.1@example.es>",
        b"MIME-Version: 1.0",
        b"Content-Type: multipart/mixed; boundary=\"b\"",
        b"",
        b"--b",
    ];
    for l in raw_lines {
        m.extend_from_slice(l);
        m.extend_from_slice(b"\r\n");
    }
    let mut lines = owned(&[
        "Content-Type: text/plain; charset=utf-8",
        "",
        "Mi currículum.",
        "--b",
    ]);
    lines.push("Content-Type: application/pdf".into());
    let mut rest = join(&lines);
    rest.extend_from_slice(
        b"Content-Disposition: attachment; filename=\"r\xe9sum\xe9  2024.pdf\"\r\n",
    );
    let mut tail = owned(&["Content-Transfer-Encoding: base64", ""]);
    tail.extend(base64_lines(&resume_pdf()));
    tail.extend(owned(&[
        "--b",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Disposition: attachment; filename=\"=?UTF-8?Q?men=C3=BA__del_d=C3=ADa?= .txt\"",
        "",
        "sopa",
        "--b--",
    ]));
    rest.extend_from_slice(&join(&tail));
    m.extend_from_slice(&rest);
    m
}

/// The subject of [`folded_message`] as written: encoded words and plain
/// words, runs of blanks, folded twice with 20 blanks of indentation.
pub const FOLDED_SUBJECT: &str = "[Picnic]  Re: Fwd:  =?UTF-8?Q?Ma=C3=B1ana?= =?UTF-8?Q?_en_el_parque?=  \
     (bring  sandwiches,  blankets,  and  big umbrella)\r\n                    \
     =?ISO-8859-1?Q?caf=E9?=   and  cake  for  everyone  who  signed  up\r\n                    \
     =?UTF-8?B?4oCU?= see  you  there";

/// A message whose subject is long and folded, and whose sender's display
/// name mixes an encoded word and a quoted string.
pub fn folded_message() -> Vec<u8> {
    let mut m = b"From: =?UTF-8?Q?Ana_Mar=C3=ADa?= \"de la  Cruz\" <ana@example.org>\r\n".to_vec();
    m.extend_from_slice(b"To: bob@hamburger.edu\r\n");
    m.extend_from_slice(format!("Subject: {FOLDED_SUBJECT}\r\n").as_bytes());
    m.extend_from_slice(&crlf_lines(&[
        "Message-ID: <folded.1@example.org>",
        "",
        "See the subject.",
    ]));
    m
}

pub fn smtp_header_text() -> Sample {
    let c = deliver(
        "10.0.14.1:40400",
        "10.0.14.2:25",
        START_NANOS,
        &[
            ("jose@example.es", windows_1252_message()),
            ("ana@example.org", folded_message()),
        ],
    );
    Sample {
        file_name: "smtp-header-text.pcapng",
        description: "Two SMTP messages with header text as senders write it. The first has raw \
             windows-1252 bytes in its header: From \"José  Pérez\", Subject \"What’s new:  the \
             picnic… moved\", an attachment named \"résumé  2024.pdf\"; a second attachment is \
             named with an encoded word, \"menú  del día .txt\". The second message's subject \
             is folded twice with 20 blanks of indentation around encoded words: unfolding \
             keeps every blank (RFC 5322 §2.2.3), only the blanks between two encoded words go \
             (RFC 2047 §6.2)."
            .to_string(),
        flows: vec![summary("SMTP", &c)],
        notes: vec![],
        bytes: pcapng_ethernet(&c.into_frames(), &[]),
    }
}
