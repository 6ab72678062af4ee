//! `mailscope gui [FILE]` and `mailscope demo --gui`: the classroom window.

use std::path::{Path, PathBuf};

use super::{Failure, KeyArgs};

/// The flags of `mailscope gui`.
#[derive(clap::Args, Debug)]
pub(crate) struct GuiArgs {
    /// A pcap or pcapng file (or none: an empty window with "Open…" and
    /// the demo).
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub keys: KeyArgs,
    /// Language of the window: en or es (default: from the locale).
    #[arg(long)]
    pub lang: Option<String>,
    /// Large fonts and thick lines, for a projector.
    #[arg(long)]
    pub presenter: bool,
    /// Dark theme.
    #[arg(long)]
    pub dark: bool,
    /// The panel to show: topology, eavesdropper, message, flows, packets,
    /// findings, compare.
    #[arg(long)]
    pub tab: Option<String>,
    /// Select this flow (its id, as `mailscope flows` lists it).
    #[arg(long)]
    pub flow: Option<u64>,
    /// Put the playhead at this many seconds from the capture's start.
    #[arg(long)]
    pub at: Option<f64>,
    /// Select the first transcript line containing this text (and put
    /// the playhead there).
    #[arg(long)]
    pub line: Option<String>,
    /// Start playing at once.
    #[arg(long)]
    pub play: bool,
    /// Playback speed (1 = three packets a second in event pace).
    #[arg(long)]
    pub speed: Option<f64>,
    /// Open a lesson saved from the window's "Lesson" menu: its capture,
    /// connection, moment, language, presenter mode and bookmarks.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["file", "flow", "at", "line", "tab"])]
    pub lesson: Option<PathBuf>,
    /// Step packet by packet and stop at this packet (numbered from 1, as
    /// Wireshark does): on its edge, with its PDU detail open.
    #[arg(long)]
    pub packet: Option<u64>,
    /// Show this second capture beside FILE (the Compare panel): the same
    /// session in clear and over TLS, each as an eavesdropper sees it.
    #[arg(long, value_name = "FILE2", requires = "file")]
    pub compare: Option<PathBuf>,
}

#[cfg(feature = "gui")]
pub(crate) fn run(args: GuiArgs) -> Result<(), Failure> {
    use mailscope::gui::{Start, Tab, i18n::Lang};
    let usage = |m: String| Failure {
        code: 2,
        message: m,
    };
    let lang = match args.lang.as_deref() {
        None => None,
        Some("en") => Some(Lang::En),
        Some("es") => Some(Lang::Es),
        Some(other) => return Err(usage(format!("--lang takes en or es, not {other:?}"))),
    };
    let tab = match args.tab.as_deref() {
        None => None,
        Some("topology") => Some(Tab::Topology),
        Some("eavesdropper") => Some(Tab::Eavesdropper),
        Some("message") => Some(Tab::Message),
        Some("flows") => Some(Tab::Flows),
        Some("packets") => Some(Tab::Packets),
        Some("findings") => Some(Tab::Findings),
        Some("compare") => Some(Tab::Compare),
        Some(other) => {
            return Err(usage(format!(
                "--tab takes topology, eavesdropper, message, flows, packets, findings or compare, not {other:?}"
            )));
        }
    };
    if let Some(path) = &args.lesson {
        let lesson = mailscope::gui::lesson::Lesson::load(path).map_err(Failure::input)?;
        if !lesson.capture.exists() {
            return Err(Failure::input(format!(
                "the lesson's capture is missing: {}",
                lesson.capture.display()
            )));
        }
        let mut start = lesson.start();
        start.lesson_file = Some(path.clone());
        // Flags given beside the lesson win over it.
        start.lang = lang.or(start.lang);
        start.presenter |= args.presenter;
        start.dark |= args.dark;
        start.play = args.play;
        start.speed = args.speed.or(start.speed);
        return mailscope::gui::run(start).map_err(Failure::input);
    }
    for f in args.file.iter().chain(&args.compare) {
        if !f.exists() {
            return Err(Failure::input(format!("no such file: {}", f.display())));
        }
    }
    mailscope::gui::run(Start {
        file: args.file,
        demo: None,
        keylogs: args.keys.files,
        no_decrypt: args.keys.no_decrypt,
        lang,
        presenter: args.presenter,
        dark: args.dark,
        tab,
        flow: args.flow,
        at: args.at,
        line: args.line,
        play: args.play,
        speed: args.speed,
        bookmarks: Vec::new(),
        lesson_file: None,
        packet: args.packet,
        compare: args.compare,
    })
    .map_err(Failure::input)
}

#[cfg(feature = "gui")]
pub(crate) fn demo(
    options: mailscope::world::demo::DemoOptions,
    write: &Path,
) -> Result<(), Failure> {
    mailscope::gui::run(mailscope::gui::Start {
        demo: Some((options, write.to_path_buf())),
        ..Default::default()
    })
    .map_err(Failure::input)
}

/// The demo's pace when the window follows it (`demo --gui`).
#[cfg(feature = "gui")]
pub(crate) fn narrated_speed() -> f64 {
    use mailscope::gui::demo_menu::{NARRATED_STEP, speed_for_step};
    speed_for_step(NARRATED_STEP)
}

#[cfg(not(feature = "gui"))]
pub(crate) fn narrated_speed() -> f64 {
    1.0
}

#[cfg(not(feature = "gui"))]
pub(crate) fn run(_args: GuiArgs) -> Result<(), Failure> {
    Err(no_gui())
}

#[cfg(not(feature = "gui"))]
pub(crate) fn demo(
    _options: mailscope::world::demo::DemoOptions,
    _write: &Path,
) -> Result<(), Failure> {
    Err(no_gui())
}

#[cfg(not(feature = "gui"))]
fn no_gui() -> Failure {
    Failure {
        code: 2,
        message: "this mailscope was built without the window: rebuild with the default features (`cargo build --release`)".into(),
    }
}
