//! The whole `mailscope analyze`: fuzzer bytes as a capture →
//! `Pipeline` (reader, link/IP decode, defragmentation, flow table, TCP
//! reassembly) → a `FlowSession` per flow (recognizer, SMTP/POP3/IMAP
//! parsers, TLS layer, MIME) → the JSON records and the text summary that
//! `analyze` and `analyze --json` write.
//!
//! This mirrors `cli::run::analyze` + `cli::analyze::run`, which take a file
//! path; here the capture comes from memory (`Driver::new` over a
//! `Cursor`). The input's length picks transcript/full options, so the
//! `dialog` paths run too. TLS is decrypted with the capture's own
//! Decryption Secrets Blocks, as `analyze` does: the demo's TLS captures
//! among the seeds make the fuzzer damage real records, tags and secrets.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailscope::analysis::{AnalyzeOptions, Driver, FlowAnalysis, Order, RunOptions, flow_records};
use mailscope::capture::CaptureReader;
use mailscope::report::analysis::JsonLines;
use mailscope::report::flows::write_capture_json;
use mailscope::report::summary::Summary;
use mailscope::trace::MessagePaths;

fuzz_target!(|data: &[u8]| {
    let Ok(reader) = CaptureReader::new(std::io::Cursor::new(data)) else {
        return;
    };
    let options = AnalyzeOptions {
        run: RunOptions {
            order: Order::ById,
            ..RunOptions::default()
        },
        dialogue: mailscope_fuzz::dialogue_options(data.len() as u8),
        hook: (data.len() & 4 != 0).then(mailscope_fuzz::hook),
    };
    // The keys are the capture's own Decryption Secrets Blocks.
    let Ok(mut driver) = Driver::new(reader, &options.run) else {
        return;
    };
    let mut paths = MessagePaths::default();
    let mut summary = Summary::default();
    let mut json = JsonLines::new(Vec::new());
    let mut messages = 0usize;
    let result = driver.analyze(
        &options,
        |mut a: FlowAnalysis| {
            for (i, m) in a.dialogue.messages.iter().enumerate() {
                paths.add(m, messages + i, a.summary.client, a.summary.server);
            }
            flow_records(&mut a, messages, &mut |r| json.write(&r));
            summary.add(&a, messages);
            mailscope_fuzz::consume(&a.dialogue);
            messages += a.dialogue.messages.len();
        },
        |_| {},
        |_| {},
    );
    if result.is_err() {
        return;
    }
    let capture = driver.capture_record();
    let mut out = Vec::new();
    write_capture_json(&mut out, &capture).unwrap();
    let mut json = json.finish().unwrap();
    for path in std::mem::take(&mut paths).multi_flow() {
        mailscope::report::flows::write_json_line(
            &mut json,
            &mailscope::trace::Record::MessagePath(path.record()),
        )
        .unwrap();
    }
    summary.write(&mut out, &capture, paths).unwrap();
    std::hint::black_box((out.len(), json.len()));
});
