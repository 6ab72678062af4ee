//! `mailscope demo`: run the Alice → Bob path, print its transcript, write
//! the capture.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use super::Failure;
use mailscope::proto::TlsMode;
use mailscope::world::agents::{ATTACHMENT, ATTACHMENT_NAME};
use mailscope::world::demo::{self, Attack, Defence, DemoOptions, ReadWith};
use mailscope::world::topology;

/// The flags of `mailscope demo`.
#[derive(clap::Args, Debug)]
pub(crate) struct DemoArgs {
    /// How the user agents protect their connections: none (the lesson
    /// on eavesdropping), starttls (587/110/143 with STARTTLS/STLS) or
    /// implicit (465/995/993).
    #[arg(long, value_enum, default_value = "starttls")]
    tls: TlsArg,
    /// How Bob reads his mail.
    #[arg(long, value_enum, default_value = "pop3")]
    read: ReadArg,
    /// Where to write the capture.
    #[arg(short = 'w', long = "write", default_value = "alice-to-bob.pcapng")]
    write: PathBuf,
    /// Pace of the user agents: 1 = a step every 150 ms, 2 = twice as
    /// fast, 0 = no pauses (default 1; with --gui, a step a second,
    /// to narrate).
    #[arg(long)]
    speed: Option<f64>,
    /// First three bytes of the hosts' loopback addresses.
    #[arg(long, default_value = "127.0.10")]
    net: String,
    /// Ports: standard, offset, offset=N, or service=port,… (smtp,
    /// submission, smtps, pop3, pop3s, imap, imaps, dns, https).
    #[arg(long)]
    ports: Option<String>,
    /// POP3: leave the message on the server.
    #[arg(long)]
    keep: bool,
    /// Also write the TLS key log (SSLKEYLOGFILE format) to this file.
    #[arg(long)]
    keylog: Option<PathBuf>,
    /// Record the real loopback traffic through libpcap instead of the
    /// socket taps (feature `live`, root or cap_net_raw).
    #[arg(long)]
    capture_lo: bool,
    /// Alice's domain (her mail server's name).
    #[arg(long, default_value = "crepes.fr")]
    alice_domain: String,
    /// Bob's domain (his mail server's name).
    #[arg(long, default_value = "hamburger.edu")]
    bob_domain: String,
    /// Use only this TLS cipher suite, by its IANA name: one of TLS 1.3's
    /// (TLS_AES_128_GCM_SHA256, …) or TLS 1.2's ECDHE_ECDSA AEAD suites
    /// (TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, …), which also picks
    /// the TLS version.
    #[arg(long)]
    cipher: Option<String>,
    /// Open the classroom window and follow the demo live while it
    /// records; the capture can be replayed afterwards.
    #[arg(long)]
    gui: bool,
    /// crepes.fr relays for anyone: Alice's agent hands it the message
    /// on port 25 without authenticating (the lesson on open relays;
    /// `analyze` shows an `open-relay` finding).
    #[arg(long)]
    open_relay: bool,
    /// An attack lesson: Eve (eve.example) sits on the path from
    /// crepes.fr to hamburger.edu. eavesdrop: she only listens, and where
    /// STARTTLS is used sees only TLS records. strip-starttls: she blanks
    /// STARTTLS out of the EHLO reply, so the relay goes in clear and she
    /// reads the message (`analyze` shows `starttls-stripped`).
    #[arg(long, value_enum)]
    attack: Option<AttackArg>,
    /// A defence: mta-sts: hamburger.edu publishes an MTA-STS policy in
    /// enforce mode (a TXT record and a policy over HTTPS, RFC 8461) and
    /// crepes.fr applies it, so it delivers only over TLS; against
    /// strip-starttls the message stays queued at crepes.fr.
    #[arg(long, value_enum)]
    defend: Option<DefenceArg>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum AttackArg {
    Eavesdrop,
    StripStarttls,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum DefenceArg {
    MtaSts,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum TlsArg {
    None,
    Starttls,
    Implicit,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum ReadArg {
    Pop3,
    Imap,
}

impl DemoArgs {
    /// The demo the flags ask for, or a usage error (exit code 2) on a
    /// domain, address, suite or port plan that does not parse.
    fn options(&self) -> Result<DemoOptions, Failure> {
        let usage = |m: String| Failure {
            code: 2,
            message: m,
        };
        for d in [&self.alice_domain, &self.bob_domain] {
            topology::check_domain(d).map_err(usage)?;
        }
        let speed = self.speed.unwrap_or(if self.gui {
            super::gui::narrated_speed()
        } else {
            1.0
        });
        if self.alice_domain.eq_ignore_ascii_case(&self.bob_domain) {
            return Err(usage("Alice and Bob need two different domains".into()));
        }
        let net = topology::parse_net(&self.net).map_err(usage)?;
        let tls_suite = self
            .cipher
            .as_deref()
            .map(mailscope::world::tls::suite_by_name)
            .transpose()
            .map_err(usage)?;
        let ports = match &self.ports {
            Some(spec) => {
                let mut p = topology::PortPlan::standard();
                p.apply(spec).map_err(usage)?;
                Some(p)
            }
            None => None,
        };
        Ok(DemoOptions {
            tls: match self.tls {
                TlsArg::None => TlsMode::None,
                TlsArg::Starttls => TlsMode::Starttls,
                TlsArg::Implicit => TlsMode::Implicit,
            },
            read: match self.read {
                ReadArg::Pop3 => ReadWith::Pop3,
                ReadArg::Imap => ReadWith::Imap,
            },
            speed,
            net,
            ports,
            keep: self.keep,
            alice_domain: self.alice_domain.clone(),
            bob_domain: self.bob_domain.clone(),
            tls_suite,
            open_relay: self.open_relay,
            attack: self.attack.map(|a| match a {
                AttackArg::Eavesdrop => Attack::Eavesdrop,
                AttackArg::StripStarttls => Attack::StripStarttls,
            }),
            defend: self.defend.map(|d| match d {
                DefenceArg::MtaSts => Defence::MtaSts,
            }),
        })
    }
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::input(format!("cannot start the async runtime: {e}")))
}

/// The first attachment of a message and its SHA-256.
fn attachment_of(message: &[u8]) -> Option<(String, Vec<u8>)> {
    use mail_parser::MimeHeaders;
    let parsed = mail_parser::MessageParser::default().parse(message)?;
    let att = parsed.attachment(0)?;
    Some((
        att.attachment_name().unwrap_or("").to_string(),
        att.contents().to_vec(),
    ))
}

pub fn run(args: &DemoArgs, quiet: bool) -> Result<(), Failure> {
    let opts = args.options()?;
    if args.gui {
        return super::gui::demo(opts, &args.write);
    }
    #[cfg(not(feature = "live"))]
    if args.capture_lo {
        return Err(Failure {
            code: 2,
            message: "--capture-lo needs libpcap: rebuild with `cargo build --release --features live` and run as root"
                .into(),
        });
    }
    #[cfg(feature = "live")]
    let lo = if args.capture_lo {
        Some(loopback::Recording::start(opts.net)?)
    } else {
        None
    };
    let rt = runtime()?;
    let report = rt
        .block_on(demo::run(&opts))
        .map_err(|e| Failure::input(format!("the demo failed: {e}")))?;
    let mut out = std::io::stdout().lock();
    out.write_all(report.transcript.as_bytes())?;

    let key_log = report.world.key_log();
    let file = File::create(&args.write)
        .map_err(|e| Failure::input(format!("cannot create {}: {e}", args.write.display())))?;
    let mut w = BufWriter::new(file);
    #[cfg(feature = "live")]
    let packets = match lo {
        Some(lo) => lo.finish(&mut w, &report.world, &key_log)?,
        None => report.world.recorder.write_pcapng(&mut w, &key_log)?,
    };
    #[cfg(not(feature = "live"))]
    let packets = report.world.recorder.write_pcapng(&mut w, &key_log)?;
    w.flush()?;
    if let Some(path) = &args.keylog {
        std::fs::write(path, &key_log)
            .map_err(|e| Failure::input(format!("cannot write {}: {e}", path.display())))?;
    }

    let secrets = key_log.lines().count();
    if let Some(why) = &report.held {
        if !quiet {
            writeln!(out)?;
            writeln!(out, "Alice's server answered: {}", report.submit_reply)?;
            writeln!(
                out,
                "crepes.fr did not deliver the message and keeps it queued (it will retry, then return it to Alice): {why}"
            )?;
            eve_summary(&mut out, &report)?;
            writeln!(
                out,
                "Capture written to {} ({packets} packets). Try: mailscope analyze {}",
                args.write.display(),
                args.write.display()
            )?;
        }
        // A defence that holds the message back is the lesson, not a
        // failure; without one, a held message is.
        return match args.defend {
            Some(_) => Ok(()),
            None => Err(Failure::input(format!(
                "the message was not delivered: {why}"
            ))),
        };
    }
    let received = attachment_of(&report.received);
    let intact = received
        .as_ref()
        .is_some_and(|(name, bytes)| name == ATTACHMENT_NAME && bytes == ATTACHMENT);
    let hops = memchr::memmem::find_iter(&report.received, b"Received: ").count();
    if !quiet {
        writeln!(out)?;
        writeln!(out, "Alice's server answered: {}", report.submit_reply)?;
        writeln!(
            out,
            "Bob received {} bytes; Received: headers (one per server hop): {hops}",
            report.received.len()
        )?;
        match &received {
            Some((name, bytes)) => writeln!(
                out,
                "Attachment {name}: {} bytes, sha256 {}{}",
                bytes.len(),
                mailscope::mail::sha256_hex(bytes),
                if intact {
                    ", identical to what Alice sent"
                } else {
                    ", DIFFERENT from what Alice sent"
                }
            )?,
            None => writeln!(
                out,
                "Bob's copy has no attachment: it was damaged on the way"
            )?,
        }
        if args.attack.is_some() {
            eve_summary(&mut out, &report)?;
        }
        writeln!(
            out,
            "Capture written to {} ({packets} packets{}). Try: mailscope dialog {}",
            args.write.display(),
            if secrets > 0 {
                format!(", {secrets} TLS secrets embedded so Wireshark can decrypt it")
            } else {
                String::new()
            },
            args.write.display()
        )?;
    }
    if !intact {
        return Err(Failure::input("the message did not arrive intact"));
    }
    Ok(())
}

/// What Eve got out of the attack, in one line: the messages she read in
/// clear, and whether they are the message crepes.fr relayed.
fn eve_summary(out: &mut impl Write, report: &demo::DemoReport) -> std::io::Result<()> {
    let name = mailscope::world::topology::EVE_NAME;
    if report.eve_read.is_empty() {
        let why = match report.held {
            Some(_) => "crepes.fr would not send it in clear",
            None => "the relay was encrypted",
        };
        return writeln!(out, "Eve ({name}) read no message: {why}");
    }
    for m in &report.eve_read {
        let same = m.ends_with(&report.sent);
        writeln!(
            out,
            "Eve ({name}) read a message in clear on the path: {} bytes, sha256 {}{}",
            m.len(),
            mailscope::mail::sha256_hex(m),
            if same {
                ", Alice's message with crepes.fr's Received: line"
            } else {
                ""
            }
        )?;
    }
    Ok(())
}

/// `--capture-lo`: the real packets of the loopback interface, through
/// libpcap, instead of frames synthesized from the socket taps. Needs root
/// (or cap_net_raw). The packets are kept in memory and written at the end,
/// after the name table and the key log, so that a reader has the secrets
/// before the first TLS record.
#[cfg(feature = "live")]
mod loopback {
    use std::io::Write;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::thread::JoinHandle;

    use super::Failure;
    use mailscope::capture::live::{LiveCapture, LiveError};
    use mailscope::capture::writer::PcapNgWriter;
    use mailscope::world::running::World;

    /// Link type, packets, and the kernel's drop count.
    type Captured = (u16, Vec<(u64, Vec<u8>, u32)>, u32);

    pub struct Recording {
        stop: Arc<AtomicBool>,
        thread: JoinHandle<Result<Captured, LiveError>>,
        net: [u8; 3],
    }

    impl Recording {
        pub fn start(net: [u8; 3]) -> Result<Recording, Failure> {
            let filter = format!("net {}.{}.{}.0/24", net[0], net[1], net[2]);
            let mut live = LiveCapture::open("lo", &filter).map_err(Failure::input)?;
            let stop = Arc::new(AtomicBool::new(false));
            let flag = stop.clone();
            let thread = std::thread::spawn(move || {
                let linktype = live.linktype();
                let mut packets = Vec::new();
                while !flag.load(Ordering::SeqCst) {
                    if let Some(p) = live.next_packet()?
                        && !flag.load(Ordering::SeqCst)
                    {
                        packets.push((p.ts.as_nanos().max(0) as u64, p.data.to_vec(), p.orig_len));
                    }
                }
                let dropped = live.dropped().map_or(0, |(k, i)| k + i);
                Ok((linktype, packets, dropped))
            });
            Ok(Recording { stop, thread, net })
        }

        pub fn finish(
            self,
            out: impl Write,
            world: &World,
            key_log: &str,
        ) -> Result<usize, Failure> {
            // Let the last FIN/ACKs reach the capture.
            std::thread::sleep(std::time::Duration::from_millis(300));
            self.stop.store(true, Ordering::SeqCst);
            // libpcap may wait for a packet in spite of its timeout (Linux
            // TPACKET_V3 with immediate mode): send one datagram it will see,
            // which the thread drops because the stop flag is set.
            let [a, b, c] = self.net;
            let poke = std::net::SocketAddr::from(([a, b, c, 254], 9));
            if let Ok(sock) =
                std::net::UdpSocket::bind(std::net::SocketAddr::from(([a, b, c, 254], 0)))
            {
                let _ = sock.send_to(b"stop", poke);
            }
            let (linktype, packets, dropped) = self
                .thread
                .join()
                .map_err(|_| Failure::input("the capture thread failed"))?
                .map_err(Failure::input)?;
            let mut w = PcapNgWriter::new(out)?;
            let names = world.recorder.names();
            let entries: Vec<(std::net::IpAddr, &str)> =
                names.iter().map(|(a, n)| (*a, n.as_str())).collect();
            if !entries.is_empty() {
                w.write_name_resolution(&entries)?;
            }
            if !key_log.is_empty() {
                w.write_decryption_secrets(key_log.as_bytes())?;
            }
            if dropped > 0 {
                eprintln!(
                    "warning: the kernel dropped {dropped} packet(s) the capture could not keep up with; \
                     the capture has holes (try a lower --speed)"
                );
            }
            let lo = w.add_interface(linktype, 262_144, Some("lo"))?;
            for (ts, data, orig_len) in &packets {
                w.write_packet_truncated(lo, *ts, data, *orig_len)?;
            }
            w.flush()?;
            Ok(packets.len())
        }
    }
}
