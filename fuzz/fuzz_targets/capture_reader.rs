//! Capture files: fuzzer bytes → `CaptureReader::new(Cursor)` → every
//! packet (pcap and pcapng, both byte orders), then the statistics and
//! warnings.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailscope::capture::CaptureReader;

fuzz_target!(|data: &[u8]| {
    let Ok(mut reader) = CaptureReader::new(std::io::Cursor::new(data)) else {
        return;
    };
    let mut last_index = None;
    while let Ok(Some(packet)) = reader.next_packet() {
        // Packets are numbered in order.
        assert!(last_index.is_none_or(|l| packet.index > l));
        last_index = Some(packet.index);
        std::hint::black_box((
            packet.ts,
            packet.linktype,
            packet.interface,
            packet.is_truncated(),
        ));
        std::hint::black_box(packet.data.iter().fold(0u8, |a, &b| a ^ b));
    }
    std::hint::black_box((reader.format().as_str(), reader.stats().packets));
    for w in reader.warnings() {
        std::hint::black_box(w.to_string());
    }
});
