//! The window's state and layout: which capture is open, where the
//! playhead is, what is selected, and which panel shows what.
//!
//! [`ClassroomApp::ui`] draws one frame; eframe calls it for the native
//! window and egui_kittest calls it in the tests, so both see the same
//! app. Everything that takes time (reading a capture, running the demo)
//! happens on other threads and arrives through channels polled here.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::Receiver;

use egui::{Color32, RichText, Ui};

use super::bytes::{self, FetchError, PacketBytes};
use super::i18n::Lang;
use super::inspector::{self, InspectorState};
use super::live::{LiveDemo, LivePoll};
use super::loader::{self, LoadEvent, LoadOptions};
use super::model::Scene;
use super::open::OpenDialog;
mod background;
pub(in crate::gui) mod comparing;
pub(in crate::gui) mod decrypt;
mod stepping;
pub use decrypt::SwitchState;

use super::pdu::{self, Pdu};
use super::playback::{Clock, Playback};
use super::timeline::{Step, StepBy};
use super::{eavesdropper, export, flows, placement, timeline, topology, transcript};
use crate::world::demo::DemoOptions;

/// The panels of the central area (lesson files name them in lower case,
/// as `--tab` does).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tab {
    Topology,
    Eavesdropper,
    Message,
    Flows,
    /// Wireshark's packet list.
    Packets,
    Findings,
    /// Two captures side by side, as an eavesdropper sees each.
    Compare,
}

/// Where the window is with its capture.
enum Status {
    /// Nothing open yet.
    Empty,
    Loading {
        name: String,
        read: u64,
        total: Option<u64>,
        rx: Receiver<LoadEvent>,
    },
    Ready,
    /// The last capture could not be read; the message says why.
    Failed(String),
}

/// The classroom window.
pub struct ClassroomApp {
    pub lang: Lang,
    pub presenter: bool,
    pub dark: bool,
    pub tab: Tab,
    status: Status,
    scene: Option<Arc<Scene>>,
    path: Option<PathBuf>,
    pub playback: Playback,
    groups: placement::Groups,
    pub selected_conn: Option<usize>,
    pub selected_line: Option<usize>,
    line_packets: Option<Result<Vec<PacketBytes>, FetchError>>,
    /// The packets of the selected line being read (from the file, on a
    /// thread: on a big capture a late packet is far into the file).
    line_packets_rx: Option<Receiver<Result<Vec<PacketBytes>, FetchError>>>,
    pub selected_msg: Option<usize>,
    /// The lesson's moments to stop at (see [`super::lesson`]).
    pub bookmarks: Vec<super::lesson::Bookmark>,
    /// What the "Lesson" menu is typing.
    pub(crate) lesson: super::lesson::LessonDraft,
    inspector: InspectorState,
    filter: flows::FlowFilter,
    /// The path typed in the "Open…" row, while it is shown.
    open_dialog: Option<OpenDialog>,
    live: Option<LiveDemo>,
    /// Options of the demo the window runs.
    pub demo_options: DemoOptions,
    /// The last export's result, shown in the top bar.
    notice: Option<String>,
    pub load_options: LoadOptions,
    applied_style: Option<(bool, bool)>,
    /// Start playing as soon as the capture being read arrives (`--play`).
    pub play_on_open: bool,
    /// Where the topology's last frame put its boxes and labels.
    pub last_placement: Option<placement::Placement>,
    /// Packets (on the way, drawn) in the last frame of the topology.
    pub last_packets: (usize, usize),
    /// Where the topology drew the packet stopped at, in its last frame.
    pub last_stepped_at: Option<egui::Pos2>,
    /// Boxes drawn at most in the topology of a big capture.
    pub max_hosts: usize,
    /// The crowds of clients opened by a click (`super::crowd`).
    pub open_crowds: std::collections::BTreeSet<super::crowd::Key>,
    /// Where "Export the sequence diagram" writes (default: the current
    /// folder).
    pub export_dir: Option<PathBuf>,
    /// The left panel (connections and messages) is shown; presenter mode
    /// hides it to give the picture the room.
    pub show_lists: bool,
    /// What Previous and Next move by.
    pub step_by: StepBy,
    /// The packet ([`Scene::wire`]) a packet step (or a click in the packet
    /// list) stopped at; let go when the playhead moves otherwise.
    pub stepped: Option<usize>,
    stepped_t: f64,
    /// The detail of the packet stopped at, once read from the file.
    pdu: Option<Result<Pdu, FetchError>>,
    pdu_for: Option<usize>,
    pdu_rx: Option<Receiver<Result<Pdu, FetchError>>>,
    /// The packet the list last scrolled to.
    list_shown: Option<usize>,
    /// What a reload with the decrypt switch flipped keeps of the window.
    kept: Option<decrypt::Kept>,
    /// The capture last read with the key log, and whether that decrypted
    /// anything (the switch is greyed when it would change nothing).
    decrypted_before: Option<(PathBuf, bool)>,
    /// A second capture beside this one (the Compare panel).
    compare: Option<super::compare::Compare>,
    /// The row picking the second capture, while it is shown.
    compare_dialog: Option<OpenDialog>,
}

impl Default for ClassroomApp {
    fn default() -> Self {
        ClassroomApp::new(Lang::from_env())
    }
}

impl ClassroomApp {
    pub fn new(lang: Lang) -> Self {
        ClassroomApp {
            lang,
            presenter: false,
            dark: false,
            tab: Tab::Topology,
            status: Status::Empty,
            scene: None,
            path: None,
            playback: Playback::new(Vec::new(), 0.0),
            groups: placement::Groups::default(),
            last_placement: None,
            play_on_open: false,
            selected_conn: None,
            selected_line: None,
            line_packets: None,
            line_packets_rx: None,
            selected_msg: None,
            bookmarks: Vec::new(),
            lesson: super::lesson::LessonDraft::default(),
            inspector: InspectorState::default(),
            filter: flows::FlowFilter::default(),
            open_dialog: None,
            live: None,
            // The window's demo pauses between steps long enough to
            // narrate them.
            demo_options: DemoOptions {
                speed: super::demo_menu::speed_for_step(super::demo_menu::NARRATED_STEP),
                ..DemoOptions::default()
            },
            notice: None,
            load_options: LoadOptions::default(),
            applied_style: None,
            last_packets: (0, 0),
            last_stepped_at: None,
            max_hosts: topology::MAX_HOSTS_DRAWN,
            open_crowds: Default::default(),
            export_dir: None,
            show_lists: true,
            step_by: StepBy::Event,
            stepped: None,
            stepped_t: 0.0,
            pdu: None,
            pdu_for: None,
            pdu_rx: None,
            list_shown: None,
            kept: None,
            decrypted_before: None,
            compare: None,
            compare_dialog: None,
        }
    }

    /// Writes the selected connection's sequence diagram (SVG and
    /// Mermaid) and says where in the top bar.
    pub(crate) fn export_selected_diagram(&mut self) {
        let (Some(scene), Some(c)) = (&self.scene, self.selected_conn) else {
            return;
        };
        let dir = self.export_dir.clone();
        let lang = self.lang;
        self.notice = Some(
            match export::save_diagram(scene, c, lang, self.path.as_deref(), dir) {
                Ok(p) => lang.f("Saved to {}", p),
                Err(e) => e.to_string(),
            },
        );
    }

    /// The open capture's file.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// A line for the top bar (the result of a save, an export).
    pub(crate) fn set_notice(&mut self, text: String) {
        self.notice = Some(text);
    }

    /// The open capture's scene, once analysed.
    pub fn scene(&self) -> Option<&Scene> {
        self.scene.as_deref()
    }

    pub fn is_loading(&self) -> bool {
        matches!(self.status, Status::Loading { .. })
    }

    pub fn is_live(&self) -> bool {
        self.live.is_some()
    }

    /// The error of the last capture that could not be read.
    pub fn error(&self) -> Option<&str> {
        match &self.status {
            Status::Failed(e) => Some(e),
            _ => None,
        }
    }

    /// Starts analysing `path` in the background.
    pub fn open(&mut self, path: PathBuf, ctx: &egui::Context) {
        let ctx = ctx.clone();
        let rx = loader::spawn(path.clone(), self.load_options.clone(), move || {
            ctx.request_repaint()
        });
        self.status = Status::Loading {
            name: path.display().to_string(),
            read: 0,
            total: std::fs::metadata(&path).ok().map(|m| m.len()),
            rx,
        };
        self.path = Some(path);
    }

    /// Runs the Alice→Bob demo and follows it; the capture ends up in
    /// `target`.
    pub fn run_demo(&mut self, target: PathBuf, ctx: &egui::Context) {
        let ctx = ctx.clone();
        self.live = Some(LiveDemo::start(
            self.demo_options.clone(),
            target,
            self.load_options.clone(),
            move || ctx.request_repaint(),
        ));
        self.notice = None;
    }

    /// Shows `scene` (read from `path`), keeping the playhead when the
    /// scene is a newer snapshot of the same live recording.
    fn show_scene(&mut self, scene: Scene, path: PathBuf, keep_playhead: bool) {
        let times: Vec<f64> = scene
            .packets
            .iter()
            .map(|p| p.t)
            .chain(scene.dns.iter().map(|d| d.t))
            .collect();
        let mut playback = Playback::new(times, scene.duration);
        // The clock and speed are the user's choice: they survive a reload.
        playback.clock = self.playback.clock;
        playback.speed = self.playback.speed;
        if keep_playhead {
            playback.playing = self.playback.playing;
            playback.follow = self.playback.follow;
            playback.seek(self.playback.t);
        }
        self.playback = playback;
        self.groups = placement::Groups::new(&scene);
        self.stepped = None;
        self.pdu = None;
        self.pdu_for = None;
        self.pdu_rx = None;
        if !keep_playhead {
            self.open_crowds.clear();
            self.selected_conn = None;
            self.selected_line = None;
            self.line_packets = None;
            self.line_packets_rx = None;
            self.selected_msg = None;
        }
        self.note_decryption(&scene, &path);
        self.scene = Some(Arc::new(scene));
        self.path = Some(path);
        self.status = Status::Ready;
    }

    /// Reads `path` on this thread (tests).
    pub fn open_now(&mut self, path: &Path) {
        match loader::analyze(path, &self.load_options, |_, _| {}) {
            Ok(scene) => self.show_scene(scene, path.to_path_buf(), false),
            Err(e) => self.status = Status::Failed(e.to_string()),
        }
    }

    fn poll(&mut self, ctx: &egui::Context) {
        background::receive(&mut self.line_packets_rx, &mut self.line_packets, ctx);
        if let Status::Loading {
            rx, read, total, ..
        } = &mut self.status
        {
            let mut done = None;
            while let Ok(ev) = rx.try_recv() {
                match ev {
                    LoadEvent::Progress { read: r, total: t } => {
                        *read = r;
                        *total = t;
                    }
                    LoadEvent::Done(scene) => done = Some(Ok(scene)),
                    LoadEvent::Failed(e) => done = Some(Err(e)),
                }
            }
            match done {
                Some(Ok(scene)) => {
                    let path = self.path.clone().unwrap_or_default();
                    self.show_scene(*scene, path, false);
                    self.restore_kept();
                    if std::mem::take(&mut self.play_on_open) {
                        self.playback.play();
                    }
                }
                Some(Err(e)) => self.status = Status::Failed(e.to_string()),
                None => {}
            }
        }
        if let Some(live) = &mut self.live {
            match live.poll() {
                LivePoll::Nothing => {}
                LivePoll::Snapshot(scene, path) => {
                    let first = self.scene.is_none() || !matches!(self.status, Status::Ready);
                    self.show_scene(*scene, path, !first);
                    if first {
                        // Live: real time, playing, trailing the recording.
                        self.playback.clock = Clock::Capture;
                        self.playback.speed = 1.0;
                        self.playback.follow = true;
                        self.playback.play();
                    }
                }
                LivePoll::Finished(scene, path) => {
                    self.live = None;
                    let t = self.playback.t;
                    self.show_scene(*scene, path.clone(), true);
                    self.playback.follow = false;
                    self.playback.seek(t);
                    self.notice = Some(self.lang.f("Saved to {}", path.display()));
                }
                LivePoll::Failed(e) => {
                    self.live = None;
                    self.status = Status::Failed(e.to_string());
                }
            }
            ctx.request_repaint_after(std::time::Duration::from_millis(100));
        }
    }

    /// Selects connection `c` (None: all) and forgets the line selection.
    /// A message of another connection is let go too, so the Message tab
    /// follows the connection.
    pub fn select_conn(&mut self, c: Option<usize>) {
        if self.selected_conn != c {
            self.selected_conn = c;
            self.selected_line = None;
            self.line_packets = None;
            self.line_packets_rx = None;
            if let (Some(c), Some(m), Some(scene)) = (c, self.selected_msg, &self.scene)
                && scene.messages.get(m).is_none_or(|msg| msg.conn != c)
            {
                self.selected_msg = None;
            }
        }
    }

    /// Selects transcript line `i` and reads the packets that carried it.
    pub fn select_line(&mut self, i: usize) {
        self.selected_line = Some(i);
        let (Some(scene), Some(path)) = (&self.scene, &self.path) else {
            return;
        };
        let (tx, rx) = std::sync::mpsc::channel();
        let (scene, path) = (scene.clone(), path.clone());
        std::thread::spawn(move || {
            let line = &scene.lines[i];
            let read = bytes::fetch(&path, &line.packets).map(|mut p| {
                bytes::mark_line(&scene, line, &mut p);
                p
            });
            let _ = tx.send(read);
        });
        self.line_packets = None;
        self.line_packets_rx = Some(rx);
    }

    /// Whether the packets of the selected line are still being read.
    pub fn reading_packets(&self) -> bool {
        self.line_packets_rx.is_some()
    }

    /// The packets of the selected line, once read.
    pub fn line_packets(&self) -> Option<&[PacketBytes]> {
        match &self.line_packets {
            Some(Ok(p)) => Some(p),
            _ => None,
        }
    }

    pub fn select_message(&mut self, m: usize) {
        self.selected_msg = Some(m);
        self.tab = Tab::Message;
    }

    fn apply_style(&mut self, ctx: &egui::Context) {
        let want = (self.dark, self.presenter);
        if self.applied_style == Some(want) {
            return;
        }
        if self.applied_style.is_some_and(|(_, p)| p != self.presenter) {
            self.show_lists = !self.presenter;
        }
        self.applied_style = Some(want);
        ctx.set_theme(if self.dark {
            egui::Theme::Dark
        } else {
            egui::Theme::Light
        });
        let presenter = self.presenter;
        ctx.all_styles_mut(|style| {
            let base = egui::Style::default();
            for (name, font) in style.text_styles.iter_mut() {
                let size = base.text_styles.get(name).map_or(14.0, |f| f.size);
                font.size = if presenter { size * 1.6 } else { size };
            }
            style.visuals.widgets.noninteractive.fg_stroke.width =
                if presenter { 2.0 } else { 1.0 };
        });
    }

    fn keyboard(&mut self, ctx: &egui::Context) {
        if ctx.memory(|m| m.focused().is_some()) {
            return; // typing in a text field
        }
        let (space, left, right) = ctx.input(|i| {
            (
                i.key_pressed(egui::Key::Space),
                i.key_pressed(egui::Key::ArrowLeft),
                i.key_pressed(egui::Key::ArrowRight),
            )
        });
        let Some(scene) = self.scene.clone() else {
            return;
        };
        if space {
            if self.playback.playing {
                self.playback.playing = false;
            } else {
                self.playback.play();
            }
        }
        let _ = scene;
        if left {
            self.step(Step::Previous);
        }
        if right {
            self.step(Step::Next);
        }
    }

    /// Draws one frame.
    pub fn ui(&mut self, ui: &mut Ui) {
        let ctx = ui.ctx().clone();
        self.apply_style(&ctx);
        self.poll(&ctx);
        self.keyboard(&ctx);
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .collect()
        });
        if let Some(p) = dropped.into_iter().next() {
            self.open(p, &ctx);
        }
        if self.playback.playing {
            let dt = ctx.input(|i| i.stable_dt).min(0.1) as f64;
            self.playback.advance(dt);
            ctx.request_repaint();
        }

        egui::Panel::top("top").show(ui, |ui| self.top_bar(ui));
        if let Some(scene) = self.scene.clone() {
            let mut step = None;
            egui::Panel::bottom("timeline").show(ui, |ui| {
                ui.add_space(4.0);
                step = timeline::show(
                    ui,
                    self.lang,
                    &scene,
                    &mut self.playback,
                    &mut self.step_by,
                    self.presenter,
                );
                ui.add_space(4.0);
            });
            if let Some(step) = step {
                self.step(step);
            }
            // Played or moved by other means: no longer stopped at a packet.
            if self.stepped.is_some()
                && (self.playback.playing || (self.playback.t - self.stepped_t).abs() > 1e-12)
            {
                self.stepped = None;
            }
            self.follow_pdu(&ctx);
            // The comparison has its own transcripts: its two columns get
            // the whole width.
            let compare = self.tab == Tab::Compare;
            // The Flows table is the list of connections, with more
            // columns: it gets the list's width on a projector's 1280 px.
            if self.show_lists && !compare && self.tab != Tab::Flows {
                egui::Panel::left("connections")
                    .resizable(true)
                    .default_size(if self.presenter { 300.0 } else { 230.0 })
                    .show(ui, |ui| self.side_list(ui, &scene));
            }
            if !compare {
                egui::Panel::right("transcript")
                    .resizable(true)
                    .default_size(if self.presenter { 560.0 } else { 400.0 })
                    .show(ui, |ui| self.transcript_panel(ui, &scene));
            }
        }
        egui::CentralPanel::default_margins().show(ui, |ui| self.central(ui));
    }

    fn top_bar(&mut self, ui: &mut Ui) {
        let lang = self.lang;
        ui.horizontal_wrapped(|ui| {
            ui.strong("mailscope");
            if ui.button(lang.t("Open…")).clicked() {
                self.open_dialog = Some(OpenDialog::default());
            }
            // The demo's variants and pace, then "Run" (one menu: the bar
            // stays one row on a projector).
            let idle = self.live.is_none();
            ui.add_enabled_ui(idle, |ui| {
                ui.menu_button(lang.t("Demo"), |ui| {
                    if super::demo_menu::options(self, ui) {
                        let target = std::env::temp_dir().join("mailscope-demo.pcapng");
                        self.run_demo(target, &ui.ctx().clone());
                        ui.close();
                    }
                });
            });
            ui.separator();
            // The two languages name themselves; no "Language" label, so
            // the bar fits one row on a 1280-pixel projector in presenter
            // mode.
            ui.selectable_value(&mut self.lang, Lang::En, "English");
            ui.selectable_value(&mut self.lang, Lang::Es, "Español");
            ui.separator();
            ui.checkbox(&mut self.presenter, lang.t("Presenter mode"));
            ui.checkbox(&mut self.show_lists, lang.t("Connections"));
            // A framed button in both states: off, it must still read as a
            // switch, not as a word.
            if ui
                .add(egui::Button::new(lang.t("Dark")).selected(self.dark))
                .clicked()
            {
                self.dark = !self.dark;
            }
            // Preparing a class (bookmarks, the lesson file, the diagram
            // for slides) lives in one menu: the bar stays one row on a
            // projector even with a connection selected.
            ui.menu_button(lang.t("Lesson"), |ui| super::lesson::menu(self, ui));
            if self.live.is_some() {
                ui.label(
                    RichText::new(lang.t("live: following the demo"))
                        .color(Color32::from_rgb(200, 30, 30))
                        .strong(),
                );
            }
            if let Some(n) = &self.notice {
                ui.label(n);
            }
        });
        if let Some(dialog) = &mut self.open_dialog
            && let Some(p) = dialog.show(ui, lang)
        {
            self.open_dialog = None;
            self.open(p, &ui.ctx().clone());
        }
        self.comparison_dialog(ui);
    }

    fn side_list(&mut self, ui: &mut Ui, scene: &Scene) {
        let lang = self.lang;
        ui.heading(lang.t("Connections"));
        ui.label(lang.f2(
            "{} connections, {} packets",
            scene.conns.len(),
            scene.packets.len(),
        ));
        egui::ScrollArea::vertical()
            .id_salt("side")
            .auto_shrink([false, false])
            .show(ui, |ui| {
                if ui
                    .selectable_label(self.selected_conn.is_none(), lang.t("All connections"))
                    .clicked()
                {
                    self.select_conn(None);
                }
                const LISTED: usize = 300;
                let mut pick = None;
                for (i, c) in scene.conns.iter().enumerate().take(LISTED) {
                    let text = format!(
                        "#{} {}  {} -> {}",
                        c.flow,
                        c.label(),
                        scene.hosts[c.client_host].name,
                        scene.hosts[c.server_host].name
                    );
                    let active = c.start <= self.playback.t && self.playback.t <= c.end;
                    let rich = if active {
                        RichText::new(text).strong()
                    } else {
                        RichText::new(text)
                    };
                    if ui
                        .selectable_label(self.selected_conn == Some(i), rich)
                        .clicked()
                    {
                        pick = Some(i);
                    }
                }
                if scene.conns.len() > LISTED {
                    ui.label(lang.f("{} more in the Flows tab", scene.conns.len() - LISTED));
                }
                if let Some(i) = pick {
                    self.select_conn(Some(i));
                }
                ui.add_space(8.0);
                ui.heading(lang.t("Messages"));
                if scene.messages.is_empty() {
                    // An empty list must not read as "no mail was sent".
                    ui.weak(if scene.conns.iter().any(|c| c.encrypted()) {
                        lang.t("None readable: the mail went inside TLS")
                    } else {
                        lang.t("(none)")
                    });
                }
                let mut open = None;
                for (i, m) in scene.messages.iter().enumerate().take(LISTED) {
                    let subject = m
                        .record
                        .subject
                        .clone()
                        .unwrap_or_else(|| lang.t("(no subject)").into());
                    let text = format!(
                        "{subject}  (#{} {})",
                        scene.conns[m.conn].flow,
                        inspector::short_command(m.record.protocol, &m.record.command)
                    );
                    if ui
                        .selectable_label(self.selected_msg == Some(i), text)
                        .clicked()
                    {
                        open = Some(i);
                    }
                }
                if let Some(i) = open {
                    self.select_message(i);
                }
            });
    }

    fn transcript_panel(&mut self, ui: &mut Ui, scene: &Scene) {
        let lang = self.lang;
        let has_bytes = self.selected_line.is_some() || self.stepped.is_some();
        let current = self.current_line();
        let avail = ui.available_height();
        let top = if has_bytes { avail * 0.55 } else { avail };
        let mut clicked = None;
        ui.allocate_ui(egui::Vec2::new(ui.available_width(), top), |ui| {
            clicked = transcript::show(
                ui,
                lang,
                scene,
                self.selected_conn,
                self.playback.t,
                (self.selected_line, current),
                self.presenter,
            );
        });
        if let Some(i) = clicked {
            self.select_line(i);
        }
        if self.stepped.is_some() {
            ui.separator();
            ui.heading(lang.t("PDU detail"));
            egui::ScrollArea::vertical()
                .id_salt("pdu")
                .auto_shrink([false, false])
                .show(ui, |ui| match (&self.pdu, self.pdu()) {
                    (_, Some(p)) => pdu::show(ui, lang, p, self.presenter),
                    (Some(Err(e)), _) => {
                        ui.colored_label(Color32::RED, e.to_string());
                    }
                    _ => {
                        ui.label(lang.t("Reading the packet…"));
                    }
                });
        } else if let Some(i) = self.selected_line {
            ui.separator();
            ui.heading(lang.t("Packets of the line"));
            let line = &scene.lines[i];
            // The analyzer's notes in the window's language, as the
            // transcript shows them; the wire's own words as they came.
            let text = lang.note(line.kind, &line.text);
            ui.label(RichText::new(format!("{} {}", line.speaker(), text)).monospace());
            if line.decrypted {
                ui.label(lang.t("Decrypted with the key log"));
            }
            egui::ScrollArea::vertical()
                .id_salt("bytes")
                .auto_shrink([false, false])
                .show(ui, |ui| match &self.line_packets {
                    None => {
                        ui.label(lang.t("No packet selected"));
                    }
                    Some(Err(e)) => {
                        ui.colored_label(Color32::RED, e.to_string());
                    }
                    Some(Ok(packets)) if packets.is_empty() => {
                        ui.label(lang.t("No packet selected"));
                    }
                    Some(Ok(packets)) => {
                        for p in packets {
                            bytes::hex_view(ui, lang, p, self.presenter);
                            ui.add_space(6.0);
                        }
                    }
                });
        }
    }

    fn central(&mut self, ui: &mut Ui) {
        let lang = self.lang;
        match &self.status {
            Status::Loading {
                name, read, total, ..
            } => {
                ui.heading(lang.f("Analysing {}…", name));
                let frac = total.map_or(0.0, |t| *read as f32 / t.max(1) as f32);
                ui.add(egui::ProgressBar::new(frac).show_percentage());
                ui.ctx()
                    .request_repaint_after(std::time::Duration::from_millis(50));
                return;
            }
            Status::Failed(e) => {
                ui.label(
                    RichText::new(lang.t("Cannot open the capture"))
                        .heading()
                        .color(Color32::RED),
                );
                ui.label(RichText::new(e.clone()).monospace());
                ui.add_space(10.0);
            }
            Status::Empty | Status::Ready => {}
        }
        let Some(scene) = self.scene.clone() else {
            if self.live.is_some() {
                ui.heading(lang.t("live: following the demo"));
                ui.spinner();
                return;
            }
            ui.add_space(40.0);
            ui.vertical_centered(|ui| {
                ui.heading(lang.t("Drop a capture file here, or"));
                ui.add_space(10.0);
                if ui.button(lang.t("Open…")).clicked() {
                    self.open_dialog = Some(OpenDialog::default());
                }
                ui.add_space(10.0);
                ui.group(|ui| {
                    if super::demo_menu::options(self, ui) {
                        let target = std::env::temp_dir().join("mailscope-demo.pcapng");
                        self.run_demo(target, &ui.ctx().clone());
                    }
                });
            });
            return;
        };
        ui.horizontal(|ui| {
            for (tab, name) in [
                (Tab::Topology, lang.t("Topology")),
                (Tab::Eavesdropper, lang.t("Eavesdropper")),
                (Tab::Message, lang.t("Message")),
                (Tab::Flows, lang.t("Flows")),
                (Tab::Packets, lang.t("Packets")),
                (Tab::Findings, lang.t("Findings")),
            ] {
                ui.selectable_value(&mut self.tab, tab, RichText::new(name).strong());
            }
            if self.compare.is_some() {
                ui.selectable_value(
                    &mut self.tab,
                    Tab::Compare,
                    RichText::new(lang.t("Compare")).strong(),
                );
            }
            ui.separator();
            self.decrypt_switch(ui);
            ui.separator();
            // While live, the scene is read from a temporary snapshot: name
            // the file the recording will be saved to instead.
            let source = match &self.live {
                Some(live) => lang.f(
                    "{} (recording)",
                    live.target.file_name().map_or_else(
                        || live.target.display().to_string(),
                        |n| n.to_string_lossy().into_owned(),
                    ),
                ),
                None => scene.source.clone(),
            };
            // Cut to the panel: a row wider than the panel would widen the
            // picture under it beyond what is visible. The comparison
            // names both of its files itself.
            if self.tab != Tab::Compare {
                ui.add(egui::Label::new(RichText::new(source).weak()).truncate());
            }
            if !scene.warnings.is_empty() {
                ui.label(
                    RichText::new(format!("! {}", scene.warnings[0]))
                        .color(Color32::from_rgb(200, 120, 0)),
                )
                .on_hover_text(scene.warnings.join("\n"));
            }
        });
        ui.separator();
        match self.tab {
            Tab::Topology => {
                let r = topology::show(
                    ui,
                    lang,
                    topology::View {
                        scene: &scene,
                        groups: &self.groups,
                        playback: &self.playback,
                        stepped: self.stepped,
                        selected: self.selected_conn,
                        presenter: self.presenter,
                        max_hosts: self.max_hosts,
                        open_crowds: &self.open_crowds,
                    },
                );
                if let Some(key) = r.crowd_clicked {
                    self.open_crowds.insert(key);
                }
                if r.gather_all {
                    self.open_crowds.clear();
                }
                self.last_packets = (r.in_flight, r.drawn);
                self.last_stepped_at = r.stepped_at;
                self.last_placement = Some(r.placement);
                if let Some(c) = r.clicked_conn {
                    self.select_conn(Some(c));
                }
            }
            Tab::Eavesdropper => eavesdropper::show(
                ui,
                lang,
                &scene,
                self.selected_conn,
                self.playback.t,
                self.presenter,
            ),
            Tab::Message => {
                // Nothing picked yet: the first message of the selected
                // connection (or of the capture), rather than an empty page.
                let shown = self
                    .selected_msg
                    .filter(|&m| m < scene.messages.len())
                    .or_else(|| {
                        scene
                            .messages
                            .iter()
                            .position(|m| self.selected_conn.is_none_or(|c| m.conn == c))
                    });
                match shown {
                    Some(m) => {
                        self.selected_msg = Some(m);
                        inspector::show(ui, lang, &scene, m, &mut self.inspector)
                    }
                    None => {
                        ui.label(lang.t("No message in this connection"));
                    }
                }
            }
            Tab::Flows => {
                match flows::show(ui, lang, &scene, &mut self.filter, self.selected_conn) {
                    Some(flows::Pick::Conn(c)) => self.select_conn(Some(c)),
                    // A DNS exchange has no transcript of its own: the
                    // playhead goes to its question, in the transcript of
                    // all connections.
                    Some(flows::Pick::At(t)) => {
                        self.select_conn(None);
                        self.playback.playing = false;
                        self.playback.seek(t);
                    }
                    None => {}
                }
            }
            Tab::Packets => {
                let current = self.current_packet(&scene);
                let scroll_to = current.filter(|_| self.list_shown != current);
                self.list_shown = current;
                if let Some(k) = pdu::list(
                    ui,
                    lang,
                    &scene,
                    (self.stepped, current),
                    scroll_to,
                    self.presenter,
                ) {
                    self.step_to(k);
                    // Clicked: it is in view already.
                    self.list_shown = Some(k);
                }
            }
            Tab::Compare => self.compare_panel(ui),
            Tab::Findings => {
                if let Some(i) = flows::findings(ui, lang, &scene) {
                    let f = &scene.findings[i];
                    self.select_conn(f.conn);
                    self.playback.playing = false;
                    self.playback.seek(f.t);
                    self.tab = Tab::Topology;
                }
            }
        }
    }
}

impl eframe::App for ClassroomApp {
    fn ui(&mut self, ui: &mut Ui, _frame: &mut eframe::Frame) {
        ClassroomApp::ui(self, ui);
    }
}
