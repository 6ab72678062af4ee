//! What every frame needs below TCP: the Internet checksum, the IPv4 header
//! and the Ethernet II header with the MAC addresses we make up for hosts.

use std::net::IpAddr;

/// IPv4 time-to-live / IPv6 hop limit, the Linux default.
pub(super) const TTL: u8 = 64;
/// Length of an Ethernet II header: destination MAC, source MAC, EtherType.
pub const ETHERNET_HEADER_LEN: usize = 14;
/// IP protocol number of TCP.
pub(super) const IPPROTO_TCP: u8 = 6;
/// IP protocol number of UDP.
pub(super) const IPPROTO_UDP: u8 = 17;

/// The MAC address we give to a host: the locally administered prefix
/// `02:00` followed by the last four bytes of its IP address. Real MACs
/// come from the hardware; ours only need to be stable and distinct.
pub fn mac_for(ip: IpAddr) -> [u8; 6] {
    let tail = match ip {
        IpAddr::V4(a) => a.octets(),
        IpAddr::V6(a) => {
            let o = a.octets();
            [o[12], o[13], o[14], o[15]]
        }
    };
    [0x02, 0x00, tail[0], tail[1], tail[2], tail[3]]
}

/// The Internet checksum (RFC 1071): the one's complement of the one's
/// complement sum of all 16-bit words. The parts are summed as if they
/// were one contiguous byte string (an odd-length part shifts the word
/// boundaries of the following parts).
pub(super) fn internet_checksum(parts: &[&[u8]]) -> u16 {
    let mut sum: u32 = 0;
    let mut odd_byte: Option<u8> = None;
    for byte in parts.iter().flat_map(|p| p.iter().copied()) {
        match odd_byte.take() {
            None => odd_byte = Some(byte),
            Some(high) => sum += u32::from(u16::from_be_bytes([high, byte])),
        }
    }
    if let Some(high) = odd_byte {
        // A trailing odd byte is padded with a zero byte.
        sum += u32::from(u16::from_be_bytes([high, 0]));
    }
    // Fold the carries back in ("end-around carry").
    while sum > 0xFFFF {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    !(sum as u16)
}

/// An IPv4 header without options (RFC 791 section 3.1), with a correct
/// header checksum. `flags_and_offset` holds the 3 flag bits (0x4000 = DF,
/// 0x2000 = MF) and the fragment offset in 8-byte units.
pub fn ipv4_header(
    src: [u8; 4],
    dst: [u8; 4],
    id: u16,
    flags_and_offset: u16,
    payload_len: usize,
) -> Vec<u8> {
    let total_len = (20 + payload_len) as u16;
    let mut h = Vec::with_capacity(20);
    h.push(0x45); // version 4, header length 5 words = 20 bytes
    h.push(0); // DSCP/ECN: best effort
    h.extend_from_slice(&total_len.to_be_bytes());
    h.extend_from_slice(&id.to_be_bytes());
    h.extend_from_slice(&flags_and_offset.to_be_bytes());
    h.push(TTL);
    h.push(IPPROTO_TCP);
    h.extend_from_slice(&[0, 0]); // checksum placeholder
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    let checksum = internet_checksum(&[&h]);
    h[10..12].copy_from_slice(&checksum.to_be_bytes());
    h
}

/// The Ethernet II header in front of a packet from `src` to `dst`:
/// destination MAC first (so a switch can decide where the frame goes as
/// soon as the first bytes arrive), then source MAC, then the EtherType
/// saying what the payload is (IEEE 802.3 clause 3.2.6).
pub(super) fn ethernet_header(
    src: IpAddr,
    dst: IpAddr,
    ethertype: u16,
) -> [u8; ETHERNET_HEADER_LEN] {
    let mut header = [0; ETHERNET_HEADER_LEN];
    header[0..6].copy_from_slice(&mac_for(dst));
    header[6..12].copy_from_slice(&mac_for(src));
    header[12..14].copy_from_slice(&ethertype.to_be_bytes());
    header
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::link::ETHERTYPE_IPV4;

    #[test]
    fn checksum_matches_rfc1071_example() {
        // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(internet_checksum(&[&data]), !0xddf2);
        // Split at an odd boundary: same result.
        assert_eq!(internet_checksum(&[&data[..3], &data[3..]]), !0xddf2);
    }

    #[test]
    fn ethernet_header_names_the_receiver_first() {
        let src: IpAddr = "10.0.0.1".parse().unwrap();
        let dst: IpAddr = "10.0.0.2".parse().unwrap();
        assert_eq!(
            ethernet_header(src, dst, ETHERTYPE_IPV4),
            [2, 0, 10, 0, 0, 2, 2, 0, 10, 0, 0, 1, 0x08, 0x00]
        );
    }
}
