//! mailscope's `--filter` against libpcap's own: every frame of every
//! capture of the corpus (the shared captures and the project's own),
//! under filters that cover each kind of primitive and relation, must get
//! the verdict that libpcap's compiled BPF program gives it.
//!
//! Needs libpcap, so it runs with the `live` feature (`.ci/run` does).
//! Frames with a VLAN tag are left out: there mailscope deliberately looks
//! through the tag (see `capture::filter::matcher`).

#![cfg(feature = "live")]

mod common;

use mailscope::capture::filter::PacketFilter;
use mailscope::capture::{CaptureReader, Packet};
use std::collections::HashMap;

const FILTERS: &[&str] = &[
    "tcp",
    "udp",
    "ip",
    "ip6",
    "arp",
    "icmp",
    "icmp6",
    "not tcp",
    "port 25",
    "port 110 or port 143",
    "tcp port 25 or 587 or 465",
    "udp port 53 or domain",
    "dst port smtp",
    "src port pop3",
    "tcp src or dst port 993",
    "portrange 1-1024",
    "tcp portrange 100-200 and not port 110",
    "host 10.0.0.1",
    "host 192.168.0.4",
    "src host 192.168.0.4 or dst host 74.208.5.28",
    "src and dst host 127.0.0.1",
    "host ::1",
    "ip6 host ::1",
    "net 10.0.0.0/8",
    "net 192.168",
    "src net 192.168.0.0 mask 255.255.0.0",
    "dst net 172.16.0.0/12",
    "ip6 net fe80::/10",
    "ip proto 17",
    "ip6 proto 6",
    "proto \\tcp",
    "ether proto 0x86dd",
    "ether proto \\arp",
    "tcp[tcpflags] & tcp-syn != 0",
    "tcp[tcpflags] & (tcp-syn|tcp-fin) != 0",
    "tcp[tcpflags] = tcp-ack",
    "tcp[13] = 0x18",
    "(tcp[12] >> 4) * 4 > 20",
    "tcp[((tcp[12] & 0xf0) >> 2):4] = 0x45484c4f",
    "tcp[0:2] = 25 or tcp[2:2] = 25",
    "ip[2:2] > 576",
    "ip[9] = 6 and ip[6:2] & 0x3fff = 0",
    "ip[6:2] & 0x1fff != 0",
    "ip6[6] = 17",
    "udp[8] = 0",
    "icmp[icmptype] = icmp-echo",
    "len > 100",
    "len - 54 >= 0x20",
    "less 60",
    "greater 1000",
    "broadcast",
    "multicast",
    "ip multicast",
    "ether multicast and not ip6",
    "tcp[1000] = 0",
    "not tcp[1000] = 0",
    "port 25 and tcp[1000] = 0",
    "tcp and (port 110 or port 143) and not (tcp[13] & 4 != 0)",
    "port 25 or port 110 and tcp",
];

fn tagged(packet: &Packet<'_>) -> bool {
    packet.linktype == 1
        && packet.data.len() >= 14
        && matches!(
            u16::from_be_bytes([packet.data[12], packet.data[13]]),
            0x8100 | 0x88a8 | 0x9100
        )
}

#[test]
fn every_verdict_is_libpcaps() {
    let ours: Vec<PacketFilter> = FILTERS
        .iter()
        .map(|f| PacketFilter::parse(f).unwrap_or_else(|e| panic!("{e}")))
        .collect();
    // libpcap's programs, compiled per link type.
    let mut programs: HashMap<u16, Option<Vec<pcap::BpfProgram>>> = HashMap::new();
    let (mut frames, mut compared, mut kept) = (0u64, 0u64, 0u64);
    let mut disagreements = Vec::new();
    for file in common::all_captures() {
        let Ok(mut reader) = CaptureReader::open(&file) else {
            continue;
        };
        while let Ok(Some(packet)) = reader.next_packet() {
            frames += 1;
            if tagged(&packet) {
                continue;
            }
            let linktype = packet.linktype;
            let compiled = programs.entry(linktype).or_insert_with(|| {
                let dead = pcap::Capture::dead(pcap::Linktype(linktype as i32)).ok()?;
                FILTERS.iter().map(|f| dead.compile(f, true).ok()).collect()
            });
            let Some(compiled) = compiled else { continue };
            // libpcap's offline filter sees the captured bytes as the
            // whole frame: so must ours.
            let whole = Packet {
                orig_len: packet.data.len() as u32,
                ..packet
            };
            for (i, program) in compiled.iter().enumerate() {
                let theirs = program.filter(packet.data);
                let mine = ours[i].matches(&whole);
                compared += 1;
                kept += mine as u64;
                if theirs != mine && disagreements.len() < 40 {
                    disagreements.push(format!(
                        "{} frame {}: '{}' libpcap {theirs}, mailscope {mine}",
                        file.display(),
                        packet.index + 1,
                        FILTERS[i]
                    ));
                }
            }
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
    // The corpus really was read, and the filters both keep and drop.
    assert!(frames > 5_000, "{frames} frames");
    eprintln!("{frames} frames, {compared} verdicts, {kept} kept");
    assert!(
        kept > compared / 20 && kept < compared / 2,
        "{kept} of {compared}"
    );
    assert!(programs.contains_key(&1));
}
