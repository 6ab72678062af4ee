//! The message inspector: one message taken apart the way a mail program
//! would, next to the bytes that crossed the wire.
//!
//! A message on the wire is text (RFC 5322): header lines, an empty line,
//! the body. MIME (RFC 2045, RFC 2046) turns that body into a tree: a
//! `multipart/*` part holds other parts between `--boundary` lines, a
//! `message/rfc822` part holds a whole message, every other part is a leaf
//! whose content is transfer-encoded (`base64`, `quoted-printable`) so it
//! survives a 7-bit channel. Headers that need non-ASCII text use RFC 2047
//! encoded words (`=?UTF-8?B?QcOxbw==?=` → `Año`), and file names use
//! RFC 2183 `Content-Disposition` parameters, long or non-ASCII ones split
//! and encoded as RFC 2231 says (`filename*0*=utf-8''ma%C3%B1ana`).
//!
//! The panel shows each of those layers as a tab. The work is done by the
//! pure functions at the top of this file ([`mime_tree`],
//! [`decoded_headers`], [`body_text`], [`attachments`],
//! [`save_attachment`]), which know nothing of egui and are tested on their
//! own; [`show`] only draws what they return. mail-parser does the parsing,
//! as it does for every report (see `crate::mail`).
//!
//! Everything here reads bytes from strangers: a truncated message, a
//! boundary that never comes, a million nested multiparts or plain garbage
//! must give a best-effort answer, never a panic, and an attachment named
//! `../../.bashrc` must not be written anywhere but the chosen folder.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mail_parser::decoders::base64::base64_decode;
use mail_parser::decoders::html::html_to_text;
use mail_parser::decoders::quoted_printable::quoted_printable_decode;
use mail_parser::{
    Encoding, HeaderName, HeaderValue, Message, MessageParser, MessagePart, MimeHeaders, PartType,
};

use super::i18n::Lang;
use super::model::{Msg, Scene};
use crate::report::extract::safe_file_name;

/// The raw source tab shows at most this many bytes (1 MiB): enough for
/// any hand-written message, and egui lays out the text again whenever it
/// changes, so a 60 MB attachment must not end up in a text widget.
pub const RAW_SHOWN: usize = 1 << 20;

/// Multipart nesting that is still parsed for the MIME tabs. Real mail
/// nests three or four levels; a hostile message with 100 000 levels is
/// shown by its headers only (the same bound `crate::mail` uses).
const MAX_NESTING: usize = 100;

/// Parts listed in the MIME tree at most.
const MAX_NODES: usize = 5_000;

/// Header lines drawn in the headers grid at most (all are still counted).
const MAX_HEADER_ROWS: usize = 2_000;

// ---------------------------------------------------------------------------
// What the tabs show, without egui.
// ---------------------------------------------------------------------------

/// One MIME part, as the "MIME structure" tab lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MimeNode {
    /// 0 for the message itself, 1 for the parts of a top-level multipart,
    /// and one more for every multipart or attached message inside.
    pub depth: usize,
    /// `type/subtype` in lower case (RFC 2045 §5.1). A part without a
    /// `Content-Type` is `text/plain` (RFC 2045 §5.2), except inside a
    /// `multipart/digest`, where it is `message/rfc822` (RFC 2046 §5.1.5).
    pub content_type: String,
    /// The file name: the RFC 2183 `filename` parameter of
    /// `Content-Disposition`, else the older `name` parameter of
    /// `Content-Type`, RFC 2231 continuations and charsets undone.
    pub name: Option<String>,
    /// Bytes of content. For a leaf, once the transfer encoding is undone
    /// (RFC 2045 §6: what a saved file would hold); for an attached message,
    /// the whole message; for a multipart, its body as sent: everything
    /// after its headers (preamble, parts, boundary lines) up to and
    /// including the closing `--boundary--`, or for the message itself up
    /// to its last byte.
    pub size: usize,
    /// The `Content-Transfer-Encoding` as written (lower case), None when
    /// the part has none (which means `7bit`, RFC 2045 §6.1).
    pub encoding: Option<String>,
}

/// The top-level header lines of a message, in order, with the name as
/// written and the value unfolded (RFC 5322 §2.2.3) and its RFC 2047
/// encoded words decoded: `Subject: =?UTF-8?Q?ma=C3=B1ana?=` gives
/// `("Subject", "mañana")`. Structured headers (addresses, dates,
/// `Content-Type`) are shown as text, the way they were written.
pub fn decoded_headers(raw: &[u8]) -> Vec<(String, String)> {
    header_block(raw)
}

/// The MIME structure of a message, parent before children (a pre-order
/// walk, as RFC 2046 §5.1 nests the parts). Empty when the bytes hold no
/// header at all; the root alone when nesting is too deep to be worth
/// parsing.
pub fn mime_tree(raw: &[u8]) -> Vec<MimeNode> {
    walk(raw, parse(raw).as_ref())
        .into_iter()
        .map(|(node, _)| node)
        .collect()
}

/// The text a person would read: the `text/plain` body, else the
/// `text/html` one turned into plain text (tags dropped, entities
/// decoded). Several inline text parts of a `multipart/mixed` are joined
/// by an empty line. Transfer encoding and charset are undone; lines end
/// with `\n`. Empty when the message has no text body.
pub fn body_text(raw: &[u8]) -> String {
    parse(raw).map_or_else(String::new, |msg| body_of(&msg))
}

fn body_of(msg: &Message) -> String {
    let texts: Vec<String> = msg
        .text_body
        .iter()
        .filter_map(|&id| msg.parts.get(id as usize))
        .filter_map(|part| match &part.body {
            PartType::Text(text) => Some(text.to_string()),
            PartType::Html(html) => Some(html_to_text(html)),
            _ => None,
        })
        .collect();
    texts.join("\n\n").replace("\r\n", "\n")
}

/// The attachments of a message, in the order the analyzer lists them
/// (`MessageRecord::attachments`): a file name safe to create in any
/// folder (see [`safe_file_name`]: no path, no control characters, unique
/// within the message), the content type, and the content with its
/// transfer encoding undone but no charset conversion, so the bytes are
/// those the sender attached and hash to the record's SHA-256.
pub fn attachments(raw: &[u8]) -> Vec<(String, String, Vec<u8>)> {
    parse(raw).map_or_else(Vec::new, |msg| {
        attachments_of(&msg).into_iter().map(|(a, _)| a).collect()
    })
}

/// Safe file name, content type, decoded bytes (see [`attachments`]).
type Attachment = (String, String, Vec<u8>);

/// [`attachments`], each with the name the message gives it.
fn attachments_of(msg: &Message) -> Vec<(Attachment, Option<String>)> {
    let mut taken = HashSet::new();
    msg.attachments
        .iter()
        .filter_map(|&id| msg.parts.get(id as usize))
        .enumerate()
        .map(|(i, part)| {
            let content_type = content_type(part);
            let given = part.attachment_name();
            let name = safe_file_name(given, i + 1, &content_type, &mut taken);
            let bytes = content(msg, part).into_owned();
            ((name, content_type, bytes), given.map(str::to_string))
        })
        .collect()
}

/// Writes `bytes` to a new file called `name` in `dir` (created if
/// missing) and returns its path.
///
/// `name` comes from a stranger's message, so it is made safe first
/// ([`safe_file_name`]): only its last path component is kept (`../../x`
/// → `x`, `/etc/passwd` → `passwd`), control characters and NUL go,
/// Windows device names get a `_` (`CON` → `_CON`), an empty name becomes
/// `attachment-1.bin`. The file is opened with `create_new`, which fails
/// on anything already there, a planted symlink included: an existing
/// file is never overwritten or followed, the name gets ` (2)`, ` (3)`…
/// instead.
pub fn save_attachment(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<PathBuf> {
    let safe = safe_file_name(Some(name), 1, "", &mut HashSet::new());
    fs::create_dir_all(dir)?;
    for n in 1..10_000 {
        let candidate = if n == 1 {
            safe.clone()
        } else {
            numbered(&safe, n)
        };
        let path = dir.join(&candidate);
        // A safe name is one path component, so the file sits in `dir`.
        if path.parent() != Some(dir) || path.file_name().is_none() {
            return Err(io::Error::other(format!("unsafe file name {candidate:?}")));
        }
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(mut file) => {
                if let Err(e) = file.write_all(bytes).and_then(|()| file.flush()) {
                    // Leave no half-written file behind.
                    drop(file);
                    let _ = fs::remove_file(&path);
                    return Err(e);
                }
                return Ok(path);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other(format!("no free name for {safe}")))
}

/// `name (n).ext`, the way file managers number copies.
fn numbered(name: &str, n: usize) -> String {
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem} ({n}).{ext}"),
        _ => format!("{name} ({n})"),
    }
}

/// Parses the whole message, or None when there is no header to parse or
/// the multipart nesting is deeper than [`MAX_NESTING`].
fn parse(raw: &[u8]) -> Option<Message<'_>> {
    if raw.is_empty() || too_deep(raw) {
        return None;
    }
    MessageParser::default().parse(raw)
}

/// A cheap upper bound of the multipart nesting: every nested multipart
/// needs a `boundary=` parameter of its own (RFC 2046 §5.1.1), so more
/// than [`MAX_NESTING`] of them means "too deep" without parsing anything.
fn too_deep(raw: &[u8]) -> bool {
    const NAME: &[u8] = b"boundary";
    memchr::memchr_iter(b'=', raw)
        .filter(|&eq| {
            let before = raw[..eq].trim_ascii_end();
            before.len() >= NAME.len()
                && before[before.len() - NAME.len()..].eq_ignore_ascii_case(NAME)
        })
        .nth(MAX_NESTING)
        .is_some()
}

/// The header lines at the start of `bytes` (up to the empty line), every
/// value read as unstructured text so that RFC 2047 words are decoded
/// whatever the header. mail-parser parses each known header its own way
/// (addresses, dates…) unless given a table; a table with one entry makes
/// every other header use the default, here "unstructured text".
fn header_block(bytes: &[u8]) -> Vec<(String, String)> {
    if bytes.is_empty() {
        return Vec::new();
    }
    let parser = MessageParser::new()
        .header_text(HeaderName::Subject)
        .default_header_text();
    let Some(msg) = parser.parse_headers(bytes) else {
        return Vec::new();
    };
    msg.headers()
        .iter()
        .map(|h| {
            let start = (h.offset_field as usize).min(bytes.len());
            let end = (h.offset_start as usize).clamp(start, bytes.len());
            // The name as the sender wrote it (`Message-Id`, not mail-parser's
            // canonical `Message-ID`): the colon and the blanks around it go.
            let written = String::from_utf8_lossy(&bytes[start..end]);
            let name = written.trim().trim_end_matches(':').trim_end();
            let name = if name.is_empty() {
                h.name.as_str().to_string()
            } else {
                name.to_string()
            };
            let value = match &h.value {
                HeaderValue::Text(text) => text.trim().to_string(),
                HeaderValue::TextList(list) => list.join(", "),
                HeaderValue::Empty => String::new(),
                // Not produced by a text parser; the line as written then.
                _ => unfold(&String::from_utf8_lossy(
                    &bytes[end..(h.offset_end as usize).clamp(end, bytes.len())],
                )),
            };
            (name, value)
        })
        .collect()
}

/// A folded header value on one line (RFC 5322 §2.2.3), trimmed.
fn unfold(value: &str) -> String {
    value
        .split('\n')
        .map(|line| line.trim_matches(['\r', ' ', '\t']))
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The MIME tree with each part's own header lines (for the selected part
/// of the MIME tab). An explicit stack walks it, so depth costs no
/// recursion, and [`MAX_NODES`] bounds the work whatever the parts claim.
fn walk(raw: &[u8], msg: Option<&Message>) -> Vec<(MimeNode, Vec<(String, String)>)> {
    let Some(msg) = msg else {
        // Too deep (or no headers): the message itself, if it has headers.
        let headers = header_block(raw);
        if headers.is_empty() {
            return Vec::new();
        }
        let content_type = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("Content-Type"))
            .map(|(_, v)| {
                let t = v.split(';').next().unwrap_or("").trim();
                t.to_ascii_lowercase()
            })
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| "text/plain".into());
        let node = MimeNode {
            depth: 0,
            content_type,
            name: None,
            size: raw.len(),
            encoding: None,
        };
        return vec![(node, headers)];
    };
    let mut out = Vec::new();
    // (message the part belongs to, part id, depth); the root is part 0.
    let mut stack: Vec<(&Message, u32, usize)> = vec![(msg, 0, 0)];
    while let Some((m, id, depth)) = stack.pop() {
        if out.len() >= MAX_NODES {
            break;
        }
        let Some(part) = m.parts.get(id as usize) else {
            continue;
        };
        // Part offsets count from the start of the buffer the message was
        // parsed from (`raw_message` the field, which for an attached
        // message that was not transfer-encoded is the outer message),
        // not from the start of `raw_message()`, the message's own bytes.
        let raw: &[u8] = &m.raw_message;
        let start = (part.offset_header as usize).min(raw.len());
        let end = (part.offset_body as usize).clamp(start, raw.len());
        let node = MimeNode {
            depth,
            content_type: content_type(part),
            name: part.attachment_name().map(str::to_string),
            size: match &part.body {
                PartType::Multipart(_) => part.offset_end.saturating_sub(part.offset_body) as usize,
                _ => content(m, part).len(),
            },
            encoding: part
                .content_transfer_encoding()
                .map(|e| e.trim().to_ascii_lowercase()),
        };
        out.push((node, header_block(&raw[start..end])));
        match &part.body {
            // Children are pushed last-first so that the first pops first.
            PartType::Multipart(children) => {
                stack.extend(children.iter().rev().map(|&c| (m, c, depth + 1)));
            }
            PartType::Message(inner) => stack.push((inner, 0, depth + 1)),
            _ => {}
        }
    }
    out
}

/// `type/subtype`, lower case, with the defaults of RFC 2045 §5.2 and
/// RFC 2046 §5.1.5 (see [`MimeNode::content_type`]).
fn content_type(part: &MessagePart) -> String {
    match part.content_type() {
        Some(ct) => match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase(),
            None => ct.ctype().to_ascii_lowercase(),
        },
        None if part.is_message() => "message/rfc822".into(),
        None => "text/plain".into(),
    }
}

/// A part's content with its transfer encoding undone and nothing else.
/// mail-parser converts text parts to UTF-8 (their charset undone), so
/// those are decoded here again from the original bytes; when that fails
/// (broken base64), mail-parser's best effort is taken.
fn content<'a>(msg: &'a Message, part: &'a MessagePart) -> Cow<'a, [u8]> {
    match &part.body {
        PartType::Text(_) | PartType::Html(_) => {
            // Offsets count from the start of the parsed buffer (see `walk`).
            let raw: &[u8] = &msg.raw_message;
            let start = (part.offset_body as usize).min(raw.len());
            let end = (part.offset_end as usize).clamp(start, raw.len());
            let body = &raw[start..end];
            let decoded = match part.encoding {
                Encoding::Base64 => base64_decode(body),
                Encoding::QuotedPrintable => quoted_printable_decode(body),
                Encoding::None => return Cow::Borrowed(body),
            };
            match decoded {
                Some(bytes) => Cow::Owned(bytes),
                None => Cow::Borrowed(part.contents()),
            }
        }
        _ => Cow::Borrowed(part.contents()),
    }
}

// ---------------------------------------------------------------------------
// The panel.
// ---------------------------------------------------------------------------

/// The tabs of the inspector.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Tab {
    #[default]
    Headers,
    Mime,
    Body,
    Attachments,
    Raw,
}

impl Tab {
    const ALL: [Tab; 5] = [
        Tab::Headers,
        Tab::Mime,
        Tab::Body,
        Tab::Attachments,
        Tab::Raw,
    ];

    /// The English tab name (translated where shown).
    fn title(self) -> &'static str {
        match self {
            Tab::Headers => "Headers",
            Tab::Mime => "MIME structure",
            Tab::Body => "Body",
            Tab::Attachments => "Attachments",
            Tab::Raw => "Raw source",
        }
    }
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
    pub status: Option<Result<PathBuf, String>>,
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
    tree: Vec<(MimeNode, Vec<(String, String)>)>,
    body: String,
    attachments: Vec<Attachment>,
    /// The names as the message gives them, when they differ from the
    /// safe ones.
    original_names: Vec<Option<String>>,
    /// The first [`RAW_SHOWN`] bytes as text.
    source: String,
    /// Whether the multipart nesting was too deep to parse.
    too_deep: bool,
}

impl Parsed {
    /// Parses message `msg` once for all the tabs.
    fn new(msg: usize, raw: &Arc<[u8]>) -> Parsed {
        let bytes: &[u8] = raw;
        let parsed = parse(bytes);
        let (attachments, original_names) = parsed
            .as_ref()
            .map(attachments_of)
            .unwrap_or_default()
            .into_iter()
            .map(|(a, given)| {
                let differs = given.filter(|g| *g != a.0);
                (a, differs)
            })
            .unzip();
        let shown = &bytes[..bytes.len().min(RAW_SHOWN)];
        Parsed {
            msg,
            raw: Arc::clone(raw),
            headers: decoded_headers(bytes),
            tree: walk(bytes, parsed.as_ref()),
            body: parsed.as_ref().map(body_of).unwrap_or_default(),
            attachments,
            original_names,
            // Lines end with CRLF on the wire (RFC 5322 §2.1); egui wants \n.
            source: String::from_utf8_lossy(shown).replace("\r\n", "\n"),
            too_deep: too_deep(bytes),
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
        if *tab == Tab::Attachments {
            recorded_attachments(ui, lang, m);
        }
        return;
    };
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
            ui.label(egui::RichText::new(lang.t("Date")).strong());
            ui.label(r.date.as_deref().unwrap_or(none));
            ui.end_row();
            ui.label(egui::RichText::new(lang.t("Size")).strong());
            ui.label(lang.f("{} bytes", r.size));
            ui.end_row();
            ui.label(egui::RichText::new("SHA-256").strong());
            ui.label(egui::RichText::new(&r.sha256).monospace());
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

/// Header lines as a two-column grid: `Name:` and the decoded value.
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
    egui::Grid::new(id)
        .num_columns(2)
        .striped(true)
        .show(ui, |ui| {
            for (name, value) in headers.iter().take(MAX_HEADER_ROWS) {
                ui.label(egui::RichText::new(format!("{name}:")).monospace().strong());
                let spoken = format!("{name}: {value}");
                ui.label(value.as_str())
                    .widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, &spoken));
                ui.end_row();
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
    for (i, (node, _)) in parsed.tree.iter().enumerate() {
        let mut text = node.content_type.clone();
        if let Some(name) = &node.name {
            text.push_str(&format!("  \"{name}\""));
        }
        if let Some(enc) = &node.encoding {
            text.push_str(&format!("  {enc}"));
        }
        text.push_str("  ");
        text.push_str(&lang.f("{} bytes", node.size));
        ui.horizontal(|ui| {
            // Bounded, so a deep tree stays on screen.
            ui.add_space(16.0 * node.depth.min(32) as f32);
            let on = *selected == Some(i);
            if ui
                .selectable_label(on, egui::RichText::new(text).monospace())
                .clicked()
            {
                *selected = if on { None } else { Some(i) };
            }
        });
    }
    ui.separator();
    match selected.and_then(|i| parsed.tree.get(i)) {
        Some((_, headers)) => {
            ui.label(egui::RichText::new(lang.t("Part headers")).strong());
            headers_grid(ui, lang, "inspector-part-headers", headers);
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
    status: &mut Option<Result<PathBuf, String>>,
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
            for (i, (name, content_type, bytes)) in parsed.attachments.iter().enumerate() {
                let label = ui.label(name.as_str());
                if let Some(Some(original)) = parsed.original_names.get(i) {
                    label.on_hover_text(lang.f("Named in the message: {}", original));
                }
                ui.monospace(content_type.as_str());
                ui.label(lang.f("{} bytes", bytes.len()));
                if ui.button(lang.t("Save")).clicked() {
                    save = Some(i);
                }
                ui.end_row();
            }
        });
    if let Some((name, _, bytes)) = save.and_then(|i| parsed.attachments.get(i)) {
        let dir = if folder.trim().is_empty() {
            Path::new(".")
        } else {
            Path::new(folder.trim())
        };
        *status = Some(
            save_attachment(dir, name, bytes)
                .map_err(|e| lang.f2("Could not save {}: {}", name, e)),
        );
    }
    match status {
        Some(Ok(path)) => {
            ui.label(lang.f("Saved to {}", path.display()));
        }
        Some(Err(e)) => {
            ui.colored_label(ui.visuals().error_fg_color, e.as_str());
        }
        None => {}
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
    ("Carried by", "Transportado por"),
    ("Could not save {}: {}", "No se pudo guardar {}: {}"),
    ("Date", "Fecha"),
    (
        "Incomplete: part of the message was not captured",
        "Incompleto: una parte del mensaje no se capturó",
    ),
    (
        "MIME too deeply nested: over {} levels",
        "MIME anidado demasiado profundo: más de {} niveles",
    ),
    ("Named in the message: {}", "Nombre en el mensaje: {}"),
    ("No attachments", "Sin adjuntos"),
    ("No message selected", "Ningún mensaje seleccionado"),
    ("No text body", "Sin cuerpo de texto"),
    ("Part", "Parte"),
    ("Part headers", "Cabeceras de la parte"),
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
    ("{} more headers not shown", "{} cabeceras más sin mostrar"),
    ("{} on {}", "{} en {}"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use egui_kittest::kittest::Queryable as _;

    fn crlf(lines: &[&str]) -> Vec<u8> {
        let mut v = Vec::new();
        for l in lines {
            v.extend_from_slice(l.as_bytes());
            v.extend_from_slice(b"\r\n");
        }
        v
    }

    fn mixed() -> Vec<u8> {
        crlf(&[
            "From: =?ISO-8859-1?Q?Jos=E9?= <jose@example.es>",
            "To: Ana <ana@example.org>",
            "Subject: =?UTF-8?B?QcOxbyBudWV2bzogcmV1bmnDs24gbWHDsWFuYQ==?=",
            "Date: Mon, 04 Mar 2024 10:15:00 +0100",
            "Message-Id: <1@example.es>",
            "X-Folded: one",
            "  two",
            "MIME-Version: 1.0",
            "Content-Type: multipart/mixed; boundary=\"outer\"",
            "",
            "This is a multi-part message in MIME format.",
            "--outer",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: quoted-printable",
            "",
            "Hola Ana, ma=C3=B1ana hay reuni=C3=B3n.",
            "--outer",
            "Content-Type: text/plain; name=\"notes.txt\"",
            "Content-Disposition: attachment; filename=\"notes.txt\"",
            "Content-Transfer-Encoding: base64",
            "",
            "bGluZSBvbmUNCmxpbmUgdHdvDQo=",
            "--outer",
            "Content-Type: application/x-sh",
            "Content-Disposition: attachment; filename=\"../../evil.sh\"",
            "",
            "#!/bin/sh",
            "--outer--",
        ])
    }

    /// A reply with a multipart/alternative body (plain and HTML) and a
    /// forwarded message attached.
    fn nested() -> Vec<u8> {
        let mut m = crlf(&[
            "From: ana@example.org",
            "Subject: Re: reunion",
            "Content-Type: multipart/mixed; boundary=b1",
            "",
            "--b1",
            "Content-Type: multipart/alternative; boundary=b2",
            "",
            "--b2",
            "Content-Type: text/plain; charset=utf-8",
            "",
            "See you there.",
            "--b2",
            "Content-Type: text/html; charset=utf-8",
            "",
            "<p>See you <b>there</b>.</p>",
            "--b2--",
            "--b1",
            "Content-Type: message/rfc822",
            "",
        ]);
        m.extend_from_slice(&crlf(&[
            "From: jose@example.es",
            "Subject: reunion",
            "Content-Type: text/html; charset=iso-8859-1",
            "Content-Transfer-Encoding: quoted-printable",
            "",
            "<html><head><title>x</title></head><body><p>Ma=F1ana a las 10 &amp; caf=E9</p></body></html>",
            "--b1--",
        ]));
        m
    }

    fn owned(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    fn node(
        depth: usize,
        ct: &str,
        name: Option<&str>,
        size: usize,
        enc: Option<&str>,
    ) -> MimeNode {
        MimeNode {
            depth,
            content_type: ct.into(),
            name: name.map(str::to_string),
            size,
            encoding: enc.map(str::to_string),
        }
    }

    /// A folder of its own under the system's temporary directory,
    /// removed when dropped (also when the test fails).
    struct TempFolder(PathBuf);

    impl TempFolder {
        fn new(tag: &str) -> TempFolder {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            let dir = std::env::temp_dir().join(format!(
                "mailscope-inspector-{tag}-{}-{nanos}",
                std::process::id()
            ));
            fs::create_dir_all(&dir).unwrap();
            TempFolder(dir)
        }
    }

    impl Drop for TempFolder {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    /// Bytes after the empty line that ends the headers.
    fn body_len(m: &[u8]) -> usize {
        let end = m.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        m.len() - end
    }

    #[test]
    fn headers_are_unfolded_and_decoded() {
        assert_eq!(
            decoded_headers(&mixed()),
            owned(&[
                ("From", "José <jose@example.es>"),
                ("To", "Ana <ana@example.org>"),
                ("Subject", "Año nuevo: reunión mañana"),
                ("Date", "Mon, 04 Mar 2024 10:15:00 +0100"),
                // The name as written, not mail-parser's `Message-ID`.
                ("Message-Id", "<1@example.es>"),
                ("X-Folded", "one two"),
                ("MIME-Version", "1.0"),
                ("Content-Type", "multipart/mixed; boundary=\"outer\""),
            ])
        );
        // Adjacent encoded words join without the blank between them
        // (RFC 2047 §6.2); charsets other than UTF-8 are converted.
        let m = crlf(&[
            "Subject: =?ISO-8859-1?Q?Informaci=F3n?= =?UTF-8?B?ZGVsIHBpY25pYw==?=",
            "",
            "x",
        ]);
        assert_eq!(
            decoded_headers(&m),
            owned(&[("Subject", "Informacióndel picnic")])
        );
    }

    #[test]
    fn mime_tree_of_a_mixed_message() {
        let m = mixed();
        assert_eq!(
            mime_tree(&m),
            [
                node(0, "multipart/mixed", None, body_len(&m), None),
                // "Hola Ana, mañana hay reunión." in UTF-8 (ñ and ó take two
                // bytes each); the CRLF before `--outer` belongs to the
                // boundary (RFC 2046 §5.1.1).
                node(1, "text/plain", None, 31, Some("quoted-printable")),
                node(1, "text/plain", Some("notes.txt"), 20, Some("base64")),
                node(1, "application/x-sh", Some("../../evil.sh"), 9, None),
            ]
        );
    }

    #[test]
    fn mime_tree_of_nested_parts_and_an_attached_message() {
        let m = nested();
        let inner_html =
            b"<html><head><title>x</title></head><body><p>Ma\xf1ana a las 10 &amp; caf\xe9</p></body></html>";
        // The attached message runs to the CRLF before `--b1--`.
        let inner_len = m.len()
            - b"\r\n--b1--\r\n".len()
            - (m.windows(29)
                .position(|w| w == b"Content-Type: message/rfc822\r")
                .unwrap()
                + b"Content-Type: message/rfc822\r\n\r\n".len());
        assert_eq!(
            mime_tree(&m),
            [
                node(0, "multipart/mixed", None, body_len(&m), None),
                // From `--b2` to the end of `--b2--`: 6 + 41 + 2 + 16 + 6 +
                // 40 + 2 + 30 + 6 bytes.
                node(1, "multipart/alternative", None, 149, None),
                node(2, "text/plain", None, "See you there.".len(), None),
                node(
                    2,
                    "text/html",
                    None,
                    "<p>See you <b>there</b>.</p>".len(),
                    None
                ),
                node(1, "message/rfc822", None, inner_len, None),
                // Transfer-decoded only: ñ and é stay one ISO-8859-1 byte.
                node(
                    2,
                    "text/html",
                    None,
                    inner_html.len(),
                    Some("quoted-printable")
                ),
            ]
        );
        // Each part keeps its own header lines, the attached message its
        // own top-level ones.
        let tree = walk(&m, parse(&m).as_ref());
        assert_eq!(
            tree[2].1,
            owned(&[("Content-Type", "text/plain; charset=utf-8")])
        );
        assert_eq!(
            tree[5].1,
            owned(&[
                ("From", "jose@example.es"),
                ("Subject", "reunion"),
                ("Content-Type", "text/html; charset=iso-8859-1"),
                ("Content-Transfer-Encoding", "quoted-printable"),
            ])
        );
    }

    #[test]
    fn body_is_plain_text_else_html_made_plain() {
        assert_eq!(body_text(&mixed()), "Hola Ana, mañana hay reunión.");
        // multipart/alternative: the text/plain alternative wins; the HTML
        // inside the attached message is not this message's body.
        assert_eq!(body_text(&nested()), "See you there.");
        let html = crlf(&[
            "Subject: x",
            "Content-Type: text/html; charset=utf-8",
            "",
            "<html><head><style>p {}</style></head>",
            "<body><p>Only &lt;HTML&gt;</p><p>second</p></body></html>",
        ]);
        assert_eq!(body_text(&html), "Only <HTML>\nsecond\n");
        let image_only = crlf(&[
            "Content-Type: image/png",
            "Content-Transfer-Encoding: base64",
            "",
            "iVBORw0KGgo=",
        ]);
        assert_eq!(body_text(&image_only), "");
    }

    #[test]
    fn attachments_are_decoded_with_safe_names() {
        let m = mixed();
        assert_eq!(
            attachments(&m),
            [
                (
                    "notes.txt".to_string(),
                    "text/plain".to_string(),
                    b"line one\r\nline two\r\n".to_vec()
                ),
                (
                    "evil.sh".to_string(),
                    "application/x-sh".to_string(),
                    b"#!/bin/sh".to_vec()
                ),
            ]
        );
        // The same bytes the analyzer hashed for the record.
        let info = crate::mail::inspect(&m, None);
        for ((_, _, bytes), recorded) in attachments(&m).iter().zip(&info.attachments) {
            assert_eq!(crate::mail::sha256_hex(bytes), recorded.sha256);
        }
        // An attached message without a name is offered as a .eml file.
        let got = attachments(&nested());
        assert_eq!(got.len(), 1);
        assert_eq!(
            (got[0].0.as_str(), got[0].1.as_str()),
            ("attachment-1.eml", "message/rfc822")
        );
        assert!(got[0].2.starts_with(b"From: jose@example.es\r\n"));
        assert!(got[0].2.ends_with(b"caf=E9</p></body></html>"));
    }

    #[test]
    fn saving_never_leaves_the_folder() {
        let temp = TempFolder::new("save");
        let base = temp.0.clone();
        let dir = base.join("inside");
        let saved = |name: &str, bytes: &[u8]| save_attachment(&dir, name, bytes).unwrap();
        let cases: [(&str, &str); 8] = [
            ("../../evil.sh", "evil.sh"),
            ("/abs", "abs"),
            ("CON", "_CON"),
            ("a\0b\x01c\n.txt", "abc.txt"),
            ("", "attachment-1.bin"),
            ("..", "attachment-1 (2).bin"),
            ("C:\\Windows\\win.ini", "win.ini"),
            ("notes.txt", "notes.txt"),
        ];
        for (hostile, expected) in cases {
            let path = saved(hostile, hostile.as_bytes());
            assert_eq!(path, dir.join(expected), "{hostile:?}");
            assert_eq!(fs::read(&path).unwrap(), hostile.as_bytes());
        }
        // An existing file is kept; the copy is numbered.
        let again = saved("notes.txt", b"second");
        assert_eq!(again, dir.join("notes (2).txt"));
        assert_eq!(fs::read(dir.join("notes.txt")).unwrap(), b"notes.txt");
        assert_eq!(saved("notes.txt", b"third"), dir.join("notes (3).txt"));
        // A symlink planted in the folder is not followed.
        #[cfg(unix)]
        {
            let outside = base.join("outside.txt");
            fs::write(&outside, b"untouched").unwrap();
            std::os::unix::fs::symlink(&outside, dir.join("link.txt")).unwrap();
            assert_eq!(saved("link.txt", b"evil"), dir.join("link (2).txt"));
            assert_eq!(fs::read(&outside).unwrap(), b"untouched");
        }
        // Nothing but the folder (and the symlink's target) beside it.
        let mut beside: Vec<String> = fs::read_dir(&base)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        beside.sort();
        #[cfg(unix)]
        assert_eq!(beside, ["inside", "outside.txt"]);
        #[cfg(not(unix))]
        assert_eq!(beside, ["inside"]);
    }

    #[test]
    fn bad_input_never_panics() {
        assert!(mime_tree(b"").is_empty());
        assert!(decoded_headers(b"").is_empty());
        assert_eq!(body_text(b""), "");
        assert!(attachments(b"").is_empty());
        let garbage: Vec<u8> = (0..5000u32).map(|i| (i * 7919 % 251) as u8).collect();
        let _ = (mime_tree(&garbage), decoded_headers(&garbage));
        let _ = (body_text(&garbage), attachments(&garbage));
        // Cut in the middle of the base64 attachment: no closing boundary.
        let m = mixed();
        let cut = m.windows(8).position(|w| w == b"bGluZSBv").unwrap() + 8;
        let tree = mime_tree(&m[..cut]);
        assert_eq!(tree[0].content_type, "multipart/mixed");
        assert_eq!(tree.last().unwrap().name.as_deref(), Some("notes.txt"));
        let _ = (body_text(&m[..cut]), attachments(&m[..cut]));
        // Every prefix: truncated anywhere.
        for end in (0..m.len()).step_by(7) {
            let _ = (mime_tree(&m[..end]), decoded_headers(&m[..end]));
            let _ = (body_text(&m[..end]), attachments(&m[..end]));
        }
        // A multipart without a boundary, and one whose boundary never comes.
        for ct in ["multipart/mixed", "multipart/mixed; boundary=nowhere"] {
            let m = crlf(&[&format!("Content-Type: {ct}"), "", "--other", "", "text"]);
            let tree = mime_tree(&m);
            assert_eq!(tree[0].depth, 0);
            let _ = (body_text(&m), attachments(&m));
        }
        // 20 000 nested multiparts: the headers and the root only.
        let mut deep = b"Subject: deep\r\n".to_vec();
        for i in 0..20_000 {
            deep.extend_from_slice(
                format!("Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n")
                    .as_bytes(),
            );
        }
        let tree = mime_tree(&deep);
        assert_eq!(tree.len(), 1);
        assert_eq!(tree[0].content_type, "multipart/mixed");
        assert_eq!(
            decoded_headers(&deep)[0],
            ("Subject".to_string(), "deep".to_string())
        );
        assert_eq!(body_text(&deep), "");
        assert!(attachments(&deep).is_empty());
    }

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
