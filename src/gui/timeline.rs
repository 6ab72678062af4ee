//! The timeline: play, pause, step between events, speed, and a scrubber
//! with a tick for every command, message and finding.

use egui::{Align2, Color32, FontId, Pos2, Sense, Stroke, Ui, Vec2};

use super::i18n::Lang;
use super::model::{Marker, MarkerKind, Scene};
use super::playback::{Clock, Playback};

/// Marker colours: commands grey-blue, messages green, findings red.
fn marker_color(kind: MarkerKind) -> Color32 {
    match kind {
        MarkerKind::Command => Color32::from_rgb(90, 120, 170),
        MarkerKind::Message => Color32::from_rgb(30, 160, 60),
        MarkerKind::Finding => Color32::from_rgb(220, 40, 40),
        MarkerKind::Dns => Color32::from_rgb(0, 150, 160),
    }
}

/// How far Previous and Next move the playhead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepBy {
    /// To the next command, message or finding (the timeline's ticks).
    Event,
    /// To the next packet, handshake and DNS included (Packet Tracer's
    /// simulation mode).
    Packet,
}

/// A step the user asked for (the app carries it out: a packet step needs
/// state the timeline does not have).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Previous,
    Next,
}

/// Draws the timeline and applies what the user did to `playback`; returns
/// the step asked for.
pub fn show(
    ui: &mut Ui,
    lang: Lang,
    scene: &Scene,
    playback: &mut Playback,
    step_by: &mut StepBy,
    presenter: bool,
) -> Option<Step> {
    let mut step = None;
    // One row: the time readout takes the shortest form that fits
    // (`time_readout`) rather than wrapping onto a second line.
    ui.horizontal(|ui| {
        let (previous, next) = match step_by {
            StepBy::Event => (lang.t("Previous event"), lang.t("Next event")),
            StepBy::Packet => (lang.t("Previous packet"), lang.t("Next packet")),
        };
        if ui.button(previous).on_hover_text("Left").clicked() {
            step = Some(Step::Previous);
        }
        if playback.playing {
            if ui.button(lang.t("Pause")).on_hover_text("Space").clicked() {
                playback.playing = false;
            }
        } else if ui.button(lang.t("Play")).on_hover_text("Space").clicked() {
            playback.play();
        }
        if ui.button(next).on_hover_text("Right").clicked() {
            step = Some(Step::Next);
        }
        egui::ComboBox::from_id_salt("step-by")
            .selected_text(match step_by {
                StepBy::Event => lang.t("Event"),
                StepBy::Packet => lang.t("Packet"),
            })
            .show_ui(ui, |ui| {
                ui.selectable_value(step_by, StepBy::Event, lang.t("Event"));
                ui.selectable_value(step_by, StepBy::Packet, lang.t("Packet"));
            })
            .response
            .on_hover_text(lang.t("Step"));
        ui.separator();
        ui.spacing_mut().slider_width = if presenter { 70.0 } else { 100.0 };
        ui.add(
            egui::Slider::new(&mut playback.speed, 0.05..=50.0)
                .logarithmic(true)
                .show_value(false),
        )
        .on_hover_text(lang.t("Speed"));
        ui.label(lang.number(format!("{:.2}x", playback.speed)));
        egui::ComboBox::from_id_salt("clock")
            .selected_text(match playback.clock {
                Clock::Paced => lang.t("Event pace"),
                Clock::Capture => lang.t("Capture time"),
            })
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut playback.clock, Clock::Paced, lang.t("Event pace"));
                ui.selectable_value(&mut playback.clock, Clock::Capture, lang.t("Capture time"));
            })
            .response
            .on_hover_text(lang.t("Clock"));
        ui.separator();
        time_readout(ui, lang, scene, playback);
    });

    // The scrubber: click or drag anywhere to move the playhead.
    // The ticks, and under them a strip with their key.
    let height = if presenter { 40.0 } else { 26.0 };
    let key_height = if presenter { 20.0 } else { 14.0 };
    let (whole, mut response) = ui.allocate_exact_size(
        Vec2::new(ui.available_width(), height + key_height),
        Sense::click_and_drag(),
    );
    let rect = egui::Rect::from_min_size(whole.min, Vec2::new(whole.width(), height));
    // Named for screen readers and for the tests.
    response
        .widget_info(|| egui::WidgetInfo::labeled(egui::Role::Slider, true, lang.t("Timeline")));
    let painter = ui.painter_at(whole);
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
    let mut next_t = [f64::NEG_INFINITY; 4];
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
            MarkerKind::Dns => (rect.top() + 2.0, rect.center().y + 4.0),
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
    // The key to the ticks, painted (not widgets: the words are already
    // the names of tabs), right to left: "Timeline: commands messages
    // findings".
    let font = FontId::proportional(if presenter { 16.0 } else { 11.0 });
    let mut right = whole.right() - 4.0;
    for (text, color) in [
        (lang.t("findings"), marker_color(MarkerKind::Finding)),
        (lang.t("messages"), marker_color(MarkerKind::Message)),
        (lang.t("commands"), marker_color(MarkerKind::Command)),
        ("DNS", marker_color(MarkerKind::Dns)),
        (lang.t("Timeline:"), ui.visuals().weak_text_color()),
    ] {
        let r = painter.text(
            Pos2::new(right, rect.bottom() + 1.0),
            Align2::RIGHT_TOP,
            text,
            font.clone(),
            color,
        );
        right = r.left() - 6.0;
    }

    // The tick under the pointer: what it stands for, and a click lands
    // exactly on it (as "next event" would).
    let hovered = response
        .hover_pos()
        .and_then(|p| marker_near(scene, playback, p.x, &x_of));
    if let Some(m) = hovered {
        let text = describe(scene, lang, m);
        response = response.on_hover_text_at_pointer(text);
    }
    if (response.clicked() || response.dragged())
        && let Some(p) = response.interact_pointer_pos()
    {
        let t = match hovered {
            Some(m) if response.clicked() => m.t,
            _ => t_of_x(p.x, playback),
        };
        playback.seek(t);
    }
    step
}

/// The playhead's time, on one line: "Time 0.027423 s / 0.045000 s" when
/// it fits the rest of the row, else without the word, else the playhead's
/// time alone (the whole text on hover). A capture spanning days drops the
/// date of the end when the start's is the same.
fn time_readout(ui: &mut Ui, lang: Lang, scene: &Scene, playback: &Playback) {
    let now = lang.number(time_text(scene, playback.t));
    let end = lang.number(time_text(scene, playback.duration()));
    let full = format!("{} {now} / {end}", lang.t("Time"));
    let short_end = match (now.split_once(' '), end.split_once(' ')) {
        (Some((d1, _)), Some((d2, rest))) if d1 == d2 && d1.contains('-') => rest.to_string(),
        _ => end.clone(),
    };
    let now_short = now.trim_end_matches(" UTC").to_string();
    let end_short = short_end.trim_end_matches(" UTC");
    // The time of day alone, for captures with dates (the date on hover).
    let clock = now_short
        .split_once(' ')
        .filter(|(d, _)| d.contains('-'))
        .map_or(now_short.clone(), |(_, clock)| clock.to_string());
    let candidates = [
        full.clone(),
        format!("{now} / {short_end}"),
        format!("{now_short} / {end_short}"),
        // Where the end is still in view matters more than the date.
        format!("{clock} / {end_short}"),
        now.clone(),
        now_short.clone(),
        clock.clone(),
    ];
    let font = egui::TextStyle::Monospace.resolve(ui.style());
    let room = ui.available_width() - 4.0;
    let text = candidates
        .iter()
        .find(|c| {
            ui.painter()
                .layout_no_wrap(c.to_string(), font.clone(), Color32::BLACK)
                .size()
                .x
                <= room
        })
        .unwrap_or(&candidates[candidates.len() - 1]);
    ui.add(
        egui::Label::new(egui::RichText::new(text).monospace())
            .wrap_mode(egui::TextWrapMode::Extend),
    )
    .on_hover_text(full);
}

/// A time since the capture's start: seconds to the microsecond while
/// short (a loopback demo lasts milliseconds), then hours, minutes and
/// seconds, then days (captures joined from different years exist).
pub fn clock_text(t: f64) -> String {
    if !t.is_finite() || t < 60.0 {
        return format!("{t:.6} s");
    }
    let ms = (t * 1000.0).round() as u64;
    let (s, ms) = (ms / 1000, ms % 1000);
    let (m, s) = (s / 60, s % 60);
    let (h, m) = (m / 60, m % 60);
    let (d, h) = (h / 24, h % 24);
    if d > 0 {
        format!("{d} d {h:02}:{m:02}:{s:02}.{ms:03}")
    } else {
        format!("{h:02}:{m:02}:{s:02}.{ms:03}")
    }
}

/// A time on the timeline of `scene`: [`clock_text`] since the start, but
/// for a capture that spans days (files joined from different years), the
/// UTC date and time itself: "2119 d 07:37:12" says nothing to a class.
pub fn time_text(scene: &Scene, t: f64) -> String {
    if scene.duration < 86_400.0 || !t.is_finite() {
        return clock_text(t);
    }
    let secs = scene.origin.as_nanos().div_euclid(1_000_000_000) + t as i64;
    utc_text(secs)
}

/// `2015-03-12 07:37:12 UTC` for seconds since 1970-01-01 UTC.
pub fn utc_text(secs: i64) -> String {
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Days to a proleptic Gregorian date, counting in 400-year eras of
    // 146 097 days from 0000-03-01 (March first, so the leap day is last).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

/// Screen pixels within which a tick counts as under the pointer.
const NEAR_PX: f32 = 5.0;

/// The marker whose tick is nearest to screen column `x`, if one is within
/// [`NEAR_PX`]. Looks at a bounded number of neighbours in time order, so
/// a dense capture costs the same per frame.
fn marker_near<'a>(
    scene: &'a Scene,
    playback: &Playback,
    x: f32,
    x_of: &dyn Fn(f64, &Playback) -> f32,
) -> Option<&'a Marker> {
    // Markers are sorted by time and x grows with time.
    let i = scene.markers.partition_point(|m| x_of(m.t, playback) < x);
    let lo = i.saturating_sub(32);
    let hi = (i + 32).min(scene.markers.len());
    scene.markers[lo..hi]
        .iter()
        .map(|m| ((x_of(m.t, playback) - x).abs(), m))
        .filter(|(d, _)| *d <= NEAR_PX)
        // A finding before a message before a command at equal distance:
        // the rarer tick is the one worth naming.
        .min_by(|a, b| {
            a.0.total_cmp(&b.0)
                .then((b.1.kind as usize).cmp(&(a.1.kind as usize)))
        })
        .map(|(_, m)| m)
}

/// One line about what marker `m` stands for.
fn describe(scene: &Scene, lang: Lang, m: &Marker) -> String {
    let flow = |conn: usize| scene.conns.get(conn).map_or(0, |c| c.flow);
    match m.kind {
        MarkerKind::Command => scene.lines.get(m.item).map_or_else(String::new, |l| {
            format!(
                "#{} {}  {} {}",
                flow(l.conn),
                time_text(scene, l.t),
                l.speaker(),
                l.text
            )
        }),
        MarkerKind::Message => scene.messages.get(m.item).map_or_else(String::new, |msg| {
            format!(
                "#{} {}  {}: {}",
                flow(msg.conn),
                time_text(scene, msg.t),
                lang.t("Message"),
                msg.record
                    .subject
                    .clone()
                    .unwrap_or_else(|| lang.t("(no subject)").into())
            )
        }),
        MarkerKind::Dns => scene.dns.get(m.item).map_or_else(String::new, |d| {
            format!(
                "DNS {}  {}",
                time_text(scene, d.t),
                crate::trace::text::visible(&d.transcript())
            )
        }),
        MarkerKind::Finding => scene.findings.get(m.item).map_or_else(String::new, |f| {
            format!(
                "{} {}  {}",
                f.conn.map(|c| format!("#{}", flow(c))).unwrap_or_default(),
                time_text(scene, f.t),
                // The code as the JSON has it, and what it means.
                match lang {
                    Lang::En => format!("{}: {}", f.record.code, f.record.message),
                    Lang::Es =>
                        format!("{}: {}", f.record.code, lang.finding_meaning(f.record.code)),
                }
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::{clock_text, utc_text};

    #[test]
    fn dates_are_utc_calendar_dates() {
        assert_eq!(utc_text(0), "1970-01-01 00:00:00 UTC");
        // 2024-02-29 12:34:56 UTC, a leap day.
        assert_eq!(utc_text(1_709_210_096), "2024-02-29 12:34:56 UTC");
        assert_eq!(utc_text(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc_text(-1), "1969-12-31 23:59:59 UTC");
    }

    #[test]
    fn times_read_as_seconds_then_clock_then_days() {
        assert_eq!(clock_text(0.000292), "0.000292 s");
        assert_eq!(clock_text(59.9999994), "59.999999 s");
        assert_eq!(clock_text(61.5), "00:01:01.500");
        assert_eq!(clock_text(3723.004), "01:02:03.004");
        // zeek's smtp.pcap: a 2009 capture and a 2015 one in one file.
        assert_eq!(clock_text(183_109_032.725794), "2119 d 07:37:12.726");
    }
}
