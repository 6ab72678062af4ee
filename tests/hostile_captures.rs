//! Hostile captures (issue 7): truncation at every block boundary and in
//! the middle of blocks, bit flips in every block header, absurd lengths
//! (a 4 GB snaplen, an IMAP literal of 4 294 967 295 bytes, BDAT 10^12),
//! MIME nested 100 000 deep and a 1 MB header line. Each must end with a
//! clear error, a warning or a finding: never a panic, never a hang.
//! (A capture of a million tiny flows is in `tests/many_flows.rs`, alone
//! in its process so its memory can be measured.)

mod common;

use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::Duration;

use mailscope::analysis::{AnalyzeOptions, Driver, FlowAnalysis, RunOptions};
use mailscope::capture::CaptureReader;
use mailscope::capture::builder::{Conversation, Dir};
use mailscope::capture::writer::PcapNgWriter;
use mailscope::trace::DialogueOptions;

/// What an analysis produced, in a form that can leave its thread.
#[derive(Debug, Default)]
struct Outcome {
    flows: usize,
    warnings: Vec<String>,
    findings: Vec<String>,
    /// (size, complete, subject) of each message.
    messages: Vec<(u64, bool, Option<String>)>,
}

/// Analyses `bytes` as `analyze` would (transcripts on, DSB keys used) on
/// another thread and waits at most a minute: a hang fails the test as
/// surely as a panic does.
fn analyze(bytes: Vec<u8>) -> Option<Outcome> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(run(&bytes));
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(outcome) => outcome,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("the analysis hangs"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("the analysis panicked"),
    }
}

fn run(bytes: &[u8]) -> Option<Outcome> {
    let reader = CaptureReader::new(bytes).ok()?;
    // The keys are the capture's own Decryption Secrets Blocks.
    let mut driver = Driver::new(reader, &RunOptions::default()).ok()?;
    let mut out = Outcome::default();
    let options = AnalyzeOptions {
        dialogue: DialogueOptions {
            transcript: true,
            full: false,
        },
        ..AnalyzeOptions::default()
    };
    let result = driver.analyze(
        &options,
        |a: FlowAnalysis| {
            out.flows += 1;
            out.findings
                .extend(a.dialogue.findings.iter().map(|f| f.code.to_string()));
            out.messages.extend(
                a.dialogue
                    .messages
                    .iter()
                    .map(|m| (m.size, m.complete, m.subject.clone())),
            );
        },
        |_| {},
        |_| {},
    );
    result.ok()?;
    out.warnings = driver
        .pipeline()
        .reader()
        .warnings()
        .iter()
        .map(|w| w.to_string())
        .collect();
    Some(out)
}

/// Offsets where a block (pcapng) or record (pcap) starts, and the end.
fn boundaries(bytes: &[u8]) -> Vec<usize> {
    let le32 = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    let mut out = vec![0];
    if bytes.starts_with(&[0x0a, 0x0d, 0x0d, 0x0a]) {
        // pcapng, little-endian as our writer and most tools write it.
        let mut at = 0;
        while at + 8 <= bytes.len() {
            let len = le32(at + 4);
            if len < 12 || at + len > bytes.len() {
                break;
            }
            at += len;
            out.push(at);
        }
    } else if bytes.starts_with(&[0xd4, 0xc3, 0xb2, 0xa1])
        || bytes.starts_with(&[0x4d, 0x3c, 0xb2, 0xa1])
    {
        let mut at = 24;
        out.push(at);
        while at + 16 <= bytes.len() {
            at += 16 + le32(at + 8);
            if at > bytes.len() {
                break;
            }
            out.push(at);
        }
    }
    out
}

#[test]
fn truncated_at_every_block_boundary_and_in_the_middle() {
    let mut runs = 0;
    for path in common::all_captures() {
        let original = std::fs::read(&path).unwrap();
        analyze(original.clone()).expect("the original reads");
        let b = boundaries(&original);
        for pair in b.windows(2) {
            let (start, end) = (pair[0], pair[1]);
            for cut in [start.saturating_sub(1), start, start + 1, (start + end) / 2] {
                if cut >= original.len() || cut < 24 {
                    continue;
                }
                let outcome = analyze(original[..cut].to_vec());
                runs += 1;
                // Cut inside a block or record: the reader says so (or,
                // inside the file header, refuses the file).
                if cut != start
                    && let Some(o) = outcome
                {
                    assert!(
                        o.warnings
                            .iter()
                            .any(|w| w.starts_with("capture truncated at byte")),
                        "{} cut at {cut}: {:?}",
                        path.display(),
                        o.warnings
                    );
                }
            }
        }
    }
    assert!(runs > 5_000, "{runs}");
    println!("{runs} truncated captures analysed");
}

#[test]
fn bit_flips_in_every_block_header() {
    let mut runs = 0;
    for path in common::all_captures() {
        let original = std::fs::read(&path).unwrap();
        let b = boundaries(&original);
        // The first 12 blocks of each file: type and length fields (8
        // bytes of a pcapng block, 16 of a pcap record header), three bits
        // of each byte (low, middle, high).
        for &start in b.iter().take(12) {
            let header = if original.starts_with(&[0x0a, 0x0d, 0x0d, 0x0a]) {
                8
            } else {
                16
            };
            for byte in start..(start + header).min(original.len()) {
                for bit in [0, 3, 7] {
                    let mut m = original.clone();
                    m[byte] ^= 1 << bit;
                    let _ = analyze(m);
                    runs += 1;
                }
            }
        }
    }
    println!("{runs} captures with a flipped header bit analysed");
}

/// One TCP conversation on `port` as a pcapng: `script` is (direction,
/// bytes) in order.
fn capture_of(port: u16, script: &[(Dir, &[u8])]) -> Vec<u8> {
    let client: SocketAddr = "10.9.0.1:40000".parse().unwrap();
    let server: SocketAddr = format!("10.9.0.2:{port}").parse().unwrap();
    let mut c = Conversation::new(client, server, 1_700_000_000_000_000_000);
    c.handshake();
    for (dir, bytes) in script {
        c.send(*dir, bytes);
    }
    c.close();
    let mut w = PcapNgWriter::new(Vec::new()).unwrap();
    let iface = w.add_interface(1, 0, None).unwrap();
    for f in c.frames() {
        w.write_packet(iface, f.ts_nanos, &f.data).unwrap();
    }
    w.into_inner()
}

const C: Dir = Dir::ClientToServer;
const S: Dir = Dir::ServerToClient;

#[test]
fn a_four_gigabyte_snaplen_and_packet_length() {
    // An IDB announcing a 4 GB snaplen, then an EPB whose captured length
    // says 4 GB while the block holds 60 bytes.
    let mut w = PcapNgWriter::new(Vec::new()).unwrap();
    w.add_interface(1, u32::MAX, None).unwrap();
    let mut bytes = w.into_inner();
    let mut epb = Vec::new();
    epb.extend(0u32.to_le_bytes()); // interface
    epb.extend([0u8; 8]); // timestamp
    epb.extend(u32::MAX.to_le_bytes()); // captured length: 4 GB
    epb.extend(u32::MAX.to_le_bytes()); // original length
    epb.extend([0u8; 60]);
    let total = (12 + epb.len()) as u32;
    bytes.extend(6u32.to_le_bytes());
    bytes.extend(total.to_le_bytes());
    bytes.extend(&epb);
    bytes.extend(total.to_le_bytes());
    let o = analyze(bytes).expect("a damaged block is skipped, not fatal");
    assert_eq!(o.flows, 0);
    assert!(!o.warnings.is_empty());
}

#[test]
fn an_imap_literal_of_four_gigabytes() {
    // The client announces {4294967295} and sends 2 000 bytes; the server
    // answers a FETCH with a literal of the same size.
    let body = vec![b'x'; 2000];
    let bytes = capture_of(
        143,
        &[
            (S, b"* OK IMAP4rev1 ready\r\n"),
            (C, b"a1 LOGIN bob hungry\r\n"),
            (S, b"a1 OK done\r\n"),
            (C, b"a2 APPEND INBOX {4294967295}\r\n"),
            (S, b"+ go ahead\r\n"),
            (C, &body),
            (
                S,
                b"* 1 FETCH (BODY[] {4294967295}\r\nFrom: x\r\n\r\nhi\r\n",
            ),
        ],
    );
    let o = analyze(bytes).unwrap();
    assert_eq!(o.flows, 1);
    // Both literals end with the flow, cut short: incomplete messages of
    // what was there, nothing invented, nothing allocated for 4 GB.
    assert!(
        o.messages
            .iter()
            .all(|(size, complete, _)| !complete && *size < 10_000),
        "{o:?}"
    );
    assert!(!o.messages.is_empty(), "{o:?}");
}

#[test]
fn bdat_of_a_terabyte() {
    let bytes = capture_of(
        25,
        &[
            (S, b"220 hamburger.edu ESMTP\r\n"),
            (C, b"EHLO crepes.fr\r\n"),
            (S, b"250-hamburger.edu\r\n250 CHUNKING\r\n"),
            (C, b"MAIL FROM:<a@crepes.fr>\r\n"),
            (S, b"250 ok\r\n"),
            (C, b"RCPT TO:<b@hamburger.edu>\r\n"),
            (S, b"250 ok\r\n"),
            (
                C,
                b"BDAT 1000000000000 LAST\r\nSubject: big\r\n\r\nonly this\r\n",
            ),
        ],
    );
    let o = analyze(bytes).unwrap();
    assert_eq!(o.messages.len(), 1, "{o:?}");
    let (size, complete, subject) = &o.messages[0];
    assert!(!complete);
    assert_eq!(*size, 27);
    assert_eq!(subject.as_deref(), Some("big"));
}

#[test]
fn mime_nested_a_hundred_thousand_deep_and_a_megabyte_header() {
    let mut message = String::from("Subject: deep\r\n");
    for i in 0..100_000 {
        message.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n"
        ));
    }
    message.push_str("\r\ninnermost\r\n");
    let long = format!("Subject: {}\r\nX: y\r\n\r\nbody\r\n", "a".repeat(1 << 20));
    for text in [message, long] {
        let mut data = text.replace("\r\n.", "\r\n..").into_bytes();
        data.extend_from_slice(b".\r\n");
        let bytes = capture_of(
            25,
            &[
                (S, b"220 hamburger.edu ESMTP\r\n"),
                (C, b"HELO crepes.fr\r\n"),
                (S, b"250 ok\r\n"),
                (C, b"MAIL FROM:<a@crepes.fr>\r\n"),
                (S, b"250 ok\r\n"),
                (C, b"RCPT TO:<b@hamburger.edu>\r\n"),
                (S, b"250 ok\r\n"),
                (C, b"DATA\r\n"),
                (S, b"354 go\r\n"),
                (C, &data),
                (S, b"250 queued\r\n"),
                (C, b"QUIT\r\n"),
            ],
        );
        let o = analyze(bytes).unwrap();
        assert_eq!(o.messages.len(), 1, "{:?}", o.findings);
        let (size, complete, subject) = &o.messages[0];
        assert!(complete);
        assert_eq!(*size as usize, data.len() - 3);
        let subject = subject.as_deref().unwrap_or("");
        assert!(
            subject == "deep" || subject.len() == 1 << 20,
            "{}",
            &subject[..20.min(subject.len())]
        );
    }
}
