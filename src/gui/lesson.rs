//! Lesson files: a class prepared in advance (`mailscope gui --lesson
//! FILE`, saved from the window's "Lesson" menu).
//!
//! A teacher opens a capture, picks the connection and the moment to
//! start from, sets the language and presenter mode, and marks the
//! moments to stop at with a note each ("here the password crosses in
//! clear"). Saved as a small JSON file, the lesson opens the window in
//! that state the next time, on any machine where the capture is beside
//! the file: the capture's path is kept relative to the lesson when it
//! lies in the lesson's folder (or below it), so a folder of lessons and
//! captures can be copied or shared whole.

use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::i18n::Lang;
use super::{ClassroomApp, Start, Tab};

/// The version this build writes and reads.
const VERSION: u32 = 1;

/// A moment of the capture worth stopping at, with what to say there.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bookmark {
    /// Seconds from the capture's first packet (the timeline's clock).
    pub at: f64,
    pub note: String,
}

/// Everything a lesson file holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Lesson {
    pub version: u32,
    /// The capture, relative to the lesson file's folder when it lies in
    /// it (as written in the file; [`Lesson::load`] resolves it).
    pub capture: PathBuf,
    #[serde(default)]
    pub keylogs: Vec<PathBuf>,
    #[serde(default)]
    pub no_decrypt: bool,
    #[serde(with = "lang_code")]
    pub lang: Lang,
    #[serde(default)]
    pub presenter: bool,
    #[serde(default)]
    pub dark: bool,
    pub tab: Tab,
    /// The selected connection, by flow id (as `mailscope flows` lists it).
    #[serde(default)]
    pub flow: Option<u64>,
    /// The playhead, in seconds from the capture's start.
    #[serde(default)]
    pub at: Option<f64>,
    #[serde(default)]
    pub speed: Option<f64>,
    #[serde(default)]
    pub bookmarks: Vec<Bookmark>,
    /// A second capture shown beside the first (the Compare panel),
    /// relative like `capture`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compare: Option<PathBuf>,
}

/// A lesson file that cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum LessonError {
    #[error("cannot read the lesson {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a mailscope lesson: {source}")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{path} is a lesson of version {found}; this mailscope reads version {VERSION}")]
    Version { path: PathBuf, found: u32 },
    #[error("cannot write the lesson {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("open a capture first: a lesson is a capture and moments in it")]
    NoCapture,
}

impl Lesson {
    /// The window's state as a lesson (its paths as the window has them).
    pub fn of_app(app: &ClassroomApp) -> Result<Lesson, LessonError> {
        let capture = app.path().ok_or(LessonError::NoCapture)?.to_path_buf();
        let flow = app
            .selected_conn
            .and_then(|c| app.scene().and_then(|s| s.conns.get(c)))
            .map(|c| c.flow);
        Ok(Lesson {
            version: VERSION,
            capture,
            keylogs: app.load_options.keylogs.clone(),
            no_decrypt: app.load_options.no_decrypt,
            lang: app.lang,
            presenter: app.presenter,
            dark: app.dark,
            tab: app.tab,
            flow,
            at: Some(app.playback.t),
            speed: Some(app.playback.speed),
            bookmarks: app.bookmarks.clone(),
            compare: app.comparison().map(|c| c.sides[1].path.clone()),
        })
    }

    /// Reads a lesson file; relative paths in it are taken from the
    /// file's folder.
    pub fn load(path: &Path) -> Result<Lesson, LessonError> {
        let text = std::fs::read(path).map_err(|source| LessonError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut lesson: Lesson =
            serde_json::from_slice(&text).map_err(|source| LessonError::Parse {
                path: path.to_path_buf(),
                source,
            })?;
        if lesson.version != VERSION {
            return Err(LessonError::Version {
                path: path.to_path_buf(),
                found: lesson.version,
            });
        }
        let dir = folder_of(path);
        lesson.capture = dir.join(&lesson.capture);
        if let Some(c) = &mut lesson.compare {
            *c = dir.join(&*c);
        }
        for k in &mut lesson.keylogs {
            *k = dir.join(&*k);
        }
        lesson.bookmarks.retain(|b| b.at.is_finite());
        sort(&mut lesson.bookmarks);
        Ok(lesson)
    }

    /// Writes the lesson to `path`, with the capture and key logs relative
    /// to its folder when they lie in it.
    pub fn save(&self, path: &Path) -> Result<(), LessonError> {
        let dir = absolute(&folder_of(path));
        let mut written = self.clone();
        written.capture = relative_to(&dir, &self.capture);
        if let Some(c) = &mut written.compare {
            *c = relative_to(&dir, c);
        }
        for k in &mut written.keylogs {
            *k = relative_to(&dir, k);
        }
        let mut text = serde_json::to_vec_pretty(&written).expect("a lesson always serializes");
        text.push(b'\n');
        std::fs::write(path, text).map_err(|source| LessonError::Write {
            path: path.to_path_buf(),
            source,
        })
    }

    /// How the window starts with this lesson.
    pub fn start(&self) -> Start {
        Start {
            file: Some(self.capture.clone()),
            keylogs: self.keylogs.clone(),
            no_decrypt: self.no_decrypt,
            lang: Some(self.lang),
            presenter: self.presenter,
            dark: self.dark,
            tab: Some(self.tab),
            flow: self.flow,
            at: self.at,
            speed: self.speed,
            bookmarks: self.bookmarks.clone(),
            compare: self.compare.clone(),
            ..Start::default()
        }
    }
}

/// What the "Lesson" menu is typing: the next bookmark's note and the
/// file to save to.
#[derive(Default)]
pub struct LessonDraft {
    pub note: String,
    pub file: String,
}

/// The "Lesson" menu: the bookmarks (a click puts the playhead there),
/// "Bookmark this moment" with a note, "Save lesson", and the selected
/// connection's sequence diagram for slides.
pub(crate) fn menu(app: &mut ClassroomApp, ui: &mut egui::Ui) {
    let lang = app.lang;
    ui.strong(lang.t("Bookmarks"));
    if app.bookmarks.is_empty() {
        ui.weak(lang.t("No bookmarks yet"));
    }
    let mut jump = None;
    let mut remove = None;
    for (i, b) in app.bookmarks.iter().enumerate() {
        ui.horizontal(|ui| {
            let when = lang.number(format!("{:.3} s", b.at));
            // The note is the teacher's own text, shown as typed (egui
            // draws it as text: nothing reaches a terminal).
            if ui.button(format!("{when}  {}", b.note)).clicked() {
                jump = Some(b.at);
            }
            if ui
                .small_button("×")
                .on_hover_text(lang.t("Remove this bookmark"))
                .clicked()
            {
                remove = Some(i);
            }
        });
    }
    if let Some(t) = jump {
        app.playback.playing = false;
        app.playback.seek(t);
    }
    if let Some(i) = remove {
        app.bookmarks.remove(i);
    }
    ui.separator();
    ui.add(
        egui::TextEdit::singleline(&mut app.lesson.note)
            .hint_text(lang.t("Note for this moment"))
            .desired_width(260.0),
    );
    if ui.button(lang.t("Bookmark this moment")).clicked() {
        app.bookmarks.push(Bookmark {
            at: app.playback.t,
            note: app.lesson.note.trim().to_string(),
        });
        sort(&mut app.bookmarks);
        app.lesson.note.clear();
    }
    ui.separator();
    if app.lesson.file.is_empty()
        && let Some(p) = app.path()
    {
        app.lesson.file = default_file_for(p).display().to_string();
    }
    ui.add(egui::TextEdit::singleline(&mut app.lesson.file).desired_width(260.0));
    if ui.button(lang.t("Save lesson")).clicked() {
        let file = PathBuf::from(app.lesson.file.trim());
        let saved = Lesson::of_app(app).and_then(|l| l.save(&file));
        app.set_notice(match saved {
            Ok(()) => lang.f("Saved to {}", file.display()),
            Err(e) => e.to_string(),
        });
        ui.close();
    }
    ui.separator();
    // The lesson's punchline: this session beside the same one over TLS.
    if ui.button(lang.t("Compare with another capture…")).clicked() {
        app.ask_for_comparison();
        ui.close();
    }
    if app.selected_conn.is_some() {
        ui.separator();
        if ui.button(lang.t("Export the sequence diagram")).clicked() {
            app.export_selected_diagram();
            ui.close();
        }
    }
}

/// The file name the menu offers: the capture's, with `.lesson.json`.
pub fn default_file_for(capture: &Path) -> PathBuf {
    let stem = capture
        .file_stem()
        .map_or_else(|| "capture".into(), |s| s.to_string_lossy().into_owned());
    folder_of(capture).join(format!("{stem}.lesson.json"))
}

/// Bookmarks in the order of the timeline.
pub fn sort(bookmarks: &mut [Bookmark]) {
    bookmarks.sort_by(|a, b| a.at.total_cmp(&b.at));
}

fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// `path` relative to `dir` when it lies in `dir` (no `..` is written:
/// a lesson moved alone then fails to find its capture instead of
/// finding another); else absolute.
fn relative_to(dir: &Path, path: &Path) -> PathBuf {
    let path = absolute(path);
    match path.strip_prefix(dir) {
        Ok(rel) if rel.components().all(|c| matches!(c, Component::Normal(_))) => rel.to_path_buf(),
        _ => path,
    }
}

/// (English, Spanish) for the lesson menu, sorted by the English text.
pub const SPANISH: &[(&str, &str)] = &[
    ("Bookmark this moment", "Marcar este momento"),
    ("Bookmarks", "Marcadores"),
    ("Lesson", "Clase"),
    ("No bookmarks yet", "Aún no hay marcadores"),
    ("Note for this moment", "Nota para este momento"),
    ("Remove this bookmark", "Quitar este marcador"),
    ("Save lesson", "Guardar la clase"),
];

/// The language as the CLI spells it (`--lang en|es`).
mod lang_code {
    use super::Lang;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(lang: &Lang, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match lang {
            Lang::En => "en",
            Lang::Es => "es",
        })
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Lang, D::Error> {
        match String::deserialize(d)?.as_str() {
            "en" => Ok(Lang::En),
            "es" => Ok(Lang::Es),
            other => Err(D::Error::custom(format!(
                "lang is \"en\" or \"es\", not {other:?}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lesson(capture: &Path) -> Lesson {
        Lesson {
            version: VERSION,
            capture: capture.to_path_buf(),
            keylogs: Vec::new(),
            no_decrypt: false,
            lang: Lang::Es,
            presenter: true,
            dark: false,
            tab: Tab::Eavesdropper,
            flow: Some(2),
            at: Some(0.25),
            speed: Some(0.5),
            bookmarks: vec![Bookmark {
                at: 0.125,
                note: "aquí cruza la contraseña".into(),
            }],
            compare: Some(capture.with_file_name("tls.pcapng")),
        }
    }

    #[test]
    fn a_capture_beside_the_lesson_is_written_relative_and_read_back() {
        let dir = std::env::temp_dir().join(format!("mailscope-lesson-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("caps")).unwrap();
        let capture = dir.join("caps/plain.pcapng");
        let file = dir.join("clase.lesson.json");
        lesson(&capture).save(&file).unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        let written: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(written["capture"], "caps/plain.pcapng");
        assert_eq!(written["lang"], "es");
        assert_eq!(written["tab"], "eavesdropper");
        assert_eq!(written["compare"], "caps/tls.pcapng");
        let back = Lesson::load(&file).unwrap();
        assert_eq!(back.capture, dir.join("caps/plain.pcapng"));
        assert_eq!(
            back,
            Lesson {
                capture: back.capture.clone(),
                ..lesson(&capture)
            }
        );
        // A capture elsewhere stays absolute.
        let elsewhere = Path::new("/srv/captures/x.pcap");
        lesson(elsewhere).save(&file).unwrap();
        assert_eq!(Lesson::load(&file).unwrap().capture, elsewhere);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let dir = std::env::temp_dir().join(format!("mailscope-lesson-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("x.json");
        std::fs::write(&file, b"{\"version\": 1}").unwrap();
        let e = Lesson::load(&file).unwrap_err().to_string();
        assert!(e.contains("is not a mailscope lesson"), "{e}");
        std::fs::write(&file, b"not json").unwrap();
        assert!(matches!(
            Lesson::load(&file),
            Err(LessonError::Parse { .. })
        ));
        let mut future = serde_json::to_value(lesson(Path::new("a.pcap"))).unwrap();
        future["version"] = 9.into();
        std::fs::write(&file, future.to_string()).unwrap();
        assert_eq!(
            Lesson::load(&file).unwrap_err().to_string(),
            format!(
                "{} is a lesson of version 9; this mailscope reads version 1",
                file.display()
            )
        );
        assert!(matches!(
            Lesson::load(&dir.join("missing.json")),
            Err(LessonError::Read { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_offered_file_name_follows_the_capture() {
        assert_eq!(
            default_file_for(Path::new("/tmp/clase/plain.pcapng")),
            Path::new("/tmp/clase/plain.lesson.json")
        );
        assert_eq!(
            default_file_for(Path::new("plain.pcap")),
            Path::new("./plain.lesson.json")
        );
    }
}
