//! A capture of a million tiny flows (issue 7): each a client's SYN and a
//! server greeting that never goes further, a few microseconds apart, as a
//! port scan of mail servers looks. The analysis must see every flow and
//! keep its memory bounded: the flow table hands flows on above 200 000
//! open ones (`FlowConfig::max_flows`), so the peak does not grow with the
//! capture. Alone in this file, so the process's peak RSS is its own.

mod common;

use std::io::BufWriter;
use std::net::SocketAddr;

use mailscope::analysis::{AnalyzeOptions, Driver, FlowAnalysis, RunOptions};
use mailscope::capture::builder::{Segment, TcpFlags};
use mailscope::capture::writer::PcapNgWriter;

const FLOWS: u32 = 1_000_000;

/// Peak resident memory of this process so far, in KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn a_million_tiny_flows_in_bounded_memory() {
    let dir = common::temp_dir("many-flows");
    let path = dir.join("scan.pcapng");
    {
        let file = BufWriter::new(std::fs::File::create(&path).unwrap());
        let mut w = PcapNgWriter::new(file).unwrap();
        let iface = w.add_interface(1, 0, None).unwrap();
        let mut ts = 1_700_000_000_000_000_000u64;
        for i in 0..FLOWS {
            // 10.x.y.z:port → 10.255.0.1:25, a new client for each flow.
            let client: SocketAddr = format!(
                "10.{}.{}.{}:{}",
                (i >> 16) & 0xff,
                (i >> 8) & 0xff,
                i & 0xff,
                1024 + (i % 50_000)
            )
            .parse()
            .unwrap();
            let server: SocketAddr = "10.255.0.1:25".parse().unwrap();
            let syn = Segment {
                src: client,
                dst: server,
                ip_id: 1,
                dont_fragment: true,
                seq: i,
                ack: 0,
                flags: TcpFlags::SYN,
                window: 65535,
                options: Vec::new(),
                payload: Vec::new(),
            };
            let greeting = Segment {
                src: server,
                dst: client,
                seq: 7,
                ack: i.wrapping_add(1),
                flags: TcpFlags::ACK | TcpFlags::PSH,
                payload: b"220 mx ESMTP\r\n".to_vec(),
                ..syn.clone()
            };
            for s in [syn, greeting] {
                ts += 2_000;
                w.write_packet(iface, ts, &s.to_frame()).unwrap();
            }
        }
        w.flush().unwrap();
    }
    let size = std::fs::metadata(&path).unwrap().len();
    let before = peak_rss_kib();
    let mut driver = Driver::open(&path, &RunOptions::default()).unwrap();
    let mut flows = 0u64;
    let mut greeted = 0u64;
    driver
        .analyze(
            &AnalyzeOptions::default(),
            |a: FlowAnalysis| {
                flows += 1;
                greeted += (a.verdict.protocol == mailscope::trace::Protocol::Smtp) as u64;
            },
            |_| {},
            |_| {},
        )
        .unwrap();
    let after = peak_rss_kib();
    assert_eq!(flows, FLOWS as u64);
    assert_eq!(greeted, FLOWS as u64);
    let grown_mib = (after.saturating_sub(before)) / 1024;
    println!(
        "{FLOWS} flows, {} MB of capture: peak RSS {} MiB ({grown_mib} MiB grown by the analysis)",
        size / 1_000_000,
        after / 1024
    );
    // The bound: at most 200 000 open flows of about 2.1 KB each (flow
    // table entry, reassembly state, sniffer, parser and dialogue; the TLS
    // state only once a flow shows TLS), about 420 MiB whatever the size
    // of the capture. (A memory bound, not a timing.)
    assert!(grown_mib < 512, "the analysis grew by {grown_mib} MiB");
    let _ = std::fs::remove_dir_all(&dir);
}
