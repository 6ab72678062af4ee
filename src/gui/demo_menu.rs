//! The demo's options in the window: how Alice's mail travels (no TLS,
//! STARTTLS or implicit TLS), how Bob reads it (POP3 or IMAP), Eve on the
//! path and the MTA-STS defence (the attack lessons), and the
//! pause between two steps of the user agents, so a teacher can run the
//! variant the lesson needs at a pace that leaves time to talk.

use egui::Ui;

use super::ClassroomApp;
use crate::trace::TlsMode;
use crate::world::demo::{Attack, Defence, ReadWith};

/// Seconds between two steps of the user agents when the window runs the
/// demo: slow enough to narrate each command. (The command line's pace,
/// 0.15 s, is over in about two seconds: fine for a capture, too fast to
/// follow on a projector.)
pub const NARRATED_STEP: f64 = 1.0;

/// The user agents' pause at speed 1 (see `world::agents::Pace`).
const STEP_AT_SPEED_1: f64 = 0.15;

/// The demo's `speed` for a pause of `step` seconds (0: no pauses).
pub fn speed_for_step(step: f64) -> f64 {
    if step > 0.0 {
        STEP_AT_SPEED_1 / step
    } else {
        0.0
    }
}

/// The pause of the demo's `speed`.
pub fn step_of_speed(speed: f64) -> f64 {
    if speed > 0.0 && speed.is_finite() {
        STEP_AT_SPEED_1 / speed
    } else {
        0.0
    }
}

/// The options, then "Run the demo: Alice to Bob"; true when it was
/// clicked.
pub(crate) fn options(app: &mut ClassroomApp, ui: &mut Ui) -> bool {
    let lang = app.lang;
    let o = &mut app.demo_options;
    ui.strong(lang.t("Alice's user agent sends with"));
    ui.radio_value(&mut o.tls, TlsMode::None, lang.t("SMTP without TLS"));
    ui.radio_value(&mut o.tls, TlsMode::Starttls, lang.t("SMTP with STARTTLS"));
    ui.radio_value(
        &mut o.tls,
        TlsMode::Implicit,
        lang.t("SMTP over TLS from the first byte"),
    );
    ui.strong(lang.t("Bob's user agent reads with"));
    ui.horizontal(|ui| {
        ui.radio_value(&mut o.read, ReadWith::Pop3, "POP3");
        ui.radio_value(&mut o.read, ReadWith::Imap, "IMAP");
    });
    // The attack lessons: Eve on the path between the two servers, and
    // the defence that keeps the message from her.
    ui.strong(lang.t("Eve on the path"));
    ui.radio_value(&mut o.attack, None, lang.t("No attacker"));
    ui.radio_value(
        &mut o.attack,
        Some(Attack::Eavesdrop),
        lang.t("Eve only listens"),
    );
    ui.radio_value(
        &mut o.attack,
        Some(Attack::StripStarttls),
        lang.t("Eve strips STARTTLS"),
    );
    let mut mta_sts = o.defend == Some(Defence::MtaSts);
    if ui
        .checkbox(&mut mta_sts, lang.t("Defence: MTA-STS (TLS required)"))
        .changed()
    {
        o.defend = mta_sts.then_some(Defence::MtaSts);
    }
    let mut step = step_of_speed(o.speed);
    let label = ui.strong(format!(
        "{}: {}",
        lang.t("Pause between steps"),
        lang.number(format!("{step:.1} s"))
    ));
    // Never clamped or rounded: drawing the slider must not change a
    // pace set elsewhere (`demo --speed`, a test); only a drag does.
    let slider = egui::Slider::new(&mut step, 0.0..=3.0)
        .clamping(egui::SliderClamping::Never)
        .show_value(false);
    if ui.add(slider).labelled_by(label.id).changed() {
        o.speed = speed_for_step(step);
    }
    ui.separator();
    ui.button(lang.t("Run the demo: Alice to Bob")).clicked()
}

/// (English, Spanish) for the demo's options, sorted by the English text.
pub const SPANISH: &[(&str, &str)] = &[
    (
        "Alice's user agent sends with",
        "El agente de usuario de Alice envía con",
    ),
    (
        "Bob's user agent reads with",
        "El agente de usuario de Bob lee con",
    ),
    (
        "Defence: MTA-STS (TLS required)",
        "Defensa: MTA-STS (TLS obligatorio)",
    ),
    ("Demo", "Demo"),
    ("Eve on the path", "Eve en el camino"),
    ("Eve only listens", "Eve solo escucha"),
    ("Eve strips STARTTLS", "Eve elimina STARTTLS"),
    ("No attacker", "Sin atacante"),
    ("Pause between steps", "Pausa entre pasos"),
    (
        "SMTP over TLS from the first byte",
        "SMTP sobre TLS desde el primer byte",
    ),
    ("SMTP with STARTTLS", "SMTP con STARTTLS"),
    ("SMTP without TLS", "SMTP sin TLS"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pause_and_the_speed_convert_both_ways() {
        assert_eq!(speed_for_step(0.15), 1.0);
        assert_eq!(speed_for_step(0.0), 0.0);
        assert!((step_of_speed(speed_for_step(NARRATED_STEP)) - NARRATED_STEP).abs() < 1e-12);
        assert_eq!(step_of_speed(0.0), 0.0);
        assert_eq!(step_of_speed(f64::INFINITY), 0.0);
    }
}
