//! The "Export the sequence diagram" button's half of the work: the
//! selected connection of the scene, as the plain [`Connection`] that
//! `crate::report::diagram` draws as Mermaid text and as an SVG picture,
//! the diagram's few words in the window's language, and the two files
//! written.

use std::io;
use std::path::{Path, PathBuf};

use super::i18n::Lang;
use super::model::{Phase, Scene};
use crate::report::diagram::sequence::{self, Connection, Endpoint, Segment, Wording};

/// Mermaid `sequenceDiagram` text of connection `conn` of `scene` (an
/// empty diagram when there is no such connection: the window may ask
/// about a connection of a capture it has just replaced).
pub fn mermaid(scene: &Scene, conn: usize, lang: Lang) -> String {
    crate::report::diagram::mermaid(connection(scene, conn).as_ref(), &wording(lang))
}

/// A standalone SVG document of the same diagram.
pub fn svg(scene: &Scene, conn: usize, lang: Lang) -> String {
    crate::report::diagram::svg(connection(scene, conn).as_ref(), &wording(lang))
}

/// Why the diagram files could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// No folder given and the current one is unknown (deleted, say).
    #[error(transparent)]
    CurrentDir(io::Error),
    #[error("{}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
}

/// Writes `<capture>-flow<N>.svg` and `.mmd` into `dir` (default: the
/// current folder); returns both paths.
pub fn save_diagram(
    scene: &Scene,
    conn: usize,
    lang: Lang,
    capture: Option<&Path>,
    dir: Option<PathBuf>,
) -> Result<String, ExportError> {
    let stem = capture
        .and_then(|p| p.file_stem())
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "capture".into());
    let dir = match dir {
        Some(d) => d,
        None => std::env::current_dir().map_err(ExportError::CurrentDir)?,
    };
    let base = dir.join(format!("{stem}-flow{}", scene.conns[conn].flow));
    let svg_path = base.with_extension("svg");
    let mmd_path = base.with_extension("mmd");
    let write = |path: &Path, text: String| {
        std::fs::write(path, text).map_err(|source| ExportError::Write {
            path: path.to_path_buf(),
            source,
        })
    };
    write(&svg_path, svg(scene, conn, lang))?;
    write(&mmd_path, mermaid(scene, conn, lang))?;
    Ok(format!("{} / {}", svg_path.display(), mmd_path.display()))
}

/// Connection `conn` of `scene` as the diagram needs it, or None when
/// there is no such connection.
fn connection(scene: &Scene, conn: usize) -> Option<Connection> {
    let c = scene.conns.get(conn)?;
    let endpoint = |host: usize, addr: std::net::SocketAddr| Endpoint {
        // The scene names every host; the address is only a fallback.
        name: scene
            .hosts
            .get(host)
            .map_or_else(|| addr.ip().to_string(), |h| h.name.clone()),
        addr,
    };
    // Only the segments that open or close the connection are drawn.
    let segments = u32::try_from(conn).map_or_else(
        |_| Vec::new(),
        |conn| {
            let of_conn = scene.packets.iter().filter(|p| p.conn == conn);
            of_conn
                .filter_map(|p| {
                    let phase = match p.phase {
                        Phase::Handshake => sequence::Phase::Handshake,
                        Phase::Close => sequence::Phase::Close,
                        Phase::Reset => sequence::Phase::Reset,
                        Phase::Data | Phase::Ack => return None,
                    };
                    let (t, dir, flags) = (p.t, p.dir, p.flags);
                    Some(Segment {
                        t,
                        dir,
                        phase,
                        flags,
                    })
                })
                .collect()
        },
    );
    let lines = c.lines.iter().filter_map(|&i| scene.lines.get(i));
    Some(Connection {
        label: c.label(),
        client: endpoint(c.client_host, c.client),
        server: endpoint(c.server_host, c.server),
        packets: c.packets,
        segments,
        lines: lines
            .map(|l| sequence::Line {
                t: l.t,
                dir: l.dir,
                kind: l.kind,
                text: l.text.clone(),
                decrypted: l.decrypted,
            })
            .collect(),
    })
}

/// The diagram's own words in `lang`.
fn wording(lang: Lang) -> Wording {
    Wording {
        counts: lang.t("Lines: {} · TCP packets: {} (handshake and close drawn)"),
        lines_not_drawn: lang.t("Lines not drawn: {}"),
        tcp_not_drawn: lang.t("TCP handshake and close packets not drawn: {}"),
        faint_legend: lang.t("encrypted or missing bytes"),
    }
}

/// (English, Spanish) for the strings only the export shows, sorted by
/// the English text (the i18n test checks the order and that no string
/// is also in another table).
pub(super) const SPANISH: &[(&str, &str)] = &[
    ("Lines not drawn: {}", "Líneas no dibujadas: {}"),
    (
        "Lines: {} · TCP packets: {} (handshake and close drawn)",
        "Líneas: {} · paquetes TCP: {} (se dibujan el saludo y el cierre)",
    ),
    (
        "TCP handshake and close packets not drawn: {}",
        "Paquetes TCP de saludo y cierre no dibujados: {}",
    ),
    ("encrypted or missing bytes", "bytes cifrados o ausentes"),
];

#[cfg(test)]
mod tests {
    use super::super::loader::{LoadOptions, analyze};
    use super::*;
    use crate::report::diagram::assert_well_formed;

    fn capture(name: &str) -> Scene {
        let path = format!("{}/captures/{name}", env!("CARGO_MANIFEST_DIR"));
        analyze(
            std::path::Path::new(&path),
            &LoadOptions::default(),
            |_, _| {},
        )
        .unwrap()
    }

    fn crepes() -> Scene {
        capture("smtp-crepes-hamburger.pcapng")
    }

    #[test]
    fn the_textbook_session_in_mermaid() {
        let m = mermaid(&crepes(), 0, Lang::En);
        let expected = "\
sequenceDiagram
    participant C as crepes.fr<br/>10.0.0.1:1035
    participant S as hamburger.edu<br/>10.0.0.2:25
    Note over C,S: SMTP 25<br/>Lines: 14 · TCP packets: 35 (handshake and close drawn)
    C->>S: SYN
    S->>C: SYN, ACK
    C->>S: ACK
    S->>C: 220 hamburger.edu
    C->>S: HELO crepes.fr
    S->>C: 250 Hello crepes.fr, pleased to meet you
    C->>S: MAIL FROM: #60;alice@crepes.fr#62;
    S->>C: 250 alice@crepes.fr ... Sender ok
    C->>S: RCPT TO: #60;bob@hamburger.edu#62;
    S->>C: 250 bob@hamburger.edu ... Recipient ok
    C->>S: DATA
    S->>C: 354 Enter mail, end with #34;.#34; on a line by itself
    C->>S: [message: 218 bytes, 8 lines, Subject: Searching for the meaning of l…
    C->>S: .
    S->>C: 250 Message accepted for delivery
    C->>S: QUIT
    S->>C: 221 hamburger.edu closing connection
    C->>S: FIN, ACK
    S->>C: ACK
    S->>C: FIN, ACK
    C->>S: ACK
";
        assert_eq!(m, expected);
        // The handshake comes before the greeting, and none of the
        // sixteen bare data ACKs of the capture is drawn.
        let at = |s: &str| m.find(s).unwrap();
        assert!(at("C->>S: SYN\n") < at("S->>C: SYN, ACK\n"));
        assert!(at("S->>C: SYN, ACK\n") < at("C->>S: ACK\n"));
        assert!(at("C->>S: ACK\n") < at("S->>C: 220 hamburger.edu\n"));
        assert_eq!(m.matches(": ACK\n").count(), 3);
    }

    #[test]
    fn the_textbook_session_in_svg() {
        let s = svg(&crepes(), 0, Lang::En);
        assert!(s.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "));
        assert_well_formed(&s);
        assert!(s.contains("<title>SMTP 25: crepes.fr → hamburger.edu</title>"));
        assert!(s.contains(">HELO crepes.fr</text>"));
        assert!(s.contains(">MAIL FROM: &lt;alice@crepes.fr&gt;</text>"));
        assert!(s.contains(">10.0.0.1:1035</text>"));
        // 7 TCP arrows + 14 lines, each with an arrowhead, + 3 in the legend.
        assert_eq!(s.matches("marker-end=").count(), 7 + 14 + 3);
        // The TCP labels are bold: 4 from the client (blue), 3 from the
        // server (orange).
        assert_eq!(
            s.matches("fill=\"#1d4ed8\" font-weight=\"bold\"").count(),
            4
        );
        assert_eq!(
            s.matches("fill=\"#b45309\" font-weight=\"bold\"").count(),
            3
        );
        // No external resource of any kind.
        assert!(!s.contains("href"));
        assert!(!s.contains("<script"));
    }

    #[test]
    fn encrypted_lines_are_dashed() {
        let m = mermaid(&capture("tls-implicit-465.pcapng"), 0, Lang::En);
        assert!(m.contains("\n    Note over C,S: SMTP 465 (TLS)<br/>"));
        assert!(m.contains("\n    C-->>S: [TLS: 100 bytes encrypted]\n"));
        assert!(m.contains("\n    S-->>C: [TLS: 63 bytes encrypted]\n"));
        assert_eq!(m.matches("-->>").count(), 8);
        let s = svg(&capture("tls-implicit-465.pcapng"), 0, Lang::En);
        assert_well_formed(&s);
        assert_eq!(s.matches("stroke-dasharray=\"8 5\"").count(), 8 + 1);
    }

    #[test]
    fn a_reset_is_drawn() {
        let m = mermaid(&capture("tcp-rst.pcapng"), 0, Lang::En);
        assert!(
            m.ends_with("    S->>C: 250 2.1.5 Ok\n    C->>S: RST, ACK\n"),
            "{m}"
        );
    }

    /// The window's language reaches the diagram's own words; the
    /// protocol's words stay as they were.
    #[test]
    fn the_diagram_speaks_the_window_language() {
        let m = mermaid(&crepes(), 0, Lang::Es);
        assert!(m.contains(
            "\n    Note over C,S: SMTP 25<br/>Líneas: 14 · paquetes TCP: 35 (se dibujan el saludo y el cierre)\n"
        ));
        assert!(m.contains("\n    C->>S: HELO crepes.fr\n"));
        let s = svg(&crepes(), 0, Lang::Es);
        assert_well_formed(&s);
        assert!(s.contains(">bytes cifrados o ausentes</text>"));
    }

    #[test]
    fn no_such_connection() {
        assert_eq!(mermaid(&Scene::default(), 3, Lang::En), "sequenceDiagram\n");
        assert_well_formed(&svg(&Scene::default(), 3, Lang::En));
    }
}
