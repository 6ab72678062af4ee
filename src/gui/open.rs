//! "Open…": a path to type, and the folder it names listed below it, so a
//! capture can be found by clicking (folders first, then the files that
//! look like captures). Built in egui: a native dialog would need GTK or
//! a desktop portal that a classroom machine may not have.

use std::path::{Path, PathBuf};

use egui::{RichText, Ui};

use super::i18n::Lang;

/// Entries listed at most (a folder with 100 000 files stays usable).
const LISTED: usize = 500;

/// The state of the "Open…" row.
#[derive(Clone, Debug, Default)]
pub struct OpenDialog {
    /// What is typed: a file or a folder.
    pub text: String,
    /// The folder listed, and its entries (name, is a folder), sorted.
    listing: Option<(PathBuf, Vec<(String, bool)>)>,
}

/// Whether a file name looks like a capture mailscope reads.
pub fn looks_like_capture(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".pcap", ".pcapng", ".cap", ".pcap.gz"]
        .iter()
        .any(|ext| lower.ends_with(ext))
}

/// The folder to list for what is typed: the path itself when it is a
/// folder, else its parent, else the current folder.
fn folder_of(text: &str) -> PathBuf {
    let p = Path::new(text.trim());
    if p.is_dir() {
        return p.to_path_buf();
    }
    match p.parent() {
        Some(parent) if !parent.as_os_str().is_empty() && parent.is_dir() => parent.to_path_buf(),
        _ => std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
    }
}

/// The entries of `dir`: sub-folders and capture files, sorted, hidden
/// ones left out.
pub fn list(dir: &Path) -> Vec<(String, bool)> {
    let Ok(read) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<(String, bool)> = read
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let is_dir = e.file_type().ok()?.is_dir();
            (!name.starts_with('.') && (is_dir || looks_like_capture(&name)))
                .then_some((name, is_dir))
        })
        .collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out.truncate(LISTED);
    out
}

impl OpenDialog {
    /// Draws the row and the listing; returns a file to open.
    pub fn show(&mut self, ui: &mut Ui, lang: Lang) -> Option<PathBuf> {
        let mut chosen = None;
        ui.horizontal(|ui| {
            ui.label(lang.t("Open a capture"));
            let r = ui.add(egui::TextEdit::singleline(&mut self.text).desired_width(420.0));
            if r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                chosen = Some(PathBuf::from(self.text.trim()));
            }
            if ui.button(lang.t("Open")).clicked() {
                chosen = Some(PathBuf::from(self.text.trim()));
            }
        });
        let dir = folder_of(&self.text);
        if self.listing.as_ref().is_none_or(|(d, _)| *d != dir) {
            let entries = list(&dir);
            self.listing = Some((dir.clone(), entries));
        }
        let (dir, entries) = self.listing.as_ref().expect("just listed");
        let mut go_to = None;
        ui.label(RichText::new(dir.display().to_string()).monospace().weak());
        egui::ScrollArea::vertical()
            .id_salt("open-listing")
            .max_height(180.0)
            .show(ui, |ui| {
                if let Some(parent) = dir.parent()
                    && ui.selectable_label(false, "../").clicked()
                {
                    go_to = Some(parent.to_path_buf());
                }
                for (name, is_dir) in entries {
                    let shown = if *is_dir {
                        format!("{name}/")
                    } else {
                        name.clone()
                    };
                    if ui.selectable_label(false, shown).clicked() {
                        let p = dir.join(name);
                        if *is_dir {
                            go_to = Some(p);
                        } else {
                            chosen = Some(p);
                        }
                    }
                }
            });
        if let Some(d) = go_to {
            self.text = format!("{}/", d.display());
        }
        chosen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_folders_then_captures() {
        let dir = std::env::temp_dir().join(format!("mailscope-open-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("lesson-2")).unwrap();
        for f in ["b.pcapng", "a.PCAP", "notes.txt", ".hidden.pcap"] {
            std::fs::write(dir.join(f), b"").unwrap();
        }
        assert_eq!(
            list(&dir),
            [
                ("lesson-2".to_string(), true),
                ("a.PCAP".to_string(), false),
                ("b.pcapng".to_string(), false)
            ]
        );
        assert_eq!(folder_of(&dir.join("b.pcapng").display().to_string()), dir);
        assert_eq!(folder_of(&dir.display().to_string()), dir);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
