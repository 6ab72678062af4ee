//! A finished picture of a diagram, for any slide program: one
//! standalone SVG 1.1 file, no fonts or scripts fetched from anywhere.

use std::fmt::Write as _;

use super::sequence::{Diagram, Participant, Side, Step, Style};

/// Font size in pixels: large enough to read from the back of a room.
const FONT: i64 = 15;
/// Width of one monospace character: 0.6 em is what DejaVu Sans Mono,
/// Menlo and Consolas all measure, so text widths can be computed
/// without a font (an SVG file cannot measure its own text).
const CHAR_W: i64 = FONT * 6 / 10;
const MARGIN: i64 = 24;
const BOX_H: i64 = 52;
/// Height of one arrow row: its label above, the arrow below.
const ROW: i64 = 38;
const NOTE_LINE: i64 = 20;
/// How far a note reaches past the lifelines.
const NOTE_OVERHANG: i64 = 24;
const LEGEND_ROW: i64 = 24;

/// Client → server: blue; server → client: dark orange. Blue and orange
/// stay apart for colour-blind readers (unlike red and green), and both
/// keep a 4.5:1 contrast on white, also on a washed-out projector.
const C2S: &str = "#1d4ed8";
const S2C: &str = "#b45309";
const GREY: &str = "#6b7280";
const INK: &str = "#1f2937";

fn text_width(text: &str) -> i64 {
    text.chars().count() as i64 * CHAR_W
}

pub(super) fn render(d: &Diagram, faint_legend: &str) -> String {
    // Horizontal layout: the two lifelines far enough apart for the
    // longest arrow label, the boxes and the notes.
    let box_w = |p: &Participant| (text_width(&p.name).max(text_width(&p.addr)) + 32).max(160);
    let (box_c, box_s) = (box_w(&d.client), box_w(&d.server));
    let mut span = ((box_c + box_s) / 2 + 60).max(360);
    for step in &d.steps {
        match step {
            Step::Arrow { text, .. } => span = span.max(text_width(text) + 48),
            Step::Note(lines) => {
                for l in lines {
                    span = span.max(text_width(l) + 32 - 2 * NOTE_OVERHANG);
                }
            }
        }
    }
    let cx = MARGIN + (box_c / 2).max(NOTE_OVERHANG);
    let sx = cx + span;
    let legend = [
        (C2S, false, format!("{} → {}", d.client.name, d.server.name)),
        (S2C, false, format!("{} → {}", d.server.name, d.client.name)),
        (GREY, true, faint_legend.to_string()),
    ];
    let legend_w = legend
        .iter()
        .map(|(_, _, t)| 56 + text_width(t))
        .max()
        .unwrap_or(0);
    let width = (sx + (box_s / 2).max(NOTE_OVERHANG) + MARGIN).max(legend_w + 2 * MARGIN);
    let mid = (cx + sx) / 2;

    // Vertical layout: one row per step, the body written as we go.
    let mut body = String::new();
    let life_top = MARGIN + BOX_H;
    let mut y = life_top + 16;
    for step in &d.steps {
        match step {
            Step::Arrow { from, style, text } => {
                let (x1, x2) = match from {
                    Side::Client => (cx, sx),
                    Side::Server => (sx, cx),
                };
                let (colour, head) = match (style, from) {
                    (Style::Faint, _) => (GREY, "head-grey"),
                    (_, Side::Client) => (C2S, "head-c2s"),
                    (_, Side::Server) => (S2C, "head-s2c"),
                };
                let dash = if *style == Style::Faint {
                    r#" stroke-dasharray="8 5""#
                } else {
                    ""
                };
                let weight = if *style == Style::Tcp {
                    r#" font-weight="bold""#
                } else {
                    ""
                };
                let _ = writeln!(
                    body,
                    r#"<text x="{mid}" y="{}" text-anchor="middle" fill="{colour}"{weight} xml:space="preserve">{}</text>"#,
                    y + 16,
                    xml_text(text)
                );
                let _ = writeln!(
                    body,
                    r#"<line x1="{x1}" y1="{ay}" x2="{x2}" y2="{ay}" stroke="{colour}" stroke-width="2"{dash} marker-end="url(#{head})"/>"#,
                    ay = y + 26
                );
                y += ROW;
            }
            Step::Note(lines) => {
                let h = lines.len() as i64 * NOTE_LINE + 14;
                let _ = writeln!(
                    body,
                    "<rect x=\"{}\" y=\"{y}\" width=\"{}\" height=\"{h}\" rx=\"4\" fill=\"#fef9c3\" stroke=\"#a16207\"/>",
                    cx - NOTE_OVERHANG,
                    span + 2 * NOTE_OVERHANG
                );
                for (i, l) in lines.iter().enumerate() {
                    // The first line of a note is its heading.
                    let weight = if i == 0 && lines.len() > 1 {
                        r#" font-weight="bold""#
                    } else {
                        ""
                    };
                    let _ = writeln!(
                        body,
                        r#"<text x="{mid}" y="{}" text-anchor="middle" fill="{INK}"{weight} xml:space="preserve">{}</text>"#,
                        y + 7 + FONT + i as i64 * NOTE_LINE,
                        xml_text(l)
                    );
                }
                y += h + 12;
            }
        }
    }
    let life_bottom = y + 8;
    // The boxes again at the bottom, as Mermaid and the textbooks draw
    // them: on a long diagram the top is far away.
    for top in [MARGIN, life_bottom] {
        for (p, x, w) in [(&d.client, cx, box_c), (&d.server, sx, box_s)] {
            let _ = writeln!(
                body,
                "<rect x=\"{}\" y=\"{top}\" width=\"{w}\" height=\"{BOX_H}\" rx=\"6\" fill=\"#f3f4f6\" stroke=\"#374151\" stroke-width=\"1.5\"/>",
                x - w / 2
            );
            let _ = writeln!(
                body,
                r#"<text x="{x}" y="{}" text-anchor="middle" fill="{INK}" font-weight="bold">{}</text>"#,
                top + 21,
                xml_text(&p.name)
            );
            let _ = writeln!(
                body,
                r#"<text x="{x}" y="{}" text-anchor="middle" fill="{INK}">{}</text>"#,
                top + 41,
                xml_text(&p.addr)
            );
        }
    }
    let mut ly = life_bottom + BOX_H + 20;
    for (colour, dashed, text) in &legend {
        let dash = if *dashed {
            r#" stroke-dasharray="8 5""#
        } else {
            ""
        };
        let head = match *colour {
            C2S => "head-c2s",
            S2C => "head-s2c",
            _ => "head-grey",
        };
        let _ = writeln!(
            body,
            r#"<line x1="{MARGIN}" y1="{y0}" x2="{}" y2="{y0}" stroke="{colour}" stroke-width="2"{dash} marker-end="url(#{head})"/>"#,
            MARGIN + 44,
            y0 = ly + 10
        );
        let _ = writeln!(
            body,
            r#"<text x="{}" y="{}" fill="{INK}">{}</text>"#,
            MARGIN + 56,
            ly + 15,
            xml_text(text)
        );
        ly += LEGEND_ROW;
    }
    let height = ly + MARGIN;

    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{width}" height="{height}" viewBox="0 0 {width} {height}">"#
    );
    let _ = writeln!(out, "<title>{}</title>", xml_text(&d.title));
    // One arrowhead per colour: SVG 1.1 markers cannot take the colour of
    // the line they end (that is SVG 2's `context-stroke`).
    out.push_str("<defs>\n");
    for (id, colour) in [("head-c2s", C2S), ("head-s2c", S2C), ("head-grey", GREY)] {
        let _ = writeln!(
            out,
            r#"<marker id="{id}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="12" markerHeight="12" markerUnits="userSpaceOnUse" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>"#
        );
    }
    out.push_str("</defs>\n");
    // A white sheet: a transparent background vanishes on dark slides.
    let _ = writeln!(
        out,
        "<rect x=\"0\" y=\"0\" width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>"
    );
    let _ = writeln!(
        out,
        r#"<g font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="{FONT}">"#
    );
    // Lifelines first, so arrows and notes are drawn over them.
    for x in [cx, sx] {
        let _ = writeln!(
            out,
            "<line x1=\"{x}\" y1=\"{life_top}\" x2=\"{x}\" y2=\"{life_bottom}\" stroke=\"#9ca3af\" stroke-width=\"1.5\" stroke-dasharray=\"4 4\"/>"
        );
    }
    out.push_str(&body);
    out.push_str("</g>\n</svg>\n");
    out
}

/// `text` safe inside an XML element or a quoted attribute: the five
/// characters XML gives a meaning to become entity references. (Characters
/// XML forbids outright were removed when the diagram was built.)
fn xml_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::sequence::examples::{ENGLISH, connection};
    use super::super::sequence::{MAX_LINES_DRAWN, Wording};
    use super::super::svg;
    use super::*;

    /// Fails unless `svg` is well-formed XML, as Python's own parser
    /// (expat) reads it: the test does not trust a hand-written check.
    pub(crate) fn assert_well_formed(svg: &str) {
        use std::io::Write;
        use std::process::{Command, Stdio};
        let mut child = Command::new("python3")
            .args([
                "-c",
                "import sys,xml.dom.minidom; d = xml.dom.minidom.parseString(sys.stdin.buffer.read()); \
                 assert d.documentElement.tagName == 'svg'",
            ])
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(svg.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "not well-formed XML: {}\n{svg}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    #[test]
    fn the_svg_grows_with_the_lines() {
        let height = |n: usize| {
            let lines = vec!["NOOP"; n];
            let s = svg(Some(&connection("crepes.fr", &lines)), &ENGLISH);
            let h = s.split("height=\"").nth(1).unwrap();
            h[..h.find('"').unwrap()].parse::<i64>().unwrap()
        };
        assert_eq!(height(20) - height(10), 10 * ROW);
    }

    #[test]
    fn hostile_text_is_escaped() {
        let conn = connection(
            "<b>\"evil\"&'co'",
            &["<script>&\"'", "bell\u{7} \u{202E}txt.exe", ""],
        );
        let s = svg(Some(&conn), &ENGLISH);
        assert_well_formed(&s);
        assert!(s.contains(">&lt;script&gt;&amp;&quot;&apos;</text>"));
        assert!(s.contains(">&lt;b&gt;&quot;evil&quot;&amp;&apos;co&apos;</text>"));
        assert!(!s.contains("<script"));
        assert!(!s.contains('\u{7}') && !s.contains('\u{202E}'));
    }

    #[test]
    fn a_cut_is_said_in_the_given_words() {
        let lines = vec!["NOOP"; MAX_LINES_DRAWN + 50];
        let words = Wording {
            lines_not_drawn: "Líneas no dibujadas: {}",
            faint_legend: "bytes cifrados o ausentes",
            ..ENGLISH
        };
        let s = svg(Some(&connection("crepes.fr", &lines)), &words);
        assert_well_formed(&s);
        assert!(s.contains(">Líneas no dibujadas: 50</text>"));
        assert!(s.contains(">bytes cifrados o ausentes</text>"));
    }

    #[test]
    fn no_connection_is_still_a_picture() {
        assert_well_formed(&svg(None, &ENGLISH));
    }
}
