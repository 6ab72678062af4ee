//! Damaged captures never make the analyzer panic: every fixture is cut at
//! many points and has bytes flipped, and the whole pipeline (reader,
//! decoder, reassembly, sniffer, the SMTP/POP3/IMAP parsers, TLS records,
//! MIME decoding, transcripts) must run to the end with an `Ok` or a clear
//! error. A deterministic stand-in until the fuzz targets of the hardening
//! issue exist.

mod common;

use mailscope::analysis::{AnalyzeOptions, Driver, FlowAnalysis, RunOptions};
use mailscope::capture::CaptureReader;
use mailscope::trace::DialogueOptions;

/// Runs everything over `bytes`, decrypting TLS with the capture's own
/// Decryption Secrets Blocks; returns how many flows were handed on.
fn analyze(bytes: &[u8]) -> Option<u64> {
    analyze_counting(bytes).map(|(flows, _)| flows)
}

/// Also returns how many TLS records were decrypted.
fn analyze_counting(bytes: &[u8]) -> Option<(u64, u64)> {
    let reader = CaptureReader::new(bytes).ok()?;
    // The keys are the capture's own Decryption Secrets Blocks.
    let mut driver = Driver::new(reader, &RunOptions::default()).ok()?;
    let options = AnalyzeOptions {
        dialogue: DialogueOptions {
            transcript: true,
            full: true,
        },
        ..AnalyzeOptions::default()
    };
    let mut flows = 0;
    let mut decrypted = 0;
    driver
        .analyze(
            &options,
            |analysis: FlowAnalysis| {
                let _ = analysis.dialogue.messages.len();
                decrypted += analysis
                    .tls
                    .as_ref()
                    .map_or(0, |t| t.decrypted_records_c2s + t.decrypted_records_s2c);
                flows += 1;
            },
            |_| {},
            |_| {},
        )
        .ok()?;
    Some((flows, decrypted))
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Analyzes `original` cut every `step` bytes, then `mutants` copies with
/// 1 to 8 bytes damaged (a flipped bit, or sometimes a whole random byte:
/// lengths, ports, flags). Returns how many damaged inputs were analyzed.
fn damage(original: &[u8], step: usize, mutants: usize, seed: u64) -> usize {
    let mut runs = 0;
    for cut in (0..original.len()).step_by(step) {
        analyze(&original[..cut]);
        runs += 1;
    }
    let mut rng = Rng(seed ^ original.len() as u64);
    for _ in 0..mutants {
        let mut mutant = original.to_vec();
        for _ in 0..=(rng.next() % 8) {
            let i = (rng.next() % mutant.len() as u64) as usize;
            if rng.next().is_multiple_of(4) {
                mutant[i] = rng.next() as u8;
            } else {
                mutant[i] ^= 1 << (rng.next() % 8);
            }
        }
        analyze(&mutant);
        runs += 1;
    }
    runs
}

#[test]
fn truncated_and_bit_flipped_fixtures_never_panic() {
    let files = common::capture_files(&common::own_captures_dir());
    assert!(files.len() >= 20);
    let mut runs = 0;
    for path in files {
        let original = std::fs::read(&path).unwrap();
        let intact = analyze(&original).expect("fixtures are valid");
        assert!(intact >= 1, "{}", path.display());
        // Cut at every 7th byte (covers header, block and record boundaries
        // and their middles), then 1500 mutants.
        runs += damage(&original, 7, 1500, 0x9e37_79b9_7f4a_7c15);
    }
    println!("{runs} damaged captures analyzed without a panic");
}

#[test]
fn absurd_lengths_are_refused_without_allocating() {
    // pcap record claiming a 4 GB capture length.
    let mut pcap = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
    pcap.extend([0; 8]);
    pcap.extend(u32::MAX.to_le_bytes()); // snaplen 4 GB
    pcap.extend(1u32.to_le_bytes());
    pcap.extend([0; 8]);
    pcap.extend(u32::MAX.to_le_bytes());
    pcap.extend(u32::MAX.to_le_bytes());
    let mut reader = CaptureReader::new(&pcap[..]).unwrap();
    assert!(reader.next_packet().unwrap().is_none());
    assert_eq!(reader.warnings().len(), 1);
    // pcapng block claiming 4 GB.
    let mut ng = vec![0x0a, 0x0d, 0x0d, 0x0a];
    ng.extend(u32::MAX.to_le_bytes());
    ng.extend([0x4d, 0x3c, 0x2b, 0x1a]);
    let mut reader = CaptureReader::new(&ng[..]).unwrap();
    assert!(reader.next_packet().unwrap().is_none());
    assert!(reader.warnings()[0].to_string().contains("impossible"));
}

#[test]
fn damaged_shared_corpus_never_panics() {
    let Some(dir) = common::shared_captures_dir() else {
        eprintln!("SKIPPED: ../shared/captures is absent");
        return;
    };
    let mut runs = 0;
    for path in common::capture_files(&dir) {
        let original = std::fs::read(&path).unwrap();
        assert!(analyze(&original).is_some(), "{} reads", path.display());
        runs += damage(&original, 97, 200, 0x2545_f491_4f6c_dd1d);
    }
    println!("{runs} damaged copies of the shared corpus analyzed without a panic");
}

/// The demo's TLS captures (STARTTLS and implicit TLS, their key logs in a
/// Decryption Secrets Block) damaged the same way: the decryption meets
/// cut records, flipped ciphertext, tags and lengths, and damaged secrets.
#[test]
fn damaged_tls_captures_with_keys_never_panic() {
    let dir = common::temp_dir("damaged-tls");
    let mut runs = 0;
    for (tls, read, net) in [
        ("starttls", "imap", "127.0.95"),
        ("implicit", "pop3", "127.0.96"),
    ] {
        let path = dir.join(format!("{tls}.pcapng"));
        common::run_demo(tls, read, net, &path, &[]);
        let original = std::fs::read(&path).unwrap();
        let (flows, decrypted) = analyze_counting(&original).unwrap();
        assert_eq!(flows, 3);
        assert!(decrypted >= 40, "{decrypted} records decrypted");
        runs += damage(&original, 3, 3000, 0x51ed_270b_2710_9fb1);
    }
    println!("{runs} damaged TLS captures decrypted without a panic");
}
