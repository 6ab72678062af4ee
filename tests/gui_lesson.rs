//! Lesson files (issue 17, point 5): a teacher prepares the window on a
//! real capture the demo writes, bookmarks a moment with a note through
//! the "Lesson" menu, saves the lesson, and the saved file opens the
//! window again in the same state: capture, panel, connection, playhead,
//! language, presenter mode and bookmarks.
#![cfg(feature = "gui")]

mod common;

use egui_kittest::kittest::Queryable;
use mailscope::gui::i18n::Lang;
use mailscope::gui::lesson::{Bookmark, Lesson};
use mailscope::gui::{ClassroomApp, Start, Tab, app_for};

use common::window::harness_sized;

/// The flow id of the selected connection.
fn selected_flow(app: &ClassroomApp) -> Option<u64> {
    let scene = app.scene()?;
    app.selected_conn.map(|c| scene.conns[c].flow)
}

#[test]
fn a_lesson_saved_from_the_menu_opens_the_window_as_it_was() {
    let dir = common::temp_dir("gui-lesson");
    let capture = dir.join("plain.pcapng");
    common::run_demo("none", "pop3", "127.0.57", &capture, &[]);

    // The last connection of the demo (Bob's POP3 session), half-way.
    let probe = app_for(
        &Start {
            file: Some(capture.clone()),
            at: Some(0.0),
            ..Start::default()
        },
        &egui::Context::default(),
    );
    let scene = probe.scene().expect("opened synchronously");
    let pop3 = scene.conns.last().unwrap().flow;
    let last = scene.conns.last().unwrap();
    let at = (last.start + last.end) / 2.0;

    let start = Start {
        file: Some(capture.clone()),
        lang: Some(Lang::Es),
        presenter: true,
        tab: Some(Tab::Eavesdropper),
        flow: Some(pop3),
        at: Some(at),
        ..Start::default()
    };
    let app = app_for(&start, &egui::Context::default());
    let mut h = harness_sized(app, 1280.0, 720.0);
    h.run_steps(2);
    assert_eq!(selected_flow(h.state()), Some(pop3));

    // Bookmark this moment with a note, through the Spanish menu.
    h.get_by_label("Clase").click();
    h.run_steps(2);
    let note = h
        .get_all_by_role(egui::accesskit::Role::TextInput)
        .next()
        .unwrap();
    note.focus();
    h.run_steps(1);
    h.get_all_by_role(egui::accesskit::Role::TextInput)
        .next()
        .unwrap()
        .type_text("aquí viaja la contraseña");
    h.run_steps(1);
    h.get_by_label("Marcar este momento").click();
    h.run_steps(2);
    assert_eq!(
        h.state().bookmarks,
        [Bookmark {
            at,
            note: "aquí viaja la contraseña".into()
        }]
    );
    // The menu (closed by the click) offers a file beside the capture;
    // save there.
    h.get_by_label("Clase").click();
    h.run_steps(2);
    h.get_by_label("Guardar la clase").click();
    h.run_steps(2);
    let file = dir.join("plain.lesson.json");
    assert!(file.exists(), "no lesson written at {}", file.display());
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(written["capture"], "plain.pcapng");
    assert_eq!(written["tab"], "eavesdropper");
    assert_eq!(written["flow"], pop3);
    assert_eq!(written["lang"], "es");

    // Opened again: the same window.
    let lesson = Lesson::load(&file).unwrap();
    assert_eq!(lesson.capture, capture);
    let again = app_for(&lesson.start(), &egui::Context::default());
    assert_eq!(again.path(), Some(capture.as_path()));
    assert_eq!(again.lang, Lang::Es);
    assert!(again.presenter);
    assert_eq!(again.tab, Tab::Eavesdropper);
    assert_eq!(selected_flow(&again), Some(pop3));
    assert_eq!(again.playback.t, at);
    assert_eq!(again.bookmarks, h.state().bookmarks);

    // A click on the bookmark puts the playhead back there.
    let mut h = harness_sized(again, 1280.0, 720.0);
    h.state_mut().playback.seek(0.0);
    h.run_steps(1);
    h.get_by_label("Clase").click();
    h.run_steps(2);
    let when = format!("{:.3} s", at).replace('.', ",");
    h.get_by_label(&format!("{when}  aquí viaja la contraseña"))
        .click();
    h.run_steps(2);
    assert_eq!(h.state().playback.t, at);
}
