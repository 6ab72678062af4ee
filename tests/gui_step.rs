//! Packet Tracer's step mode in the classroom window, driven through its
//! buttons with egui_kittest: one packet per step (the handshake and the
//! greeting included), Previous one packet back, the packet drawn on its
//! edge, the PDU detail's fields exact, the current transcript line
//! highlighted. The capture is the committed demo recording
//! `captures/alice-to-bob-path.pcapng` (Alice → crepes.fr on port 587).
#![cfg(feature = "gui")]

mod common;

use std::path::{Path, PathBuf};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use mailscope::gui::ClassroomApp;
use mailscope::gui::i18n::Lang;
use mailscope::gui::model::Wire;
use mailscope::gui::timeline::StepBy;

use common::window::{harness, harness_sized, wait_for};

fn demo_capture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/alice-to-bob-path.pcapng")
}

/// Steps the window until the detail of the packet stopped at is read
/// (on a thread, from the file).
fn wait_for_pdu(h: &mut Harness<'_, ClassroomApp>) {
    wait_for(h, "the packet's detail", |a| a.pdu().is_some());
}

/// (flags, TCP payload length, capture number) of the packet stopped at.
fn stopped(app: &ClassroomApp) -> (String, u32, u64) {
    let scene = app.scene().unwrap();
    let k = app.stepped.expect("stopped at a packet");
    let Wire::Tcp(i) = scene.wire[k] else {
        panic!("packet {k} is not TCP")
    };
    let p = &scene.packets[i as usize];
    (mailscope::gui::pdu::flags_text(p.flags), p.len, p.index + 1)
}

#[test]
fn one_packet_per_step_from_the_start() {
    let mut app = ClassroomApp::new(Lang::En);
    app.open_now(&demo_capture());
    app.step_by = StepBy::Packet;
    let mut h = harness(app);
    h.run_steps(2);
    assert_eq!(h.state().playback.t, 0.0);
    let mut seen = Vec::new();
    for _ in 0..6 {
        h.get_by_label("Next packet").click();
        h.run_steps(2);
        let s = stopped(h.state());
        // Stopped, with the packet on its edge: drawn, outside both boxes.
        assert!(!h.state().playback.playing);
        let at = h.state().last_stepped_at.expect("the packet is drawn");
        let placement = h.state().last_placement.clone().unwrap();
        assert!(
            placement.boxes.iter().all(|(_, b)| !b.contains(at)),
            "packet {s:?} drawn under a box at {at:?}"
        );
        seen.push(s);
    }
    assert_eq!(
        seen,
        [
            ("SYN".to_string(), 0, 1),
            ("SYN, ACK".to_string(), 0, 2),
            ("ACK".to_string(), 0, 3),
            ("PSH, ACK".to_string(), 27, 4),
            ("ACK".to_string(), 0, 5),
            ("PSH, ACK".to_string(), 19, 6),
        ]
    );
    // At the greeting's packet, the greeting is the highlighted line.
    h.get_by_label("Previous packet").click();
    h.run_steps(2);
    assert_eq!(stopped(h.state()).2, 5, "Previous goes back one packet");
    h.get_by_label("Previous packet").click();
    h.run_steps(2);
    assert_eq!(stopped(h.state()).2, 4);
    let scene = h.state().scene().unwrap();
    let line = &scene.lines[h.state().current_line().expect("a current line")];
    assert_eq!(line.text, "220 crepes.fr ESMTP ready");
    // Playing lets the packet go.
    h.get_by_label("Play").click();
    h.run_steps(3);
    assert_eq!(h.state().stepped, None);
    assert!(
        h.state().current_line().is_some(),
        "a line is current while playing"
    );
}

#[test]
fn the_pdu_detail_of_the_syn_ack_and_the_greeting_is_exact() {
    let mut app = ClassroomApp::new(Lang::En);
    app.open_now(&demo_capture());
    app.step_by = StepBy::Packet;
    let mut h = harness(app);
    h.run_steps(2);
    h.get_by_label("Next packet").click();
    h.run_steps(1);
    h.get_by_label("Next packet").click();
    h.run_steps(1);
    wait_for_pdu(&mut h);
    let pdu = h.state().pdu().unwrap().clone();
    let f = |layer: &str, name: &str| pdu.field(layer, name).map(str::to_string);
    assert_eq!(f("Frame", "Number").as_deref(), Some("2"));
    assert_eq!(f("Frame", "Length").as_deref(), Some("58 / 58"));
    assert_eq!(
        f("Ethernet II", "Source").as_deref(),
        Some("02:00:0a:00:00:01")
    );
    assert_eq!(
        f("Ethernet II", "Destination").as_deref(),
        Some("02:00:0a:00:00:05")
    );
    assert_eq!(f("IPv4", "Source").as_deref(), Some("10.0.0.1"));
    assert_eq!(f("IPv4", "Destination").as_deref(), Some("10.0.0.5"));
    assert_eq!(f("IPv4", "Time to live").as_deref(), Some("64"));
    assert_eq!(f("IPv4", "Protocol").as_deref(), Some("TCP (6)"));
    assert_eq!(f("TCP", "Source port").as_deref(), Some("587"));
    assert_eq!(f("TCP", "Destination port").as_deref(), Some("49200"));
    assert_eq!(f("TCP", "Flags").as_deref(), Some("SYN, ACK"));
    assert_eq!(f("TCP", "Sequence number").as_deref(), Some("0"));
    assert_eq!(
        f("TCP", "Sequence number (raw)").as_deref(),
        Some("536870912")
    );
    assert_eq!(f("TCP", "Acknowledgment number").as_deref(), Some("1"));
    assert_eq!(
        f("TCP", "Acknowledgment number (raw)").as_deref(),
        Some("268435457")
    );
    assert_eq!(f("TCP", "Window").as_deref(), Some("65535"));
    assert_eq!(f("TCP", "Payload length").as_deref(), Some("0"));
    // The panel shows them, one label a field.
    h.get_by_label("  Time to live: 64");
    h.get_by_label("  Flags: SYN, ACK");

    // Two more: the greeting, with the line it carries.
    h.get_by_label("Next packet").click();
    h.run_steps(1);
    h.get_by_label("Next packet").click();
    h.run_steps(1);
    wait_for_pdu(&mut h);
    let pdu = h.state().pdu().unwrap().clone();
    assert_eq!(pdu.field("Frame", "Number"), Some("4"));
    assert_eq!(pdu.field("TCP", "Flags"), Some("PSH, ACK"));
    assert_eq!(pdu.field("TCP", "Sequence number"), Some("1"));
    assert_eq!(pdu.field("TCP", "Payload length"), Some("27"));
    assert_eq!(
        pdu.field("SMTP", "Line"),
        Some("S: 220 crepes.fr ESMTP ready")
    );
    h.get_by_label("  S: 220 crepes.fr ESMTP ready");
}

#[test]
fn the_packet_list_and_the_step_mode_speak_spanish() {
    let mut app = ClassroomApp::new(Lang::Es);
    app.presenter = true;
    app.open_now(&demo_capture());
    app.step_by = StepBy::Packet;
    app.tab = mailscope::gui::Tab::Packets;
    let mut h = harness_sized(app, 1280.0, 720.0);
    h.run_steps(2);
    h.get_by_label("Siguiente paquete").click();
    h.run_steps(1);
    wait_for_pdu(&mut h);
    h.get_by_label("Detalle de la PDU");
    h.get_by_label("  Tiempo de vida (TTL): 64");
    h.get_by_label("  Indicadores: SYN");
    // The list's first row: number, time, addresses, protocol, length, info.
    let rows = mailscope::gui::pdu::row(h.state().scene().unwrap(), 0);
    assert_eq!(
        rows,
        [
            "1",
            "0.000000 s",
            "10.0.0.5:49200",
            "10.0.0.1:587",
            "TCP",
            "58",
            "49200 → 587 [SYN] Len=0",
        ]
        .map(String::from)
    );
    let rows = mailscope::gui::pdu::row(h.state().scene().unwrap(), 3);
    assert_eq!(rows[4], "SMTP");
    assert_eq!(
        rows[6],
        "587 → 49200 [PSH, ACK] Len=27  S: 220 crepes.fr ESMTP ready"
    );
}

/// DNS as a lesson step, on a demo recorded here (crepes.fr asks dns.local
/// for hamburger.edu's MX before relaying): the question and the answer
/// are timeline events ("Next event" stops at each), transcript lines
/// between the SMTP lines, and the answer is followed by what MX means, in
/// English and in Spanish.
#[test]
fn the_mx_lookup_is_a_step_and_a_transcript_line() {
    let path = common::temp_dir("gui-dns").join("plain.pcapng");
    common::run_demo("none", "pop3", "127.0.46", &path, &[]);
    for lang in [Lang::En, Lang::Es] {
        let mut app = ClassroomApp::new(lang);
        app.open_now(&path);
        let scene = app.scene().unwrap();
        assert_eq!(scene.dns.len(), 2, "one question, one answer");
        let (q, a) = (scene.dns[0].clone(), scene.dns[1].clone());
        assert_eq!(q.transcript(), "Q: MX hamburger.edu?");
        assert_eq!(a.transcript(), "A: MX 10 hamburger.edu, A 127.0.46.3");
        // Just before the question: "Next event" lands on it, then on the
        // answer.
        let before = scene
            .markers
            .iter()
            .rev()
            .find(|m| m.t < q.t)
            .expect("an event before the lookup")
            .t;
        app.playback.seek(before);
        let mut h = harness(app);
        h.run_steps(2);
        let next = match lang {
            Lang::En => "Next event",
            Lang::Es => "Siguiente evento",
        };
        h.get_by_label(next).click();
        h.run_steps(2);
        assert_eq!(h.state().playback.t, q.t, "{lang:?}: stops at the question");
        h.get_by_label("DNS  Q: MX hamburger.edu?");
        assert!(
            h.query_by_label("DNS  A: MX 10 hamburger.edu, A 127.0.46.3")
                .is_none(),
            "{lang:?}: the answer is not there before it came"
        );
        // Other sessions run meanwhile (Alice's QUIT can come between
        // question and answer): Next goes on until the answer, never past.
        for _ in 0..20 {
            h.get_by_label(next).click();
            h.run_steps(2);
            if h.state().playback.t >= a.t {
                break;
            }
        }
        assert_eq!(h.state().playback.t, a.t, "{lang:?}: stops at the answer");
        h.get_by_label("DNS  A: MX 10 hamburger.edu, A 127.0.46.3");
        h.get_by_label(match lang {
            Lang::En => {
                "MX: the server that takes in the mail for this domain (the lowest number is tried first)"
            }
            Lang::Es => {
                "MX: el servidor que recibe el correo de este dominio (se prueba primero el número más bajo)"
            }
        });
        // The packet step stops at the DNS packets too, drawn on their way.
        let mut app = h.into_state();
        app.step_by = StepBy::Packet;
        let k = app
            .scene()
            .unwrap()
            .wire
            .iter()
            .position(|w| *w == Wire::Dns(0))
            .unwrap();
        app.step_to(k - 1);
        let mut h = harness(app);
        h.run_steps(2);
        h.get_by_label(match lang {
            Lang::En => "Next packet",
            Lang::Es => "Siguiente paquete",
        })
        .click();
        h.run_steps(2);
        assert_eq!(h.state().stepped, Some(k));
        assert!(h.state().last_stepped_at.is_some(), "the question is drawn");
        wait_for_pdu(&mut h);
        let pdu = h.state().pdu().unwrap();
        assert_eq!(pdu.field("UDP", "Destination port"), Some("53"));
        assert_eq!(pdu.field("DNS", "Question"), Some("MX hamburger.edu?"));
    }
}
