//! The classroom window (egui/eframe): a capture animated as hosts,
//! connections and packets on a timeline, with the textbook transcript,
//! the message inspector and what an eavesdropper reads.
//!
//! The window reads the same analysis as every report: [`loader`] runs the
//! analyzer on a capture (off the UI thread) and gathers a [`model::Scene`];
//! the panels only draw the scene at the playhead's time.

pub(crate) mod app;
pub mod bytes;
pub mod compare;
pub mod crowd;
pub mod demo_menu;
pub(crate) mod eavesdropper;
pub(crate) mod export;
pub mod flows;
pub(crate) mod host_box;
pub mod i18n;
pub(crate) mod inspector;
pub mod lesson;
pub(crate) mod live;
pub mod loader;
pub mod model;
pub(crate) mod open;
pub mod pdu;
pub mod placement;
pub mod playback;
pub mod timeline;
pub(crate) mod topology;
pub(crate) mod transcript;

use std::path::PathBuf;

pub use app::{ClassroomApp, SwitchState, Tab};
use i18n::Lang;
pub use loader::LoadError;

/// How the window starts (`mailscope gui` flags).
#[derive(Clone, Debug, Default)]
pub struct Start {
    /// A capture to open.
    pub file: Option<PathBuf>,
    /// Run the demo and follow it, writing its capture here.
    pub demo: Option<(crate::world::demo::DemoOptions, PathBuf)>,
    pub keylogs: Vec<PathBuf>,
    /// Ignore every key log (the capture's DSBs too).
    pub no_decrypt: bool,
    pub lang: Option<Lang>,
    pub presenter: bool,
    pub dark: bool,
    pub tab: Option<Tab>,
    /// Select this flow id.
    pub flow: Option<u64>,
    /// Put the playhead here (seconds), paused.
    pub at: Option<f64>,
    /// Select the first transcript line containing this text.
    pub line: Option<String>,
    /// Start playing.
    pub play: bool,
    pub speed: Option<f64>,
    /// A lesson's moments to stop at.
    pub bookmarks: Vec<lesson::Bookmark>,
    /// The lesson file the window was opened from (saving goes back
    /// there by default).
    pub lesson_file: Option<PathBuf>,
    /// Step by packet and stop at this packet (capture number from 1).
    pub packet: Option<u64>,
    /// A second capture to show beside the first (`--compare`): the same
    /// session in clear and over TLS.
    pub compare: Option<PathBuf>,
}

/// The native window could not be opened (no display, no OpenGL).
#[derive(Debug, thiserror::Error)]
#[error("cannot open the window: {0}")]
pub struct WindowError(#[from] eframe::Error);

/// Opens the native window and returns when it is closed.
pub fn run(start: Start) -> Result<(), WindowError> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("mailscope")
            .with_inner_size([1600.0, 900.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    eframe::run_native(
        "mailscope",
        options,
        Box::new(move |cc| {
            add_system_fallback_font(&cc.egui_ctx);
            Ok(Box::new(app_for(&start, &cc.egui_ctx)))
        }),
    )
    .map_err(WindowError)
}

/// The window's state for `start`: what the native window shows first
/// (and what the tests build, so they start the window the same way).
pub fn app_for(start: &Start, ctx: &egui::Context) -> ClassroomApp {
    let mut app = ClassroomApp::new(start.lang.unwrap_or_else(Lang::from_env));
    app.presenter = start.presenter;
    app.show_lists = !start.presenter;
    app.dark = start.dark;
    app.load_options.keylogs = start.keylogs.clone();
    app.load_options.no_decrypt = start.no_decrypt;
    if let Some((opts, target)) = start.demo.clone() {
        app.demo_options = opts;
        app.run_demo(target, ctx);
    } else if let Some(f) = &start.file {
        // Synchronously when the window must start in a given state
        // (screenshots, a prepared lesson); else in the background.
        if start.flow.is_some()
            || start.at.is_some()
            || start.line.is_some()
            || start.packet.is_some()
        {
            app.open_now(f);
            apply_start(&mut app, start);
        } else {
            app.open(f.clone(), ctx);
        }
    }
    if let Some(second) = &start.compare {
        if app.scene().is_some() {
            app.compare_with_now(second.clone());
        } else {
            app.compare_with(second.clone(), ctx);
        }
    }
    if let Some(tab) = start.tab {
        app.tab = tab;
    }
    if let Some(s) = start.speed {
        app.playback.speed = s.clamp(0.05, 50.0);
    }
    if start.play {
        // A capture read in the background is not there yet: it
        // starts playing when it arrives.
        app.playback.play();
        app.play_on_open = true;
    }
    app.bookmarks = start.bookmarks.clone();
    if let Some(f) = &start.lesson_file {
        app.lesson.file = f.display().to_string();
    }
    app
}

/// Fonts tried, in order, for the glyphs egui's built-in fonts lack
/// (arrows such as →, box drawing, many accented capitals).
const FALLBACK_FONTS: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
    "/Library/Fonts/Arial Unicode.ttf",
    "C:\\Windows\\Fonts\\arial.ttf",
];

/// Adds the first system font found as a fallback of both families.
pub fn add_system_fallback_font(ctx: &egui::Context) {
    let Some(bytes) = FALLBACK_FONTS.iter().find_map(|p| std::fs::read(p).ok()) else {
        return;
    };
    let mut fonts = egui::FontDefinitions::default();
    fonts.font_data.insert(
        "system-fallback".into(),
        std::sync::Arc::new(egui::FontData::from_owned(bytes)),
    );
    for family in [egui::FontFamily::Proportional, egui::FontFamily::Monospace] {
        fonts
            .families
            .entry(family)
            .or_default()
            .push("system-fallback".into());
    }
    ctx.set_fonts(fonts);
}

/// Applies the selection flags to an app whose scene is loaded.
pub fn apply_start(app: &mut ClassroomApp, start: &Start) {
    let Some(scene) = app.scene() else {
        return;
    };
    let conn = start.flow.and_then(|f| scene.conn_of_flow(f));
    // A line that is exactly the text wins over one that contains it
    // (`STARTTLS` the command, not `250-STARTTLS` the capability).
    let line = start.line.as_ref().and_then(|needle| {
        let of_conn = |l: &&model::Line| conn.is_none_or(|c| l.conn == c);
        let lines = || scene.lines.iter().enumerate().filter(|(_, l)| of_conn(l));
        // Among lines that contain it, the client's command first
        // (`AUTH PLAIN …`, not the server's `250-AUTH PLAIN LOGIN`).
        let contains = |l: &model::Line| l.text.contains(needle.as_str());
        lines()
            .find(|(_, l)| l.text == *needle)
            .or_else(|| {
                lines()
                    .find(|(_, l)| contains(l) && l.dir == crate::flow::Direction::ClientToServer)
            })
            .or_else(|| lines().find(|(_, l)| contains(l)))
            .map(|(i, _)| i)
    });
    let line_t = line.map(|i| scene.lines[i].t);
    let packet = start
        .packet
        .and_then(|n| (0..scene.wire.len()).find(|&k| scene.wire_index(k) + 1 == n));
    if conn.is_some() {
        app.select_conn(conn);
    }
    if let Some(t) = start.at.or(line_t) {
        app.playback.seek(t);
    }
    if let Some(i) = line {
        app.select_line(i);
    }
    if start.packet.is_some() {
        app.step_by = timeline::StepBy::Packet;
    }
    if let Some(k) = packet {
        app.step_to(k);
    }
}
