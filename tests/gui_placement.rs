//! The topology's label placement, checked on the frame the window really
//! drew (egui_kittest, real fonts): on the demo capture and on two real
//! captures from `../shared/captures` (read in place), at a projector's
//! 1280×720 and at 1600×900, no two edge labels overlap, no label covers a
//! host box, no two boxes overlap, and every edge got its label.
#![cfg(feature = "gui")]

mod common;

use std::path::{Path, PathBuf};

use mailscope::gui::ClassroomApp;
use mailscope::gui::i18n::Lang;
use mailscope::gui::placement::{Placement, segment_hits_rect};

use common::window::harness_sized;

fn demo_capture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/alice-to-bob-path.pcapng")
}

/// Opens `path` with the playhead at `at` (None: the end) and draws a few
/// frames of `w`×`h`; returns the last frame's placement and the app.
fn drawn(
    path: &Path,
    w: f32,
    h: f32,
    at: Option<f64>,
    setup: impl FnOnce(&mut ClassroomApp),
) -> (Placement, ClassroomApp) {
    let mut app = ClassroomApp::new(Lang::En);
    setup(&mut app);
    app.open_now(path);
    assert!(app.error().is_none(), "{:?}", app.error());
    let t = at.unwrap_or_else(|| app.playback.duration());
    app.playback.seek(t);
    let mut harness = harness_sized(app, w, h);
    harness.run_steps(4);
    let app = harness.into_state();
    let placement = app.last_placement.clone().expect("the topology was drawn");
    (placement, app)
}

/// Everything the placement promises, for one frame.
fn check(what: &str, p: &Placement) {
    assert!(
        p.unplaced.is_empty(),
        "{what}: labels left out: {:?}",
        p.unplaced
    );
    for (i, (_, a)) in p.boxes.iter().enumerate() {
        assert!(
            p.canvas.contains_rect(*a),
            "{what}: box {a:?} off the canvas"
        );
        for (_, b) in &p.boxes[i + 1..] {
            assert!(!a.intersects(*b), "{what}: boxes {a:?} and {b:?} overlap");
        }
    }
    for (i, l) in p.labels.iter().enumerate() {
        assert!(
            p.canvas.contains_rect(l.rect),
            "{what}: {l:?} off the canvas"
        );
        for (h, b) in &p.boxes {
            assert!(!b.intersects(l.rect), "{what}: {l:?} covers host {h}'s box");
        }
        for m in &p.labels[i + 1..] {
            assert!(!l.rect.intersects(m.rect), "{what}: {l:?} overlaps {m:?}");
        }
        for n in &p.notes {
            assert!(
                !l.rect.intersects(*n),
                "{what}: {l:?} overlaps subject {n:?}"
            );
        }
    }
    // The subjects over resting messages: on the canvas, on no box, on no
    // other subject.
    for (i, n) in p.notes.iter().enumerate() {
        assert!(
            p.canvas.contains_rect(*n),
            "{what}: subject {n:?} off the canvas"
        );
        for (h, b) in &p.boxes {
            assert!(
                !b.intersects(*n),
                "{what}: subject {n:?} covers host {h}'s box"
            );
        }
        for m in &p.notes[i + 1..] {
            assert!(
                !n.intersects(*m),
                "{what}: subjects {n:?} and {m:?} overlap"
            );
        }
    }
    // No edge passes under the box of a host it does not join.
    for (g, client, server, path) in &p.edges {
        for w in path.windows(2) {
            for (h, b) in &p.boxes {
                if h == client || h == server {
                    continue;
                }
                assert!(
                    !segment_hits_rect(w[0], w[1], *b),
                    "{what}: edge {g} ({client} -> {server}) crosses host {h}'s box: {path:?}"
                );
            }
        }
    }
}

const SIZES: [(f32, f32); 2] = [(1280.0, 720.0), (1600.0, 900.0)];

#[test]
fn labels_hold_on_the_demo_capture() {
    for (w, h) in SIZES {
        let (p, app) = drawn(&demo_capture(), w, h, None, |_| {});
        let what = format!("demo at {w}x{h}");
        check(&what, &p);
        let scene = app.scene().unwrap();
        assert_eq!(p.boxes.len(), scene.hosts.len(), "{what}");
        let mut texts: Vec<&str> = p.labels.iter().map(|l| l.full.as_str()).collect();
        texts.sort();
        assert_eq!(
            texts,
            [
                "POP3 110\n! Credentials in clear",
                "SMTP 25",
                "SMTP 587\n! Credentials in clear",
            ],
            "{what}"
        );
    }
    // Presenter mode in Spanish at a projector's size: bigger text, same
    // promises.
    let (p, _) = drawn(&demo_capture(), 1280.0, 720.0, None, |app| {
        app.lang = Lang::Es;
        app.presenter = true;
    });
    check("demo, presenter, Spanish, 1280x720", &p);
    assert_eq!(p.labels.len(), 3);
}

#[test]
fn credentials_in_clear_appear_when_the_login_happens() {
    let (p, app) = drawn(&demo_capture(), 1600.0, 900.0, Some(0.0), |_| {});
    assert!(p.labels.iter().all(|l| !l.full.contains("Credentials")));
    let scene = app.scene().unwrap();
    // Just after Alice's AUTH PLAIN: her edge says it, Bob's not yet.
    let alice = scene
        .credentials
        .iter()
        .map(|c| c.t)
        .fold(f64::INFINITY, f64::min);
    let (p, _) = drawn(&demo_capture(), 1600.0, 900.0, Some(alice), |_| {});
    let warned: Vec<&str> = p
        .labels
        .iter()
        .filter(|l| l.full.contains("Credentials"))
        .map(|l| l.full.as_str())
        .collect();
    assert_eq!(warned, ["SMTP 587\n! Credentials in clear"]);
}

#[test]
fn labels_hold_on_zeeks_smtp_capture() {
    let Some(shared) = common::shared_captures_dir() else {
        eprintln!("skipped: ../shared/captures is absent");
        return;
    };
    let path = shared.join("zeek/smtp/smtp.pcap");
    for (w, h) in SIZES {
        let (p, app) = drawn(&path, w, h, None, |_| {});
        let what = format!("zeek smtp.pcap at {w}x{h}");
        check(&what, &p);
        let scene = app.scene().unwrap();
        assert_eq!(scene.conns.len(), 6, "{what}");
        assert_eq!(p.boxes.len(), scene.hosts.len(), "{what}");
        assert_eq!(p.labels.len(), 6, "{what}: one label per connection");
        // TLS on a port that says nothing more is "TLS 443", not
        // "TLS 443 (TLS)"; a mail protocol keeps its TLS mode.
        let mut names: Vec<String> = scene.conns.iter().map(|c| c.label()).collect();
        names.sort();
        assert_eq!(
            names,
            [
                "SMTP 25", "SMTP 25", "TCP 5050", "TLS 443", "TLS 443", "TLS 5223"
            ],
            "{what}"
        );
    }
}

/// The case seen on a projector: Zeek's smtp.pcap in presenter mode, in
/// Spanish, at both sizes. The resting message's subject used to cover a
/// host box, and edges ran under the boxes of other hosts.
#[test]
fn subjects_and_edges_hold_on_zeeks_capture_in_presenter_spanish() {
    let Some(shared) = common::shared_captures_dir() else {
        eprintln!("skipped: ../shared/captures is absent");
        return;
    };
    let path = shared.join("zeek/smtp/smtp.pcap");
    for (w, h) in SIZES {
        let (mut p, _) = drawn(&path, w, h, None, |app| {
            app.lang = Lang::Es;
            app.presenter = true;
        });
        let what = format!("zeek smtp.pcap, presenter, Spanish, at {w}x{h}");
        assert!(
            !p.notes.is_empty(),
            "{what}: the resting message's subject is written"
        );
        assert_eq!(p.edges.len(), 6, "{what}");
        // Boxes one above the other leave room between them for the edges
        // and labels that run there: at least half a box (they sat 25 px
        // apart at 1280x720, the edges under the envelope).
        for (i, (_, a)) in p.boxes.iter().enumerate() {
            for (_, b) in &p.boxes[i + 1..] {
                let side_by_side = a.x_range().intersects(b.x_range());
                let gap = (b.top() - a.bottom()).max(a.top() - b.bottom());
                assert!(
                    !side_by_side || gap >= a.height() / 2.0,
                    "{what}: boxes {a:?} and {b:?} are {gap} px apart"
                );
            }
        }
        eprintln!("{what}: labels without room: {:?}", p.unplaced);
        // Not every label has room on the small canvas (they are on the
        // edge's hover then); none is drawn over anything.
        p.unplaced.clear();
        check(&what, &p);
    }
}

#[test]
fn parallel_connections_merge_on_ndpis_pop3_capture() {
    let Some(shared) = common::shared_captures_dir() else {
        eprintln!("skipped: ../shared/captures is absent");
        return;
    };
    let path = shared.join("ndpi/pop3/pop3.pcap");
    for (w, h) in SIZES {
        let (p, app) = drawn(&path, w, h, None, |_| {});
        let what = format!("ndpi pop3.pcap at {w}x{h}");
        check(&what, &p);
        assert_eq!(app.scene().unwrap().conns.len(), 6, "{what}");
        let mut texts: Vec<&str> = p.labels.iter().map(|l| l.full.as_str()).collect();
        texts.sort();
        assert_eq!(
            texts,
            [
                "POP3 110\n! Credentials in clear",
                "POP3 110 (x5)\n! Credentials in clear",
            ],
            "{what}"
        );
        // Servers and readers in two columns across the canvas, not one.
        let xs: Vec<f32> = p.boxes.iter().map(|(_, r)| r.center().x).collect();
        let spread =
            xs.iter().fold(f32::MIN, |a, &b| a.max(b)) - xs.iter().fold(f32::MAX, |a, &b| a.min(b));
        assert!(spread > p.canvas.width() / 3.0, "{what}: {xs:?}");
    }
}

/// The top bar is one row on a projector: presenter mode, Spanish, 1280
/// pixels wide (the last control, the dark-mode switch, used to wrap).
#[test]
fn the_top_bar_is_one_row_on_a_projector() {
    use egui_kittest::kittest::Queryable as _;
    let mut app = ClassroomApp::new(Lang::Es);
    app.presenter = true;
    app.open_now(&demo_capture());
    let mut harness = harness_sized(app, 1280.0, 720.0);
    harness.run_steps(4);
    let first = harness.get_by_label("mailscope").rect();
    let last = harness.get_by_label("Oscuro").rect();
    assert!(
        (first.center().y - last.center().y).abs() < 4.0,
        "the top bar wrapped: {first:?} / {last:?}"
    );
    assert!(last.right() <= 1280.0, "{last:?}");
}

/// The time readout keeps the end in view on a projector: Zeek's capture
/// has dates, and at presenter 1280x720 the readout used to drop to the
/// playhead's time alone.
#[test]
fn the_time_readout_keeps_the_end_on_a_projector() {
    use egui_kittest::kittest::Queryable as _;
    let Some(shared) = common::shared_captures_dir() else {
        eprintln!("skipped: ../shared/captures is absent");
        return;
    };
    let mut app = ClassroomApp::new(Lang::Es);
    app.presenter = true;
    app.open_now(&shared.join("zeek/smtp/smtp.pcap"));
    let end = app.playback.duration();
    app.playback.seek(end);
    let mut harness = harness_sized(app, 1280.0, 720.0);
    harness.run_steps(4);
    harness.get_by_label("13:43:19 / 13:43:19");
}
