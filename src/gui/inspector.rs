//! The message inspector: one message taken apart the way a mail program
//! would, next to the bytes that crossed the wire.
//!
//! The panel shows each layer of a message as a tab: its header lines
//! (RFC 5322, RFC 2047 encoded words decoded), its MIME tree (RFC 2045,
//! RFC 2046), the text a person reads, the attachments (RFC 2183 file
//! names, made safe before anything is saved) and the raw source. The
//! work is done by `crate::mail`, which every report uses too, so the
//! window and the reports always agree; this file only draws what it
//! returns.

use crate::trace::text::visible;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::i18n::Lang;
use super::model::{Msg, Scene};
use crate::mail::attachments::Attachment;
use crate::mail::headers::decoded_headers;
use crate::mail::parse::{MAX_NESTING, ParsedMail};
use crate::mail::safe_name::safe_file_name;
use crate::mail::tree::Part;
use crate::report::extract::save_attachment;

/// The raw source tab shows at most this many bytes (1 MiB): enough for
/// any hand-written message, and egui lays out the text again whenever it
/// changes, so a 60 MB attachment must not end up in a text widget.
pub const RAW_SHOWN: usize = 1 << 20;

/// Header lines drawn in the headers grid at most (all are still counted).
const MAX_HEADER_ROWS: usize = 2_000;

/// The tabs of the inspector.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Tab {
    #[default]
    Headers,
    Mime,
    Body,
    Attachments,
    /// The `Received:` hops and the links: where it came from and where
    /// it sends its reader.
    Path,
    Raw,
}

impl Tab {
    const ALL: [Tab; 6] = [
        Tab::Headers,
        Tab::Mime,
        Tab::Body,
        Tab::Attachments,
        Tab::Path,
        Tab::Raw,
    ];

    /// The English tab name (translated where shown).
    fn title(self) -> &'static str {
        match self {
            Tab::Headers => "Headers",
            Tab::Mime => "MIME structure",
            Tab::Body => "Body",
            Tab::Attachments => "Attachments",
            Tab::Path => "Path and links",
            Tab::Raw => "Raw source",
        }
    }
}

/// An attachment that could not be saved. The window says it in its
/// language; this is the English.
#[derive(Debug, thiserror::Error)]
#[error("Could not save {name}: {source}")]
pub struct SaveError {
    /// The file name it was to be saved under.
    pub name: String,
    pub source: std::io::Error,
}

/// What the inspector remembers between frames.
#[derive(Default)]
pub struct InspectorState {
    pub tab: Tab,
    /// The folder attachments are saved into, as typed. Filled with the
    /// current directory the first time the panel is shown; empty means
    /// the current directory.
    pub folder: String,
    folder_filled: bool,
    /// The outcome of the last "Save": the file written, or the error.
    pub status: Option<Result<PathBuf, SaveError>>,
    /// The part selected in the MIME tree (index into its rows).
    pub part: Option<usize>,
    /// The message taken apart, kept while the same message is shown: the
    /// panel is drawn many times a second and a message can be large.
    cache: Option<Parsed>,
    /// The message shown last.
    shown: Option<usize>,
}

/// One message taken apart for the tabs.
struct Parsed {
    /// Which message: its index and its bytes.
    msg: usize,
    raw: Arc<[u8]>,
    headers: Vec<(String, String)>,
    /// The MIME tree's parts, parent before children.
    tree: Vec<TreeRow>,
    body: String,
    attachments: Vec<Offered>,
    /// The first [`RAW_SHOWN`] bytes as text.
    source: String,
    /// Whether the multipart nesting was too deep to parse.
    too_deep: bool,
}

/// A part as the MIME tab lists it.
struct TreeRow {
    part: Part,
    /// Its own header lines, decoded.
    headers: Vec<(String, String)>,
    /// The IMAP section of its body (`1.2`, `TEXT`).
    section: String,
}

/// An attachment as the Attachments tab offers it: under a file name safe
/// to create in any folder (no path, no control characters, unique within
/// the message), with its content as the sender attached it (the bytes
/// whose SHA-256 the analyzer recorded).
struct Offered {
    safe_name: String,
    attachment: Attachment,
}

impl Parsed {
    /// Parses message `msg` once for all the tabs.
    fn new(msg: usize, raw: &Arc<[u8]>) -> Parsed {
        let bytes: &[u8] = raw;
        let mail = ParsedMail::new(bytes);
        let mut taken = HashSet::new();
        let attachments = mail
            .attachments()
            .into_iter()
            .enumerate()
            .map(|(i, attachment)| Offered {
                safe_name: safe_file_name(
                    attachment.given_name.as_deref(),
                    i + 1,
                    &attachment.content_type,
                    &mut taken,
                ),
                attachment,
            })
            .collect();
        let tree = mail.tree();
        let sections: Vec<String> = (0..tree.parts.len()).map(|i| tree.section(i)).collect();
        let rows = (tree.parts.into_iter().zip(sections))
            .map(|(part, section)| TreeRow {
                headers: decoded_headers(&bytes[part.header.clone()]),
                part,
                section,
            })
            .collect();
        let shown = &bytes[..bytes.len().min(RAW_SHOWN)];
        Parsed {
            msg,
            raw: Arc::clone(raw),
            headers: decoded_headers(bytes),
            tree: rows,
            body: mail.body_text(),
            attachments,
            // Lines end with CRLF on the wire (RFC 5322 §2.1); egui wants \n.
            source: String::from_utf8_lossy(shown).replace("\r\n", "\n"),
            too_deep: mail.too_deep(),
        }
    }

    /// Whether this is message `msg` with bytes `raw`. The cache holds a
    /// reference to the bytes, so their address cannot be reused by
    /// another message (a capture loaded later) while it is kept.
    fn is(&self, msg: usize, raw: &Arc<[u8]>) -> bool {
        self.msg == msg && Arc::ptr_eq(&self.raw, raw)
    }
}

/// Shows message `msg` of `scene`.
/// The command that carried a message, short enough for one line of the
/// message list: the verb and its first argument (`RETR 2`, `DATA`,
/// `FETCH 1`, `UID FETCH 7`), without an IMAP tag and without the item
/// list a mail program asks for (`(UID RFC822.SIZE BODY.PEEK[] …)` can
/// run over several lines). The inspector shows the whole command.
pub(crate) fn short_command(protocol: crate::proto::Protocol, command: &str) -> String {
    let first_line = command.lines().next().unwrap_or_default();
    let mut words = first_line.split_ascii_whitespace().peekable();
    if protocol == crate::proto::Protocol::Imap {
        words.next(); // the tag (RFC 9051 §2.2.1)
    }
    let mut kept: Vec<&str> = Vec::new();
    let mut cut = false;
    for w in words {
        let limit = if kept.first().is_some_and(|v| v.eq_ignore_ascii_case("UID")) {
            3
        } else {
            2
        };
        if kept.len() == limit || w.starts_with('(') {
            cut = true;
            break;
        }
        kept.push(w);
    }
    let mut short = visible(&kept.join(" ")).into_owned();
    if cut || command.lines().nth(1).is_some() {
        short.push_str(" …");
    }
    short
}

pub fn show(ui: &mut egui::Ui, lang: Lang, scene: &Scene, msg: usize, state: &mut InspectorState) {
    let Some(m) = scene.messages.get(msg) else {
        ui.label(lang.t("No message selected"));
        return;
    };
    if !state.folder_filled {
        state.folder_filled = true;
        if state.folder.is_empty() {
            state.folder = std::env::current_dir()
                .map(|d| d.display().to_string())
                .unwrap_or_else(|_| ".".into());
        }
    }
    // Take the message apart once, when it is first shown.
    let same = match (&state.cache, &m.raw) {
        (Some(c), Some(raw)) => c.is(msg, raw),
        (None, None) => state.shown == Some(msg),
        _ => false,
    };
    if !same {
        state.part = None;
        state.status = None;
        state.shown = Some(msg);
        state.cache = m.raw.as_ref().map(|raw| Parsed::new(msg, raw));
    }

    summary(ui, lang, scene, m);
    ui.separator();
    ui.horizontal_wrapped(|ui| {
        for tab in Tab::ALL {
            if ui
                .selectable_label(state.tab == tab, lang.t(tab.title()))
                .clicked()
            {
                state.tab = tab;
            }
        }
    });
    ui.separator();

    let InspectorState {
        tab,
        folder,
        status,
        part,
        cache,
        ..
    } = state;
    let Some(parsed) = cache.as_ref() else {
        // The bytes were not kept: only what the analyzer recorded is known.
        ui.label(lang.t("Not kept: over the memory budget"));
        match tab {
            Tab::Attachments => recorded_attachments(ui, lang, m),
            Tab::Path => path_tab(ui, lang, m),
            _ => {}
        }
        return;
    };
    // Solid scroll bars: egui's default ones float over the content, and
    // wrapped text (headers, verdicts, hops) ran under the bar, its last
    // characters hidden at the panel's edge.
    ui.spacing_mut().scroll = egui::style::ScrollStyle::solid();
    egui::ScrollArea::vertical()
        .id_salt(("inspector", tab.title()))
        .auto_shrink([false, false])
        .show(ui, |ui| match tab {
            Tab::Headers => headers_grid(ui, lang, "inspector-headers", &parsed.headers),
            Tab::Mime => mime_tab(ui, lang, parsed, part),
            Tab::Body => {
                if parsed.body.is_empty() {
                    ui.label(lang.t("No text body"));
                } else {
                    ui.label(parsed.body.as_str());
                }
            }
            Tab::Attachments => attachments_tab(ui, lang, parsed, folder, status),
            Tab::Path => path_tab(ui, lang, m),
            Tab::Raw => raw_tab(ui, lang, parsed, m.raw.as_ref().map_or(0, |r| r.len())),
        });
}

/// Subject, From, To, Date, size, hash and how the message travelled.
fn summary(ui: &mut egui::Ui, lang: Lang, scene: &Scene, m: &Msg) {
    let r = &m.record;
    ui.heading(lang.t("Message"));
    let none = lang.t("(none)");
    let from = match (&r.from_name, r.from.as_slice()) {
        (Some(name), [addr]) => format!("{name} <{addr}>"),
        (Some(name), []) => name.clone(),
        (None, []) => none.to_string(),
        (_, addrs) => addrs.join(", "),
    };
    let to = if r.to.is_empty() {
        none.to_string()
    } else {
        r.to.join(", ")
    };
    // The command that carried it (`DATA`, `RETR 2`, `FETCH 1 (BODY[])`),
    // and the connection: `RETR 2 on POP3 110`.
    let command = if r.command.is_empty() {
        r.via.as_str().to_string()
    } else if r.command.to_ascii_uppercase().contains(r.via.as_str()) {
        r.command.clone()
    } else {
        format!("{} ({})", r.command, r.via.as_str())
    };
    let carried = match scene.conns.get(m.conn) {
        Some(c) => lang.f2("{} on {}", command, c.label()),
        None => command,
    };
    egui::Grid::new("inspector-summary")
        .num_columns(2)
        .show(ui, |ui| {
            ui.label(egui::RichText::new(lang.t("Subject")).strong());
            ui.label(r.subject.as_deref().unwrap_or(none));
            ui.end_row();
            ui.label(egui::RichText::new(lang.t("From")).strong());
            ui.label(from);
            ui.end_row();
            ui.label(egui::RichText::new(lang.t("To")).strong());
            ui.label(to);
            ui.end_row();
            // Where answers go, when not to the sender (RFC 5322 §3.6.2).
            if !r.reply_to.is_empty() {
                ui.label(egui::RichText::new("Reply-To").strong());
                ui.label(r.reply_to.join(", "));
                ui.end_row();
            }
            ui.label(egui::RichText::new(lang.t("Date")).strong());
            ui.label(r.date.as_deref().unwrap_or(none));
            ui.end_row();
            ui.label(egui::RichText::new(lang.t("Size")).strong());
            ui.label(lang.f("{} bytes", r.size));
            ui.end_row();
            ui.label(egui::RichText::new("SHA-256").strong());
            // Two rows of 32 digits, and wrapped beyond that: 64 hex digits
            // in presenter mode are wider than the panel at 1280×720 (an
            // unwrapped label would widen the panel's layout, so the tab
            // row below would not wrap), and where egui broke the line
            // itself the first row still ran under the transcript.
            let sha = match (r.sha256.get(..32), r.sha256.get(32..)) {
                (Some(a), Some(b)) if !b.is_empty() => format!("{a}\n{b}"),
                _ => r.sha256.clone(),
            };
            ui.add(egui::Label::new(egui::RichText::new(sha).monospace()).wrap());
            ui.end_row();
            ui.label(egui::RichText::new(lang.t("Carried by")).strong());
            ui.label(carried);
            ui.end_row();
            if !r.part.is_full() {
                ui.label(egui::RichText::new(lang.t("Part")).strong());
                ui.label(r.part.as_str());
                ui.end_row();
            }
        });
    if !r.complete {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            lang.t("Incomplete: part of the message was not captured"),
        );
    }
}

/// Header lines, each its `Name:` and the decoded value, the value
/// wrapping after the name. Not a two-column grid: real mail has names
/// like `X-MS-Exchange-CrossTenant-OriginalArrivalTime:` (46 characters),
/// and a grid's name column that wide pushed every value out of a
/// presenter-mode panel at 1280×720.
///
/// Each value is announced to screen readers together with its name
/// ("Subject: Año nuevo"): a value read alone does not say which header
/// it belongs to. (It also keeps the summary's Subject the only widget
/// whose accessible name is the bare subject.)
fn headers_grid(ui: &mut egui::Ui, lang: Lang, id: &str, headers: &[(String, String)]) {
    if headers.is_empty() {
        ui.label(lang.t("(none)"));
        return;
    }
    ui.push_id(id, |ui| {
        for (name, value) in headers.iter().take(MAX_HEADER_ROWS) {
            let (name, value) = (visible(name), visible(value));
            ui.horizontal_wrapped(|ui| {
                ui.label(egui::RichText::new(format!("{name}:")).monospace().strong());
                let spoken = format!("{name}: {value}");
                ui.add(egui::Label::new(value.as_ref()).wrap())
                    .widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, &spoken));
            });
        }
    });
    if headers.len() > MAX_HEADER_ROWS {
        ui.label(lang.f("{} more headers not shown", headers.len() - MAX_HEADER_ROWS));
    }
}

/// The MIME tree, indented by depth; the selected part's own headers
/// below it.
fn mime_tab(ui: &mut egui::Ui, lang: Lang, parsed: &Parsed, selected: &mut Option<usize>) {
    if parsed.too_deep {
        ui.label(lang.f("MIME too deeply nested: over {} levels", MAX_NESTING));
    }
    if parsed.tree.is_empty() {
        ui.label(lang.t("(none)"));
        return;
    }
    for (i, TreeRow { part, section, .. }) in parsed.tree.iter().enumerate() {
        let mut text = part.mime_type().to_string();
        if let Some(name) = part.file_name() {
            text.push_str(&format!("  \"{name}\""));
        }
        if let Some(enc) = &part.transfer_encoding {
            text.push_str(&format!("  {enc}"));
        }
        text.push_str("  ");
        text.push_str(&lang.f("{} bytes", part.size()));
        ui.horizontal(|ui| {
            // Bounded, so a deep tree stays on screen.
            ui.add_space(16.0 * part.depth.min(32) as f32);
            let on = *selected == Some(i);
            let row = ui.selectable_label(on, egui::RichText::new(text).monospace());
            // How an IMAP client fetches this part's body (protocol text,
            // never translated).
            if row
                .on_hover_text(format!("IMAP: BODY[{section}]"))
                .clicked()
            {
                *selected = if on { None } else { Some(i) };
            }
        });
    }
    ui.separator();
    match selected.and_then(|i| parsed.tree.get(i)) {
        Some(row) => {
            ui.label(egui::RichText::new(lang.t("Part headers")).strong());
            headers_grid(ui, lang, "inspector-part-headers", &row.headers);
        }
        None => {
            ui.weak(lang.t("Select a part to see its headers"));
        }
    }
}

/// Each attachment with a Save button, the folder to save into and the
/// outcome of the last save.
fn attachments_tab(
    ui: &mut egui::Ui,
    lang: Lang,
    parsed: &Parsed,
    folder: &mut String,
    status: &mut Option<Result<PathBuf, SaveError>>,
) {
    if parsed.attachments.is_empty() {
        ui.label(lang.t("No attachments"));
        return;
    }
    ui.horizontal(|ui| {
        let label = ui.label(lang.t("Save into folder"));
        ui.add(egui::TextEdit::singleline(folder).desired_width(f32::INFINITY))
            .labelled_by(label.id);
    });
    let mut save = None;
    egui::Grid::new("inspector-attachments")
        .num_columns(4)
        .striped(true)
        .show(ui, |ui| {
            for (i, offered) in parsed.attachments.iter().enumerate() {
                let a = &offered.attachment;
                let label = ui.label(offered.safe_name.as_str());
                if let Some(given) = a.given_name.as_ref().filter(|g| **g != offered.safe_name) {
                    label.on_hover_text(lang.f("Named in the message: {}", given));
                }
                ui.monospace(a.content_type.as_str());
                ui.label(lang.f("{} bytes", a.content.len()));
                if ui.button(lang.t("Save")).clicked() {
                    save = Some(i);
                }
                ui.end_row();
            }
        });
    if let Some(offered) = save.and_then(|i| parsed.attachments.get(i)) {
        let dir = if folder.trim().is_empty() {
            Path::new(".")
        } else {
            Path::new(folder.trim())
        };
        let name = &offered.safe_name;
        *status = Some(
            save_attachment(dir, name, &offered.attachment.content).map_err(|source| SaveError {
                name: name.clone(),
                source,
            }),
        );
    }
    match status {
        Some(Ok(path)) => {
            ui.label(lang.f("Saved to {}", path.display()));
        }
        Some(Err(e)) => {
            let message = lang.f2("Could not save {}: {}", &e.name, &e.source);
            ui.colored_label(ui.visuals().error_fg_color, message);
        }
        None => {}
    }
}

/// The `Received:` hops, oldest first (the way the message travelled),
/// with the delay at each, then the message's links. Read from the record:
/// shown whether or not the bytes were kept.
fn path_tab(ui: &mut egui::Ui, lang: Lang, m: &Msg) {
    let r = &m.record;
    ui.label(egui::RichText::new(lang.t("Hops of the Received: headers, oldest first")).strong());
    if r.received_hops.is_empty() {
        ui.label(lang.t("No Received: headers"));
    } else {
        // One hop a block of two wrapping lines, not a six-column grid: a
        // `Received:` time alone is 25 characters, and in the narrow panel
        // of a 1280×720 projector the grid's last columns ran off the
        // edge. Wrapped lines fit any width.
        let none = "–";
        for (i, h) in r.received_hops.iter().enumerate() {
            let from = match (&h.from, &h.from_ip) {
                (Some(name), Some(ip)) if name == ip => format!("[{ip}]"),
                (Some(name), Some(ip)) => format!("{name} [{ip}]"),
                (Some(name), None) => name.clone(),
                (None, Some(ip)) => format!("[{ip}]"),
                (None, None) => none.to_string(),
            };
            // "ESMTPS id 4711": the protocol with the receiving server's
            // queue id, or either alone.
            let with = match (&h.with, &h.id) {
                (Some(w), Some(id)) => Some(format!("{w} id {id}")),
                (Some(w), None) => Some(w.clone()),
                (None, Some(id)) => Some(format!("id {id}")),
                (None, None) => None,
            };
            ui.horizontal_wrapped(|ui| {
                ui.label(egui::RichText::new(format!("{}.", i + 1)).strong());
                ui.label(from);
                ui.weak(lang.t("received by"));
                ui.label(h.by.as_deref().unwrap_or(none));
            });
            // The second line says only what the field gave.
            let mut details: Vec<(Option<&str>, String)> = Vec::new();
            if let Some(w) = with {
                let word = h.with.is_some().then(|| lang.t("with"));
                details.push((word, w));
            }
            if let Some(t) = &h.time {
                details.push((None, t.clone()));
            }
            if let Some(d) = h.delay_secs {
                details.push((Some(lang.t("delay")), lang.f("{} s", d)));
            }
            if !details.is_empty() {
                ui.indent(("inspector-hop", i), |ui| {
                    ui.horizontal_wrapped(|ui| {
                        for (n, (word, text)) in details.into_iter().enumerate() {
                            if n > 0 {
                                ui.weak("·");
                            }
                            if let Some(word) = word {
                                ui.weak(word);
                            }
                            ui.label(text);
                        }
                    });
                });
            }
        }
    }
    ui.add_space(8.0);
    auth_results(ui, lang, &r.auth_results);
    ui.add_space(8.0);
    ui.label(egui::RichText::new(lang.t("Links in the message")).strong());
    if r.urls.is_empty() {
        ui.label(lang.t("No links"));
    }
    for url in &r.urls {
        // As text, never as a hyperlink: a link from a stranger's message
        // is evidence, not something to open from the classroom screen.
        ui.label(egui::RichText::new(url).monospace());
    }
}

/// The verdicts of the `Authentication-Results:` fields (RFC 8601),
/// topmost first, each with the server that wrote it: a pass in green, a
/// failure in red, so a class sees at once which message failed DMARC.
fn auth_results(ui: &mut egui::Ui, lang: Lang, results: &[crate::mail::AuthResult]) {
    ui.label(egui::RichText::new(lang.t("Authentication results, topmost first")).strong());
    if results.is_empty() {
        ui.label(lang.t("No Authentication-Results: headers"));
        return;
    }
    let dark = ui.visuals().dark_mode;
    for r in results {
        let colour = match r.result.as_str() {
            "pass" if dark => Some(egui::Color32::from_rgb(110, 210, 130)),
            "pass" => Some(egui::Color32::from_rgb(0, 128, 50)),
            "fail" | "softfail" | "permerror" | "temperror" => Some(ui.visuals().error_fg_color),
            _ => None,
        };
        ui.horizontal_wrapped(|ui| {
            ui.label(egui::RichText::new(&r.method).strong());
            let mut result = egui::RichText::new(&r.result).strong();
            if let Some(c) = colour {
                result = result.color(c);
            }
            ui.label(result);
            if let Some(id) = &r.authserv_id {
                ui.weak(lang.t("according to"));
                ui.label(id);
            }
            if let Some(reason) = &r.reason {
                ui.weak(format!("({reason})"));
            }
        });
        // The properties on a line of their own, one label that wraps at
        // the blanks between them: placed after the verdict, a long one
        // (a HELO name) ran past the panel's edge.
        if !r.properties.is_empty() {
            ui.indent(("inspector-auth", &r.method, &r.properties), |ui| {
                let text = egui::RichText::new(r.properties.join("  ")).monospace();
                ui.add(egui::Label::new(text).wrap());
            });
        }
    }
}

/// What the analyzer recorded of the attachments when the bytes are gone.
fn recorded_attachments(ui: &mut egui::Ui, lang: Lang, m: &Msg) {
    let list = &m.record.attachments;
    if list.is_empty() {
        ui.label(lang.t("No attachments"));
        return;
    }
    egui::Grid::new("inspector-recorded-attachments")
        .num_columns(3)
        .striped(true)
        .show(ui, |ui| {
            for a in list {
                ui.label(a.filename.as_deref().unwrap_or(lang.t("(none)")));
                ui.monospace(a.content_type.as_str());
                ui.label(lang.f("{} bytes", a.size));
                ui.end_row();
            }
        });
}

/// The bytes as text, monospace and read-only (a `&str` buffer cannot be
/// typed into, but can be selected and copied).
fn raw_tab(ui: &mut egui::Ui, lang: Lang, parsed: &Parsed, total: usize) {
    if total > RAW_SHOWN {
        ui.label(lang.f2("Showing the first {} of {} bytes", RAW_SHOWN, total));
    }
    let mut text: &str = &parsed.source;
    ui.add(
        egui::TextEdit::multiline(&mut text)
            .font(egui::TextStyle::Monospace)
            .desired_width(f32::INFINITY),
    );
}

/// (English, Spanish) for the strings only the inspector shows, sorted by
/// the English text.
pub(super) const SPANISH: &[(&str, &str)] = &[
    (
        "Authentication results, topmost first",
        "Resultados de autenticación, del más reciente al más antiguo",
    ),
    ("Carried by", "Transportado por"),
    ("Could not save {}: {}", "No se pudo guardar {}: {}"),
    ("Date", "Fecha"),
    (
        "Hops of the Received: headers, oldest first",
        "Saltos de las cabeceras Received:, del más antiguo al más reciente",
    ),
    (
        "Incomplete: part of the message was not captured",
        "Incompleto: una parte del mensaje no se capturó",
    ),
    ("Links in the message", "Enlaces del mensaje"),
    (
        "MIME too deeply nested: over {} levels",
        "MIME anidado demasiado profundo: más de {} niveles",
    ),
    ("Named in the message: {}", "Nombre en el mensaje: {}"),
    (
        "No Authentication-Results: headers",
        "Sin cabeceras Authentication-Results:",
    ),
    ("No Received: headers", "Sin cabeceras Received:"),
    ("No attachments", "Sin adjuntos"),
    ("No links", "Sin enlaces"),
    ("No message selected", "Ningún mensaje seleccionado"),
    ("No text body", "Sin cuerpo de texto"),
    ("Part", "Parte"),
    ("Part headers", "Cabeceras de la parte"),
    ("Path and links", "Recorrido y enlaces"),
    (
        "Received: hops, oldest first",
        "Saltos Received:, del más antiguo al más reciente",
    ),
    ("Save into folder", "Guardar en la carpeta"),
    (
        "Select a part to see its headers",
        "Seleccione una parte para ver sus cabeceras",
    ),
    (
        "Showing the first {} of {} bytes",
        "Se muestran los primeros {} de {} bytes",
    ),
    ("Size", "Tamaño"),
    ("according to", "según"),
    ("delay", "demora"),
    ("received by", "recibido por"),
    ("with", "con"),
    ("{} more headers not shown", "{} cabeceras más sin mostrar"),
    ("{} on {}", "{} en {}"),
    ("{} s", "{} s"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::samples::mixed;

    #[test]
    fn the_message_list_names_a_message_by_its_verb() {
        use crate::proto::Protocol::{Imap, Pop3, Smtp};
        let fetch = "a5 UID FETCH 1:3 (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS\r\n (FROM TO SUBJECT DATE MESSAGE-ID)])";
        assert_eq!(short_command(Imap, fetch), "UID FETCH 1:3 …");
        assert_eq!(
            short_command(Imap, "a3 FETCH 1 (FLAGS BODY[])"),
            "FETCH 1 …"
        );
        assert_eq!(
            short_command(Imap, "A0004 APPEND INBOX {310}"),
            "APPEND INBOX …"
        );
        assert_eq!(short_command(Pop3, "RETR 2"), "RETR 2");
        assert_eq!(short_command(Smtp, "DATA"), "DATA");
        assert_eq!(short_command(Smtp, "BDAT 1000 LAST"), "BDAT 1000 …");
        // Wire bytes are escaped before they reach the window.
        assert_eq!(short_command(Pop3, "RETR \u{1b}[2J"), "RETR \\e[2J");
    }
    use crate::report::extract::temp::TempFolder;
    use egui_kittest::kittest::Queryable as _;
    use std::fs;

    /// A scene with one SMTP connection carrying `bytes`, kept or not.
    fn scene_with(bytes: &[u8], keep: bool) -> Scene {
        use crate::proto::Protocol;
        use crate::trace::{MessageRecord, RawMessage, Via};
        use std::sync::Arc;
        let mut raw = RawMessage::new(Via::Data, crate::trace::Part::Full, "DATA");
        raw.bytes = bytes.to_vec();
        raw.complete = true;
        let mut record = MessageRecord::new(7, Protocol::Smtp, &raw);
        record.set_info(crate::mail::inspect(bytes, None));
        let conn = super::super::model::Conn {
            flow: 7,
            client: "10.0.0.1:40000".parse().unwrap(),
            server: "10.0.0.2:25".parse().unwrap(),
            client_host: 0,
            server_host: 1,
            protocol: Protocol::Smtp,
            tls: None,
            start: 0.0,
            end: 1.0,
            packets: 10,
            bytes: [bytes.len() as u64, 100],
            stream_base: [None; 2],
            messages: vec![0],
            credentials: Vec::new(),
            findings: Vec::new(),
            lines: Vec::new(),
            helo: None,
        };
        Scene {
            conns: vec![conn],
            messages: vec![Msg {
                conn: 0,
                t: 0.5,
                record,
                raw: keep.then(|| Arc::from(bytes)),
            }],
            ..Scene::default()
        }
    }

    #[test]
    fn panel_shows_every_tab_and_saves() {
        let scene = scene_with(&mixed(), true);
        let temp = TempFolder::new("panel");
        let dir = temp.0.clone();
        let state = InspectorState {
            folder: dir.display().to_string(),
            ..InspectorState::default()
        };
        let mut harness = egui_kittest::Harness::new_ui_state(
            |ui, state: &mut InspectorState| show(ui, Lang::En, &scene, 0, state),
            state,
        );
        harness.run();
        // The Headers tab is open: the subject is still one label only.
        harness.get_by_label("Año nuevo: reunión mañana");
        harness.get_by_label("DATA on SMTP 25");
        harness.get_by_label("Subject: Año nuevo: reunión mañana");
        harness.get_by_label("X-Folded:");

        harness.get_by_label("MIME structure").click();
        harness.run();
        assert_eq!(harness.state().tab, Tab::Mime);
        harness
            .get_by_label("text/plain  \"notes.txt\"  base64  20 bytes")
            .click();
        harness.run();
        assert_eq!(harness.state().part, Some(2));
        harness.get_by_label("Content-Disposition: attachment; filename=\"notes.txt\"");

        harness.get_by_label("Body").click();
        harness.run();
        harness.get_by_label("Hola Ana, mañana hay reunión.");

        harness.get_by_label("Attachments").click();
        harness.run();
        harness.get_by_label("notes.txt");
        harness.get_by_label("evil.sh");
        harness.get_all_by_label("Save").next().unwrap().click();
        harness.run();
        let written = dir.join("notes.txt");
        assert_eq!(fs::read(&written).unwrap(), b"line one\r\nline two\r\n");
        harness.get_by_label(&format!("Saved to {}", written.display()));

        harness.get_by_label("Raw source").click();
        harness.run();
        assert_eq!(harness.state().tab, Tab::Raw);
    }

    #[test]
    fn path_tab_lists_the_hops_oldest_first_and_the_links() {
        let m = crate::mail::samples::crlf(&[
            "Received: from crepes.fr (crepes.fr [10.0.0.1]) by hamburger.edu with ESMTPS id 4711;",
            " Mon, 4 Mar 2024 10:15:03 +0100",
            "Received: from [192.168.1.7] by crepes.fr with ESMTPSA id 17; Mon, 4 Mar 2024 10:14:00 +0100",
            "Authentication-Results: mx.hamburger.edu; spf=pass smtp.mailfrom=crepes.fr;",
            " dmarc=fail (p=reject) header.from=crepes.fr",
            "From: alice@crepes.fr",
            "Reply-To: replies@elsewhere.example",
            "Subject: path",
            "",
            "See https://crepes.fr/menu.",
        ]);
        for keep in [true, false] {
            let scene = scene_with(&m, keep);
            let mut harness = egui_kittest::Harness::new_ui_state(
                |ui, state: &mut InspectorState| show(ui, Lang::Es, &scene, 0, state),
                InspectorState::default(),
            );
            harness.run();
            harness.get_by_label("replies@elsewhere.example");
            harness.get_by_label("Recorrido y enlaces").click();
            harness.run();
            assert_eq!(harness.state().tab, Tab::Path);
            harness.get_by_label("[192.168.1.7]");
            harness.get_by_label("crepes.fr [10.0.0.1]");
            harness.get_by_label("ESMTPS id 4711");
            harness.get_by_label("63 s");
            harness.get_by_label("https://crepes.fr/menu");
            // The verdicts, with the server that gave them.
            harness.get_by_label("dmarc");
            harness.get_by_label("fail");
            assert_eq!(harness.get_all_by_label("según").count(), 2);
            assert_eq!(harness.get_all_by_label("mx.hamburger.edu").count(), 2);
            harness.get_by_label("header.from=crepes.fr");
        }
    }

    #[test]
    fn hops_fit_a_narrow_panel() {
        // A presenter-mode panel at 1280×720 is some 700 px wide; a hop's
        // time alone is 25 characters. Every part of every hop must stay
        // inside the panel (a six-column grid ran its Time and Delay
        // columns off the edge).
        let m = crate::mail::samples::crlf(&[
            "Received: from relay2.destination.example (relay2.destination.example [10.0.0.20])",
            " by mx.destination.example with ESMTPS id final-0123456789; Thu, 10 Apr 2025 12:02:00 +0000",
            "Received: from client.origin.example (client.origin.example [10.0.0.1])",
            " by relay2.destination.example with ESMTP id relay-abcdefghij; Thu, 10 Apr 2025 12:00:00 +0000",
            "From: alice@origin.example",
            "Subject: narrow",
            "",
            "Hello.",
        ]);
        let scene = scene_with(&m, true);
        let width = 420.0;
        let mut harness = egui_kittest::Harness::builder()
            .with_size(egui::Vec2::new(width, 700.0))
            .build_ui_state(
                |ui, state: &mut InspectorState| show(ui, Lang::Es, &scene, 0, state),
                InspectorState {
                    tab: Tab::Path,
                    ..InspectorState::default()
                },
            );
        harness.run();
        for label in [
            "relay2.destination.example [10.0.0.20]",
            "mx.destination.example",
            "ESMTPS id final-0123456789",
            "2025-04-10T12:02:00Z",
            "120 s",
        ] {
            let rect = harness.get_by_label(label).rect();
            assert!(
                rect.max.x <= width,
                "{label:?} ends at x = {} in a {width} px panel",
                rect.max.x
            );
        }
    }

    #[test]
    fn panel_in_spanish_without_the_bytes() {
        let scene = scene_with(&mixed(), false);
        let mut harness = egui_kittest::Harness::new_ui_state(
            |ui, state: &mut InspectorState| show(ui, Lang::Es, &scene, 0, state),
            InspectorState::default(),
        );
        harness.run();
        harness.get_by_label("Año nuevo: reunión mañana");
        harness.get_by_label("Asunto");
        harness.get_by_label(Lang::Es.t("Not kept: over the memory budget"));
        harness.get_by_label("Adjuntos").click();
        harness.run();
        // What the analyzer recorded is still listed.
        harness.get_by_label("notes.txt");
        harness.get_by_label("../../evil.sh");
        // A message that is not there.
        let mut harness = egui_kittest::Harness::new_ui_state(
            |ui, state: &mut InspectorState| show(ui, Lang::Es, &scene, 5, state),
            InspectorState::default(),
        );
        harness.run();
        harness.get_by_label("Ningún mensaje seleccionado");
    }
}
