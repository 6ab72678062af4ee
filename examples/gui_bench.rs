//! Measures the classroom window on a big capture (see bench/gui.sh):
//! how long the analysis takes until the first full view, and how much CPU
//! one frame costs (layout + tessellation, what must fit in 16 ms at
//! 60 Hz) with about 10 000 packets on screen.
//!
//! `cargo run --release --example gui_bench -- CAPTURE [FRAMES] [MAX_HOSTS]`

use std::path::PathBuf;
use std::time::Instant;

use mailscope::gui::ClassroomApp;
use mailscope::gui::i18n::Lang;
use mailscope::gui::loader::{LoadOptions, analyze};
use mailscope::gui::playback::{CAPTURE_TRAVEL, Clock};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = PathBuf::from(args.next().expect("usage: gui_bench CAPTURE [FRAMES]"));
    let frames: usize = args.next().map_or(120, |f| f.parse().expect("FRAMES"));
    // Hosts drawn at most (the window's default is 80; more puts every
    // packet on the way on screen).
    let max_hosts: usize = args.next().map_or(80, |f| f.parse().expect("MAX_HOSTS"));
    let size = std::fs::metadata(&path).expect("capture").len();

    let start = Instant::now();
    let mut first_progress = None;
    let scene = analyze(&path, &LoadOptions::default(), |_, _| {
        first_progress.get_or_insert_with(|| start.elapsed());
    })
    .expect("analysis");
    let analysed = start.elapsed();
    println!(
        "capture: {:.1} MB, {} packets kept, {} connections, {} transcript lines, {} messages",
        size as f64 / 1e6,
        scene.packets.len(),
        scene.conns.len(),
        scene.lines.len(),
        scene.messages.len()
    );
    println!(
        "analysis: first progress after {:.3} s, full scene after {:.3} s ({:.0} MB/s)",
        first_progress.unwrap_or_default().as_secs_f64(),
        analysed.as_secs_f64(),
        size as f64 / 1e6 / analysed.as_secs_f64()
    );

    // The busiest second of the capture, and a speed that puts about
    // 10 000 packets on the way at once.
    let times: Vec<f64> = scene.packets.iter().map(|p| p.t).collect();
    let mut best = (0usize, 0.0);
    let mut j = 0;
    for i in 0..times.len() {
        while times[i] - times[j] > 1.0 {
            j += 1;
        }
        if i - j > best.0 {
            best = (i - j, times[j]);
        }
    }
    let mut app = ClassroomApp::new(Lang::En);
    app.open_now(&path);
    app.max_hosts = max_hosts;
    app.playback.clock = Clock::Capture;
    // A speed that puts about 10 000 packets on the way at once: the
    // packets of the next CAPTURE_TRAVEL × speed capture seconds fly.
    let mut speed = 1.0;
    for _ in 0..40 {
        let from = best.1 + CAPTURE_TRAVEL * speed;
        let a = times.partition_point(|&x| x < from);
        let b = times.partition_point(|&x| x < from + CAPTURE_TRAVEL * speed);
        let n = (b - a).max(1) as f64;
        if (n - 10_000.0).abs() < 300.0 {
            break;
        }
        speed = (speed * 10_000.0 / n).clamp(0.05, 50.0);
    }
    app.playback.speed = speed;
    app.playback.seek(best.1 + CAPTURE_TRAVEL * speed);
    app.playback.playing = true;

    let ctx = egui::Context::default();
    let mut input = egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(1600.0, 900.0),
        )),
        ..Default::default()
    };
    let mut costs = Vec::with_capacity(frames);
    let mut shapes = 0;
    let mut on_the_way = (0, 0);
    for f in 0..frames + 5 {
        input.time = Some(f as f64 / 60.0);
        input.predicted_dt = 1.0 / 60.0;
        let t0 = Instant::now();
        let out = ctx.run_ui(input.clone(), |ui| app.ui(ui));
        shapes = out.shapes.len();
        let prims = ctx.tessellate(out.shapes, out.pixels_per_point);
        std::hint::black_box(prims);
        let cost = t0.elapsed().as_secs_f64() * 1e3;
        if f >= 5 {
            // The first frames lay out fonts; they are not the steady state.
            costs.push(cost);
        }
        on_the_way = app.last_packets;
    }
    costs.sort_by(f64::total_cmp);
    let avg = costs.iter().sum::<f64>() / costs.len() as f64;
    println!(
        "frames: {} at speed {:.2} ({} packets on the way, {} drawn, {} shapes): mean {:.2} ms, median {:.2} ms, p95 {:.2} ms, max {:.2} ms per frame (layout + tessellation, CPU)",
        costs.len(),
        speed,
        on_the_way.0,
        on_the_way.1,
        shapes,
        avg,
        costs[costs.len() / 2],
        costs[costs.len() * 95 / 100],
        costs[costs.len() - 1]
    );

    // Clicking a transcript line re-reads its packets from the file: the
    // worst case is the line carried furthest into the capture.
    let scene = app.scene().expect("the scene");
    if let Some(line) = scene
        .lines
        .iter()
        .filter(|l| !l.packets.is_empty())
        .max_by_key(|l| l.packets.iter().max())
    {
        let t0 = Instant::now();
        let packets = mailscope::gui::bytes::fetch(&path, &line.packets).expect("fetch");
        println!(
            "the packets of the last line ({} packet(s), capture index {}): read in {:.3} s",
            packets.len(),
            line.packets.iter().max().unwrap(),
            t0.elapsed().as_secs_f64()
        );
    }
}
