//! MIME: fuzzer bytes as a raw message → `mailscope::mail::inspect`, both
//! without and with attachment contents (the `extract` path).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let info = mailscope::mail::inspect(data, None);
    std::hint::black_box(format!("{info:?}"));
    let mut contents = Vec::new();
    let info = mailscope::mail::inspect(data, Some(&mut contents));
    std::hint::black_box(format!("{info:?}"));
    // With contents, there is one decoded body per listed attachment.
    assert_eq!(
        contents.len(),
        info.attachments.len(),
        "inspect: attachment list and decoded contents disagree"
    );
});
