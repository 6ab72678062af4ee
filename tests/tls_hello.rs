//! The TLS tracker over real captures: the hellos of implicit-TLS and
//! STARTTLS flows give the version, server name and cipher that Zeek's
//! `ssl.log` and nDPI's reports list for the same bytes.
//!
//! Each flow's reassembled bytes go straight to a [`TlsTracker`] (no mail
//! parser in between), from the point where TLS starts: byte 0 on the
//! implicit-TLS ports (465, 993, 995), else the first piece of each
//! direction that starts like a TLS record (after the plaintext STARTTLS
//! dialogue).
//!
//! Record counts are not in the baselines: they were read from the bytes
//! (every record header in each direction's reassembled stream, as
//! `tshark -T fields -e tcp.payload` shows them), which is what the test
//! asserts.

mod common;

use std::path::Path;

use common::{own_captures_dir, shared_captures_dir};
use mailscope::analysis::Pipeline;
use mailscope::flow::{Direction, Piece, StreamEvent, StreamHandler};
use mailscope::proto::tls::{TlsSummary, TlsTracker, looks_like_handshake, looks_like_record};

/// Feeds one flow's bytes to a tracker from where TLS starts.
struct TlsFeeder {
    tracker: TlsTracker,
    /// Implicit TLS: every byte is TLS.
    implicit: bool,
    /// Per direction: TLS has started.
    started: [bool; 2],
}

impl StreamHandler for TlsFeeder {
    fn on_event(&mut self, dir: Direction, event: StreamEvent<'_>) {
        let started = &mut self.started[dir.index()];
        match event {
            StreamEvent::Data(Piece { bytes, .. }) => {
                if !*started {
                    *started = self.implicit
                        || looks_like_handshake(bytes)
                        || looks_like_record(bytes, None);
                }
                if *started {
                    self.tracker.feed(dir, bytes);
                }
            }
            StreamEvent::Gap { len, .. } => {
                if *started {
                    self.tracker.gap(dir, len);
                }
            }
        }
    }
}

/// The TLS summary of every flow of `path`, with the flow's client port.
fn tls_of(path: &Path) -> Vec<(u16, TlsSummary)> {
    let mut pipeline = Pipeline::open(path, Default::default())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut flows = Vec::new();
    pipeline
        .run(
            |_, _, server| TlsFeeder {
                tracker: TlsTracker::default(),
                implicit: matches!(server.port(), 465 | 993 | 995),
                started: [false; 2],
            },
            |f| {
                let s = f.handler.tracker.summary().clone();
                flows.push((f.summary.client.port(), s));
            },
        )
        .unwrap();
    flows
}

/// What one flow's handshake must show.
struct Expected {
    capture: &'static str,
    client_port: u16,
    records: (u64, u64),
    version: Option<&'static str>,
    sni: Option<&'static str>,
    cipher: Option<&'static str>,
    client_legacy_version: &'static str,
    client_versions: &'static [&'static str],
}

fn check(dir: &Path, e: &Expected) -> Result<(), String> {
    let path = dir.join(e.capture);
    let flows = tls_of(&path);
    let Some((_, t)) = flows.iter().find(|(port, _)| *port == e.client_port) else {
        return Err(format!(
            "{}: no flow from client port {}",
            e.capture, e.client_port
        ));
    };
    let got = (
        (t.records_c2s, t.records_s2c),
        t.version.as_deref(),
        t.sni.as_deref(),
        t.cipher.as_deref(),
        t.client_legacy_version.as_deref(),
        t.client_versions
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    let want = (
        e.records,
        e.version,
        e.sni,
        e.cipher,
        Some(e.client_legacy_version),
        e.client_versions.to_vec(),
    );
    // None of these captures negotiates ALPN, retries the hello, sends a
    // plaintext alert or loses bytes (their closing alerts come after
    // ChangeCipherSpec, encrypted).
    let quiet = t.alpn.is_empty()
        && !t.hello_retry
        && t.alerts == 0
        && t.first_alert.is_none()
        && t.gaps == 0;
    if got != want || !quiet {
        return Err(format!(
            "{} client port {}:\n  got  {got:?}\n  want {want:?}\n  {t:?}",
            e.capture, e.client_port
        ));
    }
    Ok(())
}

/// The project's own fixture (captures/README.md: TLS 1.2, SNI
/// hamburger.edu).
#[test]
fn own_implicit_tls_fixture() {
    let e = Expected {
        capture: "tls-implicit-465.pcapng",
        client_port: 1036,
        records: (6, 7),
        version: Some("TLS 1.2"),
        sni: Some("hamburger.edu"),
        cipher: Some("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
        client_legacy_version: "TLS 1.2",
        client_versions: &[],
    };
    check(&own_captures_dir(), &e).unwrap();
}

const TLS_1_3_TO_1_0: &[&str] = &["TLS 1.3", "TLS 1.2", "TLS 1.1", "TLS 1.0"];

/// Zeek ssl.log (version, cipher, server_name), nDPI .out (TLS version,
/// Hostname/SNI, Cipher) and, for the two suricata-verify captures whose
/// checks say nothing about TLS, the bytes themselves.
const SHARED: &[Expected] = &[
    // Zeek ssl.log: TLSv12, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, no
    // server_name.
    Expected {
        capture: "zeek/smtp-starttls/smtp-starttls.pcap",
        client_port: 54170,
        records: (8, 10),
        version: Some("TLS 1.2"),
        sni: None,
        cipher: Some("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
        client_legacy_version: "TLS 1.2",
        client_versions: &[],
    },
    // Zeek ssl.log: TLSv12, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384.
    Expected {
        capture: "zeek/imap-starttls/imap-starttls.pcap",
        client_port: 49640,
        records: (6, 8),
        version: Some("TLS 1.2"),
        sni: None,
        cipher: Some("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
        client_legacy_version: "TLS 1.2",
        client_versions: &[],
    },
    // Zeek ssl.log: TLSv12, TLS_DHE_RSA_WITH_AES_256_GCM_SHA384. The
    // server's first record holds five handshake messages.
    Expected {
        capture: "zeek/pop3-starttls/pop3-starttls.pcap",
        client_port: 54775,
        records: (8, 9),
        version: Some("TLS 1.2"),
        sni: None,
        cipher: Some("TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"),
        client_legacy_version: "TLS 1.2",
        client_versions: &[],
    },
    // nDPI: TLSv1.2, Cipher TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, "Missing
    // SNI TLS Extn" (its ServerNames imap.gmx.net,imap.gmx.de come from the
    // certificate, not from the client). Same file as Zeek's.
    Expected {
        capture: "ndpi/imap-starttls/imap-starttls.pcap",
        client_port: 49640,
        records: (6, 8),
        version: Some("TLS 1.2"),
        sni: None,
        cipher: Some("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
        client_legacy_version: "TLS 1.2",
        client_versions: &[],
    },
    // nDPI: TLSv1.2 and "Missing SNI TLS Extn", no cipher. The server
    // answered the ClientHello with a plaintext "220 ... ESMTP Exim" banner,
    // so there is no ServerHello and no negotiated version: nDPI's TLSv1.2
    // is the ClientHello's legacy_version, which the bytes give as
    // client_legacy_version, not as `version`.
    Expected {
        capture: "ndpi/smtps/smtps.pcapng",
        client_port: 37682,
        records: (1, 0),
        version: None,
        sni: None,
        cipher: None,
        client_legacy_version: "TLS 1.2",
        client_versions: &[],
    },
    // nDPI flow 1: SNI mail.ntop.org, TLSv1.2,
    // TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384.
    Expected {
        capture: "ndpi/imaps/imaps.pcap",
        client_port: 50506,
        records: (5, 8),
        version: Some("TLS 1.2"),
        sni: Some("mail.ntop.org"),
        cipher: Some("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
        client_legacy_version: "TLS 1.2",
        client_versions: &[],
    },
    // nDPI flow 2: SNI imap.asia.secureserver.net, "TLS Supported Versions:
    // GREASE;TLSv1.3;TLSv1.2;TLSv1.1;TLSv1" (GREASE is no version), TLSv1.2,
    // TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384. The capture ends inside the
    // server's second record.
    Expected {
        capture: "ndpi/imaps/imaps.pcap",
        client_port: 51529,
        records: (1, 2),
        version: Some("TLS 1.2"),
        sni: Some("imap.asia.secureserver.net"),
        cipher: Some("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
        client_legacy_version: "TLS 1.2",
        client_versions: TLS_1_3_TO_1_0,
    },
    // nDPI: SNI pop.secureserver.net, TLSv1.2,
    // TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384.
    Expected {
        capture: "ndpi/pops/pops.pcapng",
        client_port: 55077,
        records: (1, 2),
        version: Some("TLS 1.2"),
        sni: Some("pop.secureserver.net"),
        cipher: Some("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"),
        client_legacy_version: "TLS 1.2",
        client_versions: &[],
    },
    // suricata-verify checks only that one direction was seen
    // (APPLAYER_DETECT_PROTOCOL_ONLY_ONE_DIRECTION): the bytes hold a lone
    // ClientHello without SNI.
    Expected {
        capture: "suricata-verify/smtp-tls-protodetect/input.pcap",
        client_port: 62353,
        records: (1, 0),
        version: None,
        sni: None,
        cipher: None,
        client_legacy_version: "TLS 1.2",
        client_versions: &[],
    },
    // suricata-verify checks only the SMTP event; the bytes: TLS 1.3 with
    // TLS_AES_256_GCM_SHA384 (ServerHello supported_versions 0x0304, legacy
    // version 0x0303), then only ChangeCipherSpec and application data.
    Expected {
        capture: "suricata-verify/smtp-startssl/input.pcap",
        client_port: 34634,
        records: (7, 11),
        version: Some("TLS 1.3"),
        sni: None,
        cipher: Some("TLS_AES_256_GCM_SHA384"),
        client_legacy_version: "TLS 1.2",
        client_versions: TLS_1_3_TO_1_0,
    },
];

#[test]
fn shared_captures_hellos() {
    let Some(dir) = shared_captures_dir() else {
        eprintln!("skipped: ../shared/captures is absent");
        return;
    };
    let failures: Vec<String> = SHARED.iter().filter_map(|e| check(&dir, e).err()).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
