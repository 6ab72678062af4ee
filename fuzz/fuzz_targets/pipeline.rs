//! The whole `mailscope analyze`: fuzzer bytes as a capture →
//! `Pipeline` (reader, link/IP decode, defragmentation, flow table, TCP
//! reassembly) → `FlowAnalyzer` per flow (sniffer, SMTP/POP3/IMAP parsers,
//! TLS tracker, MIME) → the JSON records and the text summary that
//! `analyze` and `analyze --json` write.
//!
//! This mirrors `cli::run::analyze` + `cli::analyze::run`, which take a file
//! path; here the capture comes from memory (`Pipeline::new` over a
//! `Cursor`). The input's length picks transcript/full options, so the
//! `dialog` paths run too. TLS is decrypted with the capture's own
//! Decryption Secrets Blocks, as `analyze` does: the demo's TLS captures
//! among the seeds make the fuzzer damage real records, tags and secrets.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use mailscope::analysis::{FlowAnalysis, FlowAnalyzer};
use mailscope::capture::CaptureReader;
use mailscope::pipeline::{Pipeline, PipelineOptions};
use mailscope::proto::tls_decrypt::SharedKeyLog;
use mailscope::report::analysis::{MessagePaths, write_flow_json};
use mailscope::report::flows::{CaptureRecord, write_capture_json};
use mailscope::report::ordered::InOrder;
use mailscope::report::summary::Summary;

fuzz_target!(|data: &[u8]| {
    let Ok(reader) = CaptureReader::new(std::io::Cursor::new(data)) else {
        return;
    };
    let options = mailscope_fuzz::dialogue_options(data.len() as u8);
    let hook = (data.len() & 4 != 0).then(mailscope_fuzz::hook);
    let mut pipeline = Pipeline::new(reader, PipelineOptions::default());
    let keys: SharedKeyLog = Default::default();
    pipeline.collect_secrets(keys.clone());
    let mut paths = MessagePaths::default();
    let mut summary = Summary::default();
    let mut json = Vec::new();
    let mut messages = 0usize;
    let mut ordered = InOrder::new();
    let mut on_flow = |a: FlowAnalysis| {
        for (i, m) in a.dialogue.messages.iter().enumerate() {
            paths.add(m, messages + i, &a);
        }
        write_flow_json(&mut json, &a, messages).unwrap();
        summary.add(&a, messages);
        mailscope_fuzz::consume(&a.dialogue);
        messages += a.dialogue.messages.len();
    };
    let result = pipeline.run(
        |id, _client, server| {
            FlowAnalyzer::with_keys(id, server.port(), options, hook.clone(), Some(keys.clone()))
        },
        |flow| {
            let id = flow.summary.id;
            ordered.push(id, FlowAnalysis::from_finished(flow), &mut on_flow);
        },
    );
    ordered.drain(&mut on_flow);
    if result.is_err() {
        return;
    }
    let capture = CaptureRecord::new(
        Path::new("fuzz.pcap"),
        pipeline.reader(),
        pipeline.decode_stats(),
        pipeline.flows_seen(),
    );
    let mut out = Vec::new();
    write_capture_json(&mut out, &capture, pipeline.reader()).unwrap();
    paths.write_json(&mut out).unwrap();
    summary.write(&mut out, &capture, &mut paths).unwrap();
    std::hint::black_box((out.len(), json.len()));
});
