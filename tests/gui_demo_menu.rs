//! The demo's options in the window (issue 17, point 5): the variant a
//! lesson needs (TLS mode, POP3 or IMAP) and a pace a teacher can narrate
//! are chosen in the "Demo" menu before it runs.
#![cfg(feature = "gui")]

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use mailscope::gui::ClassroomApp;
use mailscope::gui::demo_menu::{NARRATED_STEP, step_of_speed};
use mailscope::gui::i18n::Lang;
use mailscope::trace::TlsMode;
use mailscope::world::demo::ReadWith;

#[test]
fn the_demo_menu_sets_the_variant_and_starts_at_a_narrated_pace() {
    let app = ClassroomApp::new(Lang::Es);
    // Out of the box the window's demo pauses a second between steps.
    assert_eq!(step_of_speed(app.demo_options.speed), NARRATED_STEP);
    assert_eq!(app.demo_options.tls, TlsMode::Starttls);
    let mut h = Harness::builder()
        .with_size(egui::Vec2::new(1280.0, 720.0))
        .build_ui_state(|ui, app: &mut ClassroomApp| app.ui(ui), app);
    h.run_steps(2);
    // The empty window offers the options beside "Open…".
    assert_eq!(h.query_all_by_label("Abrir…").count(), 2);
    h.get_by_label("SMTP sin TLS").click();
    h.run_steps(1);
    h.get_by_label("IMAP").click();
    h.run_steps(1);
    let o = &h.state().demo_options;
    assert_eq!((o.tls, o.read), (TlsMode::None, ReadWith::Imap));
    // The top bar's "Demo" menu shows the same options, as chosen.
    h.get_by_label("Demo").click();
    h.run_steps(2);
    assert_eq!(
        h.query_all_by_label("SMTP sobre TLS desde el primer byte")
            .count(),
        2
    );
    assert_eq!(
        h.query_all_by_label("Pausa entre pasos: 1,0 s").count(),
        2,
        "the pause is shown with a decimal comma"
    );
}

/// Drawing the options (the empty window shows them) leaves a pace set
/// elsewhere alone (`demo --speed 4`, a test's fast demo): only a drag on
/// the slider changes it.
#[test]
fn showing_the_options_does_not_change_the_pace() {
    let mut app = ClassroomApp::new(Lang::En);
    app.demo_options.speed = 4.0;
    let mut h = Harness::builder()
        .with_size(egui::Vec2::new(1280.0, 720.0))
        .build_ui_state(|ui, app: &mut ClassroomApp| app.ui(ui), app);
    h.run_steps(3);
    h.get_by_label("Demo").click();
    h.run_steps(3);
    assert_eq!(h.state().demo_options.speed, 4.0);
}

/// The attack lessons from the menu: Eve's attack and the MTA-STS
/// defence are options of the demo the window runs.
#[test]
fn the_demo_menu_puts_eve_on_the_path_and_the_defence_up() {
    use mailscope::world::demo::{Attack, Defence};
    let app = ClassroomApp::new(Lang::Es);
    assert_eq!(app.demo_options.attack, None);
    let mut h = Harness::builder()
        .with_size(egui::Vec2::new(1280.0, 720.0))
        .build_ui_state(|ui, app: &mut ClassroomApp| app.ui(ui), app);
    h.run_steps(2);
    h.get_by_label("Eve elimina STARTTLS").click();
    h.run_steps(1);
    h.get_by_label("Defensa: MTA-STS (TLS obligatorio)").click();
    h.run_steps(1);
    let o = &h.state().demo_options;
    assert_eq!(
        (o.attack, o.defend),
        (Some(Attack::StripStarttls), Some(Defence::MtaSts))
    );
    h.get_by_label("Sin atacante").click();
    h.run_steps(1);
    h.get_by_label("Defensa: MTA-STS (TLS obligatorio)").click();
    h.run_steps(1);
    let o = &h.state().demo_options;
    assert_eq!((o.attack, o.defend), (None, None));
}
