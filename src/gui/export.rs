//! One connection as a sequence diagram, for the teacher's slides.
//!
//! A sequence diagram is how textbooks draw a protocol: one vertical
//! lifeline per machine, time flowing down, one arrow per message. This
//! module draws a connection of the capture that way, in two formats:
//!
//! * [`mermaid`]: Mermaid text (`sequenceDiagram`), to paste into Markdown
//!   slides, a wiki, GitLab/GitHub or the Mermaid live editor, where it
//!   can still be edited by hand;
//! * [`svg`]: a finished picture (one standalone SVG 1.1 file, no fonts or
//!   scripts fetched from anywhere) for any slide program.
//!
//! Both are drawn from the same `Diagram`, built once by `diagram`, so
//! the two formats can never disagree about what happened: the renderers
//! only decide how it looks.
//!
//! What is drawn, in capture-time order:
//!
//! * the TCP segments that open and close the connection (`SYN`,
//!   `SYN, ACK`, `ACK`; `FIN, ACK` and the `ACK` answering each FIN; `RST`),
//!   because those are the three phases the course teaches;
//! * the textbook transcript (`C:` lines as client → server arrows, `S:`
//!   lines as server → client arrows). The data segments and their bare
//!   acknowledgements are *not* drawn one by one: a session has hundreds
//!   and the transcript lines already stand for what they carried.
//!
//! Everything that came from the capture is hostile until proven
//! otherwise (a host name or a command line can contain anything), so it
//! is cleaned once (`clean`) and escaped for each format (`mermaid_text`,
//! `xml_text`); the tests feed both renderers `<script>`-style text.

use std::fmt::Write as _;
use std::net::SocketAddr;

use super::i18n::Lang;
use super::model::{Line, Phase, Pkt, Scene};
use crate::capture::decode::TcpFlags;
use crate::flow::Direction;
use crate::trace::LineKind;

/// Transcript lines drawn at most. A long IMAP session has thousands;
/// beyond a few hundred a slide is unreadable anyway, and the Mermaid
/// renderer slows to a crawl. A note says how many were left out.
pub const MAX_LINES_DRAWN: usize = 400;
/// Handshake and close segments drawn at most (a normal connection has
/// seven; more means retransmitted SYNs or a RST storm).
pub const MAX_TCP_DRAWN: usize = 64;
/// Characters of a line's text on an arrow; longer text ends in `…`.
/// 70 monospace characters still fit on one arrow of a 16:9 slide.
pub const MAX_TEXT_CHARS: usize = 70;
/// Characters of a host name in a participant's box.
const MAX_NAME_CHARS: usize = 40;

/// Mermaid `sequenceDiagram` text of connection `conn` of `scene`.
///
/// The participants are `C` (the client) and `S` (the server); a
/// connection index out of range gives an empty diagram rather than a
/// panic, because the window may ask about a connection of a capture it
/// has just replaced.
pub fn mermaid(scene: &Scene, conn: usize, lang: Lang) -> String {
    let mut out = String::from("sequenceDiagram\n");
    let Some(d) = diagram(scene, conn, lang) else {
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

/// A standalone SVG document of the same diagram.
///
/// The picture is sized to its content: wider when the longest text needs
/// it, taller with every arrow, so nothing is ever cut off.
pub fn svg(scene: &Scene, conn: usize, lang: Lang) -> String {
    let d = diagram(scene, conn, lang).unwrap_or_else(|| Diagram {
        title: String::new(),
        client: Participant::default(),
        server: Participant::default(),
        steps: Vec::new(),
    });
    draw_svg(&d, lang)
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

// ---------------------------------------------------------------------
// The diagram, independent of any format.

/// Which lifeline an arrow starts from (it always ends on the other one:
/// a connection has exactly two ends).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Client,
    Server,
}

impl Side {
    fn of(dir: Direction) -> Side {
        match dir {
            Direction::ClientToServer => Side::Client,
            Direction::ServerToClient => Side::Server,
        }
    }
}

/// How an arrow is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Style {
    /// A TCP segment of the handshake or the close (label in bold on the
    /// SVG: it is TCP talking, not the mail protocol).
    Tcp,
    /// A transcript line read in clear (or decrypted with a key log).
    Line,
    /// Encrypted bytes, or bytes missing from the capture: dashed grey,
    /// because their content is unknown.
    Faint,
}

/// One row of the diagram.
#[derive(Clone, Debug, PartialEq)]
enum Step {
    Arrow {
        from: Side,
        style: Style,
        text: String,
    },
    /// A note across both lifelines; one string per text line.
    Note(Vec<String>),
}

/// One end of the connection: its host name and `address:port`.
#[derive(Clone, Debug, Default)]
struct Participant {
    name: String,
    addr: String,
}

/// What both formats draw. All texts are already [`clean`]ed and
/// shortened, but not yet escaped (each format escapes differently).
#[derive(Clone, Debug)]
struct Diagram {
    /// `SMTP 25: crepes.fr → hamburger.edu`, for the SVG's `<title>`.
    title: String,
    client: Participant,
    server: Participant,
    steps: Vec<Step>,
}

/// Builds the diagram of connection `conn`, or `None` when there is no
/// such connection.
fn diagram(scene: &Scene, conn: usize, lang: Lang) -> Option<Diagram> {
    let c = scene.conns.get(conn)?;
    let participant = |host: usize, addr: SocketAddr| {
        // The scene names every host; the address is only a fallback.
        let name = scene
            .hosts
            .get(host)
            .map_or_else(|| addr.ip().to_string(), |h| h.name.clone());
        Participant {
            name: shorten(&clean(&name), MAX_NAME_CHARS),
            addr: addr.to_string(),
        }
    };
    let client = participant(c.client_host, c.client);
    let server = participant(c.server_host, c.server);
    let label = clean(&c.label());

    // The TCP segments and the transcript lines, each already in time
    // order, merged by time. When a segment and a line share a timestamp
    // (the packet that completes a line is also a data segment), the
    // handshake comes first and the close last: a SYN cannot carry a
    // line, and a FIN carrying data ends the line it carries.
    let mut rows: Vec<(f64, u8, Row)> = Vec::new();
    for (p, text) in tcp_segments(scene, conn) {
        let rank = if p.phase == Phase::Handshake { 0 } else { 2 };
        rows.push((p.t, rank, Row::Tcp(Side::of(p.dir), text)));
    }
    for &i in &c.lines {
        if let Some(line) = scene.lines.get(i) {
            rows.push((line.t, 1, Row::Line(line)));
        }
    }
    // A stable sort keeps the capture's order between equal keys.
    rows.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));

    let mut steps = vec![Step::Note(vec![
        label.clone(),
        lang.f2(
            "Lines: {} · TCP packets: {} (handshake and close drawn)",
            c.lines.len(),
            c.packets,
        ),
    ])];
    // What was left out is said where it was left out, so an arrow after
    // the note (the close, typically) is not mistaken for the next line.
    let mut lines_cut = Cut::default();
    let mut tcp_cut = Cut::default();
    for (_, _, row) in rows {
        match row {
            Row::Tcp(from, text) => {
                if tcp_cut.drawn < MAX_TCP_DRAWN {
                    tcp_cut.drawn += 1;
                    steps.push(Step::Arrow {
                        from,
                        style: Style::Tcp,
                        text,
                    });
                } else {
                    tcp_cut.leave_out(&mut steps);
                }
            }
            Row::Line(line) => {
                if lines_cut.drawn < MAX_LINES_DRAWN {
                    lines_cut.drawn += 1;
                    steps.push(line_arrow(line));
                } else {
                    lines_cut.leave_out(&mut steps);
                }
            }
        }
    }
    lines_cut.say(
        &mut steps,
        lang.f("Lines not drawn: {}", lines_cut.left_out),
    );
    tcp_cut.say(
        &mut steps,
        lang.f(
            "TCP handshake and close packets not drawn: {}",
            tcp_cut.left_out,
        ),
    );

    Some(Diagram {
        title: format!("{label}: {} → {}", client.name, server.name),
        client,
        server,
        steps,
    })
}

/// A row before the caps are applied.
enum Row<'a> {
    Tcp(Side, String),
    Line(&'a Line),
}

/// Counts what a cap left out, and where the note about it goes.
#[derive(Default)]
struct Cut {
    drawn: usize,
    left_out: usize,
    /// Index in the steps of the note, reserved at the first row left out.
    note: Option<usize>,
}

impl Cut {
    fn leave_out(&mut self, steps: &mut Vec<Step>) {
        if self.note.is_none() {
            self.note = Some(steps.len());
            steps.push(Step::Note(Vec::new()));
        }
        self.left_out += 1;
    }

    /// Writes the note's text once the count is known.
    fn say(&self, steps: &mut [Step], text: String) {
        if let Some(i) = self.note {
            steps[i] = Step::Note(vec![text]);
        }
    }
}

/// The segments of connection `conn` worth an arrow, with their labels.
///
/// Every handshake and RST segment, and every FIN, are drawn. After a FIN
/// the peer's bare ACKs are in the `Close` phase too; only the first one
/// after each FIN is drawn (the ACK *of* that FIN, as the textbook's
/// four-way close shows it), or a half-closed connection still receiving
/// data would draw hundreds of them.
fn tcp_segments(scene: &Scene, conn: usize) -> Vec<(&Pkt, String)> {
    let Ok(conn) = u32::try_from(conn) else {
        return Vec::new();
    };
    // owes_ack[d]: direction d has not yet acknowledged the peer's FIN.
    let mut owes_ack = [false; 2];
    let mut out = Vec::new();
    for p in scene.packets.iter().filter(|p| p.conn == conn) {
        let draw = match p.phase {
            Phase::Handshake | Phase::Reset => true,
            Phase::Close if p.flags.fin => {
                owes_ack[p.dir.reverse().index()] = true;
                // A FIN, ACK also acknowledges what the peer sent,
                // its FIN included (the three-way close).
                if p.flags.ack {
                    owes_ack[p.dir.index()] = false;
                }
                true
            }
            Phase::Close => std::mem::take(&mut owes_ack[p.dir.index()]),
            Phase::Data | Phase::Ack => false,
        };
        let label = flags_label(p.flags);
        if draw && !label.is_empty() {
            out.push((p, label));
        }
    }
    out
}

/// `SYN, ACK`, `FIN, ACK`, `RST`: the flags set, named and ordered as
/// Wireshark's packet list writes them, so students recognise them.
fn flags_label(f: TcpFlags) -> String {
    [
        (f.syn, "SYN"),
        (f.fin, "FIN"),
        (f.rst, "RST"),
        (f.psh, "PSH"),
        (f.ack, "ACK"),
    ]
    .iter()
    .filter(|(set, _)| *set)
    .map(|(_, name)| *name)
    .collect::<Vec<_>>()
    .join(", ")
}

/// The arrow of one transcript line. Its text is the protocol's own
/// (never translated); `[tls] ` marks what was read inside TLS with a key
/// log, so nobody believes it crossed the wire in clear.
fn line_arrow(line: &Line) -> Step {
    let style = match line.kind {
        LineKind::Tls | LineKind::Gap => Style::Faint,
        LineKind::Command | LineKind::Reply | LineKind::Data => Style::Line,
    };
    let mut text = shorten(&clean(&line.text), MAX_TEXT_CHARS);
    if line.decrypted {
        text.insert_str(0, "[tls] ");
    }
    Step::Arrow {
        from: Side::of(line.dir),
        style,
        text,
    }
}

// ---------------------------------------------------------------------
// Text from the capture: cleaning, shortening, escaping.

/// `text` with everything that must not reach a slide replaced by `.`
/// (the transcript's own convention for control characters): control
/// characters (an arrow label is one line, and XML 1.0 forbids most of
/// them even escaped), the two non-characters XML forbids, and the
/// Unicode bidi controls, which can make a line *display* backwards
/// (`U+202E`, the "Trojan Source" trick). Tabs become spaces.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t' => ' ',
            '\u{FFFE}' | '\u{FFFF}' => '.',
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' => '.',
            '\u{2066}'..='\u{2069}' => '.',
            c if c.is_control() => '.',
            c => c,
        })
        .collect()
}

/// At most `max` characters: longer text keeps its first `max - 1` and
/// ends in `…`, so the reader sees that something was cut.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
    s.push('…');
    s
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

/// `text` safe inside an XML element or a quoted attribute: the five
/// characters XML gives a meaning to become entity references. (Characters
/// XML forbids outright were removed by [`clean`].)
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

// ---------------------------------------------------------------------
// The SVG picture.

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

fn draw_svg(d: &Diagram, lang: Lang) -> String {
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
        (GREY, true, lang.t("encrypted or missing bytes").to_string()),
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

#[cfg(test)]
mod tests {
    use super::super::loader::{LoadOptions, analyze};
    use super::super::model::{Conn, Host, Role};
    use super::*;
    use crate::proto::Protocol;

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

    /// Fails unless `svg` is well-formed XML, as Python's own parser
    /// (expat) reads it: the test does not trust a hand-written check.
    fn assert_well_formed(svg: &str) {
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

    /// A one-connection scene with the given lines (all client to server
    /// unless they start with `S:`), no packets.
    fn scene_with(host: &str, lines: &[&str]) -> Scene {
        let client: SocketAddr = "127.0.10.1:40000".parse().unwrap();
        let server: SocketAddr = "127.0.10.2:25".parse().unwrap();
        let host_at = |addr: SocketAddr, name: &str, role| Host {
            addr: addr.ip(),
            name: name.to_string(),
            role,
            column: 0,
            row: 0,
            bytes: 0,
        };
        let mut scene = Scene {
            hosts: vec![
                host_at(client, host, Role::UserAgent),
                host_at(server, "hamburger.edu", Role::MailServer),
            ],
            ..Scene::default()
        };
        for (i, text) in lines.iter().enumerate() {
            let (dir, text) = match text.strip_prefix("S:") {
                Some(t) => (Direction::ServerToClient, t),
                None => (Direction::ClientToServer, *text),
            };
            scene.lines.push(Line {
                conn: 0,
                t: i as f64,
                dir,
                kind: LineKind::Command,
                text: text.to_string(),
                packets: Vec::new(),
                decrypted: false,
                span: None,
            });
        }
        scene.conns.push(Conn {
            flow: 0,
            client,
            server,
            client_host: 0,
            server_host: 1,
            protocol: Protocol::Smtp,
            tls: None,
            start: 0.0,
            end: lines.len() as f64,
            packets: 0,
            bytes: [0, 0],
            stream_base: [None; 2],
            messages: Vec::new(),
            credentials: Vec::new(),
            findings: Vec::new(),
            lines: (0..lines.len()).collect(),
            helo: None,
        });
        scene
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
    fn the_svg_grows_with_the_lines() {
        let height = |n: usize| {
            let lines = vec!["NOOP"; n];
            let s = svg(&scene_with("crepes.fr", &lines), 0, Lang::En);
            let h = s.split("height=\"").nth(1).unwrap();
            h[..h.find('"').unwrap()].parse::<i64>().unwrap()
        };
        assert_eq!(height(20) - height(10), 10 * ROW);
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

    #[test]
    fn decrypted_and_long_lines() {
        let long = "X".repeat(100);
        let mut scene = scene_with("crepes.fr", &["AUTH PLAIN AGFsaWNlAHNlY3JldA==", &long]);
        scene.lines[0].decrypted = true;
        let m = mermaid(&scene, 0, Lang::En);
        assert!(m.contains("\n    C->>S: [tls] AUTH PLAIN AGFsaWNlAHNlY3JldA==\n"));
        assert!(m.contains(&format!("\n    C->>S: {}…\n", "X".repeat(69))));
    }

    #[test]
    fn hostile_text_is_escaped() {
        let scene = scene_with(
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
        let m = mermaid(&scene, 0, Lang::En);
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

        let s = svg(&scene, 0, Lang::En);
        assert_well_formed(&s);
        assert!(s.contains(">&lt;script&gt;&amp;&quot;&apos;</text>"));
        assert!(s.contains(">&lt;b&gt;&quot;evil&quot;&amp;&apos;co&apos;</text>"));
        assert!(!s.contains("<script"));
        assert!(!s.contains('\u{7}') && !s.contains('\u{202E}'));
    }

    #[test]
    fn huge_connections_are_cut_and_say_so_in_spanish() {
        let lines = vec!["NOOP"; MAX_LINES_DRAWN + 50];
        let scene = scene_with("crepes.fr", &lines);
        let en = mermaid(&scene, 0, Lang::En);
        assert_eq!(en.matches("C->>S: NOOP\n").count(), MAX_LINES_DRAWN);
        assert!(en.ends_with("    C->>S: NOOP\n    Note over C,S: Lines not drawn: 50\n"));

        let es = mermaid(&scene, 0, Lang::Es);
        assert!(es.contains(
            "\n    Note over C,S: SMTP 25<br/>Líneas: 450 · paquetes TCP: 0 (se dibujan el saludo y el cierre)\n"
        ));
        assert!(es.ends_with("    Note over C,S: Líneas no dibujadas: 50\n"));
        let s = svg(&scene, 0, Lang::Es);
        assert_well_formed(&s);
        assert!(s.contains(">Líneas no dibujadas: 50</text>"));
        assert!(s.contains(">bytes cifrados o ausentes</text>"));
    }

    /// A packet of connection 0 for hand-built scenes.
    fn pkt(t: f64, dir: Direction, phase: Phase, flags: &str, len: u32) -> Pkt {
        Pkt {
            index: (t * 10.0) as u64,
            t,
            conn: 0,
            dir,
            phase,
            flags: TcpFlags {
                syn: flags.contains('S'),
                ack: flags.contains('A'),
                fin: flags.contains('F'),
                rst: flags.contains('R'),
                psh: flags.contains('P'),
            },
            seq: 0,
            len,
        }
    }

    #[test]
    fn a_half_close_draws_only_the_acks_of_the_fins() {
        use Direction::{ClientToServer as C2S, ServerToClient as S2C};
        let mut scene = scene_with("crepes.fr", &[]);
        scene.packets = vec![
            pkt(1.0, C2S, Phase::Close, "FA", 0),
            pkt(1.1, S2C, Phase::Close, "A", 0),
            // The server still sends; the client acknowledges each piece.
            pkt(1.2, S2C, Phase::Data, "PA", 500),
            pkt(1.3, C2S, Phase::Close, "A", 0),
            pkt(1.4, S2C, Phase::Data, "PA", 500),
            pkt(1.5, C2S, Phase::Close, "A", 0),
            pkt(1.6, S2C, Phase::Close, "FA", 0),
            pkt(1.7, C2S, Phase::Close, "A", 0),
        ];
        let m = mermaid(&scene, 0, Lang::En);
        assert!(
            m.ends_with(
                "(handshake and close drawn)\n    C->>S: FIN, ACK\n    S->>C: ACK\n    S->>C: FIN, ACK\n    C->>S: ACK\n"
            ),
            "{m}"
        );
    }

    #[test]
    fn a_reset_storm_is_cut() {
        let mut scene = scene_with("crepes.fr", &[]);
        scene.packets = (0..MAX_TCP_DRAWN + 6)
            .map(|i| pkt(i as f64, Direction::ServerToClient, Phase::Reset, "R", 0))
            .collect();
        let m = mermaid(&scene, 0, Lang::En);
        assert_eq!(m.matches("S->>C: RST\n").count(), MAX_TCP_DRAWN);
        assert!(m.ends_with(
            "    S->>C: RST\n    Note over C,S: TCP handshake and close packets not drawn: 6\n"
        ));
    }

    #[test]
    fn no_such_connection() {
        assert_eq!(mermaid(&Scene::default(), 3, Lang::En), "sequenceDiagram\n");
        assert_well_formed(&svg(&Scene::default(), 3, Lang::En));
    }
}
