//! The window's side of the comparison ([`super::super::compare`]): which
//! second capture is beside the open one, and the "Compare with another
//! capture…" row the Lesson menu opens.

use std::path::PathBuf;

use egui::Ui;

use super::super::compare::Compare;
use super::super::open::OpenDialog;
use super::{ClassroomApp, Tab};

impl ClassroomApp {
    /// Puts `second` beside the open capture (read in the background) and
    /// shows the comparison.
    pub fn compare_with(&mut self, second: PathBuf, ctx: &egui::Context) {
        let Some(first) = self.path.clone() else {
            return;
        };
        self.compare = Some(Compare::open(first, second, ctx));
        self.tab = Tab::Compare;
    }

    /// Like [`Self::compare_with`], read on this thread (tests, a
    /// prepared lesson).
    pub fn compare_with_now(&mut self, second: PathBuf) {
        let Some(first) = self.path.clone() else {
            return;
        };
        self.compare = Some(Compare::open_now(first, second));
        self.tab = Tab::Compare;
    }

    /// The comparison shown in the Compare panel, if any.
    pub fn comparison(&self) -> Option<&Compare> {
        self.compare.as_ref()
    }

    /// Opens the row where the second capture is typed or picked.
    pub(crate) fn ask_for_comparison(&mut self) {
        self.compare_dialog = Some(OpenDialog::default());
    }

    /// The row under the top bar while a second capture is being picked.
    pub(super) fn comparison_dialog(&mut self, ui: &mut Ui) {
        let lang = self.lang;
        let Some(dialog) = &mut self.compare_dialog else {
            return;
        };
        ui.separator();
        ui.strong(lang.t("Capture to put beside this one (the same session over TLS, say):"));
        if let Some(p) = dialog.show(ui, lang) {
            self.compare_dialog = None;
            self.compare_with(p, &ui.ctx().clone());
        }
    }

    /// The Compare panel.
    pub(super) fn compare_panel(&mut self, ui: &mut Ui) {
        let lang = self.lang;
        match &mut self.compare {
            Some(c) => super::super::compare::show(ui, lang, c, self.presenter),
            None => {
                ui.label(lang.t("No second capture yet: the Lesson menu opens one (Compare with another capture…)"));
            }
        }
    }
}

/// (English, Spanish) for the comparison's row and panel, sorted by the
/// English text.
pub const SPANISH: &[(&str, &str)] = &[
    (
        "Capture to put beside this one (the same session over TLS, say):",
        "Captura para poner al lado de esta (la misma sesión sobre TLS, por ejemplo):",
    ),
    ("Compare", "Comparar"),
    (
        "Compare with another capture…",
        "Comparar con otra captura…",
    ),
    (
        "No second capture yet: the Lesson menu opens one (Compare with another capture…)",
        "Aún no hay segunda captura: el menú Clase abre una (Comparar con otra captura…)",
    ),
];
