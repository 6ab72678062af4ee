//! Mermaid text (`sequenceDiagram`) of a diagram: to paste into Markdown
//! slides, a wiki, GitLab/GitHub or the Mermaid live editor, where it can
//! still be edited by hand.

use std::fmt::Write as _;

use super::sequence::{Diagram, Side, Step, Style};

/// Mermaid text of `diagram`; just the header when there is none.
///
/// The participants are `C` (the client) and `S` (the server).
pub(super) fn render(diagram: Option<&Diagram>) -> String {
    let mut out = String::from("sequenceDiagram\n");
    let Some(d) = diagram else {
        return out;
    };
    for (id, p) in [("C", &d.client), ("S", &d.server)] {
        // `<br/>` is Mermaid's line break inside a box: name above,
        // address below, as on the SVG. Writing to a String cannot fail.
        let _ = writeln!(
            out,
            "    participant {id} as {}<br/>{}",
            mermaid_text(&p.name),
            mermaid_text(&p.addr)
        );
    }
    for step in &d.steps {
        match step {
            Step::Arrow { from, style, text } => {
                let (a, b) = match from {
                    Side::Client => ("C", "S"),
                    Side::Server => ("S", "C"),
                };
                // `->>` is a solid line with an arrowhead, `-->>` a dashed
                // one: dashed for bytes whose content cannot be shown
                // (encrypted, or missing from the capture).
                let arrow = if *style == Style::Faint {
                    "-->>"
                } else {
                    "->>"
                };
                let _ = writeln!(out, "    {a}{arrow}{b}: {}", mermaid_text(text));
            }
            Step::Note(lines) => {
                let text: Vec<String> = lines.iter().map(|l| mermaid_text(l)).collect();
                let _ = writeln!(out, "    Note over C,S: {}", text.join("<br/>"));
            }
        }
    }
    out
}

/// `text` as Mermaid message text.
///
/// Mermaid's grammar ends a message at `#` (a comment) and at `;` (a
/// statement separator), skips `%%` comments even inside a line, and
/// renders `<…>` as HTML (so `<alice@crepes.fr>` would vanish as an
/// unknown tag). Mermaid's own escape is the entity code `#NN;` (decimal
/// code point), replaced after parsing; those characters, and `&` and `"`,
/// are written that way. Base64, `:` and `=` need nothing.
///
/// Two more traps of the Mermaid parser, both on purpose defused with an
/// entity code for one letter:
/// * a text beginning with `wrap:` or `nowrap:` is read as a line-wrapping
///   directive and loses that word;
/// * before the entity codes are decoded, a line matching
///   `style…:…#…;` or `classDef…` loses its last `;` (Mermaid strips it
///   from CSS colour definitions), which would break our own `#59;`.
fn mermaid_text(text: &str) -> String {
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        // An empty message would leave `C->>S: ` with trailing blanks,
        // which editors strip; a no-break space survives.
        return "#160;".to_string();
    }
    let after_colon = trimmed.strip_prefix(':').unwrap_or(trimmed);
    let directive = after_colon.starts_with("wrap:") || after_colon.starts_with("nowrap:");
    let first = text.len() - trimmed.len();
    let mut out = String::with_capacity(text.len() + 8);
    for (i, c) in text.char_indices() {
        match c {
            '#' | ';' | '<' | '>' | '&' | '%' | '"' => {
                let _ = write!(out, "#{};", c as u32);
            }
            _ if i == first && directive => {
                let _ = write!(out, "#{};", c as u32);
            }
            _ => out.push(c),
        }
    }
    out.replace("style", "#115;tyle")
        .replace("classDef", "#99;lassDef")
}

#[cfg(test)]
mod tests {
    use super::super::mermaid;
    use super::super::sequence::examples::{ENGLISH, connection, segment};
    use super::super::sequence::{MAX_LINES_DRAWN, MAX_TCP_DRAWN, Phase, Wording};
    use crate::flow::Direction;

    #[test]
    fn decrypted_and_long_lines() {
        let long = "X".repeat(100);
        let mut conn = connection("crepes.fr", &["AUTH PLAIN AGFsaWNlAHNlY3JldA==", &long]);
        conn.lines[0].decrypted = true;
        let m = mermaid(Some(&conn), &ENGLISH);
        assert!(m.contains("\n    C->>S: [tls] AUTH PLAIN AGFsaWNlAHNlY3JldA==\n"));
        assert!(m.contains(&format!("\n    C->>S: {}…\n", "X".repeat(69))));
    }

    #[test]
    fn hostile_text_is_escaped() {
        let conn = connection(
            "<b>\"evil\"&'co'",
            &[
                "<script>&\"'",
                "S:250 #1; 100%% done",
                "wrap: x",
                "style:a:b#c;",
                "bell\u{7} \u{202E}txt.exe",
                "",
            ],
        );
        let m = mermaid(Some(&conn), &ENGLISH);
        assert!(m.contains(
            "\n    participant C as #60;b#62;#34;evil#34;#38;'co'<br/>127.0.10.1:40000\n"
        ));
        assert!(m.contains("\n    C->>S: #60;script#62;#38;#34;'\n"));
        assert!(m.contains("\n    S->>C: 250 #35;1#59; 100#37;#37; done\n"));
        assert!(m.contains("\n    C->>S: #119;rap: x\n"));
        assert!(m.contains("\n    C->>S: #115;tyle:a:b#35;c#59;\n"));
        assert!(m.contains("\n    C->>S: bell. .txt.exe\n"));
        assert!(m.contains("\n    C->>S: #160;\n"));
        // Outside the participant lines' `<br/>`, no raw character
        // Mermaid would interpret is left in any message.
        for line in m.lines().filter(|l| l.contains("->>")) {
            let text = &line[line.find(": ").unwrap() + 2..];
            let without_entities: String = text
                .split('#')
                .enumerate()
                .map(|(i, piece)| {
                    if i == 0 {
                        piece
                    } else {
                        piece.split_once(';').unwrap().1
                    }
                })
                .collect();
            for c in ['<', '>', '&', '%', '"', ';'] {
                assert!(!without_entities.contains(c), "{c:?} in {line:?}");
            }
        }
    }

    #[test]
    fn huge_connections_are_cut_and_say_so_in_the_given_words() {
        let lines = vec!["NOOP"; MAX_LINES_DRAWN + 50];
        let conn = connection("crepes.fr", &lines);
        let en = mermaid(Some(&conn), &ENGLISH);
        assert_eq!(en.matches("C->>S: NOOP\n").count(), MAX_LINES_DRAWN);
        assert!(en.contains(
            "\n    Note over C,S: SMTP 25<br/>Lines: 450 · TCP packets: 0 (handshake and close drawn)\n"
        ));
        assert!(en.ends_with("    C->>S: NOOP\n    Note over C,S: Lines not drawn: 50\n"));
        let words = Wording {
            lines_not_drawn: "Líneas no dibujadas: {}",
            ..ENGLISH
        };
        let es = mermaid(Some(&conn), &words);
        assert!(es.ends_with("    Note over C,S: Líneas no dibujadas: 50\n"));
    }

    #[test]
    fn a_half_close_draws_only_the_acks_of_the_fins() {
        use Direction::{ClientToServer as C2S, ServerToClient as S2C};
        let mut conn = connection("crepes.fr", &[]);
        conn.segments = vec![
            segment(1.0, C2S, Phase::Close, "FA"),
            segment(1.1, S2C, Phase::Close, "A"),
            // The server still sends (data, not drawn); the client
            // acknowledges each piece.
            segment(1.3, C2S, Phase::Close, "A"),
            segment(1.5, C2S, Phase::Close, "A"),
            segment(1.6, S2C, Phase::Close, "FA"),
            segment(1.7, C2S, Phase::Close, "A"),
        ];
        let m = mermaid(Some(&conn), &ENGLISH);
        assert!(
            m.ends_with(
                "(handshake and close drawn)\n    C->>S: FIN, ACK\n    S->>C: ACK\n    S->>C: FIN, ACK\n    C->>S: ACK\n"
            ),
            "{m}"
        );
    }

    #[test]
    fn a_reset_storm_is_cut() {
        let mut conn = connection("crepes.fr", &[]);
        conn.segments = (0..MAX_TCP_DRAWN + 6)
            .map(|i| segment(i as f64, Direction::ServerToClient, Phase::Reset, "R"))
            .collect();
        let m = mermaid(Some(&conn), &ENGLISH);
        assert_eq!(m.matches("S->>C: RST\n").count(), MAX_TCP_DRAWN);
        assert!(m.ends_with(
            "    S->>C: RST\n    Note over C,S: TCP handshake and close packets not drawn: 6\n"
        ));
    }

    #[test]
    fn no_connection_is_an_empty_diagram() {
        assert_eq!(mermaid(None, &ENGLISH), "sequenceDiagram\n");
    }
}
