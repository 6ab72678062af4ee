//! The textbook transcript of a flow (`mailscope dialog`):
//!
//! ```text
//! == flow 0: 10.0.0.1:1035 → 10.0.0.2:25 smtp ==
//! S: 220 hamburger.edu
//! C: HELO crepes.fr
//! …
//! ```

use std::io::{self, Write};

use crate::analysis::FlowAnalysis;
use crate::flow::Direction;

pub fn write_transcript(out: &mut impl Write, a: &FlowAnalysis) -> io::Result<()> {
    let s = &a.summary;
    let tls = match a.verdict.tls {
        crate::proto::TlsMode::None => String::new(),
        mode => format!(", TLS {}", mode.as_str()),
    };
    writeln!(
        out,
        "== flow {}: {} → {} {}{tls} ==",
        s.id,
        s.client,
        s.server,
        a.verdict.protocol.as_str()
    )?;
    for line in &a.dialogue.transcript {
        let who = match line.dir {
            Direction::ClientToServer => "C",
            Direction::ServerToClient => "S",
        };
        // Lines read from decrypted TLS are marked: on the wire they were
        // encrypted records.
        let mark = if line.tls.is_some() { "[tls] " } else { "" };
        writeln!(out, "{mark}{who}: {}", line.text)?;
    }
    if let Some(t) = &a.tls {
        // What the handshake tells anyone on the path, in clear.
        writeln!(
            out,
            "   [TLS handshake seen in clear: {}, cipher {}, server name {}; {} + {} records]",
            t.version.as_deref().unwrap_or("version not seen"),
            t.cipher.as_deref().unwrap_or("not seen"),
            t.sni.as_deref().unwrap_or("not sent"),
            t.records_c2s,
            t.records_s2c
        )?;
        let opened = t.decrypted_records_c2s + t.decrypted_records_s2c;
        if opened > 0 {
            writeln!(
                out,
                "   [TLS decrypted with the key log: {} + {} records opened; lines marked [tls] travelled encrypted]",
                t.decrypted_records_c2s, t.decrypted_records_s2c
            )?;
        }
    }
    if a.dialogue.transcript.is_empty() {
        writeln!(out, "   (no mail dialogue: {})", a.verdict.reason)?;
    }
    Ok(())
}
