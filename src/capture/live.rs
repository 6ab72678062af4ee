//! Live capture from a network interface through libpcap (cargo feature
//! `live`; needs libpcap-dev to build and the right to capture to run).

use std::net::SocketAddr;

use super::{Packet, Timestamp};

/// The default capture filter: every mail port of the course (RFC 5321,
/// 6409, 8314, 1939, 9051) plus the usual alternative submission port.
pub const MAIL_PORTS_FILTER: &str = "tcp and (port 25 or port 465 or port 587 or port 2525 or port 110 or port 995 or port 143 or port 993)";

#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error(
        "no permission to capture on {interface}: run as root, or allow the binary once with `sudo setcap cap_net_raw,cap_net_admin=eip {exe}` ({detail})"
    )]
    Permission {
        interface: String,
        exe: String,
        detail: String,
    },
    #[error("cannot capture on {interface}: {detail}")]
    Open { interface: String, detail: String },
    #[error("bad capture filter {filter:?}: {detail}")]
    Filter { filter: String, detail: String },
    #[error("capture failed: {0}")]
    Read(String),
}

/// An open live capture.
pub struct LiveCapture {
    cap: pcap::Capture<pcap::Active>,
    linktype: u16,
    index: u64,
}

impl LiveCapture {
    pub fn open(interface: &str, filter: &str) -> Result<Self, LiveError> {
        let inactive = pcap::Capture::from_device(interface).map_err(|e| LiveError::Open {
            interface: interface.to_string(),
            detail: e.to_string(),
        })?;
        let mut cap = inactive
            .snaplen(262_144)
            // 16 MiB of kernel ring: bursts on loopback (the demo at full
            // speed) overflow the default 2 MiB and lose packets.
            .buffer_size(16 * 1024 * 1024)
            .immediate_mode(true)
            .timeout(250)
            .open()
            .map_err(|e| classify_open_error(interface, e))?;
        cap.filter(filter, true).map_err(|e| LiveError::Filter {
            filter: filter.to_string(),
            detail: e.to_string(),
        })?;
        let linktype = (cap.get_datalink().0 & 0xffff) as u16;
        Ok(LiveCapture {
            cap,
            linktype,
            index: 0,
        })
    }

    /// Packets the kernel dropped because the capture could not keep up,
    /// and packets the interface driver dropped (libpcap's `pcap_stats`).
    pub fn dropped(&mut self) -> Option<(u32, u32)> {
        self.cap.stats().ok().map(|s| (s.dropped, s.if_dropped))
    }

    pub fn linktype(&self) -> u16 {
        self.linktype
    }

    /// Waits for the next packet; `Ok(None)` when the read timed out (so the
    /// caller can check for Ctrl-C and try again).
    pub fn next_packet(&mut self) -> Result<Option<Packet<'_>>, LiveError> {
        match self.cap.next_packet() {
            Ok(p) => {
                // time_t and suseconds_t are i64 here but narrower on some
                // platforms, hence the (here useless) conversions.
                #[allow(clippy::useless_conversion)]
                let ts = Timestamp::from_nanos(
                    i64::from(p.header.ts.tv_sec) * 1_000_000_000
                        + i64::from(p.header.ts.tv_usec) * 1000,
                );
                let index = self.index;
                self.index += 1;
                Ok(Some(Packet {
                    index,
                    ts,
                    linktype: self.linktype,
                    interface: 0,
                    data: p.data,
                    orig_len: p.header.len,
                }))
            }
            Err(pcap::Error::TimeoutExpired) => Ok(None),
            Err(e) => Err(LiveError::Read(e.to_string())),
        }
    }
}

fn classify_open_error(interface: &str, e: pcap::Error) -> LiveError {
    let detail = e.to_string();
    let lower = detail.to_lowercase();
    if lower.contains("permission") || lower.contains("not permitted") {
        LiveError::Permission {
            interface: interface.to_string(),
            exe: std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| "mailscope".into()),
            detail,
        }
    } else {
        LiveError::Open {
            interface: interface.to_string(),
            detail,
        }
    }
}

/// For display: "client → server".
pub fn describe(client: SocketAddr, server: SocketAddr) -> String {
    format!("{client} → {server}")
}
