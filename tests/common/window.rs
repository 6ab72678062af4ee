//! The classroom window under egui_kittest (headless: no display needed),
//! and the demo captures the window tests open.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use mailscope::gui::ClassroomApp;

/// The window at a desktop's 1600×900.
pub fn harness(app: ClassroomApp) -> Harness<'static, ClassroomApp> {
    harness_sized(app, 1600.0, 900.0)
}

/// The window at `w`×`h` (1280×720: a projector's).
pub fn harness_sized(app: ClassroomApp, w: f32, h: f32) -> Harness<'static, ClassroomApp> {
    Harness::builder()
        .with_size(egui::Vec2::new(w, h))
        .with_max_steps(100)
        .build_ui_state(|ui, app: &mut ClassroomApp| app.ui(ui), app)
}

/// Steps the window until `done` holds (the analysis and the packet reads
/// run on threads).
pub fn wait_for(
    h: &mut Harness<'_, ClassroomApp>,
    what: &str,
    done: impl Fn(&ClassroomApp) -> bool,
) {
    let start = Instant::now();
    while !done(h.state()) {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    h.run_steps(2);
}

/// `mailscope demo --tls TLS --read READ` on loopback network `net`, run
/// once per test binary however many tests ask (`made` keeps it): the
/// capture `name` in a fresh temporary folder `dir`.
pub fn demo_once(
    made: &'static OnceLock<PathBuf>,
    dir: &str,
    name: &str,
    tls: &str,
    read: &str,
    net: &str,
) -> &'static Path {
    made.get_or_init(|| {
        let path = super::temp_dir(dir).join(name);
        super::run_demo(tls, read, net, &path, &[]);
        path
    })
}
