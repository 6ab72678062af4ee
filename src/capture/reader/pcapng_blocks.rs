//! pcapng files: a sequence of blocks (pcapng spec, IETF draft
//! "PCAP Now Generic"), each with a type, a length repeated at both ends, and
//! a body. A Section Header Block sets the byte order; Interface Description
//! Blocks give each interface its link type and timestamp resolution; packets
//! come in Enhanced, Simple or (obsolete) Packet Blocks; Name Resolution and
//! Decryption Secrets Blocks carry host names and TLS keys. Blocks of unknown
//! type are skipped, as the spec says readers must.

use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use pcap_parser::PcapError;
use pcap_parser::pcapng::{Block, parse_block_be, parse_block_le, parse_sectionheaderblock};

use super::{
    CaptureError, CaptureReader, CaptureWarning, HandedOut, Layout, MAX_RECORD_LEN, Packet,
    WarningKind,
};
use crate::capture::Timestamp;

/// A pcapng interface (IDB): link type and how to turn timestamps into time.
#[derive(Clone, Debug)]
pub(super) struct Interface {
    linktype: u16,
    snaplen: u32,
    resolution: TsResolution,
    offset_secs: i64,
}

/// pcapng `if_tsresol`: units are 10^-n or 2^-n seconds (pcapng spec §4.2).
#[derive(Clone, Copy, Debug)]
enum TsResolution {
    Decimal(u8),
    Binary(u8),
}

impl TsResolution {
    fn from_option(v: u8) -> TsResolution {
        if v & 0x80 == 0 {
            TsResolution::Decimal(v)
        } else {
            TsResolution::Binary(v & 0x7f)
        }
    }

    /// Converts a count of units to nanoseconds, saturating on absurd values.
    fn to_nanos(self, units: u64) -> i64 {
        let nanos: u128 = match self {
            TsResolution::Decimal(n) if n <= 9 => units as u128 * 10u128.pow(9 - n as u32),
            TsResolution::Decimal(n) => units as u128 / 10u128.pow((n as u32 - 9).min(38)),
            TsResolution::Binary(n) => (units as u128 * 1_000_000_000) >> n.min(127),
        };
        nanos.min(i64::MAX as u128) as i64
    }
}

impl<R: Read> CaptureReader<R> {
    /// The next packet block of a pcapng file, acting on the blocks before it.
    pub(super) fn next_ng(&mut self) -> Result<Option<Packet<'_>>, CaptureError> {
        loop {
            if !self.whole_record(12)? {
                return Ok(None);
            }
            let b = &self.input.unread()[..12];
            let block_type = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            // A Section Header Block sets the byte order of everything that
            // follows it, up to the next SHB (pcapng spec §4.1).
            let big_endian = if block_type == 0x0a0d_0d0a {
                b[8..12] == [0x1a, 0x2b, 0x3c, 0x4d]
            } else {
                match self.layout {
                    Layout::Ng { big_endian, .. } => big_endian,
                    _ => false,
                }
            };
            let raw_len = [b[4], b[5], b[6], b[7]];
            let block_len = if big_endian {
                u32::from_be_bytes(raw_len)
            } else {
                u32::from_le_bytes(raw_len)
            } as usize;
            if block_len < 12 || !block_len.is_multiple_of(4) || block_len > MAX_RECORD_LEN {
                self.stop(WarningKind::CorruptRecord {
                    detail: format!("pcapng block length {block_len} is impossible"),
                });
                return Ok(None);
            }
            if !self.whole_record(block_len)? {
                return Ok(None);
            }
            let action = self.parse_ng_block(block_type, block_len, big_endian);
            let mut out: Option<(u32, u64, usize, usize, u32)> = None;
            match action {
                NgAction::Section => {
                    self.layout = Layout::Ng {
                        big_endian,
                        interfaces: Vec::new(),
                    };
                }
                NgAction::Interface(iface) => {
                    if let Layout::Ng { interfaces, .. } = &mut self.layout {
                        interfaces.push(iface);
                    }
                }
                NgAction::Packet {
                    interface,
                    units,
                    data_off,
                    caplen,
                    orig_len,
                } => out = Some((interface, units, data_off, caplen, orig_len)),
                NgAction::Unknown(block_type) => {
                    self.warn(WarningKind::UnknownBlock { block_type })
                }
                NgAction::Damaged(detail) => self.warn(WarningKind::CorruptRecord {
                    detail: format!("{detail} (block type 0x{block_type:08x} skipped)"),
                }),
                NgAction::Secrets {
                    secrets_type,
                    data_off,
                    len,
                } => {
                    if let Some(hook) = &mut self.on_secrets {
                        hook(secrets_type, &self.input.unread()[data_off..data_off + len]);
                    }
                }
                NgAction::Names(names) => {
                    for (addr, name) in names {
                        if self.host_names.len() >= MAX_HOST_NAMES {
                            break;
                        }
                        self.host_names.push((addr, name));
                    }
                }
                NgAction::Nothing => {}
            }
            self.consume(block_len);
            let Some((iface_id, units, data_off, caplen, orig_len)) = out else {
                continue;
            };
            let iface = match &self.layout {
                Layout::Ng { interfaces, .. } => interfaces.get(iface_id as usize).cloned(),
                _ => None,
            };
            let Some(iface) = iface else {
                self.warnings.push(CaptureWarning {
                    file: None,
                    offset: self.input.offset() - block_len as u64,
                    kind: WarningKind::UnknownInterface {
                        interface: iface_id,
                    },
                });
                continue;
            };
            let ts = if units == u64::MAX {
                // SPB: no time of its own; reuse the last one we saw.
                self.stats.last_ts.unwrap_or_default()
            } else {
                Timestamp::from_nanos(
                    iface
                        .resolution
                        .to_nanos(units)
                        .saturating_add(iface.offset_secs.saturating_mul(1_000_000_000)),
                )
            };
            let index = self.stats.packets;
            self.stats
                .count_packet(ts, caplen, orig_len, iface.linktype);
            return Ok(self.hand_out(HandedOut {
                index,
                ts,
                linktype: iface.linktype,
                interface: iface_id,
                consumed: block_len,
                data_off,
                caplen,
                orig_len,
            }));
        }
    }
}

impl<R> CaptureReader<R> {
    /// Parses the pcapng block at the front of the buffer (its length is
    /// already checked and present) into what the reader must do with it.
    /// Only offsets are returned, so the buffer is free again afterwards.
    fn parse_ng_block(&self, block_type: u32, block_len: usize, big_endian: bool) -> NgAction {
        let input = &self.input.unread()[..block_len];
        if block_type == OPB_TYPE || block_type == OPB_TYPE.swap_bytes() {
            return obsolete_packet_block(input, big_endian);
        }
        let parsed = if block_type == 0x0a0d_0d0a {
            parse_sectionheaderblock(input).map(|(r, shb)| (r, Block::SectionHeader(shb)))
        } else if big_endian {
            parse_block_be(input)
        } else {
            parse_block_le(input)
        };
        let block = match parsed {
            Ok((_, block)) => block,
            // The length is sane, so the damaged block can be skipped and
            // reading goes on with the next one.
            Err(pcap_parser::nom::Err::Incomplete(_)) => {
                return NgAction::Damaged("block shorter than its contents".into());
            }
            Err(pcap_parser::nom::Err::Error(e) | pcap_parser::nom::Err::Failure(e)) => {
                return NgAction::Damaged(describe_pcap_error(&e));
            }
        };
        let offset_of = |data: &[u8]| data.as_ptr() as usize - input.as_ptr() as usize;
        match block {
            Block::SectionHeader(_) => NgAction::Section,
            Block::InterfaceDescription(idb) => NgAction::Interface(Interface {
                linktype: (idb.linktype.0 & 0xffff) as u16,
                snaplen: idb.snaplen,
                resolution: TsResolution::from_option(idb.if_tsresol),
                offset_secs: idb.if_tsoffset,
            }),
            Block::EnhancedPacket(epb) => NgAction::Packet {
                interface: epb.if_id,
                units: ((epb.ts_high as u64) << 32) | epb.ts_low as u64,
                data_off: offset_of(epb.data),
                caplen: (epb.caplen as usize).min(epb.data.len()),
                orig_len: epb.origlen,
            },
            Block::SimplePacket(spb) => {
                // An SPB has no timestamp and belongs to interface 0; its
                // captured length is min(original length, snaplen) (§4.4).
                let snaplen = match &self.layout {
                    Layout::Ng { interfaces, .. } => interfaces.first().map(|i| i.snaplen),
                    _ => None,
                };
                let mut caplen = (spb.origlen as usize).min(spb.data.len());
                if let Some(s) = snaplen.filter(|&s| s > 0) {
                    caplen = caplen.min(s as usize);
                }
                NgAction::Packet {
                    interface: 0,
                    units: u64::MAX,
                    data_off: offset_of(spb.data),
                    caplen,
                    orig_len: spb.origlen,
                }
            }
            Block::Unknown(u) => NgAction::Unknown(u.block_type),
            Block::DecryptionSecrets(dsb) => NgAction::Secrets {
                secrets_type: dsb.secrets_type.0,
                data_off: offset_of(dsb.data),
                len: (dsb.secrets_len as usize).min(dsb.data.len()),
            },
            Block::NameResolution(nrb) => NgAction::Names(name_records(&nrb)),
            // Statistics, journal, custom and process blocks carry no
            // packets.
            _ => NgAction::Nothing,
        }
    }
}

/// The obsolete Packet Block (type 2), written by old tools: like an EPB
/// but with a 16-bit interface id and a drop counter (pcapng spec,
/// appendix "Packet Block (obsolete!)"). pcap-parser does not decode it.
const OPB_TYPE: u32 = 2;

fn obsolete_packet_block(input: &[u8], big_endian: bool) -> NgAction {
    const HEADER: usize = 8 + 20;
    if input.len() < HEADER + 4 {
        return NgAction::Damaged("obsolete packet block too short".into());
    }
    let u16_at = |i: usize| {
        let b = [input[i], input[i + 1]];
        if big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        }
    };
    let u32_at = |i: usize| {
        let b = [input[i], input[i + 1], input[i + 2], input[i + 3]];
        if big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    };
    let caplen = u32_at(20) as usize;
    let room = input.len() - HEADER - 4;
    if caplen > room {
        return NgAction::Damaged(format!(
            "obsolete packet block claims {caplen} captured bytes in a {room}-byte body"
        ));
    }
    NgAction::Packet {
        interface: u16_at(8) as u32,
        units: ((u32_at(12) as u64) << 32) | u32_at(16) as u64,
        data_off: HEADER,
        caplen,
        orig_len: u32_at(24),
    }
}

/// What one pcapng block asks of the reader.
enum NgAction {
    Section,
    Interface(Interface),
    Packet {
        interface: u32,
        /// Timestamp in interface units; `u64::MAX` for an SPB (no time).
        units: u64,
        data_off: usize,
        caplen: usize,
        orig_len: u32,
    },
    Unknown(u32),
    Damaged(String),
    /// A Decryption Secrets Block: its payload's place in the block.
    Secrets {
        secrets_type: u32,
        data_off: usize,
        len: usize,
    },
    /// Name Resolution Block records (address → host name).
    Names(Vec<(IpAddr, String)>),
    Nothing,
}

/// Host names kept from Name Resolution Blocks at most (a hostile capture
/// cannot grow the table without bound).
const MAX_HOST_NAMES: usize = 65_536;

/// The records of a Name Resolution Block (pcapng §4.5): type 1 is an IPv4
/// address, type 2 an IPv6 address, each followed by one or more
/// NUL-terminated names; the first name is kept. Records that do not fit
/// their type are skipped.
fn name_records(nrb: &pcap_parser::NameResolutionBlock<'_>) -> Vec<(IpAddr, String)> {
    let mut out = Vec::new();
    for r in &nrb.nr {
        let (addr, rest): (IpAddr, &[u8]) = match r.record_type.0 {
            1 if r.record_value.len() > 4 => {
                let b = &r.record_value;
                (Ipv4Addr::new(b[0], b[1], b[2], b[3]).into(), &b[4..])
            }
            2 if r.record_value.len() > 16 => {
                let mut o = [0u8; 16];
                o.copy_from_slice(&r.record_value[..16]);
                (Ipv6Addr::from(o).into(), &r.record_value[16..])
            }
            _ => continue,
        };
        let name = rest.split(|&b| b == 0).next().unwrap_or_default();
        if let Ok(name) = std::str::from_utf8(name)
            && !name.is_empty()
        {
            out.push((addr, name.to_string()));
        }
    }
    out
}

/// pcap-parser's error for a damaged block, in words for a warning.
fn describe_pcap_error(e: &PcapError<&[u8]>) -> String {
    match e {
        PcapError::NomError(_, kind) => format!("malformed block ({kind:?})"),
        PcapError::OwnedNomError(_, kind) => format!("malformed block ({kind:?})"),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_and_binary_resolutions() {
        assert_eq!(
            TsResolution::from_option(6).to_nanos(1_500_000),
            1_500_000_000
        );
        assert_eq!(TsResolution::from_option(9).to_nanos(7), 7);
        assert_eq!(TsResolution::from_option(12).to_nanos(7_000), 7);
        // 2^-10 s units: 1024 units are one second.
        assert_eq!(
            TsResolution::from_option(0x80 | 10).to_nanos(1024),
            1_000_000_000
        );
    }
    #[test]
    fn pcapng_obsolete_packet_block() {
        fn block(t: u32, body: &[u8]) -> Vec<u8> {
            let len = (12 + body.len()) as u32;
            let mut v = t.to_le_bytes().to_vec();
            v.extend(len.to_le_bytes());
            v.extend_from_slice(body);
            v.extend(len.to_le_bytes());
            v
        }
        let mut shb = 0x1a2b_3c4du32.to_le_bytes().to_vec();
        shb.extend([1, 0, 0, 0]);
        shb.extend((-1i64).to_le_bytes());
        let mut idb = vec![1, 0, 0, 0];
        idb.extend(65535u32.to_le_bytes());
        let mut opb = vec![0, 0, 0, 0];
        opb.extend(0u32.to_le_bytes());
        opb.extend(2_500_000u32.to_le_bytes()); // microseconds by default
        opb.extend(4u32.to_le_bytes());
        opb.extend(60u32.to_le_bytes());
        opb.extend(b"abcd");
        let mut f = block(0x0a0d_0d0a, &shb);
        f.extend(block(1, &idb));
        f.extend(block(2, &opb));
        let mut r = CaptureReader::new(&f[..]).unwrap();
        let p = r.next_packet().unwrap().unwrap();
        assert_eq!(
            (p.data, p.orig_len, p.ts.as_nanos()),
            (&b"abcd"[..], 60, 2_500_000_000)
        );
        assert!(r.next_packet().unwrap().is_none());
        assert!(r.warnings().is_empty());
    }

    #[test]
    fn name_resolution_blocks_give_host_names() {
        use crate::capture::writer::PcapNgWriter;
        let mut w = PcapNgWriter::new(Vec::new()).unwrap();
        let v6: Ipv6Addr = "2001:db8::25".parse().unwrap();
        w.write_name_resolution(&[
            (IpAddr::V4(Ipv4Addr::new(127, 0, 10, 2)), "crepes.fr"),
            (IpAddr::V6(v6), "hamburger.edu"),
        ])
        .unwrap();
        let f = w.into_inner();
        let mut r = CaptureReader::new(&f[..]).unwrap();
        while r.next_packet().unwrap().is_some() {}
        assert_eq!(
            r.host_names(),
            &[
                (
                    IpAddr::V4(Ipv4Addr::new(127, 0, 10, 2)),
                    "crepes.fr".to_string()
                ),
                (IpAddr::V6(v6), "hamburger.edu".to_string()),
            ]
        );
    }
}
