//! One UDP datagram (RFC 768) in an IPv4 packet in an Ethernet II frame:
//! the recorder of the embedded mail world writes its DNS queries and
//! answers with it.

use std::net::{IpAddr, SocketAddr};

use super::framing::{
    ETHERNET_HEADER_LEN, IPPROTO_UDP, ethernet_header, internet_checksum, ipv4_header,
};
use crate::capture::link::ETHERTYPE_IPV4;

/// An Ethernet/IPv4/UDP frame (RFC 768) with correct IP and UDP checksums.
/// The recorder of the embedded mail world writes the DNS queries and
/// answers with it.
///
/// # Panics
/// If an address is not IPv4 or the payload does not fit a UDP datagram.
pub fn udp_frame(src: SocketAddr, dst: SocketAddr, ip_id: u16, payload: &[u8]) -> Vec<u8> {
    let (IpAddr::V4(s), IpAddr::V4(d)) = (src.ip(), dst.ip()) else {
        panic!("udp_frame builds IPv4 frames only");
    };
    let udp_len = u16::try_from(8 + payload.len()).expect("UDP payload too large");
    let mut udp = Vec::with_capacity(8 + payload.len());
    udp.extend_from_slice(&src.port().to_be_bytes());
    udp.extend_from_slice(&dst.port().to_be_bytes());
    udp.extend_from_slice(&udp_len.to_be_bytes());
    udp.extend_from_slice(&[0, 0]); // checksum placeholder
    udp.extend_from_slice(payload);
    // The UDP checksum covers a pseudo-header (RFC 768): addresses, zero,
    // protocol 17 and the UDP length.
    let pseudo = [
        &s.octets()[..],
        &d.octets()[..],
        &[0, IPPROTO_UDP],
        &udp_len.to_be_bytes(),
    ]
    .concat();
    let mut checksum = internet_checksum(&[&pseudo, &udp]);
    if checksum == 0 {
        checksum = 0xFFFF; // 0 means "no checksum" in UDP over IPv4
    }
    udp[6..8].copy_from_slice(&checksum.to_be_bytes());
    let mut ip = ipv4_header(s.octets(), d.octets(), ip_id, 0x4000, udp.len());
    ip[9] = IPPROTO_UDP;
    ip[10..12].copy_from_slice(&[0, 0]);
    let ip_checksum = internet_checksum(&[&ip]);
    ip[10..12].copy_from_slice(&ip_checksum.to_be_bytes());
    let mut frame = Vec::with_capacity(ETHERNET_HEADER_LEN + ip.len() + udp.len());
    frame.extend_from_slice(&ethernet_header(src.ip(), dst.ip(), ETHERTYPE_IPV4));
    frame.extend_from_slice(&ip);
    frame.extend_from_slice(&udp);
    frame
}
