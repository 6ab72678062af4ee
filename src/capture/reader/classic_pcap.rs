//! Classic libpcap files: a 24-byte file header (read by the reader's
//! format sniffing), then one record per packet: a 16-byte header (seconds,
//! microseconds or nanoseconds, captured length, original length) and the
//! captured bytes. The magic number says the byte order and the timestamp
//! resolution (a1b2c3d4 microseconds, a1b23c4d nanoseconds).

use std::io::Read;

use pcap_parser::{parse_pcap_frame, parse_pcap_frame_be};

use super::{CaptureError, CaptureReader, HandedOut, Layout, MAX_RECORD_LEN, Packet, WarningKind};
use crate::capture::Timestamp;

impl<R: Read> CaptureReader<R> {
    /// The next record of a classic pcap file.
    pub(super) fn next_legacy(&mut self) -> Result<Option<Packet<'_>>, CaptureError> {
        let Layout::Legacy {
            big_endian,
            nanos,
            linktype,
        } = self.layout
        else {
            unreachable!("next_legacy is only called for pcap layouts")
        };
        if !self.whole_record(16)? {
            return Ok(None);
        }
        let h = &self.input.unread()[..16];
        let caplen = if big_endian {
            u32::from_be_bytes([h[8], h[9], h[10], h[11]])
        } else {
            u32::from_le_bytes([h[8], h[9], h[10], h[11]])
        } as usize;
        if caplen > MAX_RECORD_LEN {
            self.stop(WarningKind::CorruptRecord {
                detail: format!("captured length {caplen} is impossible"),
            });
            return Ok(None);
        }
        if !self.whole_record(16 + caplen)? {
            return Ok(None);
        }
        let input = &self.input.unread()[..16 + caplen];
        let parsed = if big_endian {
            parse_pcap_frame_be(input)
        } else {
            parse_pcap_frame(input)
        };
        let Ok((_, frame)) = parsed else {
            self.stop(WarningKind::CorruptRecord {
                detail: "unparsable pcap record".into(),
            });
            return Ok(None);
        };
        let frac = frame.ts_usec as i64;
        let ts = Timestamp::from_nanos(
            frame.ts_sec as i64 * 1_000_000_000 + if nanos { frac } else { frac * 1000 },
        );
        let orig_len = frame.origlen;
        let index = self.stats.packets;
        self.stats.count_packet(ts, caplen, orig_len, linktype);
        self.consume(16 + caplen);
        Ok(self.hand_out(HandedOut {
            index,
            ts,
            linktype,
            interface: 0,
            consumed: 16 + caplen,
            data_off: 16,
            caplen,
            orig_len,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::reader::CaptureWarning;

    fn pcap_header(be: bool, nanos: bool, linktype: u32) -> Vec<u8> {
        let magic: u32 = if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 };
        let mut v = Vec::new();
        let put32 = |v: &mut Vec<u8>, x: u32| {
            v.extend_from_slice(&if be { x.to_be_bytes() } else { x.to_le_bytes() })
        };
        put32(&mut v, magic);
        let ver: [u8; 4] = if be { [0, 2, 0, 4] } else { [2, 0, 4, 0] };
        v.extend_from_slice(&ver);
        put32(&mut v, 0);
        put32(&mut v, 0);
        put32(&mut v, 65535);
        put32(&mut v, linktype);
        v
    }

    fn record(be: bool, sec: u32, frac: u32, data: &[u8], orig: u32) -> Vec<u8> {
        let mut v = Vec::new();
        for x in [sec, frac, data.len() as u32, orig] {
            v.extend_from_slice(&if be { x.to_be_bytes() } else { x.to_le_bytes() });
        }
        v.extend_from_slice(data);
        v
    }

    #[test]
    fn reads_both_byte_orders_and_resolutions() {
        for be in [false, true] {
            for nanos in [false, true] {
                let mut f = pcap_header(be, nanos, 1);
                f.extend(record(be, 10, 5, b"abc", 3));
                f.extend(record(be, 11, 7, b"defg", 9));
                let mut r = CaptureReader::new(&f[..]).unwrap();
                let p = r.next_packet().unwrap().unwrap();
                assert_eq!(p.data, b"abc");
                let unit = if nanos { 1 } else { 1000 };
                assert_eq!(p.ts.as_nanos(), 10_000_000_000 + 5 * unit);
                let p = r.next_packet().unwrap().unwrap();
                assert_eq!((p.index, p.data, p.orig_len), (1, &b"defg"[..], 9));
                assert!(p.is_truncated());
                assert!(r.next_packet().unwrap().is_none());
                assert_eq!(r.stats().packets, 2);
                assert_eq!(r.stats().truncated_packets, 1);
                assert!(r.warnings().is_empty());
            }
        }
    }

    #[test]
    fn truncated_last_record_is_a_warning() {
        let mut f = pcap_header(false, false, 1);
        f.extend(record(false, 1, 0, b"hello", 5));
        let mut rec = record(false, 2, 0, b"world!", 6);
        rec.truncate(19);
        f.extend(rec);
        let mut r = CaptureReader::new(&f[..]).unwrap();
        assert!(r.next_packet().unwrap().is_some());
        assert!(r.next_packet().unwrap().is_none());
        assert_eq!(
            r.warnings(),
            &[CaptureWarning {
                file: None,
                offset: 24 + 21,
                kind: WarningKind::TruncatedRecord { have: 19 }
            }]
        );
    }

    #[test]
    fn absurd_caplen_stops_without_allocating() {
        let mut f = pcap_header(false, false, 1);
        f.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0]);
        let mut r = CaptureReader::new(&f[..]).unwrap();
        assert!(r.next_packet().unwrap().is_none());
        assert!(matches!(
            r.warnings()[0].kind,
            WarningKind::CorruptRecord { .. }
        ));
    }

    #[test]
    fn records_spanning_buffer_refills_are_read() {
        // More data than the initial buffer, in records of odd sizes.
        let mut f = pcap_header(false, true, 1);
        let payload: Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
        let n = 1000;
        for i in 0..n {
            f.extend(record(false, i, 0, &payload[..(i as usize % 3000)], 3000));
        }
        let mut r = CaptureReader::new(&f[..]).unwrap();
        let mut count = 0;
        while let Some(p) = r.next_packet().unwrap() {
            assert_eq!(p.data, &payload[..(count as usize % 3000)]);
            count += 1;
        }
        assert_eq!(count, n);
    }
}
