//! Link layers: from a captured frame to the network-layer packet inside it.
//!
//! Each capture interface declares a LINKTYPE (see tcpdump.org's list of
//! link-layer header types). We peel the link header off and say which
//! network protocol follows, as an EtherType (0x0800 IPv4, 0x86DD IPv6).

use etherparse::{Ethernet2HeaderSlice, LinuxSllHeaderSlice, SingleVlanHeaderSlice};

pub const LINKTYPE_NULL: u16 = 0;
pub const LINKTYPE_ETHERNET: u16 = 1;
pub const LINKTYPE_RAW: u16 = 101;
pub const LINKTYPE_LOOP: u16 = 108;
pub const LINKTYPE_LINUX_SLL: u16 = 113;
pub const LINKTYPE_IPV4: u16 = 228;
pub const LINKTYPE_IPV6: u16 = 229;
pub const LINKTYPE_LINUX_SLL2: u16 = 276;

/// EtherType of IPv4 (RFC 894).
pub const ETHERTYPE_IPV4: u16 = 0x0800;
/// EtherType of IPv6 (RFC 2464).
pub const ETHERTYPE_IPV6: u16 = 0x86dd;
const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ: u16 = 0x88a8;
const ETHERTYPE_QINQ_OLD: u16 = 0x9100;

/// Deepest VLAN stack we follow (QinQ is two; more is abuse).
const MAX_VLAN_TAGS: usize = 4;

/// The network-layer packet inside a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetworkPacket<'a> {
    pub ether_type: u16,
    pub data: &'a [u8],
}

/// Why no network packet could be found in a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkError {
    /// The frame is shorter than its link header (snaplen or damage).
    Truncated,
    /// A link type mailscope does not decode.
    UnsupportedLinktype(u16),
}

/// Peels the link layer of `linktype` off `frame`.
pub fn network_packet(linktype: u16, frame: &[u8]) -> Result<NetworkPacket<'_>, LinkError> {
    match linktype {
        LINKTYPE_ETHERNET => ethernet(frame),
        LINKTYPE_RAW => raw_ip(frame),
        LINKTYPE_IPV4 => Ok(NetworkPacket {
            ether_type: ETHERTYPE_IPV4,
            data: frame,
        }),
        LINKTYPE_IPV6 => Ok(NetworkPacket {
            ether_type: ETHERTYPE_IPV6,
            data: frame,
        }),
        LINKTYPE_NULL => bsd_loopback(frame, false),
        LINKTYPE_LOOP => bsd_loopback(frame, true),
        LINKTYPE_LINUX_SLL => linux_sll(frame),
        LINKTYPE_LINUX_SLL2 => linux_sll2(frame),
        other => Err(LinkError::UnsupportedLinktype(other)),
    }
}

/// Ethernet II, with any number (up to [`MAX_VLAN_TAGS`]) of 802.1Q / 802.1ad
/// tags between the addresses and the EtherType.
fn ethernet(frame: &[u8]) -> Result<NetworkPacket<'_>, LinkError> {
    let eth = Ethernet2HeaderSlice::from_slice(frame).map_err(|_| LinkError::Truncated)?;
    let mut ether_type = eth.ether_type().0;
    let mut rest = &frame[eth.slice().len()..];
    for _ in 0..MAX_VLAN_TAGS {
        if !matches!(
            ether_type,
            ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD
        ) {
            break;
        }
        let tag = SingleVlanHeaderSlice::from_slice(rest).map_err(|_| LinkError::Truncated)?;
        ether_type = tag.ether_type().0;
        rest = &rest[tag.slice().len()..];
    }
    Ok(NetworkPacket {
        ether_type,
        data: rest,
    })
}

/// LINKTYPE_RAW: the IP version is in the first nibble.
fn raw_ip(frame: &[u8]) -> Result<NetworkPacket<'_>, LinkError> {
    let first = *frame.first().ok_or(LinkError::Truncated)?;
    let ether_type = match first >> 4 {
        4 => ETHERTYPE_IPV4,
        6 => ETHERTYPE_IPV6,
        _ => 0,
    };
    Ok(NetworkPacket {
        ether_type,
        data: frame,
    })
}

/// BSD loopback: a 4-byte address family, in the capturing host's byte order
/// for LINKTYPE_NULL and in network order for LINKTYPE_LOOP. AF_INET is 2
/// everywhere; AF_INET6 is 24, 28 or 30 depending on the BSD flavour.
fn bsd_loopback(frame: &[u8], network_order: bool) -> Result<NetworkPacket<'_>, LinkError> {
    let family: [u8; 4] = frame
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .ok_or(LinkError::Truncated)?;
    let af = if network_order {
        u32::from_be_bytes(family)
    } else {
        // Host order of a machine we do not know: whichever reading is small.
        let le = u32::from_le_bytes(family);
        if le <= 0xffff {
            le
        } else {
            u32::from_be_bytes(family)
        }
    };
    let ether_type = match af {
        2 => ETHERTYPE_IPV4,
        24 | 28 | 30 => ETHERTYPE_IPV6,
        _ => 0,
    };
    Ok(NetworkPacket {
        ether_type,
        data: &frame[4..],
    })
}

/// Linux "cooked" capture v1 (16-byte header, protocol at bytes 14..16).
fn linux_sll(frame: &[u8]) -> Result<NetworkPacket<'_>, LinkError> {
    let sll = LinuxSllHeaderSlice::from_slice(frame).map_err(|_| LinkError::Truncated)?;
    let proto = u16::from_be_bytes([frame[14], frame[15]]);
    Ok(NetworkPacket {
        ether_type: proto,
        data: &frame[sll.slice().len()..],
    })
}

/// Linux "cooked" capture v2: a 20-byte header whose first field is the
/// protocol type (EtherType), then interface index, ARPHRD type, packet
/// type, address length and an 8-byte address.
fn linux_sll2(frame: &[u8]) -> Result<NetworkPacket<'_>, LinkError> {
    if frame.len() < 20 {
        return Err(LinkError::Truncated);
    }
    Ok(NetworkPacket {
        ether_type: u16::from_be_bytes([frame[0], frame[1]]),
        data: &frame[20..],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const IP: &[u8] = &[0x45, 0, 0, 20];

    #[test]
    fn ethernet_with_stacked_vlans() {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x88, 0xa8, 0x00, 0x0a, 0x81, 0x00, 0x00, 0x14, 0x08, 0x00]);
        f.extend_from_slice(IP);
        assert_eq!(
            network_packet(LINKTYPE_ETHERNET, &f),
            Ok(NetworkPacket {
                ether_type: 0x0800,
                data: IP
            })
        );
        // A tag cut short is a truncation, not a panic.
        assert_eq!(
            network_packet(LINKTYPE_ETHERNET, &f[..16]),
            Err(LinkError::Truncated)
        );
    }

    #[test]
    fn loopback_families_both_orders() {
        let le = [2u8, 0, 0, 0, 0x45];
        let be = [0u8, 0, 0, 2, 0x45];
        assert_eq!(
            network_packet(LINKTYPE_NULL, &le).unwrap().ether_type,
            0x0800
        );
        assert_eq!(
            network_packet(LINKTYPE_NULL, &be).unwrap().ether_type,
            0x0800
        );
        assert_eq!(
            network_packet(LINKTYPE_LOOP, &be).unwrap().ether_type,
            0x0800
        );
        let v6 = [0u8, 0, 0, 30, 0x60];
        assert_eq!(
            network_packet(LINKTYPE_LOOP, &v6).unwrap().ether_type,
            0x86dd
        );
        assert_eq!(
            network_packet(LINKTYPE_NULL, &[2]),
            Err(LinkError::Truncated)
        );
    }

    #[test]
    fn cooked_captures() {
        let mut sll = vec![0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x86, 0xdd];
        sll.extend_from_slice(&[0x60, 0]);
        let p = network_packet(LINKTYPE_LINUX_SLL, &sll).unwrap();
        assert_eq!((p.ether_type, p.data), (0x86dd, &[0x60u8, 0][..]));
        let mut sll2 = vec![
            0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0,
        ];
        sll2.extend_from_slice(IP);
        let p = network_packet(LINKTYPE_LINUX_SLL2, &sll2).unwrap();
        assert_eq!((p.ether_type, p.data), (0x0800, IP));
    }

    #[test]
    fn raw_and_unknown() {
        assert_eq!(network_packet(LINKTYPE_RAW, IP).unwrap().ether_type, 0x0800);
        assert_eq!(
            network_packet(LINKTYPE_IPV6, &[0x60]).unwrap().ether_type,
            0x86dd
        );
        assert_eq!(
            network_packet(147, IP),
            Err(LinkError::UnsupportedLinktype(147))
        );
    }
}
