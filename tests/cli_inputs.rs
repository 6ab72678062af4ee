//! Several inputs read as one capture (issue 19, "Inputs"): the pieces of a
//! capture cut with `editcap -c` give exactly the records of the whole, in
//! any order on the command line and as a directory; stdin, gzip (one and
//! several members) and zstd (one and several frames) give those of the
//! file; bad inputs give a warning or an error, never a panic.
//!
//! The captures are real ones from `../shared/captures` (read in place); the
//! pieces, the compressed copies and the pipes are made here by the real
//! tools (editcap, tshark, gzip, zstd, cat) into a temp dir.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{have_tool, json_lines, mailscope, shared_captures_dir, stderr, stdout, temp_dir};
use serde_json::Value;

/// A POP3 capture whose six flows end up cut across pieces of 50 packets
/// (pcapng, 144 packets), and an SMTP one (classic pcap, 125 packets).
const SPLIT_CAPTURES: [(&str, usize); 2] =
    [("ndpi/pop3/pop3.pcap", 50), ("zeek/smtp/smtp.pcap", 50)];

fn shared(rel: &str) -> Option<PathBuf> {
    let path = shared_captures_dir()?.join(rel);
    path.is_file().then_some(path)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The records after the capture record and the findings about the
/// capture file itself, without the `file` of flow records (those name
/// the inputs, which differ; `flow_files` checks them).
fn analysis_records(records: &[Value]) -> Vec<Value> {
    records
        .iter()
        .filter(|r| r["type"] != "capture")
        .filter(|r| !(r["type"] == "finding" && r["flow"].is_null() && r["offset"].is_number()))
        .cloned()
        .map(|mut r| {
            if let Some(o) = r.as_object_mut() {
                o.remove("file");
            }
            r
        })
        .collect()
}

/// Each flow record's `file` and `first_packet`.
fn flow_files(records: &[Value]) -> Vec<(String, u64)> {
    records
        .iter()
        .filter(|r| r["type"] == "flow")
        .map(|r| {
            let file = r["file"]
                .as_str()
                .expect("a flow of several inputs names its file");
            (file.to_string(), r["first_packet"].as_u64().unwrap())
        })
        .collect()
}

fn capture_record(records: &[Value]) -> &Value {
    assert_eq!(records[0]["type"], "capture");
    &records[0]
}

/// `editcap -c every` pieces of `whole` in `dir`, sorted by name.
fn cut(whole: &Path, every: usize, dir: &Path) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).unwrap();
    let ext = whole.extension().unwrap().to_str().unwrap();
    let status = Command::new("editcap")
        .args(["-c", &every.to_string(), s(whole)])
        .arg(dir.join(format!("piece.{ext}")))
        .status()
        .expect("editcap runs");
    assert!(status.success());
    let mut pieces: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    pieces.sort();
    pieces
}

fn tools(names: &[&str]) -> bool {
    let missing: Vec<&&str> = names.iter().filter(|t| !have_tool(t)).collect();
    if !missing.is_empty() {
        eprintln!("skipped: {missing:?} not installed");
    }
    missing.is_empty()
}

#[test]
fn pieces_of_a_capture_give_the_records_of_the_whole() {
    if !tools(&["editcap"]) {
        return;
    }
    for (rel, every) in SPLIT_CAPTURES {
        let Some(whole) = shared(rel) else {
            eprintln!("skipped: ../shared/captures/{rel} is absent");
            return;
        };
        let name = rel.replace('/', "-");
        let dir = temp_dir(&format!("pieces-{name}"));
        let pieces = cut(&whole, every, &dir.join("pieces"));
        assert_eq!(pieces.len(), 3, "{rel}: {pieces:?}");
        let whole_records = json_lines(&["analyze", "--json", s(&whole)]);
        let expected = analysis_records(&whole_records);
        assert!(expected.iter().any(|r| r["type"] == "flow"), "{rel}");

        // One piece alone is not the whole: its flows are cut (the reason
        // for this feature).
        let middle = json_lines(&["analyze", "--json", s(&pieces[1])]);
        assert_ne!(analysis_records(&middle), expected, "{rel}");

        let in_order: Vec<&str> = pieces.iter().map(|p| s(p)).collect();
        let reversed: Vec<&str> = in_order.iter().rev().copied().collect();
        let shuffled = vec![in_order[1], in_order[2], in_order[0]];
        let piece_dir = dir.join("pieces");
        for names in [in_order.clone(), reversed, shuffled, vec![s(&piece_dir)]] {
            let mut args = vec!["analyze", "--json"];
            args.extend(&names);
            let records = json_lines(&args);
            assert_eq!(analysis_records(&records), expected, "{rel} {names:?}");
            // One capture record for the whole, with each file's own counts.
            let capture = capture_record(&records);
            let whole_capture = capture_record(&whole_records);
            // (Not `format`: editcap writes pcapng pieces of a pcap.)
            for key in ["linktypes", "packets", "bytes", "first_ts", "last_ts"] {
                assert_eq!(capture[key], whole_capture[key], "{rel} {key}");
            }
            let files = capture["files"].as_array().unwrap();
            let packets: Vec<u64> = files
                .iter()
                .map(|f| f["packets"].as_u64().unwrap())
                .collect();
            let total = whole_capture["packets"].as_u64().unwrap();
            let last = total - 2 * every as u64;
            assert_eq!(packets.iter().sum::<u64>(), total);
            assert_eq!(packets.len(), 3);
            assert!(packets.contains(&(every as u64)) && packets.contains(&last));
        }
        // The capture record of the pieces named in order lists them.
        let records = json_lines(&["analyze", "--json", in_order[0], in_order[1], in_order[2]]);
        // Each flow names the piece its first packet is in: piece k holds
        // the packets k × every to (k + 1) × every - 1.
        for (file, first) in flow_files(&records) {
            assert_eq!(file, in_order[(first / every as u64) as usize], "{rel}");
        }
        // A single input: the capture record names it, flows do not.
        assert!(
            whole_records
                .iter()
                .all(|r| r.get("file").is_none() || r["type"] == "capture")
        );
        let files = capture_record(&records)["files"]
            .as_array()
            .unwrap()
            .clone();
        let listed: Vec<&str> = files.iter().map(|f| f["file"].as_str().unwrap()).collect();
        assert_eq!(listed, in_order);
        assert_eq!(files[0]["packets"], every as u64);
        assert_eq!(
            files[0]["first_ts"],
            capture_record(&whole_records)["first_ts"]
        );
    }
}

/// Packet numbers are global (mergecap's): the transcript lines of the
/// pieces name the packets the whole names.
#[test]
fn every_command_reads_the_pieces_as_the_whole() {
    if !tools(&["editcap"]) {
        return;
    }
    let (rel, every) = SPLIT_CAPTURES[0];
    let Some(whole) = shared(rel) else {
        eprintln!("skipped: ../shared/captures/{rel} is absent");
        return;
    };
    let dir = temp_dir("pieces-commands");
    let pieces = cut(&whole, every, &dir.join("pieces"));
    let piece_dir = dir.join("pieces");
    let run = |command: &[&str], inputs: &[&str]| {
        let mut args = command.to_vec();
        args.extend(inputs);
        let out = mailscope(&args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        stdout(&out)
    };
    let whole_args = [s(&whole)];
    let piece_args: Vec<&str> = pieces.iter().rev().map(|p| s(p)).collect();
    for command in [
        &["dialog", "--json"][..],
        &["dialog", "--flow", "2"],
        &["creds", "--json"],
        &["stream", "--flow", "3"],
        &["stream", "--flow", "5", "--raw"],
    ] {
        let expected = run(command, &whole_args);
        assert!(!expected.is_empty(), "{command:?}");
        assert_eq!(run(command, &piece_args), expected, "{command:?}");
    }
    // Some flow's dialogue names packets of two pieces (frame numbers
    // counted across the pieces, as in the whole).
    let lines = json_lines(&["dialog", "--json", s(&piece_dir)]);
    let spans_cut = |flow: &Value| {
        let packets: Vec<u64> = lines
            .iter()
            .filter(|l| &l["flow"] == flow)
            .flat_map(|l| l["packets"].as_array().unwrap().iter())
            .map(|p| p.as_u64().unwrap())
            .collect();
        packets.iter().any(|&p| p < every as u64) && packets.iter().any(|&p| p >= every as u64)
    };
    assert!(lines.iter().any(|l| spans_cut(&l["flow"])));
    // flows --json: the same flow records.
    let flows = |inputs: &[&str]| {
        let mut args = vec!["flows", "--json"];
        args.extend(inputs);
        analysis_records(&json_lines(&args))
    };
    assert_eq!(flows(&piece_args), flows(&whole_args));
    // extract: the same index.
    let extract = |inputs: &[&str], out: &Path| {
        let mut args = vec!["extract", "-o", s(out)];
        args.extend(inputs);
        run(&args, &[]);
        std::fs::read_to_string(out.join("index.json")).unwrap()
    };
    assert_eq!(
        extract(&piece_args, &dir.join("x-pieces")),
        extract(&whole_args, &dir.join("x-whole"))
    );
}

/// Captures that overlap in time (each direction of the connections kept
/// apart by tshark) are interleaved packet by packet, as mergecap does.
#[test]
fn overlapping_captures_are_merged_packet_by_packet() {
    if !tools(&["tshark"]) {
        return;
    }
    let (rel, _) = SPLIT_CAPTURES[0];
    let Some(whole) = shared(rel) else {
        eprintln!("skipped: ../shared/captures/{rel} is absent");
        return;
    };
    let dir = temp_dir("directions");
    let (server, client) = (dir.join("server.pcapng"), dir.join("client.pcapng"));
    for (filter, out) in [
        ("tcp.srcport == 110", &server),
        ("!(tcp.srcport == 110)", &client),
    ] {
        let status = Command::new("tshark")
            .args(["-r", s(&whole), "-Y", filter, "-w", s(out)])
            .stderr(Stdio::null())
            .status()
            .expect("tshark runs");
        assert!(status.success());
    }
    let whole_lines = json_lines(&["dialog", "--json", s(&whole)]);
    let merged = json_lines(&["dialog", "--json", s(&server), s(&client)]);
    assert_eq!(merged, whole_lines);
    let records = json_lines(&["analyze", "--json", s(&client), s(&server)]);
    let whole_records = json_lines(&["analyze", "--json", s(&whole)]);
    assert_eq!(analysis_records(&records), analysis_records(&whole_records));
    assert_eq!(capture_record(&records)["packets"], 144);
}

/// `mailscope analyze --json -` reading the stdout of `producer`.
fn analyze_piped(producer: &mut Command) -> std::process::Output {
    let mut child = producer
        .stdout(Stdio::piped())
        .spawn()
        .expect("producer runs");
    let pipe = child.stdout.take().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mailscope"))
        .args(["analyze", "--json", "-"])
        .stdin(pipe)
        .output()
        .expect("mailscope runs");
    assert!(child.wait().unwrap().success());
    out
}

fn parse(out: &std::process::Output) -> Vec<Value> {
    assert!(out.status.success(), "{}", stderr(out));
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The records of `path`, with the capture record's `file` set to `name`.
fn records_named(path: &Path, name: &str) -> Vec<Value> {
    let mut records = json_lines(&["analyze", "--json", s(path)]);
    records[0]["file"] = Value::from(name);
    records
}

#[test]
fn stdin_gzip_and_zstd_give_the_records_of_the_file() {
    if !tools(&["gzip", "zstd"]) {
        return;
    }
    let Some(file) = shared(SPLIT_CAPTURES[0].0) else {
        eprintln!("skipped: ../shared/captures is absent");
        return;
    };
    let dir = temp_dir("compressed");
    // stdin through a real pipe.
    let piped = parse(&analyze_piped(Command::new("cat").arg(&file)));
    assert_eq!(piped, records_named(&file, "-"));

    // Compressed copies, named without any telling extension.
    let bytes = std::fs::read(&file).unwrap();
    let (head, tail) = bytes.split_at(3000);
    std::fs::write(dir.join("head"), head).unwrap();
    std::fs::write(dir.join("tail"), tail).unwrap();
    let compressed = |tool: &[&str], input: &Path| {
        let o = Command::new(tool[0])
            .args(&tool[1..])
            .arg(input)
            .output()
            .expect("compressor runs");
        assert!(o.status.success());
        o.stdout
    };
    let (gzip, zstd) = (&["gzip", "-c"][..], &["zstd", "-q", "-c"][..]);
    let gz = compressed(gzip, &file);
    std::fs::write(dir.join("capture.bin"), &gz).unwrap();
    // Multi-member gzip: one member after the other (RFC 1952 §2.2), as
    // `cat a.gz b.gz` makes.
    let mut members = compressed(gzip, &dir.join("head"));
    members.extend(compressed(gzip, &dir.join("tail")));
    std::fs::write(dir.join("members.bin"), &members).unwrap();
    let one_zstd = compressed(zstd, &file);
    std::fs::write(dir.join("capture.zst.bin"), &one_zstd).unwrap();
    // Several Zstandard frames (RFC 8878 §3.1).
    let mut frames = compressed(zstd, &dir.join("head"));
    frames.extend(compressed(zstd, &dir.join("tail")));
    std::fs::write(dir.join("frames.bin"), &frames).unwrap();
    assert_eq!(&gz[..2], [0x1f, 0x8b]);
    assert_eq!(&one_zstd[..4], [0x28, 0xb5, 0x2f, 0xfd]);

    for name in [
        "capture.bin",
        "members.bin",
        "capture.zst.bin",
        "frames.bin",
    ] {
        let path = dir.join(name);
        let mut expected = records_named(&file, s(&path));
        assert_eq!(
            json_lines(&["analyze", "--json", s(&path)]),
            expected,
            "{name}"
        );
        // Compressed through stdin too.
        expected[0]["file"] = Value::from("-");
        let piped = parse(&analyze_piped(Command::new("cat").arg(&path)));
        assert_eq!(piped, expected, "{name} on stdin");
    }
}

#[test]
fn bad_inputs_warn_or_fail_clearly() {
    let Some(file) = shared(SPLIT_CAPTURES[0].0) else {
        eprintln!("skipped: ../shared/captures is absent");
        return;
    };
    let dir = temp_dir("bad-inputs");
    let notes = dir.join("notes.txt");
    std::fs::write(&notes, "From: alice@crepes.fr\r\n\r\nnot a capture\r\n").unwrap();

    // A text file among good captures: a warning naming it, the rest read.
    let out = mailscope(&["analyze", "--json", s(&notes), s(&file)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "mailscope: warning: {}: skipped, not read: not a pcap or pcapng capture (it looks like a text file)",
            notes.display()
        )),
        "{err}"
    );
    let records = parse(&out);
    assert_eq!(
        analysis_records(&records),
        analysis_records(&json_lines(&["analyze", "--json", s(&file)]))
    );
    assert_eq!(
        capture_record(&records)["files"].as_array().unwrap().len(),
        1
    );
    let finding = records
        .iter()
        .find(|r| r["type"] == "finding" && r["flow"].is_null())
        .expect("a finding about the skipped file");
    assert_eq!(finding["code"], "capture-corrupt");

    // Only bad inputs: exit 1 with what is wrong with each.
    let out = mailscope(&["analyze", s(&notes), s(&notes)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("mailscope: no capture to read: "),
        "{}",
        stderr(&out)
    );

    // A gzip file cut short: the packets before the cut, and a warning.
    if have_tool("gzip") {
        let gz = Command::new("gzip")
            .arg("-c")
            .arg(&file)
            .output()
            .unwrap()
            .stdout;
        let cut = dir.join("cut.pcap.gz");
        std::fs::write(&cut, &gz[..5000]).unwrap();
        let out = mailscope(&["analyze", "--json", s(&cut)]);
        assert!(out.status.success(), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("the compressed file is damaged or cut short after 5000 compressed bytes"),
            "{err}"
        );
        let records = parse(&out);
        let packets = capture_record(&records)["packets"].as_u64().unwrap();
        assert!(packets > 0 && packets < 144, "{packets}");
        // Cut inside the gzip header: an error, not a capture.
        std::fs::write(&cut, &gz[..5]).unwrap();
        let out = mailscope(&["analyze", s(&cut)]);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            stderr(&out).starts_with(
                "mailscope: the gzip stream is damaged or cut short before the capture's header"
            ),
            "{}",
            stderr(&out)
        );
    }

    // An empty stdin.
    let out = Command::new(env!("CARGO_BIN_EXE_mailscope"))
        .args(["analyze", "-"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "mailscope: the file is empty: not a pcap or pcapng capture\n"
    );

    // A directory with no files.
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = mailscope(&["flows", s(&empty)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("has no files"), "{}", stderr(&out));
}

/// The blocks of a little-endian pcapng (as the demo writes it): type,
/// total length, body, total length.
fn pcapng_blocks(bytes: &[u8]) -> Vec<(u32, &[u8])> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 8 <= bytes.len() {
        let kind = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
        let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
        out.push((kind, &bytes[at..at + len]));
        at += len;
    }
    assert_eq!(at, bytes.len());
    out
}

/// The demo's capture cut in three pieces, each a pcapng of its own (a
/// Section Header and the Interface Description, then a third of the
/// packets), its Decryption Secrets Block moved to the last piece: TLS
/// opened in the first pieces is decrypted with keys read from the last,
/// on one thread and on three. (editcap cannot write pieces of a capture
/// with secrets, so they are cut here.)
#[test]
fn secrets_from_any_piece_decrypt_the_whole() {
    const SHB: u32 = 0x0A0D_0D0A;
    const IDB: u32 = 1;
    const DSB: u32 = 0x0A;
    let dir = temp_dir("pieces-tls");
    let whole = dir.join("starttls-imap.pcapng");
    common::run_demo("starttls", "imap", "127.0.219", &whole, &[]);
    let bytes = std::fs::read(&whole).unwrap();
    let blocks = pcapng_blocks(&bytes);
    let header = |kind: u32| blocks.iter().find(|b| b.0 == kind).unwrap().1;
    let (shb, idb, dsb) = (header(SHB), header(IDB), header(DSB));
    let rest: Vec<&[u8]> = blocks
        .iter()
        .filter(|b| ![SHB, IDB, DSB].contains(&b.0))
        .map(|b| b.1)
        .collect();
    let third = rest.len().div_ceil(3);
    let mut pieces = Vec::new();
    for (i, chunk) in rest.chunks(third).enumerate() {
        let mut piece = shb.to_vec();
        if i == 2 {
            piece.extend(dsb);
        }
        piece.extend(idb);
        chunk.iter().for_each(|b| piece.extend(*b));
        let path = dir.join(format!("piece-{i}.pcapng"));
        std::fs::write(&path, piece).unwrap();
        pieces.push(path);
    }
    let credentials = |records: &[Value]| {
        records
            .iter()
            .filter(|r| r["type"] == "credential" && r["tls"] == "decrypted")
            .count()
    };
    let expected = json_lines(&["analyze", "--json", s(&whole)]);
    assert!(credentials(&expected) > 0);
    for threads in ["1", "3"] {
        let records = json_lines(&[
            "analyze",
            "--json",
            "--threads",
            threads,
            s(&pieces[0]),
            s(&pieces[1]),
            s(&pieces[2]),
        ]);
        assert_eq!(
            analysis_records(&records),
            analysis_records(&expected),
            "--threads {threads}"
        );
    }
    let without = json_lines(&[
        "analyze",
        "--json",
        "--no-decrypt",
        s(&pieces[0]),
        s(&pieces[1]),
        s(&pieces[2]),
    ]);
    assert_eq!(credentials(&without), 0);
}
