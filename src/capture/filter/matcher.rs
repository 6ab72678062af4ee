//! Runs a parsed filter over one captured frame.
//!
//! What the frame holds is worked out once per packet ([`Layers`]): where
//! the network and transport headers start, the addresses, the protocol.
//! As in BPF, a test of a protocol the packet does not carry is false
//! (`tcp[13] = 2` on a UDP packet), and reading past the captured bytes
//! rejects the whole packet, whatever `not` stands around the read.
//!
//! One deliberate difference with libpcap: the primitives look through
//! 802.1Q/802.1ad tags (`host 10.0.0.1` matches a tagged frame), as
//! Wireshark's display filters do; libpcap needs `vlan and host 10.0.0.1`.

use std::net::IpAddr;

use super::syntax::{Arith, Dir, Expr, Layer, Primitive};
use super::tokens::{ArithOp, RelOp};
use crate::capture::frame_layers::{ETHERTYPE_ARP, ETHERTYPE_RARP, FrameLayers, OutOfBounds};
use crate::capture::link::LINKTYPE_ETHERNET;

/// Does `expr` keep this packet?
pub(super) fn matches(expr: &Expr, l: &FrameLayers<'_>) -> Result<bool, OutOfBounds> {
    Ok(match expr {
        Expr::And(a, b) => matches(a, l)? && matches(b, l)?,
        Expr::Or(a, b) => matches(a, l)? || matches(b, l)?,
        Expr::Not(a) => !matches(a, l)?,
        Expr::Primitive(p) => primitive(p, l)?,
        Expr::Relation(a, op, b) => {
            let (Some(a), Some(b)) = (value(a, l)?, value(b, l)?) else {
                return Ok(false);
            };
            match op {
                RelOp::Eq => a == b,
                RelOp::Ne => a != b,
                RelOp::Lt => a < b,
                RelOp::Le => a <= b,
                RelOp::Gt => a > b,
                RelOp::Ge => a >= b,
            }
        }
    })
}

fn by_dir<T: PartialEq>(dir: Dir, src: T, dst: T, test: impl Fn(&T) -> bool) -> bool {
    match dir {
        Dir::Src => test(&src),
        Dir::Dst => test(&dst),
        Dir::Either => test(&src) || test(&dst),
        Dir::Both => test(&src) && test(&dst),
    }
}

fn in_net(addr: IpAddr, net: IpAddr, prefix: u8) -> bool {
    match (addr, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - prefix as u32).unwrap_or(0);
            u32::from(a) & mask == u32::from(n)
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - prefix as u32).unwrap_or(0);
            u128::from(a) & mask == u128::from(n)
        }
        _ => false,
    }
}

/// A host or net test: on IP, and on the addresses inside ARP/RARP for
/// IPv4 (pcap-filter(7): `host` without a family "may be ip, arp or rarp").
fn address_test(
    l: &FrameLayers<'_>,
    family: Option<Layer>,
    dir: Dir,
    test: impl Fn(&IpAddr) -> bool,
) -> Result<bool, OutOfBounds> {
    let want_ip = match family {
        None => true,
        Some(Layer::Ip) => l.is_ipv4(),
        Some(Layer::Ip6) => l.is_ipv6(),
        Some(_) => false,
    };
    if want_ip && let Some(ip) = &l.ip {
        return Ok(by_dir(dir, ip.src, ip.dst, &test));
    }
    let want_arp = matches!(family, None | Some(Layer::Arp | Layer::Rarp));
    if want_arp && is_arp(l, family) {
        // RFC 826: sender protocol address at 14, target at 24 (Ethernet
        // and IPv4 sizes, which is what libpcap assumes too).
        let at = l.net_at;
        let spa = IpAddr::from(l.bytes::<4>(at + 14)?);
        let tpa = IpAddr::from(l.bytes::<4>(at + 24)?);
        return Ok(by_dir(dir, spa, tpa, &test));
    }
    Ok(false)
}

fn primitive(p: &Primitive, l: &FrameLayers<'_>) -> Result<bool, OutOfBounds> {
    match p {
        Primitive::Host { family, dir, addr } => address_test(l, *family, *dir, |a| a == addr),
        Primitive::Net {
            family,
            dir,
            addr,
            prefix,
        } => address_test(l, *family, *dir, |a| in_net(*a, *addr, *prefix)),
        Primitive::EtherHost { dir, mac } => Ok(l
            .macs()
            .is_some_and(|(src, dst)| by_dir(*dir, src, dst, |m| m == mac))),
        Primitive::Port {
            transport,
            dir,
            first,
            last,
        } => {
            let Some(ip) = &l.ip else { return Ok(false) };
            let ok = match transport {
                Some(t) => carries(l, *t),
                None => [Layer::Tcp, Layer::Udp, Layer::Sctp]
                    .into_iter()
                    .any(|t| carries(l, t)),
            };
            let Some(at) = ip.transport_at.filter(|_| ok) else {
                return Ok(false);
            };
            let src = u16::from_be_bytes(l.bytes::<2>(at)?);
            let dst = u16::from_be_bytes(l.bytes::<2>(at + 2)?);
            Ok(by_dir(*dir, src, dst, |p| (*first..=*last).contains(p)))
        }
        Primitive::Protocol(layer) => Ok(match layer {
            Layer::Link => true,
            Layer::Ip => l.is_ipv4(),
            Layer::Ip6 => l.is_ipv6(),
            Layer::Arp => l.ether_type == Some(ETHERTYPE_ARP),
            Layer::Rarp => l.ether_type == Some(ETHERTYPE_RARP),
            transport => carries(l, *transport),
        }),
        Primitive::IpProto { family, number } => {
            let family_ok = match family {
                Some(Layer::Ip) => l.is_ipv4(),
                Some(Layer::Ip6) => l.is_ipv6(),
                _ => true,
            };
            Ok(family_ok && l.ip.as_ref().is_some_and(|ip| ip.protocol == *number))
        }
        Primitive::EtherProto(t) => Ok(l.ether_type == Some(*t)),
        Primitive::Vlan(id) => {
            if l.linktype != LINKTYPE_ETHERNET {
                return Ok(false);
            }
            let outer = u16::from_be_bytes(l.bytes::<2>(12)?);
            if !matches!(outer, 0x8100 | 0x88a8 | 0x9100) {
                return Ok(false);
            }
            let tci = u16::from_be_bytes(l.bytes::<2>(14)?);
            Ok(id.is_none_or(|id| tci & 0x0fff == id))
        }
        Primitive::Length(op, n) => Ok(match op {
            RelOp::Le => l.wire_len <= *n,
            _ => l.wire_len >= *n,
        }),
        Primitive::Broadcast => Ok(l.macs().is_some_and(|(_, dst)| dst == [0xff; 6])),
        Primitive::Multicast(family) => Ok(match family {
            None | Some(Layer::Link) => l.macs().is_some_and(|(_, dst)| dst[0] & 1 == 1),
            Some(Layer::Ip) => l.is_ipv4() && l.ip.as_ref().is_some_and(|ip| ip.dst.is_multicast()),
            Some(_) => l.is_ipv6() && l.ip.as_ref().is_some_and(|ip| ip.dst.is_multicast()),
        }),
    }
}

/// The value of an arithmetic expression; None when it reads a protocol
/// the packet does not carry (the relation is then false).
fn value(a: &Arith, l: &FrameLayers<'_>) -> Result<Option<u32>, OutOfBounds> {
    Ok(Some(match a {
        Arith::Number(n) => *n,
        Arith::Len => l.wire_len,
        Arith::Negate(a) => match value(a, l)? {
            Some(v) => v.wrapping_neg(),
            None => return Ok(None),
        },
        Arith::Binary(op, a, b) => {
            let (Some(a), Some(b)) = (value(a, l)?, value(b, l)?) else {
                return Ok(None);
            };
            match op {
                ArithOp::Add => a.wrapping_add(b),
                ArithOp::Sub => a.wrapping_sub(b),
                ArithOp::Mul => a.wrapping_mul(b),
                // BPF's division by zero ends the program: reject.
                ArithOp::Div => a.checked_div(b).ok_or(OutOfBounds)?,
                ArithOp::Mod => a.checked_rem(b).ok_or(OutOfBounds)?,
                ArithOp::And => a & b,
                ArithOp::Or => a | b,
                ArithOp::Xor => a ^ b,
                ArithOp::Shl => a.checked_shl(b).unwrap_or(0),
                ArithOp::Shr => a.checked_shr(b).unwrap_or(0),
            }
        }
        Arith::Load {
            layer,
            offset,
            size,
        } => {
            let base = match layer {
                Layer::Link => Some(0),
                Layer::Ip => l.is_ipv4().then_some(l.net_at),
                Layer::Ip6 => l.is_ipv6().then_some(l.net_at),
                Layer::Arp => (l.ether_type == Some(ETHERTYPE_ARP)).then_some(l.net_at),
                Layer::Rarp => (l.ether_type == Some(ETHERTYPE_RARP)).then_some(l.net_at),
                // pcap-filter(7): `tcp[]`, `udp[]`… read IPv4 packets only
                // (for IPv6, `ip6[40 + n]`); tcpdump users count on that.
                transport if l.is_ipv4() && carries(l, *transport) => {
                    l.ip.as_ref().and_then(|ip| ip.transport_at)
                }
                _ => None,
            };
            let (Some(base), Some(offset)) = (base, value(offset, l)?) else {
                return Ok(None);
            };
            let at = base + offset as usize;
            match size {
                1 => l.byte(at)? as u32,
                2 => u16::from_be_bytes(l.bytes::<2>(at)?) as u32,
                _ => u32::from_be_bytes(l.bytes::<4>(at)?),
            }
        }
    }))
}

/// ARP or RARP, as `family` asks (either without one).
fn is_arp(l: &FrameLayers<'_>, family: Option<Layer>) -> bool {
    match family {
        Some(Layer::Arp) => l.ether_type == Some(ETHERTYPE_ARP),
        Some(Layer::Rarp) => l.ether_type == Some(ETHERTYPE_RARP),
        _ => l.is_arp_or_rarp(),
    }
}

/// Does the packet carry `layer` over IP (IPv4 for `icmp`/`igmp`, IPv6
/// for `icmp6`, either for the others)?
fn carries(l: &FrameLayers<'_>, layer: Layer) -> bool {
    let Some(ip) = &l.ip else { return false };
    let family_ok = match layer {
        Layer::Icmp | Layer::Igmp => l.is_ipv4(),
        Layer::Icmp6 => l.is_ipv6(),
        _ => true,
    };
    family_ok && Some(ip.protocol) == layer.ip_protocol()
}
