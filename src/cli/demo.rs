//! `mailscope demo`: run the Alice → Bob path, print its transcript, write
//! the capture.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use super::Failure;
use crate::proto::TlsMode;
use crate::world::agents::{ATTACHMENT, ATTACHMENT_NAME};
use crate::world::demo::{self, DemoOptions, ReadWith};

pub struct DemoArgs<'a> {
    pub tls: TlsMode,
    pub read: ReadWith,
    pub write: &'a Path,
    pub speed: f64,
    pub net: [u8; 3],
    pub ports: Option<crate::world::topology::PortPlan>,
    pub keep: bool,
    pub keylog: Option<&'a Path>,
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

pub fn run(args: DemoArgs<'_>, quiet: bool) -> Result<(), Failure> {
    let opts = DemoOptions {
        tls: args.tls,
        read: args.read,
        speed: args.speed,
        net: args.net,
        ports: args.ports,
        keep: args.keep,
    };
    let rt = runtime()?;
    let report = rt
        .block_on(demo::run(&opts))
        .map_err(|e| Failure::input(format!("the demo failed: {e}")))?;
    let mut out = std::io::stdout().lock();
    out.write_all(report.transcript.as_bytes())?;

    let key_log = report.world.key_log();
    let file = File::create(args.write)
        .map_err(|e| Failure::input(format!("cannot create {}: {e}", args.write.display())))?;
    let mut w = BufWriter::new(file);
    let packets = report.world.recorder.write_pcapng(&mut w, &key_log)?;
    w.flush()?;
    if let Some(path) = args.keylog {
        std::fs::write(path, &key_log)
            .map_err(|e| Failure::input(format!("cannot write {}: {e}", path.display())))?;
    }

    let secrets = key_log.lines().count();
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
                crate::mail::sha256_hex(bytes),
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
