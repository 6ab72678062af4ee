//! TCP reassembly: a sequence of TCP segments derived from the fuzzer bytes
//! (which flow, which side, SYN/ACK/FIN/RST flags, sequence and ack offsets
//! around per-side initial sequence numbers, payload length, snaplen cuts,
//! time steps) → `FlowTable::process` → `Assembler`, then `finish_all`.
//!
//! Oracles (the assembler's documented contract, `src/flow/assembler.rs`):
//! each direction's deliveries are contiguous from offset 0 (every data
//! piece or gap starts where the previous one ended), and the per-direction
//! statistics in the flow summary match what the handler was given.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use mailscope::capture::{TcpFlags, TcpSegment, Timestamp};
use mailscope::flow::{Direction, FlowConfig, FlowTable, StreamEvent, StreamHandler};

#[derive(Arbitrary, Debug)]
struct Input {
    /// Initial sequence numbers: [flow][side].
    isn: [[u32; 2]; 3],
    ooo_limit: u16,
    linger: u8,
    segments: Vec<Seg>,
}

#[derive(Arbitrary, Debug)]
struct Seg {
    flow: u8,
    /// The side that sent it (false: the one on the lower port's peer).
    from_b: bool,
    syn: bool,
    ack: bool,
    fin: bool,
    rst: bool,
    seq_off: i16,
    ack_off: i16,
    payload_len: u16,
    /// Bytes the snaplen cut off (on the wire, not in the capture).
    cut: u8,
    /// Payload differs from the pattern (conflicting retransmission).
    junk: bool,
    ts_step: u8,
}

/// Checks that each direction's events are contiguous and counts them.
#[derive(Default)]
struct Checker {
    next: [u64; 2],
    delivered: [u64; 2],
    gaps: [u64; 2],
    gap_bytes: [u64; 2],
}

impl StreamHandler for Checker {
    fn on_event(&mut self, dir: Direction, event: StreamEvent<'_>) {
        let d = dir.index();
        match event {
            StreamEvent::Data(p) => {
                assert_eq!(p.offset, self.next[d], "{dir:?}: data not contiguous");
                self.next[d] += p.bytes.len() as u64;
                self.delivered[d] += p.bytes.len() as u64;
            }
            StreamEvent::Gap { offset, len } => {
                assert_eq!(offset, self.next[d], "{dir:?}: gap not contiguous");
                assert!(len > 0, "{dir:?}: empty gap");
                self.next[d] += len;
                self.gaps[d] += 1;
                self.gap_bytes[d] += len;
            }
        }
    }
}

fn endpoints(flow: u8) -> (SocketAddr, SocketAddr) {
    let v4 = |a: u8, p: u16| SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, a)), p);
    match flow % 3 {
        0 => (v4(1, 40000), v4(2, 25)),
        1 => (v4(1, 40001), v4(3, 110)),
        _ => (
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 5000),
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 6000),
        ),
    }
}

fuzz_target!(|input: Input| {
    let config = FlowConfig {
        ooo_limit: input.ooo_limit as usize,
        linger_nanos: input.linger as i64 * 1_000_000,
        idle_timeout_nanos: 1_000_000_000,
        max_flows: 2,
        ..FlowConfig::default()
    };
    let mut finished = Vec::new();
    let mut table = FlowTable::new(config, |_, _, _| Checker::default());
    let mut payload = Vec::new();
    let mut ts = 0i64;
    for (i, s) in input.segments.iter().take(2000).enumerate() {
        let f = (s.flow % 3) as usize;
        let (a, b) = endpoints(s.flow);
        let (src, dst, side) = if s.from_b { (b, a, 1) } else { (a, b, 0) };
        let seq = input.isn[f][side].wrapping_add(s.seq_off as i32 as u32);
        let ack = input.isn[f][1 - side].wrapping_add(s.ack_off as i32 as u32);
        let len = (s.payload_len % 1500) as usize;
        payload.clear();
        payload.extend((0..len).map(|k| {
            let byte = seq.wrapping_add(k as u32) as u8;
            if s.junk { !byte } else { byte }
        }));
        ts += s.ts_step as i64 * 10_000_000;
        let seg = TcpSegment {
            src,
            dst,
            seq,
            ack,
            flags: TcpFlags {
                syn: s.syn,
                ack: s.ack,
                fin: s.fin,
                rst: s.rst,
                psh: false,
            },
            window: 65535,
            payload: &payload,
            wire_len: len as u32 + s.cut as u32,
        };
        table.process(i as u64, Timestamp::from_nanos(ts), &seg, &mut |f| {
            finished.push(f)
        });
    }
    table.finish_all(&mut |f| finished.push(f));
    for flow in &finished {
        let c = &flow.handler;
        for d in 0..2 {
            let st = &flow.summary.streams[d];
            assert_eq!(
                st.delivered, c.delivered[d],
                "delivered bytes differ from stats"
            );
            assert_eq!(st.gaps, c.gaps[d], "gap count differs from stats");
            assert_eq!(st.gap_bytes, c.gap_bytes[d], "gap bytes differ from stats");
        }
    }
});
