//! The sequence diagram of one connection, independent of any format:
//! what is drawn, in which order, with which words.
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
//! is cleaned once here ([`clean`]) and escaped by each format.

use std::net::SocketAddr;

use crate::capture::decode::TcpFlags;
use crate::flow::Direction;
use crate::trace::LineKind;

/// Transcript lines drawn at most. A long IMAP session has thousands;
/// beyond a few hundred a slide is unreadable anyway, and the Mermaid
/// renderer slows to a crawl. A note says how many were left out.
pub(crate) const MAX_LINES_DRAWN: usize = 400;
/// Handshake and close segments drawn at most (a normal connection has
/// seven; more means retransmitted SYNs or a RST storm).
pub(crate) const MAX_TCP_DRAWN: usize = 64;
/// Characters of a line's text on an arrow; longer text ends in `…`.
/// 70 monospace characters still fit on one arrow of a 16:9 slide.
pub(crate) const MAX_TEXT_CHARS: usize = 70;
/// Characters of a host name in a participant's box.
const MAX_NAME_CHARS: usize = 40;

// ---------------------------------------------------------------------
// What the caller gives: one connection, as plain data.

/// One TCP connection as the diagram needs it. The window builds it from
/// its scene; nothing here knows where it came from.
#[derive(Clone, Debug, Default)]
pub(crate) struct Connection {
    /// How the connection is called: `SMTP 25`, `IMAP 993 (TLS)`.
    pub(crate) label: String,
    pub(crate) client: Endpoint,
    pub(crate) server: Endpoint,
    /// All the TCP packets of the connection, drawn or not (the first
    /// note counts them).
    pub(crate) packets: u64,
    /// The segments that open, close or reset the connection, in capture
    /// order. (Data segments and bare ACKs are never drawn.)
    pub(crate) segments: Vec<Segment>,
    /// The transcript lines, in capture order.
    pub(crate) lines: Vec<Line>,
}

/// One end of a connection: its host's name and its `address:port`.
#[derive(Clone, Debug)]
pub(crate) struct Endpoint {
    pub(crate) name: String,
    pub(crate) addr: SocketAddr,
}

impl Default for Endpoint {
    fn default() -> Endpoint {
        Endpoint {
            name: String::new(),
            addr: SocketAddr::from(([0, 0, 0, 0], 0)),
        }
    }
}

/// Where a segment stands in the life of its connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// SYN, SYN-ACK and the ACK that completes the three-way handshake.
    Handshake,
    /// FIN, and the acknowledgements after one.
    Close,
    /// RST: the connection is torn down at once.
    Reset,
}

/// One TCP segment that opens, closes or resets the connection.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Segment {
    /// Seconds, on the same clock as the lines.
    pub(crate) t: f64,
    pub(crate) dir: Direction,
    pub(crate) phase: Phase,
    pub(crate) flags: TcpFlags,
}

/// One transcript line.
#[derive(Clone, Debug)]
pub(crate) struct Line {
    pub(crate) t: f64,
    pub(crate) dir: Direction,
    pub(crate) kind: LineKind,
    /// The protocol's own text (never translated).
    pub(crate) text: String,
    /// Read from inside TLS with a key log.
    pub(crate) decrypted: bool,
}

/// The few words the diagram adds of its own, in the reader's language
/// (the caller translates them). `{}` stands for a number.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Wording {
    /// `Lines: {} · TCP packets: {} (handshake and close drawn)`.
    pub(crate) counts: &'static str,
    /// `Lines not drawn: {}`.
    pub(crate) lines_not_drawn: &'static str,
    /// `TCP handshake and close packets not drawn: {}`.
    pub(crate) tcp_not_drawn: &'static str,
    /// The SVG legend of a dashed arrow: `encrypted or missing bytes`.
    pub(crate) faint_legend: &'static str,
}

// ---------------------------------------------------------------------
// What both formats draw.

/// Which lifeline an arrow starts from (it always ends on the other one:
/// a connection has exactly two ends).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Side {
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
pub(super) enum Style {
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
pub(super) enum Step {
    Arrow {
        from: Side,
        style: Style,
        text: String,
    },
    /// A note across both lifelines; one string per text line.
    Note(Vec<String>),
}

/// One end of the connection as drawn: its host name and `address:port`.
#[derive(Clone, Debug, Default)]
pub(super) struct Participant {
    pub(super) name: String,
    pub(super) addr: String,
}

/// What both formats draw. All texts are already [`clean`]ed and
/// shortened, but not yet escaped (each format escapes differently).
#[derive(Clone, Debug, Default)]
pub(super) struct Diagram {
    /// `SMTP 25: crepes.fr → hamburger.edu`, for the SVG's `<title>`.
    pub(super) title: String,
    pub(super) client: Participant,
    pub(super) server: Participant,
    pub(super) steps: Vec<Step>,
}

impl Diagram {
    /// The diagram of `conn`.
    pub(super) fn of(conn: &Connection, words: &Wording) -> Diagram {
        let participant = |end: &Endpoint| Participant {
            name: shorten(&clean(&end.name), MAX_NAME_CHARS),
            addr: end.addr.to_string(),
        };
        let client = participant(&conn.client);
        let server = participant(&conn.server);
        let label = clean(&conn.label);

        // The TCP segments and the transcript lines, each already in time
        // order, merged by time. When a segment and a line share a
        // timestamp (the packet that completes a line is also a data
        // segment), the handshake comes first and the close last: a SYN
        // cannot carry a line, and a FIN carrying data ends the line it
        // carries.
        let mut rows: Vec<(f64, u8, Row)> = Vec::new();
        for (s, text) in drawn_segments(&conn.segments) {
            let rank = if s.phase == Phase::Handshake { 0 } else { 2 };
            rows.push((s.t, rank, Row::Tcp(Side::of(s.dir), text)));
        }
        for line in &conn.lines {
            rows.push((line.t, 1, Row::Line(line)));
        }
        // A stable sort keeps the capture's order between equal keys.
        rows.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));

        let counts = fill(words.counts, &[conn.lines.len() as u64, conn.packets]);
        let mut steps = vec![Step::Note(vec![label.clone(), counts])];
        // What was left out is said where it was left out, so an arrow
        // after the note (the close, typically) is not mistaken for the
        // next line.
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
        let left_out = |cut: &Cut, words| fill(words, &[cut.left_out as u64]);
        lines_cut.say(&mut steps, left_out(&lines_cut, words.lines_not_drawn));
        tcp_cut.say(&mut steps, left_out(&tcp_cut, words.tcp_not_drawn));

        Diagram {
            title: format!("{label}: {} → {}", client.name, server.name),
            client,
            server,
            steps,
        }
    }
}

/// `template` with each `{}` replaced by the next number.
fn fill(template: &str, numbers: &[u64]) -> String {
    numbers.iter().fold(template.to_string(), |text, n| {
        text.replacen("{}", &n.to_string(), 1)
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

/// The segments worth an arrow, with their labels.
///
/// Every handshake and RST segment, and every FIN, are drawn. After a FIN
/// the peer's bare ACKs are in the `Close` phase too; only the first one
/// after each FIN is drawn (the ACK *of* that FIN, as the textbook's
/// four-way close shows it), or a half-closed connection still receiving
/// data would draw hundreds of them.
fn drawn_segments(segments: &[Segment]) -> Vec<(&Segment, String)> {
    // owes_ack[d]: direction d has not yet acknowledged the peer's FIN.
    let mut owes_ack = [false; 2];
    let mut out = Vec::new();
    for s in segments {
        let draw = match s.phase {
            Phase::Handshake | Phase::Reset => true,
            Phase::Close if s.flags.fin => {
                owes_ack[s.dir.reverse().index()] = true;
                // A FIN, ACK also acknowledges what the peer sent,
                // its FIN included (the three-way close).
                if s.flags.ack {
                    owes_ack[s.dir.index()] = false;
                }
                true
            }
            Phase::Close => std::mem::take(&mut owes_ack[s.dir.index()]),
        };
        let label = flags_label(s.flags);
        if draw && !label.is_empty() {
            out.push((s, label));
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

/// Connections made by hand for the renderers' tests.
#[cfg(test)]
pub(super) mod examples {
    use super::*;

    /// The words in English, as the window passes them.
    pub(crate) const ENGLISH: Wording = Wording {
        counts: "Lines: {} · TCP packets: {} (handshake and close drawn)",
        lines_not_drawn: "Lines not drawn: {}",
        tcp_not_drawn: "TCP handshake and close packets not drawn: {}",
        faint_legend: "encrypted or missing bytes",
    };

    /// An SMTP connection from `host` to hamburger.edu with the given
    /// lines (all client to server unless they start with `S:`), one a
    /// second, and no segments.
    pub(crate) fn connection(host: &str, lines: &[&str]) -> Connection {
        let endpoint = |name: &str, addr: &str| Endpoint {
            name: name.to_string(),
            addr: addr.parse().unwrap(),
        };
        Connection {
            label: "SMTP 25".into(),
            client: endpoint(host, "127.0.10.1:40000"),
            server: endpoint("hamburger.edu", "127.0.10.2:25"),
            packets: 0,
            segments: Vec::new(),
            lines: lines
                .iter()
                .enumerate()
                .map(|(i, text)| {
                    let (dir, text) = match text.strip_prefix("S:") {
                        Some(t) => (Direction::ServerToClient, t),
                        None => (Direction::ClientToServer, *text),
                    };
                    Line {
                        t: i as f64,
                        dir,
                        kind: LineKind::Command,
                        text: text.to_string(),
                        decrypted: false,
                    }
                })
                .collect(),
        }
    }

    /// A segment at `t` with the flags named by their initials (`FA`).
    pub(crate) fn segment(t: f64, dir: Direction, phase: Phase, flags: &str) -> Segment {
        Segment {
            t,
            dir,
            phase,
            flags: TcpFlags {
                syn: flags.contains('S'),
                ack: flags.contains('A'),
                fin: flags.contains('F'),
                rst: flags.contains('R'),
                psh: flags.contains('P'),
            },
        }
    }
}
