//! The lesson's punchline: the same session in clear and over TLS, side by
//! side, as an eavesdropper sees each (`mailscope gui A --compare B`, or
//! "Compare with another capture…" in the Lesson menu).
//!
//! Each side is one capture read by the same analysis as the window
//! ([`loader`]), always without keys: the comparison is about what the
//! wire gives away, so a key log in either capture (the demo writes its
//! secrets into the capture) must not show one side more than an
//! eavesdropper reads. Each side shows its file, one verdict line, the
//! eavesdropper panel and the transcript, for the whole capture.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::Receiver;

use egui::{Color32, RichText, Ui};

use super::eavesdropper;
use super::i18n::Lang;
use super::loader::{self, LoadEvent, LoadOptions};
use super::model::Scene;

/// How each side is read: as an eavesdropper without the keys.
pub fn wire_only() -> LoadOptions {
    LoadOptions {
        keylogs: Vec::new(),
        no_decrypt: true,
        stage: None,
        threads: None,
    }
}

/// One capture of the comparison.
pub struct Side {
    pub path: PathBuf,
    scene: Option<Arc<Scene>>,
    rx: Option<Receiver<LoadEvent>>,
    error: Option<String>,
}

impl Side {
    fn spawn(path: PathBuf, ctx: &egui::Context) -> Side {
        let ctx = ctx.clone();
        let rx = loader::spawn(path.clone(), wire_only(), move || ctx.request_repaint());
        Side {
            path,
            scene: None,
            rx: Some(rx),
            error: None,
        }
    }

    fn now(path: PathBuf) -> Side {
        let (scene, error) = match loader::analyze(&path, &wire_only(), |_, _| {}) {
            Ok(s) => (Some(Arc::new(s)), None),
            Err(e) => (None, Some(e.to_string())),
        };
        Side {
            path,
            scene,
            rx: None,
            error,
        }
    }

    fn poll(&mut self) {
        let Some(rx) = &self.rx else {
            return;
        };
        while let Ok(ev) = rx.try_recv() {
            match ev {
                LoadEvent::Progress { .. } => {}
                LoadEvent::Done(s) => {
                    self.scene = Some(Arc::new(*s));
                    self.rx = None;
                    return;
                }
                LoadEvent::Failed(e) => {
                    self.error = Some(e.to_string());
                    self.rx = None;
                    return;
                }
            }
        }
    }

    /// The side's scene, once read.
    pub fn scene(&self) -> Option<&Scene> {
        self.scene.as_deref()
    }

    /// The file name shown above the side.
    pub fn name(&self) -> String {
        file_name(&self.path)
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Two captures side by side.
pub struct Compare {
    pub sides: [Side; 2],
}

impl Compare {
    /// Reads both captures in the background.
    pub fn open(first: PathBuf, second: PathBuf, ctx: &egui::Context) -> Compare {
        Compare {
            sides: [Side::spawn(first, ctx), Side::spawn(second, ctx)],
        }
    }

    /// Reads both captures on this thread (tests, a prepared lesson).
    pub fn open_now(first: PathBuf, second: PathBuf) -> Compare {
        Compare {
            sides: [Side::now(first), Side::now(second)],
        }
    }

    pub fn is_loading(&self) -> bool {
        self.sides.iter().any(|s| s.rx.is_some())
    }

    /// Takes what the loading threads sent.
    pub fn poll(&mut self) {
        for s in &mut self.sides {
            s.poll();
        }
    }
}

/// One line on what an eavesdropper takes away from `scene`.
fn verdict(lang: Lang, scene: &Scene) -> (String, Color32) {
    let creds = scene
        .credentials
        .iter()
        .filter(|c| c.record.tls.is_none())
        .count();
    let clear_msgs = scene
        .messages
        .iter()
        .filter(|m| m.record.tls.is_none() && !scene.conns[m.conn].encrypted())
        .count();
    if creds + clear_msgs > 0 {
        (
            lang.f2(
                "Readable by anyone on the path: {} password(s), {} message(s)",
                creds,
                clear_msgs,
            ),
            Color32::from_rgb(200, 20, 20),
        )
    } else if scene.conns.iter().any(|c| c.tls.is_some()) {
        (
            lang.t("No password and no message readable: TLS hides them")
                .into(),
            Color32::from_rgb(20, 130, 60),
        )
    } else {
        (
            lang.t("No password and no message in this capture").into(),
            Color32::GRAY,
        )
    }
}

/// Draws the two sides, each as it stands at the end of its capture
/// (the two recordings' clocks differ: a shared playhead would compare
/// different moments).
pub fn show(ui: &mut Ui, lang: Lang, compare: &mut Compare, presenter: bool) {
    compare.poll();
    if compare.is_loading() {
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(50));
    }
    ui.label(
        RichText::new(
            lang.t("The same session twice, as an eavesdropper without the keys sees it"),
        )
        .strong(),
    );
    ui.separator();
    let height = ui.available_height();
    ui.columns(2, |cols| {
        for (i, (ui, side)) in cols.iter_mut().zip(&compare.sides).enumerate() {
            ui.push_id(("compare", i), |ui| {
                column(ui, lang, side, height, presenter)
            });
        }
    });
}

fn column(ui: &mut Ui, lang: Lang, side: &Side, height: f32, presenter: bool) {
    let size = if presenter { 24.0 } else { 17.0 };
    ui.add(egui::Label::new(RichText::new(side.name()).size(size).strong()).truncate())
        .on_hover_text(side.path.display().to_string());
    if let Some(e) = &side.error {
        ui.colored_label(Color32::RED, e);
        return;
    }
    let Some(scene) = side.scene() else {
        ui.spinner();
        return;
    };
    let (text, color) = verdict(lang, scene);
    ui.label(RichText::new(text).color(color).strong().size(size * 0.85));
    let end = scene.duration;
    let rest = (height - ui.min_rect().height()).max(120.0);
    ui.allocate_ui(egui::vec2(ui.available_width(), rest * 0.58), |ui| {
        eavesdropper::show(ui, lang, scene, None, end, presenter);
    });
    ui.separator();
    super::transcript::show(ui, lang, scene, None, end, (None, None), presenter);
}

/// (English, Spanish) for the comparison, sorted by the English text.
pub const SPANISH: &[(&str, &str)] = &[
    (
        "No password and no message in this capture",
        "Ni contraseñas ni mensajes en esta captura",
    ),
    (
        "No password and no message readable: TLS hides them",
        "Ninguna contraseña ni mensaje legible: TLS los oculta",
    ),
    (
        "Readable by anyone on the path: {} password(s), {} message(s)",
        "Legible por cualquiera en el camino: {} contraseña(s), {} mensaje(s)",
    ),
    (
        "The same session twice, as an eavesdropper without the keys sees it",
        "La misma sesión dos veces, como la ve un espía sin las claves",
    ),
];
