//! Capture filters (`--filter`): the fuzzer's bytes split in two, the
//! first part read as a filter, the rest run through it as an Ethernet,
//! raw-IP and Linux SLL frame. Nothing may panic: a filter that does not
//! parse is an error, a frame it reads past is rejected.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailscope::capture::filter::PacketFilter;
use mailscope::capture::{Packet, Timestamp};

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let Ok(text) = std::str::from_utf8(&data[..split]) else {
        return;
    };
    let frame = data.get(split + 1..).unwrap_or_default();
    let Ok(filter) = PacketFilter::parse(text) else {
        return;
    };
    for linktype in [1, 101, 113] {
        let packet = Packet {
            index: 0,
            ts: Timestamp::from_nanos(0),
            linktype,
            interface: 0,
            data: frame,
            orig_len: frame.len() as u32,
        };
        std::hint::black_box(filter.matches(&packet));
    }
});
