//! Issue 22 in the window: Eve on the path. In the capture of `demo
//! --attack strip-starttls` her host is drawn as the one that strips
//! STARTTLS (red), and the EHLO line she blanked is marked in the
//! transcript with what it said before, in the window's language.
#![cfg(feature = "gui")]

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use egui_kittest::kittest::Queryable;
use mailscope::gui::ClassroomApp;
use mailscope::gui::i18n::Lang;
use mailscope::gui::model::Role;

use common::window::{harness_sized, wait_for};

fn strip_demo() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let path = common::temp_dir("gui-eve").join("strip.pcapng");
        common::run_demo(
            "starttls",
            "pop3",
            "127.0.145",
            &path,
            &["--attack", "strip-starttls"],
        );
        path
    })
}

#[test]
fn eve_is_the_host_that_strips_starttls() {
    let mut app = ClassroomApp::new(Lang::Es);
    app.open_now(strip_demo());
    let scene = app.scene().unwrap();
    let role = |name: &str| scene.hosts.iter().find(|h| h.name == name).unwrap().role;
    assert_eq!(role("eve.example"), Role::Interceptor);
    assert_eq!(role("crepes.fr"), Role::MailServer);
    assert_eq!(role("hamburger.edu"), Role::MailServer);
    assert_eq!(role("alice-pc.crepes.fr"), Role::UserAgent);
    // Eve sits between the two servers on the mail path.
    let column = |name: &str| scene.hosts.iter().find(|h| h.name == name).unwrap().column;
    assert!(column("crepes.fr") < column("eve.example"));
    assert!(column("eve.example") < column("hamburger.edu"));
}

#[test]
fn the_blanked_ehlo_line_is_marked_with_what_it_was() {
    let mut app = ClassroomApp::new(Lang::Es);
    app.open_now(strip_demo());
    let end = app.playback.duration();
    app.playback.seek(end);
    let scene = app.scene().unwrap();
    let to_eve = scene
        .conns
        .iter()
        .position(|c| {
            scene.hosts[c.server_host].name == "eve.example"
                && scene.hosts[c.client_host].name == "crepes.fr"
        })
        .expect("crepes.fr's connection to Eve");
    let onward = scene
        .conns
        .iter()
        .position(|c| scene.hosts[c.client_host].name == "eve.example")
        .expect("Eve's connection to hamburger.edu");
    app.select_conn(Some(to_eve));
    let mut h = harness_sized(app, 1280.0, 720.0);
    wait_for(&mut h, "the scene", |a| a.scene().is_some());
    h.get_by_label("S: 250-XXXXXXXA   <- era STARTTLS: borrado en el camino");
    // Only the blanked line: hamburger.edu's own offer, on Eve's leg, is
    // not marked.
    h.state_mut().select_conn(Some(onward));
    h.run_steps(3);
    h.get_by_label("S: 250-STARTTLS");
    assert!(
        h.query_by_label_contains("borrado en el camino").is_none(),
        "a line of Eve's onward leg is marked"
    );
}
