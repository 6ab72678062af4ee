//! The textbook transcript (`S: 220 hamburger.edu`, `C: HELO crepes.fr`)
//! of the selected connection, or of all connections in time order,
//! growing as the playhead reaches each line. Clicking a line selects it;
//! the app then shows the packets that carried it.

use egui::{Color32, RichText, Ui};

use super::i18n::Lang;
use super::model::{Feed, Scene};
use super::timeline::clock_text;
use crate::flow::Direction;
use crate::trace::LineKind;
use crate::trace::text::visible;

/// What an MX record is, in one line (RFC 5321 §5.1: the mail for a
/// domain goes to its MX hosts, lowest preference first).
pub const MX_MEANING: &str =
    "MX: the server that takes in the mail for this domain (the lowest number is tried first)";

/// Colour of a line by who said it and what it is.
pub fn line_color(ui: &Ui, dir: Direction, kind: LineKind) -> Color32 {
    let dark = ui.visuals().dark_mode;
    match (kind, dir) {
        (LineKind::Gap, _) => Color32::from_rgb(220, 40, 40),
        (LineKind::Tls, _) | (LineKind::Data, _) => ui.visuals().weak_text_color(),
        (_, Direction::ClientToServer) if dark => Color32::from_rgb(120, 170, 255),
        (_, Direction::ClientToServer) => Color32::from_rgb(20, 70, 180),
        (_, Direction::ServerToClient) if dark => Color32::from_rgb(120, 220, 140),
        (_, Direction::ServerToClient) => Color32::from_rgb(10, 110, 40),
    }
}

/// Draws the lines said by `t`; returns the index (into `scene.lines`) of
/// a line that was clicked. `selected` is the line clicked before,
/// `current` the line of the moment (highlighted).
/// Said beside a blanked EHLO line (`starttls-stripped`).
pub const BLANKED_NOTE: &str = "was STARTTLS: blanked on the path";

pub fn show(
    ui: &mut Ui,
    lang: Lang,
    scene: &Scene,
    conn: Option<usize>,
    t: f64,
    (selected, current): (Option<usize>, Option<usize>),
    presenter: bool,
) -> Option<usize> {
    let mut clicked = None;
    // The lines of one connection, or all of them: the scene's lines are
    // already in time order, so "all" needs no list of its own.
    // All connections: the scene's feed, the lines and the DNS questions
    // and answers between them in time order.
    let of_conn: Option<&[usize]> = conn.and_then(|c| scene.conns.get(c)).map(|c| &c.lines[..]);
    let feed_t = |f: &Feed| match *f {
        Feed::Line(i) => scene.lines[i as usize].t,
        Feed::Dns(j) | Feed::MxNote(j) => scene.dns[j as usize].t,
    };
    let said = match of_conn {
        Some(lines) => lines.partition_point(|&i| scene.lines[i].t <= t),
        None => scene.feed.partition_point(|f| feed_t(f) <= t),
    };
    let row_at = |k: usize| match of_conn {
        Some(lines) => Feed::Line(lines[k] as u32),
        None => scene.feed[k],
    };
    let heading = match conn {
        Some(c) => format!(
            "{} — #{} {}",
            lang.t("Transcript"),
            scene.conns[c].flow,
            scene.conns[c].label()
        ),
        None => format!("{} — {}", lang.t("Transcript"), lang.t("All connections")),
    };
    ui.heading(heading);
    let size = if presenter { 20.0 } else { 13.0 };
    let row_height = size + 6.0;
    egui::ScrollArea::both()
        .id_salt("transcript")
        .auto_shrink([false, false])
        .stick_to_bottom(true)
        .show_rows(ui, row_height, said, |ui, range| {
            for row in range.map(row_at) {
                let i = match row {
                    Feed::Line(i) => i as usize,
                    Feed::Dns(j) => {
                        let d = &scene.dns[j as usize];
                        let text = format!("DNS  {}", visible(&d.transcript()));
                        let mut r = ui.label(
                            RichText::new(text)
                                .monospace()
                                .size(size)
                                .color(Color32::from_rgb(0, 150, 160)),
                        );
                        if d.has_mx() {
                            r = r.on_hover_text(lang.t(MX_MEANING));
                        }
                        r.on_hover_text(clock_text(d.t));
                        continue;
                    }
                    Feed::MxNote(_) => {
                        ui.label(
                            RichText::new(lang.t(MX_MEANING))
                                .italics()
                                .size(size * 0.9)
                                .weak(),
                        );
                        continue;
                    }
                };
                let l = &scene.lines[i];
                let mut text = format!("{} {}", l.speaker(), lang.note(l.kind, &l.text));
                if l.decrypted {
                    text = format!("[tls] {text}");
                }
                if conn.is_none() {
                    text = format!("#{:<3} {text}", scene.conns[l.conn].flow);
                }
                // The EHLO reply line an attacker on the path blanked:
                // marked in red, with what it said before.
                let blanked = l.dir == Direction::ServerToClient
                    && crate::proto::smtp::is_blanked_starttls_line(&l.text);
                if blanked {
                    text = format!("{text}   <- {}", lang.t(BLANKED_NOTE));
                }
                let mut rich = RichText::new(text)
                    .monospace()
                    .size(size)
                    .color(line_color(ui, l.dir, l.kind));
                if blanked {
                    rich = rich
                        .background_color(Color32::from_rgb(255, 205, 205))
                        .color(super::host_box::INTERCEPTOR_RED)
                        .strong();
                }
                if matches!(l.kind, LineKind::Tls | LineKind::Gap) {
                    rich = rich.italics();
                }
                if current == Some(i) {
                    // The line of the moment (playing, or the packet
                    // stepped to): marked like a highlighter pen.
                    rich = rich
                        .background_color(Color32::from_rgb(250, 210, 60))
                        .color(Color32::BLACK);
                }
                if ui
                    .selectable_label(selected == Some(i), rich)
                    .on_hover_text(clock_text(l.t))
                    .clicked()
                {
                    clicked = Some(i);
                }
            }
        });
    clicked
}
