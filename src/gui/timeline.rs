//! The timeline: play, pause, step between events, speed, and a scrubber
//! with a tick for every command, message and finding.

use egui::{Align2, Color32, FontId, Pos2, Sense, Stroke, Ui, Vec2};

use super::i18n::Lang;
use super::model::{MarkerKind, Scene};
use super::playback::{Clock, Playback};

/// Marker colours: commands grey-blue, messages green, findings red.
fn marker_color(kind: MarkerKind) -> Color32 {
    match kind {
        MarkerKind::Command => Color32::from_rgb(90, 120, 170),
        MarkerKind::Message => Color32::from_rgb(30, 160, 60),
        MarkerKind::Finding => Color32::from_rgb(220, 40, 40),
    }
}

/// Draws the timeline and applies what the user did to `playback`.
pub fn show(ui: &mut Ui, lang: Lang, scene: &Scene, playback: &mut Playback, presenter: bool) {
    ui.horizontal(|ui| {
        if ui
            .button(lang.t("Previous event"))
            .on_hover_text("Left")
            .clicked()
        {
            playback.playing = false;
            let t = scene.previous_marker(playback.t).map_or(0.0, |m| m.t);
            playback.seek(t);
        }
        if playback.playing {
            if ui.button(lang.t("Pause")).on_hover_text("Space").clicked() {
                playback.playing = false;
            }
        } else if ui.button(lang.t("Play")).on_hover_text("Space").clicked() {
            playback.play();
        }
        if ui
            .button(lang.t("Next event"))
            .on_hover_text("Right")
            .clicked()
        {
            playback.playing = false;
            let t = scene
                .next_marker(playback.t)
                .map_or(playback.duration(), |m| m.t);
            playback.seek(t);
        }
        ui.separator();
        ui.add(
            egui::Slider::new(&mut playback.speed, 0.05..=50.0)
                .logarithmic(true)
                .show_value(false)
                .text(lang.t("Speed")),
        );
        ui.label(format!("{:.2}x", playback.speed));
        egui::ComboBox::from_label(lang.t("Clock"))
            .selected_text(match playback.clock {
                Clock::Paced => lang.t("Event pace"),
                Clock::Capture => lang.t("Capture time"),
            })
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut playback.clock, Clock::Paced, lang.t("Event pace"));
                ui.selectable_value(&mut playback.clock, Clock::Capture, lang.t("Capture time"));
            });
        ui.separator();
        ui.label(
            egui::RichText::new(format!(
                "{} {:.6} s / {:.6} s",
                lang.t("Time"),
                playback.t,
                playback.duration()
            ))
            .monospace(),
        );
    });

    // The scrubber: click or drag anywhere to move the playhead.
    let height = if presenter { 40.0 } else { 26.0 };
    let (rect, response) = ui.allocate_exact_size(
        Vec2::new(ui.available_width(), height),
        Sense::click_and_drag(),
    );
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 4.0, ui.visuals().extreme_bg_color);
    let duration = playback.duration().max(1e-9);
    // Ticks are placed on the clock's own scale, so in event pace a burst
    // of commands is spread out as it is played.
    let x_of = |t: f64, pb: &Playback| -> f32 {
        let f = match pb.clock {
            Clock::Capture => t / duration,
            Clock::Paced => {
                let end = pb.virtual_of(duration).max(1e-9);
                let v = pb.virtual_of(t);
                (v.max(0.0) / end).min(1.0)
            }
        };
        rect.left() + rect.width() * f as f32
    };
    // The capture time at screen column `x` (the inverse of `x_of`).
    let t_of_x = |x: f32, pb: &Playback| -> f64 {
        let f = ((x - rect.left()) / rect.width()).clamp(0.0, 1.0) as f64;
        match pb.clock {
            Clock::Capture => f * duration,
            Clock::Paced => pb.time_of(f * pb.virtual_of(duration)),
        }
    };
    // One tick per pixel column and kind at most. After a tick, markers
    // are skipped by time up to the next column, so a capture with
    // 400 000 commands costs a comparison per marker, not a search.
    let mut next_t = [f64::NEG_INFINITY; 3];
    for m in &scene.markers {
        let k = m.kind as usize;
        if m.t <= next_t[k] {
            continue;
        }
        let x = x_of(m.t, playback);
        next_t[k] = t_of_x(x.floor() + 1.0, playback).max(m.t);
        let (y0, y1) = match m.kind {
            MarkerKind::Command => (rect.top() + 2.0, rect.center().y),
            MarkerKind::Message => (rect.center().y, rect.bottom() - 2.0),
            MarkerKind::Finding => (rect.top() + 2.0, rect.bottom() - 2.0),
        };
        painter.line_segment(
            [Pos2::new(x, y0), Pos2::new(x, y1)],
            Stroke::new(
                if m.kind == MarkerKind::Command {
                    1.0
                } else {
                    2.5
                },
                marker_color(m.kind),
            ),
        );
    }
    let x = x_of(playback.t, playback);
    painter.line_segment(
        [Pos2::new(x, rect.top()), Pos2::new(x, rect.bottom())],
        Stroke::new(3.0, ui.visuals().strong_text_color()),
    );
    painter.text(
        Pos2::new(rect.right() - 4.0, rect.top() + 2.0),
        Align2::RIGHT_TOP,
        lang.t("Timeline"),
        FontId::proportional(11.0),
        ui.visuals().weak_text_color(),
    );
    if (response.clicked() || response.dragged())
        && let Some(p) = response.interact_pointer_pos()
    {
        let t = t_of_x(p.x, playback);
        playback.seek(t);
    }
}
