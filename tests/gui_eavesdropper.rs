//! One eavesdropper lesson in the classroom window (issue 17, point 4),
//! driven with egui_kittest: the "Decrypt with the key log" switch reads
//! the capture again without its keys and back, and the comparison shows
//! the same session in clear and over STARTTLS side by side. The captures
//! are real: the embedded demo runs on loopback (127.0.171 and 127.0.172,
//! used by no other test) and writes its TLS secrets into the capture.
#![cfg(feature = "gui")]

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use mailscope::gui::i18n::Lang;
use mailscope::gui::lesson::Lesson;
use mailscope::gui::{ClassroomApp, SwitchState, Tab};
use mailscope::trace::LineKind;

use common::window::{demo_once, harness, wait_for};

/// Bob reads with POP3 after STLS; the capture keeps the demo's secrets
/// (a Decryption Secrets Block), so the window can read inside TLS.
fn starttls_capture() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    demo_once(
        &PATH,
        "gui-eaves-tls",
        "starttls.pcapng",
        "starttls",
        "pop3",
        "127.0.171",
    )
}

/// The same session without TLS.
fn clear_capture() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    demo_once(
        &PATH,
        "gui-eaves-clear",
        "clear.pcapng",
        "none",
        "pop3",
        "127.0.172",
    )
}

/// Steps the window until the capture read again has arrived (the first
/// frame carries out the click that starts the reading).
fn wait_for_reload(h: &mut Harness<'_, ClassroomApp>) {
    h.run_steps(1);
    wait_for(h, "the capture to be read again", |a| !a.is_loading());
    h.run_steps(1);
}

#[test]
fn the_decrypt_switch_shows_only_what_the_wire_shows_and_back() {
    let mut app = ClassroomApp::new(Lang::En);
    app.open_now(starttls_capture());
    let end = app.playback.duration();
    app.playback.seek(end);
    let scene = app.scene().unwrap();
    let pop3 = scene
        .conns
        .iter()
        .position(|c| c.server.port() == 110)
        .expect("Bob's POP3 connection");
    let flow = scene.conns[pop3].flow;
    assert!(
        app.decrypting(),
        "the capture's own keys are read by default"
    );
    assert!(
        scene
            .credentials
            .iter()
            .any(|c| c.conn == pop3 && c.record.tls.is_some()),
        "with the keys, Bob's login inside TLS is read"
    );
    app.select_conn(Some(pop3));
    app.tab = Tab::Eavesdropper;
    let mut h = harness(app);
    h.run_steps(2);
    assert_eq!(h.state().decrypt_switch_state(), SwitchState::Usable);
    h.get_by_label("[tls] C: PASS hungry");
    h.get_by_label("A TLS connection: only sizes and handshake facts are visible");

    // Off: the capture is read again without any key.
    h.get_by_label("Decrypt with the key log").click();
    wait_for_reload(&mut h);
    let app = h.state();
    assert!(!app.decrypting());
    // The panel, the connection and the playhead survive the reload.
    assert_eq!(app.tab, Tab::Eavesdropper);
    let scene = app.scene().unwrap();
    let c = app.selected_conn.expect("the connection is still selected");
    assert_eq!(scene.conns[c].flow, flow);
    assert_eq!(app.playback.t, end);
    // Only the wire: no decrypted line, no credential, no message from
    // inside TLS; the encrypted records are there as sizes.
    assert_eq!(scene.lines.iter().filter(|l| l.decrypted).count(), 0);
    assert_eq!(
        scene
            .credentials
            .iter()
            .filter(|c| c.record.tls.is_some())
            .count(),
        0
    );
    assert_eq!(
        scene
            .messages
            .iter()
            .filter(|m| m.record.tls.is_some())
            .count(),
        0
    );
    assert!(
        scene.conns[c]
            .lines
            .iter()
            .any(|&i| scene.lines[i].kind == LineKind::Tls),
        "the transcript shows the encrypted records"
    );
    assert!(h.query_by_label("[tls] C: PASS hungry").is_none());
    assert!(h.query_by_label_contains("[tls]").is_none());
    assert!(h.query_by_label("hungry").is_none());
    // The TLS box and the transcript now tell the same story.
    h.get_by_label("A TLS connection: only sizes and handshake facts are visible");
    // (STLS in the transcript, and in the panel's "before STARTTLS".)
    assert_eq!(h.get_all_by_label("C: STLS").count(), 2);
    // The switch is part of the lesson.
    assert!(Lesson::of_app(h.state()).unwrap().no_decrypt);

    // On again: what the key log decrypted is back.
    h.get_by_label("Decrypt with the key log").click();
    wait_for_reload(&mut h);
    assert!(h.state().decrypting());
    h.get_by_label("[tls] C: PASS hungry");
    let scene = h.state().scene().unwrap();
    assert!(
        scene
            .credentials
            .iter()
            .any(|c| scene.conns[c.conn].flow == flow && c.record.tls.is_some())
    );
    assert!(!Lesson::of_app(h.state()).unwrap().no_decrypt);
}

#[test]
fn the_switch_is_greyed_without_tls() {
    let mut app = ClassroomApp::new(Lang::Es);
    app.open_now(clear_capture());
    let mut h = harness(app);
    h.run_steps(2);
    assert_eq!(h.state().decrypt_switch_state(), SwitchState::NoTls);
    let switch = h.get_by_label("Descifrar con el registro de claves");
    assert!(switch.accesskit_node().is_disabled());
}

#[test]
fn the_clear_and_the_tls_session_side_by_side() {
    let mut app = ClassroomApp::new(Lang::En);
    app.open_now(clear_capture());
    app.compare_with_now(starttls_capture().to_path_buf());
    assert_eq!(app.tab, Tab::Compare);
    let mut h = harness(app);
    h.run_steps(3);
    let compare = h.state().comparison().expect("two captures");
    let (clear, tls) = (
        compare.sides[0].scene().unwrap(),
        compare.sides[1].scene().unwrap(),
    );
    // The TLS side is read without its keys, though the capture has them.
    assert_eq!(tls.lines.iter().filter(|l| l.decrypted).count(), 0);
    assert_eq!(tls.credentials.len(), 0);
    assert_eq!(clear.credentials.len(), 2, "alice's AUTH PLAIN, bob's PASS");
    // Each side named by its file.
    h.get_by_label("clear.pcapng");
    h.get_by_label("starttls.pcapng");
    // In clear: the password line and what it decodes to, once (the TLS
    // side has none).
    h.get_by_label("Readable by anyone on the path: 2 password(s), 3 message(s)");
    // One box per connection that logged in: alice's and bob's, both on
    // the clear side.
    assert_eq!(h.get_all_by_label("Credentials in clear").count(), 2);
    assert_eq!(h.get_all_by_label("secret").count(), 1);
    assert_eq!(
        h.get_all_by_label("AUTH PLAIN AGFsaWNlAHNlY3JldA==")
            .count(),
        1
    );
    h.get_by_label("base64 -> \\0alice\\0secret");
    // Over TLS: only sizes and the handshake.
    h.get_by_label("No password and no message readable: TLS hides them");
    assert!(
        h.get_all_by_label("A TLS connection: only sizes and handshake facts are visible")
            .count()
            >= 1
    );
    assert!(h.query_by_label_contains("[tls]").is_none());
    assert_eq!(h.get_all_by_label("hungry").count(), 1, "bob's, in clear");
    // The two transcripts, one per side.
    assert_eq!(
        h.get_all_by_label("Transcript — All connections").count(),
        2
    );
}
