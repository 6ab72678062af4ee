//! `--filter`: capture filters in the syntax of pcap-filter(7), the one
//! tcpdump, Wireshark's capture filters, Zeek and Suricata take, run over
//! the frames of a capture file before anything else reads them.
//!
//! * [`tokens`] splits the text, [`syntax`] parses it into an [`Expr`],
//! * [`matcher`] runs it over a frame.
//!
//! The filter is interpreted, not compiled to BPF: an analysis reads a
//! file once, and the test of a packet costs far less than its
//! reassembly. `tests/bpf_against_libpcap.rs` checks the verdicts against
//! libpcap's own on the shared captures.

mod matcher;
mod syntax;
mod tokens;

use thiserror::Error;

pub use syntax::{Arith, Dir, Expr, Layer, Primitive};
pub use tokens::{ArithOp, RelOp};

use super::Packet;
use super::frame_layers::FrameLayers;

/// A filter that cannot be read, with where the trouble starts.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[error("bad filter: {why}\n  {text}\n  {caret:>width$}", caret = "^", width = .at + 1)]
pub struct FilterError {
    pub text: String,
    /// Byte offset in `text`.
    pub at: usize,
    pub why: String,
}

impl FilterError {
    pub(crate) fn at(text: &str, at: usize, why: String) -> Self {
        FilterError {
            text: text.to_string(),
            at,
            why,
        }
    }
}

/// A parsed capture filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PacketFilter {
    text: String,
    expr: Expr,
}

impl PacketFilter {
    pub fn parse(text: &str) -> Result<Self, FilterError> {
        Ok(PacketFilter {
            text: text.to_string(),
            expr: syntax::parse(text)?,
        })
    }

    /// The filter as it was written.
    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn expr(&self) -> &Expr {
        &self.expr
    }

    /// Does the filter keep this frame? A filter that reads past the
    /// captured bytes rejects it, as BPF does.
    pub fn matches(&self, packet: &Packet<'_>) -> bool {
        matcher::matches(&self.expr, &FrameLayers::of(packet)).unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::Timestamp;

    /// An Ethernet frame: IPv4 from `src` to `dst`, TCP ports and flags.
    fn tcp_frame(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, flags: u8) -> Vec<u8> {
        let mut f = vec![0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00];
        f.extend_from_slice(&[0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0]);
        f.extend_from_slice(&src);
        f.extend_from_slice(&dst);
        f.extend_from_slice(&sport.to_be_bytes());
        f.extend_from_slice(&dport.to_be_bytes());
        f.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        f
    }

    fn keeps(filter: &str, frame: &[u8]) -> bool {
        let packet = Packet {
            index: 0,
            ts: Timestamp::from_nanos(0),
            linktype: 1,
            interface: 0,
            data: frame,
            orig_len: frame.len() as u32,
        };
        PacketFilter::parse(filter).unwrap().matches(&packet)
    }

    #[test]
    fn mail_filters_on_a_syn_to_port_25() {
        let syn = tcp_frame([10, 0, 0, 1], [10, 0, 0, 2], 40000, 25, 0x02);
        for yes in [
            "tcp",
            "ip",
            "port 25",
            "dst port smtp",
            "tcp port 25 or 110",
            "host 10.0.0.1 and port 25",
            "src 10.0.0.1",
            "net 10.0.0.0/24",
            "src and dst net 10",
            "portrange 20-30",
            "tcp[tcpflags] & tcp-syn != 0",
            "tcp[tcpflags] == tcp-syn",
            "ip[9] = 6 and ip[2:2] = 40",
            "(tcp[12] >> 4) * 4 = 20",
            "len = 54",
            "less 54 and greater 54",
            "ether src 02:00:00:00:00:01",
            "ether proto \\ip",
            "ip proto \\tcp",
            "not udp",
            "not (port 110 or port 143)",
        ] {
            assert!(keeps(yes, &syn), "{yes}");
        }
        for no in [
            "udp",
            "ip6",
            "arp",
            "src port 25",
            "port 110 or 143",
            "host 10.0.0.3",
            "src and dst host 10.0.0.1",
            "tcp[tcpflags] & tcp-ack != 0",
            "udp[0] = 0",
            "not udp[0] = 0 and udp",
            "vlan",
            "broadcast",
            "multicast",
            "less 53",
        ] {
            assert!(!keeps(no, &syn), "{no}");
        }
    }

    #[test]
    fn reading_past_the_frame_rejects_the_packet_even_under_not() {
        let syn = tcp_frame([10, 0, 0, 1], [10, 0, 0, 2], 40000, 25, 0x02);
        assert!(!keeps("tcp[100] = 0", &syn));
        assert!(!keeps("not tcp[100] = 0", &syn));
        // A short-circuit keeps BPF's order: the first test decides.
        assert!(keeps("port 25 or tcp[100] = 0", &syn));
        assert!(!keeps("port 26 or tcp[100] = 0", &syn));
    }

    #[test]
    fn a_later_fragment_has_no_ports() {
        let mut frag = tcp_frame([10, 0, 0, 1], [10, 0, 0, 2], 40000, 25, 0x02);
        frag[14 + 6] = 0x00;
        frag[14 + 7] = 0x10; // fragment offset 16 × 8 bytes
        assert!(keeps("tcp", &frag));
        assert!(!keeps("port 25", &frag));
        assert!(!keeps("tcp[0] = 0", &frag));
    }

    #[test]
    fn the_error_points_at_the_word() {
        let e = PacketFilter::parse("host 10.0.0.1 and port smtpx").unwrap_err();
        assert_eq!(
            e.to_string(),
            "bad filter: 'smtpx' is not a port number or a known service name\n  host 10.0.0.1 and port smtpx\n                         ^"
        );
    }

    proptest::proptest! {
        /// Any arrangement of the grammar's words, and any frame: an
        /// error or a verdict, never a panic.
        #[test]
        fn no_filter_and_no_frame_panics(
            words in proptest::collection::vec(proptest::sample::select(vec![
                "host", "net", "port", "portrange", "src", "dst", "and", "or", "not",
                "(", ")", "[", "]", ":", "tcp", "udp", "ip", "ip6", "ether", "proto",
                "vlan", "less", "greater", "len", "0", "1", "4", "25", "65535", "20-25",
                "10.0.0.1", "::1", "10.0.0.0/8", "mask", "255.0.0.0", "!", "&&", "||",
                "=", "!=", ">", "<=", "+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>",
                "tcpflags", "tcp-syn", "\\tcp", "broadcast", "multicast", "0xffffffff",
                "4294967296", "ab:cd:ef:00:11:22", "smtp", "99999",
            ]), 0..14),
            frame in proptest::collection::vec(proptest::num::u8::ANY, 0..80),
        ) {
            let text = words.join(" ");
            if let Ok(filter) = PacketFilter::parse(&text) {
                for linktype in [1, 101, 113, 276, 0] {
                    let packet = Packet {
                        index: 0,
                        ts: Timestamp::from_nanos(0),
                        linktype,
                        interface: 0,
                        data: &frame,
                        orig_len: frame.len() as u32,
                    };
                    let _ = filter.matches(&packet);
                }
            }
        }
    }
}
