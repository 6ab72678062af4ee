//! Smtp dialogue: fuzzer bytes → (direction, chunk | gap) pieces →
//! `SmtpParser` through the `MailParser` trait into a `Dialogue`, then
//! `finish`. Format: see `fuzz/src/lib.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailscope::proto::Protocol;
use mailscope::proto::smtp::SmtpParser;

fuzz_target!(|data: &[u8]| {
    let mut parser = SmtpParser::new();
    mailscope_fuzz::run_parser(&mut parser, Protocol::Smtp, data);
});
