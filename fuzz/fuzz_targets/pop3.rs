//! Pop3 dialogue: fuzzer bytes → (direction, chunk | gap) pieces →
//! `Pop3Parser` through the `MailParser` trait into a `Dialogue`, then
//! `finish`. Format: see `fuzz/src/lib.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailscope::proto::Protocol;
use mailscope::proto::pop3::Pop3Parser;

fuzz_target!(|data: &[u8]| {
    let mut parser = Pop3Parser::new();
    mailscope_fuzz::run_parser(&mut parser, Protocol::Pop3, data);
});
