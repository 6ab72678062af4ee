//! The "Decrypt with the key log" switch: one eavesdropper lesson.
//!
//! With the capture's key log (its Decryption Secrets Blocks, or
//! `--keylog` files) the window reads inside TLS: the transcript shows
//! `[tls] C: PASS hungry`, the credentials and messages of the TLS
//! sessions are listed. An eavesdropper has no key log. Switched off, the
//! window shows only what the wire shows, and the eavesdropper panel's TLS
//! box and the transcript beside it tell the same story.
//!
//! Switching reads the capture again with the other load option
//! ([`LoadOptions::no_decrypt`]): the same analysis path as
//! `--no-decrypt`, so what the window shows is what `mailscope dialog
//! --no-decrypt` prints, not a filter of the decrypted scene that could
//! disagree with it. The panel, the selected connection (by flow id) and
//! the playhead survive the reload.

use std::path::Path;

use egui::Ui;

use super::super::loader::LoadOptions;
use super::super::model::Scene;
use super::{ClassroomApp, Tab};
use crate::gui::timeline::StepBy;

/// What a reload keeps of the window.
#[derive(Clone, Debug)]
pub(super) struct Kept {
    tab: Tab,
    flow: Option<u64>,
    t: f64,
    step_by: StepBy,
}

/// Why the switch cannot be used, in the words of its tooltip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SwitchState {
    /// It can be switched.
    Usable,
    /// The demo is recording: its scene is rebuilt from the recording.
    Live,
    /// The capture has no TLS connection: nothing to decrypt.
    NoTls,
    /// Read with the keys, nothing was decrypted: no key for its TLS.
    NoKeys,
}

/// Whether anything in `scene` was read from inside TLS.
pub(super) fn decrypted_anything(scene: &Scene) -> bool {
    scene.lines.iter().any(|l| l.decrypted)
        || scene.conns.iter().any(|c| {
            c.tls.as_ref().is_some_and(|t| {
                t.summary.decrypted_records_c2s + t.summary.decrypted_records_s2c > 0
            })
        })
}

impl ClassroomApp {
    /// Whether the window reads inside TLS with the key log.
    pub fn decrypting(&self) -> bool {
        !self.load_options.no_decrypt
    }

    /// Whether the switch can be used now, and if not why.
    pub fn decrypt_switch_state(&self) -> SwitchState {
        if self.live.is_some() {
            return SwitchState::Live;
        }
        let Some(scene) = self.scene.as_deref() else {
            return SwitchState::NoTls;
        };
        if !scene.conns.iter().any(|c| c.tls.is_some()) {
            return SwitchState::NoTls;
        }
        // Switched on and nothing decrypted: the switch would change
        // nothing. Switched off, reading with the keys is the only way to
        // know whether they decrypt anything (unless this capture was read
        // with them before).
        let known = self
            .decrypted_before
            .as_ref()
            .filter(|(p, _)| Some(p) == self.path.as_ref())
            .map(|&(_, d)| d);
        let decrypts = if self.decrypting() {
            Some(decrypted_anything(scene))
        } else {
            known
        };
        if decrypts == Some(false) {
            SwitchState::NoKeys
        } else {
            SwitchState::Usable
        }
    }

    /// Notes what reading `scene` with the key log decrypted (called for
    /// every scene shown).
    pub(super) fn note_decryption(&mut self, scene: &Scene, path: &Path) {
        if self.decrypting() && self.live.is_none() {
            self.decrypted_before = Some((path.to_path_buf(), decrypted_anything(scene)));
        }
    }

    /// Switches decryption on or off and reads the capture again in the
    /// background, keeping the panel, the connection and the playhead.
    pub fn set_decrypt(&mut self, on: bool, ctx: &egui::Context) {
        if on == self.decrypting() || self.live.is_some() {
            return;
        }
        let Some(path) = self.path.clone() else {
            self.load_options.no_decrypt = !on;
            return;
        };
        let flow = self
            .selected_conn
            .and_then(|c| self.scene.as_ref().and_then(|s| s.conns.get(c)))
            .map(|c| c.flow);
        self.kept = Some(Kept {
            tab: self.tab,
            flow,
            t: self.playback.t,
            step_by: self.step_by,
        });
        self.load_options = LoadOptions {
            no_decrypt: !on,
            ..self.load_options.clone()
        };
        let playing = self.playback.playing;
        self.open(path, ctx);
        self.play_on_open = playing;
    }

    /// Puts back what [`Self::set_decrypt`] kept, once the capture read
    /// again is shown.
    pub(super) fn restore_kept(&mut self) {
        let Some(kept) = self.kept.take() else {
            return;
        };
        self.tab = kept.tab;
        self.step_by = kept.step_by;
        let conn = kept
            .flow
            .and_then(|f| self.scene.as_deref().and_then(|s| s.conn_of_flow(f)));
        self.select_conn(conn);
        self.playback.seek(kept.t);
    }

    /// Draws the switch (in the row of the panels' tabs).
    pub(super) fn decrypt_switch(&mut self, ui: &mut Ui) {
        let lang = self.lang;
        let state = self.decrypt_switch_state();
        let mut on = self.decrypting();
        // The whole sentence where the row has room for it; "Decrypt" alone
        // in presenter mode at 1280 px, where the sentence ran under the
        // transcript (the hover text says the rest).
        let full = lang.t("Decrypt with the key log");
        let font = egui::TextStyle::Button.resolve(ui.style());
        let need = ui
            .painter()
            .layout_no_wrap(full.to_string(), font, egui::Color32::BLACK)
            .size()
            .x
            + ui.spacing().icon_width
            + ui.spacing().icon_spacing
            + ui.spacing().item_spacing.x;
        let text = if ui.available_width() >= need {
            full
        } else {
            lang.t("Decrypt")
        };
        let r = ui.add_enabled(
            state == SwitchState::Usable,
            egui::Checkbox::new(&mut on, text),
        );
        let why = match state {
            SwitchState::Usable if self.decrypting() => lang.t(
                "On: the window reads inside TLS with the key log (lines marked [tls]). Off: only what an eavesdropper without the keys sees",
            ),
            SwitchState::Usable => lang.t(
                "Off: only what the wire shows. On: read inside TLS with the key log (the capture's own secrets or --keylog files)",
            ),
            SwitchState::Live => lang.t("Not while the demo is recording"),
            SwitchState::NoTls => lang.t("No TLS connection in this capture: nothing to decrypt"),
            SwitchState::NoKeys => lang.t(
                "No key for this capture's TLS connections (neither in the capture nor in a --keylog file)",
            ),
        };
        let r = r.on_hover_text(why).on_disabled_hover_text(why);
        if r.changed() {
            self.set_decrypt(on, &ui.ctx().clone());
        }
    }
}

/// (English, Spanish) for the switch, sorted by the English text.
pub const SPANISH: &[(&str, &str)] = &[
    ("Decrypt", "Descifrar"),
    (
        "Decrypt with the key log",
        "Descifrar con el registro de claves",
    ),
    (
        "No TLS connection in this capture: nothing to decrypt",
        "Ninguna conexión TLS en esta captura: nada que descifrar",
    ),
    (
        "No key for this capture's TLS connections (neither in the capture nor in a --keylog file)",
        "Ninguna clave para las conexiones TLS de esta captura (ni en la captura ni en un archivo --keylog)",
    ),
    (
        "Not while the demo is recording",
        "No mientras la demo graba",
    ),
    (
        "Off: only what the wire shows. On: read inside TLS with the key log (the capture's own secrets or --keylog files)",
        "Apagado: solo lo que muestra el cable. Encendido: leer dentro de TLS con el registro de claves (los secretos de la propia captura o archivos --keylog)",
    ),
    (
        "On: the window reads inside TLS with the key log (lines marked [tls]). Off: only what an eavesdropper without the keys sees",
        "Encendido: la ventana lee dentro de TLS con el registro de claves (líneas marcadas [tls]). Apagado: solo lo que ve un espía sin las claves",
    ),
];
