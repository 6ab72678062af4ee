//! Crowd mode on a capture with many clients (egui_kittest, real fonts):
//! a small capture from `../shared/bench/make-mail-pcap.py` (2 MiB, made
//! in a temporary folder in well under a second), at 1280×720 and 1600×900, at the
//! instant with the most connections alive.
//! The clients of the busiest servers are gathered into nodes "N clients",
//! the counts add up to the clients shown, no two boxes overlap, and a
//! click on a crowd opens it.
#![cfg(feature = "gui")]

mod common;

use std::path::PathBuf;
use std::process::Command;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use mailscope::gui::ClassroomApp;
use mailscope::gui::i18n::Lang;
use mailscope::gui::placement::Placement;

/// The bench capture, made now; None when the generator is absent.
fn many_clients() -> Option<PathBuf> {
    let script = common::shared_captures_dir()?.join("../bench/make-mail-pcap.py");
    if !script.exists() {
        return None;
    }
    let out = common::temp_dir("crowd").join("bench-2m.pcap");
    let status = Command::new("python3")
        .arg(&script)
        .args(["--seed", "1", "--size", "2MiB", "-q", "--out"])
        .arg(&out)
        .status()
        .ok()?;
    status.success().then_some(out)
}

fn boxes_apart(p: &Placement) {
    for (i, (h, a)) in p.boxes.iter().enumerate() {
        assert!(p.canvas.contains_rect(*a), "box of {h} off the canvas");
        for (k, b) in &p.boxes[i + 1..] {
            assert!(
                !a.intersects(*b),
                "boxes of {h} and {k} overlap: {a:?} {b:?}"
            );
        }
    }
}

#[test]
fn clients_of_busy_servers_are_one_node_that_opens_on_click() {
    let Some(path) = many_clients() else {
        eprintln!("skipped: ../shared/bench/make-mail-pcap.py is absent");
        return;
    };
    // The projector's two common sizes.
    for (w, h) in [(1280.0, 720.0), (1600.0, 900.0)] {
        let mut app = ClassroomApp::new(Lang::En);
        app.open_now(&path);
        assert!(app.error().is_none(), "{:?}", app.error());
        // The busiest instant: the start of the connection that has the most
        // others alive with it (a real network's rush hour).
        let mid = {
            let conns = &app.scene().unwrap().conns;
            conns
                .iter()
                .map(|a| a.start)
                .max_by_key(|&t| conns.iter().filter(|c| c.start <= t && t <= c.end).count())
                .unwrap()
        };
        app.playback.seek(mid);
        let mut harness = Harness::builder()
            .with_size(egui::Vec2::new(w, h))
            .with_max_steps(100)
            // The bench capture's subjects include CJK text (U+914D) that the
            // test fonts lack; the real window draws such glyphs as boxes too.
            .allow_missing_glyphs()
            .build_ui_state(|ui, app: &mut ClassroomApp| app.ui(ui), app);
        harness.run_steps(4);
        let p = harness.state().last_placement.clone().unwrap();
        assert!(
            !p.crowds.is_empty(),
            "no crowd among {} boxes",
            p.boxes.len()
        );
        boxes_apart(&p);
        // Every client alive at the playhead is in a crowd or has its box.
        let scene = harness.state().scene().unwrap();
        let alive: std::collections::BTreeSet<usize> = scene
            .conns
            .iter()
            .filter(|c| c.start <= mid && mid <= c.end)
            .map(|c| c.client_host)
            .collect();
        let gathered: usize = p.crowds.iter().map(|c| c.count).sum();
        let apart = p
            .boxes
            .iter()
            .filter(|(h, r)| alive.contains(h) && !p.crowds.iter().any(|c| c.rect == *r))
            .count();
        assert!(gathered >= 2 * p.crowds.len(), "{:?}", p.crowds);
        assert!(
            gathered + apart >= alive.len(),
            "{gathered} gathered + {apart} apart < {} alive",
            alive.len()
        );
        // The biggest crowd of one server, clicked, opens.
        let biggest = p
            .crowds
            .iter()
            .filter(|c| c.server.is_some())
            .max_by_key(|c| c.count)
            .expect("a crowd of one server")
            .clone();
        let name = format!("{} clients", biggest.count);
        // Two crowds can have the same count: the one clicked is the one
        // drawn where the placement put the biggest.
        harness
            .query_all_by_label(&name)
            .find(|n| biggest.rect.contains(n.rect().center()))
            .unwrap_or_else(|| panic!("no node {name:?} at {:?}", biggest.rect))
            .click();
        harness.run_steps(4);
        assert_eq!(harness.state().open_crowds.len(), 1);
        let opened = harness.state().last_placement.clone().unwrap();
        boxes_apart(&opened);
        assert!(
            !opened
                .crowds
                .iter()
                .any(|c| c.server == biggest.server && !c.rest && c.count == biggest.count),
            "still gathered: {:?}",
            opened.crowds
        );
        // And "Gather the clients again" closes it.
        harness.get_by_label("Gather the clients again").click();
        harness.run_steps(4);
        assert!(harness.state().open_crowds.is_empty());
    }
    // The 2 MiB capture is made again by the next run.
    let _ = std::fs::remove_file(&path);
}
