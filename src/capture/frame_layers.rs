//! What one captured frame holds, found once and cheaply: where its
//! network and transport headers start, its addresses, its upper protocol,
//! and whether it is an IP fragment. Used where a whole decode (and IP
//! reassembly, `decode`) is more than needed: the capture filter
//! (`filter`) and the sharder (`shard`), both of which look at every frame
//! of the capture before anything else does.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::Packet;
use super::link::{self, ETHERTYPE_IPV4, ETHERTYPE_IPV6, LINKTYPE_ETHERNET};

pub(crate) const ETHERTYPE_ARP: u16 = 0x0806;
pub(crate) const ETHERTYPE_RARP: u16 = 0x8035;

/// A read past the captured bytes.
#[derive(Debug)]
pub(crate) struct OutOfBounds;

/// The layers of one frame.
pub(crate) struct FrameLayers<'a> {
    pub frame: &'a [u8],
    /// The frame's length on the wire.
    pub wire_len: u32,
    pub linktype: u16,
    /// EtherType of the network packet (after any VLAN tags); None when
    /// the link layer could not be read.
    pub ether_type: Option<u16>,
    /// Where the network header starts in `frame`.
    pub net_at: usize,
    pub ip: Option<IpLayer>,
}

pub(crate) struct IpLayer {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// The upper-layer protocol (after IPv6 extension headers).
    pub protocol: u8,
    /// Where that protocol's header starts in the frame; None for a
    /// fragment other than the first (its bytes are not a header).
    pub transport_at: Option<usize>,
    /// Set when the packet is a fragment of a larger datagram.
    pub fragment: Option<FragmentOf>,
}

/// Which datagram a fragment belongs to (RFC 791 §3.2: source,
/// destination, protocol and identification; RFC 8200 §4.5 the same with
/// the 32-bit identification of the Fragment header).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct FragmentOf {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub protocol: u8,
    pub id: u32,
    /// True for the fragment at offset 0, the one with the ports.
    pub first: bool,
}

impl<'a> FrameLayers<'a> {
    pub fn of(packet: &Packet<'a>) -> FrameLayers<'a> {
        let frame = packet.data;
        let mut layers = FrameLayers {
            frame,
            wire_len: packet.orig_len,
            linktype: packet.linktype,
            ether_type: None,
            net_at: 0,
            ip: None,
        };
        let Ok(net) = link::network_packet(packet.linktype, frame) else {
            return layers;
        };
        layers.ether_type = Some(net.ether_type);
        layers.net_at = frame.len() - net.data.len();
        layers.ip = match net.ether_type {
            ETHERTYPE_IPV4 => ipv4(net.data, layers.net_at),
            ETHERTYPE_IPV6 => ipv6(net.data, layers.net_at),
            _ => None,
        };
        layers
    }

    pub fn is_ipv4(&self) -> bool {
        self.ether_type == Some(ETHERTYPE_IPV4)
    }

    pub fn is_ipv6(&self) -> bool {
        self.ether_type == Some(ETHERTYPE_IPV6)
    }

    /// ARP (`Some(Arp)`-like tests are the caller's): either of ARP/RARP.
    pub fn is_arp_or_rarp(&self) -> bool {
        matches!(self.ether_type, Some(ETHERTYPE_ARP | ETHERTYPE_RARP))
    }

    pub fn byte(&self, at: usize) -> Result<u8, OutOfBounds> {
        self.frame.get(at).copied().ok_or(OutOfBounds)
    }

    pub fn bytes<const N: usize>(&self, at: usize) -> Result<[u8; N], OutOfBounds> {
        self.frame
            .get(at..at + N)
            .and_then(|s| s.try_into().ok())
            .ok_or(OutOfBounds)
    }

    /// The source and destination ports of a TCP, UDP or SCTP header that
    /// starts in the frame (all three begin with them).
    pub fn ports(&self) -> Option<(u16, u16)> {
        let ip = self.ip.as_ref()?;
        if !matches!(ip.protocol, 6 | 17 | 132) {
            return None;
        }
        let at = ip.transport_at?;
        let src = u16::from_be_bytes(self.bytes::<2>(at).ok()?);
        let dst = u16::from_be_bytes(self.bytes::<2>(at + 2).ok()?);
        Some((src, dst))
    }

    /// The source and destination MAC of an Ethernet frame.
    pub fn macs(&self) -> Option<([u8; 6], [u8; 6])> {
        if self.linktype != LINKTYPE_ETHERNET || self.frame.len() < 14 {
            return None;
        }
        let dst = self.frame[0..6].try_into().ok()?;
        let src = self.frame[6..12].try_into().ok()?;
        Some((src, dst))
    }
}

fn ipv4(data: &[u8], at: usize) -> Option<IpLayer> {
    if data.len() < 20 || data[0] >> 4 != 4 {
        return None;
    }
    let header_len = (data[0] & 0x0f) as usize * 4;
    let flags_offset = u16::from_be_bytes([data[6], data[7]]);
    let offset = flags_offset & 0x1fff;
    let more = flags_offset & 0x2000 != 0;
    let (src, dst) = (
        IpAddr::V4(Ipv4Addr::new(data[12], data[13], data[14], data[15])),
        IpAddr::V4(Ipv4Addr::new(data[16], data[17], data[18], data[19])),
    );
    let protocol = data[9];
    Some(IpLayer {
        src,
        dst,
        protocol,
        transport_at: (offset == 0).then_some(at + header_len),
        fragment: (offset != 0 || more).then_some(FragmentOf {
            src,
            dst,
            protocol,
            id: u16::from_be_bytes([data[4], data[5]]) as u32,
            first: offset == 0,
        }),
    })
}

/// RFC 8200 §4: walks the extension headers to the upper-layer protocol.
fn ipv6(data: &[u8], at: usize) -> Option<IpLayer> {
    if data.len() < 40 || data[0] >> 4 != 6 {
        return None;
    }
    let src = IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(&data[8..24]).ok()?));
    let dst = IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(&data[24..40]).ok()?));
    let mut next = data[6];
    let mut offset = 40usize;
    let mut fragment = None;
    // Hop-by-hop (0), routing (43), fragment (44), destination options (60).
    for _ in 0..8 {
        match next {
            0 | 43 | 60 => {
                let h = data.get(offset..offset + 2)?;
                next = h[0];
                offset += (h[1] as usize + 1) * 8;
            }
            44 => {
                let h = data.get(offset..offset + 8)?;
                next = h[0];
                fragment = Some((
                    u16::from_be_bytes([h[2], h[3]]) >> 3 == 0,
                    u32::from_be_bytes([h[4], h[5], h[6], h[7]]),
                ));
                offset += 8;
            }
            _ => break,
        }
    }
    let first = fragment.is_none_or(|(first, _)| first);
    Some(IpLayer {
        src,
        dst,
        protocol: next,
        transport_at: first.then_some(at + offset),
        fragment: fragment.map(|(first, id)| FragmentOf {
            src,
            dst,
            protocol: next,
            id,
            first,
        }),
    })
}
