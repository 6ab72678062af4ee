//! The classroom window, driven through its accessibility labels with
//! egui_kittest (headless: no display needed). The captures are real: the
//! embedded demo runs on loopback and writes them.
#![cfg(feature = "gui")]

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use mailscope::gui::i18n::Lang;
use mailscope::gui::{ClassroomApp, Tab};
use mailscope::trace::LineKind;

use common::window::{demo_once, harness, harness_sized, wait_for};
use common::{run_demo, temp_dir};

/// The plaintext demo (AUTH PLAIN and POP3 USER/PASS in clear), made once.
fn plain_demo() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    demo_once(
        &PATH,
        "gui-plain",
        "plain.pcapng",
        "none",
        "pop3",
        "127.0.40",
    )
}

/// The STARTTLS demo, with its key log left out of the capture so the
/// window shows what an eavesdropper without keys sees.
fn tls_demo() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = temp_dir("gui-tls");
        let with_keys = dir.join("tls-keys.pcapng");
        run_demo("starttls", "imap", "127.0.41", &with_keys, &[]);
        let path = dir.join("tls.pcapng");
        common::strip_secrets(&with_keys, &path);
        path
    })
}

/// Opens `path` the way a user does: "Open…", type the path, "Open".
fn open_through_the_ui(h: &mut Harness<'_, ClassroomApp>, path: &Path) {
    h.get_all_by_label("Open…").next().unwrap().click();
    h.run_steps(2);
    let field = h.get_by_role(egui::accesskit::Role::TextInput);
    field.focus();
    h.run_steps(1);
    h.get_by_role(egui::accesskit::Role::TextInput)
        .type_text(path.to_str().unwrap());
    h.run_steps(1);
    h.get_by_label("Open").click();
    h.run_steps(1);
    wait_for(h, "the analysis", |a| !a.is_loading());
}

#[test]
fn opens_the_demo_capture_plays_pauses_and_steps() {
    let mut h = harness(ClassroomApp::new(Lang::En));
    h.run_steps(2);
    open_through_the_ui(&mut h, plain_demo());
    let scene = h.state().scene().expect("the capture opened");
    assert_eq!(scene.conns.len(), 3);
    let mut names: Vec<&str> = scene.hosts.iter().map(|x| x.name.as_str()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "alice-pc.crepes.fr",
            "bob-pc.hamburger.edu",
            "crepes.fr",
            "dns.local",
            "hamburger.edu"
        ],
        "every host named from the capture"
    );
    assert_eq!(h.state().playback.t, 0.0);

    h.get_by_label("Play").click();
    h.run_steps(30);
    assert!(h.state().playback.playing);
    let t_playing = h.state().playback.t;
    assert!(t_playing > 0.0, "the playhead moves while playing");

    h.get_by_label("Pause").click();
    h.run_steps(3);
    assert!(!h.state().playback.playing);
    let t_paused = h.state().playback.t;
    h.run_steps(10);
    assert_eq!(h.state().playback.t, t_paused, "paused means paused");

    // Next event: the playhead lands exactly on the next marker.
    let expected = h.state().scene().unwrap().next_marker(t_paused).unwrap().t;
    h.get_by_label("Next event").click();
    h.run_steps(2);
    assert_eq!(h.state().playback.t, expected);
    let back = h
        .state()
        .scene()
        .unwrap()
        .previous_marker(expected)
        .map_or(0.0, |m| m.t);
    h.get_by_label("Previous event").click();
    h.run_steps(2);
    assert_eq!(h.state().playback.t, back);
    assert!(back < expected);
}

#[test]
fn a_transcript_line_shows_the_bytes_of_its_packets() {
    let mut app = ClassroomApp::new(Lang::En);
    app.open_now(plain_demo());
    let end = app.playback.duration();
    app.playback.seek(end);
    let mut h = harness(app);
    h.run_steps(2);

    h.get_by_label_contains("#0 SMTP 587").click();
    h.run_steps(2);
    assert_eq!(h.state().selected_conn, Some(0));
    h.get_by_label("C: AUTH PLAIN AGFsaWNlAHNlY3JldA==").click();
    h.run_steps(1);
    wait_for(&mut h, "the packets of the line", |a| !a.reading_packets());

    let app = h.state();
    let scene = app.scene().unwrap();
    let i = app.selected_line.expect("a line is selected");
    let line = &scene.lines[i];
    assert_eq!(line.text, "AUTH PLAIN AGFsaWNlAHNlY3JldA==");
    assert_eq!(line.kind, LineKind::Command);
    let packets = app.line_packets().expect("the packets were read");
    assert_eq!(packets.len(), line.packets.len());
    let marked: Vec<u8> = packets
        .iter()
        .flat_map(|p| p.frame[p.mark.clone().expect("the line is marked")].to_vec())
        .collect();
    // The line and its CRLF, as they crossed the wire.
    assert_eq!(marked, b"AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n");
    let label = format!(
        "Packet #{} — {} bytes",
        packets[0].index + 1,
        packets[0].frame.len()
    );
    h.get_by_label(&label);
    h.get_by_label("Packets of the line");
}

/// In Spanish, the packet panel's copy of a message line reads as the
/// transcript does: the analyzer's note translated, not in English.
#[test]
fn the_packet_panel_translates_the_analyzers_note() {
    let mut app = ClassroomApp::new(Lang::Es);
    app.open_now(plain_demo());
    let end = app.playback.duration();
    app.playback.seek(end);
    let scene = app.scene().unwrap();
    let i = scene
        .lines
        .iter()
        .position(|l| l.kind == LineKind::Data && l.text.starts_with("[message: "))
        .expect("a message line");
    let line = &scene.lines[i];
    let english = format!("{} {}", line.speaker(), line.text);
    let spanish = format!(
        "{} {}",
        line.speaker(),
        Lang::Es.note(line.kind, &line.text)
    );
    assert_ne!(english, spanish);
    app.select_line(i);
    let mut h = harness(app);
    h.run_steps(2);
    wait_for(&mut h, "the packets of the line", |a| !a.reading_packets());
    h.get_by_label("Paquetes de la línea");
    assert!(
        h.query_by_label(&english).is_none(),
        "{english:?} is shown untranslated"
    );
    assert!(
        h.query_all_by_label(&spanish).next().is_some(),
        "{spanish:?} is not shown"
    );
}

#[test]
fn the_message_inspector_shows_subject_and_attachment() {
    let mut app = ClassroomApp::new(Lang::En);
    app.open_now(plain_demo());
    let end = app.playback.duration();
    app.playback.seek(end);
    let subject = app.scene().unwrap().messages[0]
        .record
        .subject
        .clone()
        .unwrap();
    let mut h = harness(app);
    h.run_steps(2);
    h.get_all_by_label_contains(&format!("{subject}  (#"))
        .next()
        .unwrap()
        .click();
    h.run_steps(2);
    assert_eq!(h.state().tab, Tab::Message);
    assert_eq!(h.state().selected_msg, Some(0));
    h.get_by_label(&subject);
    h.get_by_label("Attachments").click();
    h.run_steps(2);
    h.get_by_label("picnic-map.png");
}

#[test]
fn spanish_changes_the_panel_titles() {
    let mut app = ClassroomApp::new(Lang::En);
    app.open_now(plain_demo());
    let mut h = harness(app);
    h.run_steps(2);
    h.get_by_label("Topology");
    // The side panel's title and its show/hide toggle.
    assert_eq!(h.get_all_by_label("Connections").count(), 2);
    h.get_by_label("Transcript — All connections");
    h.get_by_label("Español").click();
    h.run_steps(2);
    assert_eq!(h.state().lang, Lang::Es);
    h.get_by_label("Topología");
    assert_eq!(h.get_all_by_label("Conexiones").count(), 2);
    h.get_by_label("Transcripción — Todas las conexiones");
    h.get_by_label("Reproducir");
    assert!(h.query_by_label("Topology").is_none());
    assert!(h.query_by_label("Play").is_none());
}

#[test]
fn a_damaged_capture_shows_an_error_not_a_crash() {
    let dir = temp_dir("gui-damaged");
    let garbage = dir.join("garbage.pcapng");
    std::fs::write(&garbage, b"this is not a capture at all, just text\n").unwrap();
    let mut h = harness(ClassroomApp::new(Lang::En));
    h.run_steps(2);
    open_through_the_ui(&mut h, &garbage);
    let error = h.state().error().expect("an error is shown").to_string();
    assert!(error.contains("garbage.pcapng"), "{error}");
    h.get_by_label("Cannot open the capture");
    h.get_by_label(&error);

    // A capture cut in the middle of a block opens with what it has, and
    // says what is wrong.
    let bytes = std::fs::read(plain_demo()).unwrap();
    let cut = dir.join("cut.pcapng");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3 + 3]).unwrap();
    open_through_the_ui(&mut h, &cut);
    let scene = h.state().scene().expect("the part before the cut is shown");
    assert!(!scene.packets.is_empty());
    assert!(!scene.warnings.is_empty(), "the damage is reported");
    h.get_by_label_contains("! ");
}

#[test]
fn the_eavesdropper_reads_the_plaintext_password() {
    let mut app = ClassroomApp::new(Lang::En);
    app.open_now(plain_demo());
    let end = app.playback.duration();
    app.playback.seek(end);
    app.select_conn(Some(0));
    app.tab = Tab::Eavesdropper;
    let mut h = harness(app);
    h.run_steps(2);
    h.get_by_label("What anyone on the path can read");
    h.get_by_label("No TLS: everything below crossed the network in clear");
    h.get_by_label("Credentials in clear");
    h.get_by_label("alice");
    h.get_by_label("secret");
    h.get_by_label("AUTH PLAIN AGFsaWNlAHNlY3JldA==");
    h.get_by_label("base64 -> \\0alice\\0secret");
}

#[test]
fn the_eavesdropper_sees_only_sizes_of_a_tls_connection() {
    let mut app = ClassroomApp::new(Lang::En);
    app.open_now(tls_demo());
    let end = app.playback.duration();
    app.playback.seek(end);
    let scene = app.scene().unwrap();
    let submission = scene
        .conns
        .iter()
        .position(|c| c.server.port() == 587)
        .unwrap();
    assert!(scene.conns[submission].encrypted());
    assert!(scene.credentials.iter().all(|c| c.conn != submission));
    app.select_conn(Some(submission));
    app.tab = Tab::Eavesdropper;
    let mut h = harness(app);
    h.run_steps(2);
    h.get_by_label("A TLS connection: only sizes and handshake facts are visible");
    h.get_by_label("TLS 1.3");
    // In the transcript and in the eavesdropper's "before STARTTLS".
    assert_eq!(h.get_all_by_label("C: STARTTLS").count(), 2);
    assert!(h.query_by_label("Credentials in clear").is_none());
    assert!(h.query_by_label("secret").is_none());
    // No message could be read, and the list says why.
    assert!(h.state().scene().unwrap().messages.is_empty());
    h.get_by_label("None readable: the mail went inside TLS");
}

#[test]
fn the_window_follows_the_demo_live_and_can_replay_it() {
    let dir = temp_dir("gui-live");
    let target = dir.join("live.pcapng");
    let mut app = ClassroomApp::new(Lang::En);
    app.demo_options.net = [127, 0, 42];
    app.demo_options.speed = 4.0;
    let mut h = harness(app);
    h.run_steps(1);
    let ctx = h.ctx.clone();
    h.state_mut().run_demo(target.clone(), &ctx);
    wait_for(&mut h, "the first live snapshot", |a| a.scene().is_some());
    assert!(h.state().is_live());
    // Every host already has the role and place it ends with, though only
    // the first hops are in the capture yet: the layout does not reshuffle.
    let places = |a: &ClassroomApp| {
        let mut v: Vec<_> = (a.scene().unwrap().hosts.iter())
            .map(|h| (h.name.clone(), h.role, h.column, h.row))
            .collect();
        v.sort_by(|x, y| x.0.cmp(&y.0));
        v
    };
    let first = places(h.state());
    assert!(
        h.state().scene().unwrap().conns.len() < 3,
        "the first snapshot came after the whole demo"
    );
    h.get_by_label("live: following the demo");
    h.get_by_label("live.pcapng (recording)");
    assert!(h.state().playback.playing, "live follows in real time");
    wait_for(&mut h, "the end of the demo", |a| !a.is_live());
    let scene = h.state().scene().unwrap();
    assert_eq!(scene.conns.len(), 3, "submission, relay, retrieval");
    assert_eq!(first, places(h.state()));
    assert_eq!(first.len(), 5, "{first:?}");
    assert_eq!(scene.journeys.len(), 1);
    assert_eq!(scene.journeys[0].hops.len(), 3, "one message, three hops");
    assert!(target.exists(), "the final capture is written");
    h.get_by_label("live.pcapng");
    // Replay from the start.
    h.state_mut().playback.seek(0.0);
    h.get_by_label("Play").click();
    h.run_steps(5);
    assert!(h.state().playback.playing);
}

#[test]
fn the_selected_connection_exports_as_a_sequence_diagram() {
    let dir = temp_dir("gui-export");
    let mut app = ClassroomApp::new(Lang::En);
    app.export_dir = Some(dir.clone());
    app.open_now(plain_demo());
    app.select_conn(Some(0));
    let mut h = harness(app);
    h.run_steps(2);
    h.get_by_label("Lesson").click();
    h.run_steps(2);
    h.get_by_label("Export the sequence diagram").click();
    h.run_steps(2);
    let svg = dir.join("plain-flow0.svg");
    let mmd = dir.join("plain-flow0.mmd");
    h.get_by_label(&format!("Saved to {} / {}", svg.display(), mmd.display()));
    let mermaid = std::fs::read_to_string(&mmd).unwrap();
    assert!(mermaid.starts_with("sequenceDiagram\n"), "{mermaid}");
    assert!(
        mermaid.contains("\n    C->>S: AUTH PLAIN AGFsaWNlAHNlY3JldA==\n"),
        "{mermaid}"
    );
    let svg = std::fs::read_to_string(&svg).unwrap();
    assert!(svg.contains("<svg"), "{svg}");
    assert!(svg.contains(">AUTH PLAIN AGFsaWNlAHNlY3JldA==<"), "{svg}");
}

/// The scene of the demo: roles, columns along the mail path, the phases
/// of TCP, the DNS question and answer, one journey of three hops.
#[test]
fn the_demo_scene_places_hosts_along_the_mail_path() {
    use mailscope::gui::model::{Phase, Role};
    let mut app = ClassroomApp::new(Lang::En);
    app.open_now(plain_demo());
    let scene = app.scene().unwrap();
    let host = |name: &str| scene.hosts.iter().find(|h| h.name == name).unwrap();
    assert_eq!(
        (
            host("alice-pc.crepes.fr").role,
            host("alice-pc.crepes.fr").column
        ),
        (Role::UserAgent, 0)
    );
    assert_eq!(
        (host("crepes.fr").role, host("crepes.fr").column),
        (Role::MailServer, 1)
    );
    assert_eq!(
        (host("hamburger.edu").role, host("hamburger.edu").column),
        (Role::MailServer, 2)
    );
    assert_eq!(
        (
            host("bob-pc.hamburger.edu").role,
            host("bob-pc.hamburger.edu").column
        ),
        (Role::UserAgent, 3)
    );
    assert_eq!(host("dns.local").role, Role::Dns);

    for (ci, c) in scene.conns.iter().enumerate() {
        let phases: Vec<Phase> = scene
            .packets
            .iter()
            .filter(|p| p.conn as usize == ci)
            .map(|p| p.phase)
            .collect();
        assert_eq!(
            &phases[..3],
            [Phase::Handshake; 3],
            "{}: SYN, SYN-ACK, ACK",
            c.label()
        );
        assert_eq!(phases[3], Phase::Data, "{}: the greeting", c.label());
        assert_eq!(phases.last(), Some(&Phase::Close), "{}", c.label());
        assert!(!phases.contains(&Phase::Reset));
    }
    let dns: Vec<&str> = scene.dns.iter().map(|d| d.text.as_str()).collect();
    assert_eq!(dns[0], "MX hamburger.edu?");
    assert!(
        dns[1].starts_with("MX hamburger.edu -> MX 10 hamburger.edu"),
        "{dns:?}"
    );

    assert_eq!(scene.journeys.len(), 1);
    let hops: Vec<(u16, bool)> = scene.journeys[0]
        .hops
        .iter()
        .map(|h| (scene.conns[h.conn].server.port(), h.upstream))
        .collect();
    assert_eq!(hops, [(587, true), (25, true), (110, false)]);
    for h in &scene.journeys[0].hops {
        assert!(h.t_start <= h.t_first && h.t_first <= h.t_end, "{h:?}");
    }
}

#[test]
fn a_capture_can_be_opened_by_clicking_it_in_the_folder_listing() {
    let path = plain_demo();
    let folder = path.parent().unwrap();
    let mut h = harness(ClassroomApp::new(Lang::En));
    h.run_steps(2);
    h.get_all_by_label("Open…").next().unwrap().click();
    h.run_steps(2);
    h.get_by_role(egui::accesskit::Role::TextInput).focus();
    h.run_steps(1);
    h.get_by_role(egui::accesskit::Role::TextInput)
        .type_text(&format!("{}/", folder.display()));
    h.run_steps(2);
    h.get_by_label("plain.pcapng").click();
    h.run_steps(1);
    wait_for(&mut h, "the analysis", |a| !a.is_loading());
    assert_eq!(h.state().scene().unwrap().source, "plain.pcapng");
}

#[test]
fn the_flows_table_filters_and_a_finding_moves_the_playhead() {
    let mut app = ClassroomApp::new(Lang::En);
    app.open_now(plain_demo());
    let mut h = harness(app);
    h.run_steps(2);
    h.get_by_label("Flows").click();
    h.run_steps(2);
    assert_eq!(h.state().tab, Tab::Flows);
    h.get_by_label("4 of 4 flows");

    // A host name typed in the search box keeps only its connections.
    h.get_by_role(egui::accesskit::Role::TextInput).focus();
    h.run_steps(1);
    h.get_by_role(egui::accesskit::Role::TextInput)
        .type_text("bob-pc");
    h.run_steps(2);
    h.get_by_label("1 of 4 flows");
    h.get_by_label("POP3 110").click();
    h.run_steps(2);
    assert_eq!(h.state().selected_conn, Some(2), "the row selects its flow");
    h.get_by_label("Transcript — #2 POP3 110");

    // The protocol filter, with the search box emptied.
    h.get_by_role(egui::accesskit::Role::TextInput).focus();
    h.run_steps(1);
    for _ in 0.."bob-pc".len() {
        h.key_press(egui::Key::Backspace);
    }
    h.run_steps(1);
    h.get_by_label("4 of 4 flows");
    h.get_by_role_and_label(egui::accesskit::Role::ComboBox, "Protocol")
        .click();
    h.run_steps(2);
    h.get_by_label("SMTP").click();
    h.run_steps(2);
    h.get_by_label("2 of 4 flows");

    // A finding is a link to where it happens: its connection, its time.
    // (The first "Findings" is the tab; the table has a column of that name.)
    h.get_all_by_label("Findings").next().unwrap().click();
    h.run_steps(2);
    let scene = h.state().scene().unwrap();
    let (i, finding) = scene
        .findings
        .iter()
        .enumerate()
        .find(|(_, f)| {
            f.record.code == mailscope::trace::FindingCode::PlaintextAuth && f.conn == Some(2)
        })
        .expect("Bob's USER/PASS is a finding");
    let t = finding.t;
    let text = format!(
        "#2 {:.6} s  plaintext-auth: {}",
        t, scene.findings[i].record.message
    );
    h.get_by_label(&text).click();
    h.run_steps(2);
    assert_eq!(h.state().tab, Tab::Topology);
    assert_eq!(h.state().selected_conn, Some(2));
    assert_eq!(h.state().playback.t, t);
    assert!(!h.state().playback.playing);
}

#[test]
fn findings_read_in_spanish() {
    let mut app = ClassroomApp::new(Lang::Es);
    app.open_now(plain_demo());
    app.tab = Tab::Findings;
    let mut h = harness(app);
    h.run_steps(2);
    // The tab and the list's title.
    assert_eq!(h.get_all_by_label("Hallazgos").count(), 2);
    assert_eq!(h.get_all_by_label("alta").count(), 2, "two high findings");
    let t = h
        .state()
        .scene()
        .unwrap()
        .findings
        .iter()
        .find(|f| f.conn == Some(0))
        .unwrap()
        .t;
    h.get_by_label(&format!(
        "#0 {t:.6} s  plaintext-auth: Credenciales enviadas sin TLS: cualquiera en el camino \
         puede leerlas (base64 no es cifrado)"
    ));
}

#[test]
fn the_message_tab_opens_on_the_selected_connections_message() {
    let mut app = ClassroomApp::new(Lang::En);
    app.open_now(plain_demo());
    app.select_conn(Some(2));
    app.tab = Tab::Message;
    let mut h = harness(app);
    h.run_steps(2);
    let scene = h.state().scene().unwrap();
    let retr = scene.messages.iter().position(|m| m.conn == 2).unwrap();
    assert!(retr > 0, "the POP3 copy is not the capture's first message");
    assert_eq!(h.state().selected_msg, Some(retr));
    // Another connection picked in the list: its own message.
    h.get_by_label_contains("#1 SMTP 25").click();
    h.run_steps(2);
    let relayed = h
        .state()
        .scene()
        .unwrap()
        .messages
        .iter()
        .position(|m| m.conn == 1)
        .unwrap();
    assert_eq!(h.state().selected_msg, Some(relayed));

    // A connection without messages says so instead of showing another's.
    let mut app = ClassroomApp::new(Lang::En);
    app.open_now(tls_demo());
    app.select_conn(Some(0));
    app.tab = Tab::Message;
    let mut h = harness(app);
    h.run_steps(2);
    assert_eq!(h.state().selected_msg, None);
    h.get_by_label("No message in this connection");
}

/// A file as the windowing layer hands it over after a drop.
#[derive(Debug)]
struct DroppedPath(PathBuf);

impl egui::DroppedFile for DroppedPath {
    fn path(&self) -> &Path {
        &self.0
    }
    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

#[test]
fn a_capture_dropped_on_the_window_opens() {
    let mut h = harness(ClassroomApp::new(Lang::En));
    h.run_steps(2);
    assert!(h.state().scene().is_none());
    h.input_mut()
        .dropped_files
        .push(std::sync::Arc::new(DroppedPath(plain_demo().to_path_buf())));
    h.step();
    wait_for(&mut h, "the dropped capture", |a| {
        !a.is_loading() && a.scene().is_some()
    });
    assert_eq!(h.state().scene().unwrap().conns.len(), 3);
    h.get_by_label("plain.pcapng");
}

#[test]
fn a_tick_on_the_timeline_names_its_event_and_a_click_lands_on_it() {
    let mut app = ClassroomApp::new(Lang::En);
    app.open_now(plain_demo());
    let mut h = harness(app);
    h.run_steps(2);
    let scrubber = h.get_by_label("Timeline").rect();
    let (marker, line) = {
        let scene = h.state().scene().unwrap();
        let i = scene
            .lines
            .iter()
            .position(|l| l.conn == 0 && l.text == "DATA")
            .unwrap();
        let m = *scene
            .markers
            .iter()
            .find(|m| m.kind == mailscope::gui::model::MarkerKind::Command && m.item == i)
            .unwrap();
        (m, scene.lines[i].clone())
    };
    // Where the tick is (the default clock is event pace), and the pointer
    // 3 px beside it: near enough to be on it.
    let pb = &h.state().playback;
    let f = pb.virtual_of(marker.t) / pb.virtual_of(pb.duration());
    let at = egui::pos2(
        scrubber.left() + scrubber.width() * f as f32 + 3.0,
        scrubber.center().y,
    );
    h.event(egui::Event::PointerMoved(at));
    // Tooltips wait for the pointer to rest (egui's tooltip delay).
    h.run_steps(60);
    h.get_by_label(&format!("#0 {:.6} s  C: DATA", line.t));

    for pressed in [true, false] {
        h.event(egui::Event::PointerButton {
            pos: at,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: egui::Modifiers::NONE,
        });
        h.step();
    }
    h.run_steps(1);
    assert_eq!(h.state().playback.t, marker.t, "exactly on the tick");
}

#[test]
fn play_alone_plays_once_the_capture_arrives() {
    // `--play` without `--at`: the capture is read in the background and
    // the playhead must start moving when it arrives.
    let mut h = harness(ClassroomApp::new(Lang::En));
    h.state_mut().play_on_open = true;
    h.run_steps(2);
    open_through_the_ui(&mut h, plain_demo());
    assert!(h.state().playback.playing, "playing after the load");
    h.run_steps(20);
    assert!(h.state().playback.t > 0.0, "the playhead moves");
    assert!(!h.state().play_on_open, "only the first capture is played");
}

#[test]
fn line_text_prefers_the_clients_command() {
    let mut app = ClassroomApp::new(Lang::En);
    app.open_now(plain_demo());
    let start = mailscope::gui::Start {
        line: Some("AUTH PLAIN".into()),
        ..Default::default()
    };
    mailscope::gui::apply_start(&mut app, &start);
    let scene = app.scene().unwrap();
    let line = &scene.lines[app.selected_line.expect("a line is selected")];
    // Not the server's `250-AUTH PLAIN LOGIN` capability line.
    assert_eq!(line.text, "AUTH PLAIN AGFsaWNlAHNlY3JldA==");
    assert_eq!(line.kind, LineKind::Command);
}

/// On a projector's 1280×720 the Flows table shows all its columns beside
/// the transcript: the connections list gives way (the table lists the
/// same connections), and no header is broken over two lines.
#[test]
fn the_flows_table_fits_beside_the_transcript_at_1280() {
    let mut app = ClassroomApp::new(Lang::En);
    app.open_now(plain_demo());
    let mut h = harness_sized(app, 1280.0, 720.0);
    h.run_steps(2);
    let listed = "#0 SMTP 587  alice-pc.crepes.fr -> crepes.fr";
    assert!(
        h.query_by_label(listed).is_some(),
        "the list beside the topology"
    );
    h.get_by_label("Flows").click();
    h.run_steps(3);
    assert_eq!(h.state().tab, Tab::Flows);
    let transcript = h.get_by_label("Transcript — All connections").rect();
    let header = |name: &str| {
        h.get_all_by_label(name)
            .map(|n| n.rect())
            .filter(|r| r.top() > 80.0)
            .min_by(|a, b| a.top().total_cmp(&b.top()))
            .unwrap_or_else(|| panic!("no header {name:?}"))
    };
    let protocol = header("Protocol");
    for name in [
        "#", "Info", "From", "To", "Packets", "Bytes", "Messages", "Findings",
    ] {
        let r = header(name);
        assert!(
            r.right() <= transcript.left(),
            "{name} ends at {} under the transcript at {}",
            r.right(),
            transcript.left()
        );
        assert_eq!(r.top(), protocol.top(), "{name}");
        assert!(r.height() < 30.0, "{name} on two lines: {r:?}");
    }
    assert!(
        h.query_by_label("Connections").is_some(),
        "the top bar's switch"
    );
    assert!(
        h.query_by_label(listed).is_none(),
        "the connections list gave way to the table"
    );
}

/// Presenter mode in Spanish at 1280×720: the tabs' row ends before the
/// transcript; the decrypt switch says "Descifrar" there (the sentence ran
/// under the transcript), and the whole sentence where there is room.
#[test]
fn the_decrypt_switch_fits_the_presenters_row_at_1280() {
    for (w, h, label) in [
        (1280.0, 720.0, "Descifrar"),
        (1600.0, 900.0, "Descifrar con el registro de claves"),
    ] {
        let mut app = ClassroomApp::new(Lang::Es);
        app.open_now(plain_demo());
        // As `gui --presenter` starts: the connections list folded.
        app.presenter = true;
        app.show_lists = false;
        let mut h = harness_sized(app, w, h);
        h.run_steps(3);
        let transcript = h
            .get_by_label("Transcripción — Todas las conexiones")
            .rect();
        let switch = h.get_by_label(label).rect();
        assert!(
            switch.right() <= transcript.left(),
            "{label:?} at {w}: ends at {} under the transcript at {}",
            switch.right(),
            transcript.left()
        );
    }
}

#[test]
fn the_mx_lookup_is_a_row_of_the_flows_table() {
    let mut app = ClassroomApp::new(Lang::En);
    app.open_now(plain_demo());
    app.tab = Tab::Flows;
    let scene = app.scene().unwrap();
    // One exchange: crepes.fr's question and the DNS server's answer, the
    // DNS messages' bytes as the capture has them (UDP payloads).
    let dns = mailscope::gui::flows::dns_flows(scene);
    assert_eq!(dns.len(), 1);
    let f = &dns[0];
    assert_eq!(scene.hosts[f.client_host].name, "crepes.fr");
    assert_eq!(f.server.to_string(), "127.0.40.53:53");
    assert_eq!(f.question, "MX hamburger.edu");
    assert_eq!(f.answers, "MX 10 hamburger.edu, A 127.0.40.3");
    assert_eq!((f.packets, f.bytes), (2, DNS_BYTES));
    assert_eq!(f.start, scene.dns[0].t);
    let mut h = harness(app);
    h.run_steps(2);
    // Counted with the three TCP connections, listed like them.
    h.get_by_label("4 of 4 flows");
    h.get_by_label("DNS 53 (UDP)");
    h.get_by_label("MX hamburger.edu? -> MX 10 hamburger.edu, A 127.0.40.3");
    h.get_by_label(&DNS_BYTES.to_string());
    // The protocol filter keeps it alone.
    h.get_by_role_and_label(egui::accesskit::Role::ComboBox, "Protocol")
        .click();
    h.run_steps(2);
    h.get_by_label("DNS").click();
    h.run_steps(2);
    h.get_by_label("1 of 4 flows");
    // A click puts the playhead at the question, in the transcript of all
    // connections.
    h.get_by_label("DNS 53 (UDP)").click();
    h.run_steps(2);
    assert_eq!(h.state().selected_conn, None);
    assert_eq!(h.state().playback.t, f.start);
    h.get_by_label("DNS  Q: MX hamburger.edu?");
    // And in Spanish.
    h.state_mut().lang = Lang::Es;
    h.run_steps(2);
    h.get_by_label("1 de 4 flujos");
}

/// The question (31 bytes: the 12-byte header, `hamburger.edu` MX IN in 19)
/// and the answer (102 bytes), as tshark's `udp.length` less the 8-byte UDP
/// header gives them.
const DNS_BYTES: u64 = 31 + 102;
