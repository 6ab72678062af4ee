//! The picture of the mail path: hosts as nodes, connections as edges,
//! packets and messages moving along them at the playhead's time.
//!
//! Hosts are placed by [`Host::column`] (senders left, mailbox readers
//! right, servers between, in the order mail passes them) and DNS above.
//! A packet is drawn on its edge while [`Playback::in_flight`] says it is
//! on the way; its shape tells the phase of the connection (round yellow
//! SYN/ACK of the handshake, blue data, orange FIN, red RST), which is the
//! three-phase lesson of TCP. A message travels as an envelope along every
//! connection it crossed ([`Journey`]).

use egui::{Align2, Color32, FontId, Pos2, Rect, Sense, Shape, Stroke, Ui, Vec2};

use super::i18n::Lang;
use super::model::{Conn, Phase, Role, Scene};
use super::playback::Playback;
use crate::flow::Direction;
use crate::proto::Protocol;

/// Packets drawn at most in one frame (the rest are counted in a label),
/// so a burst of a big capture cannot stall the window.
pub const MAX_DRAWN: usize = 10_000;

/// What the picture tells the app after a frame.
#[derive(Default)]
pub struct TopologyResponse {
    /// A connection (edge) was clicked.
    pub clicked_conn: Option<usize>,
    /// Packets on the way at this instant.
    pub in_flight: usize,
    /// Of those, drawn (the others belong to hosts not shown, or exceed
    /// [`MAX_DRAWN`]).
    pub drawn: usize,
}

/// The colour of a protocol's edges and packets.
pub fn protocol_color(p: Protocol) -> Color32 {
    match p {
        Protocol::Smtp => Color32::from_rgb(40, 110, 220),
        Protocol::Pop3 => Color32::from_rgb(30, 150, 70),
        Protocol::Imap => Color32::from_rgb(140, 70, 200),
        Protocol::Tls => Color32::from_rgb(90, 90, 90),
        Protocol::Unknown => Color32::from_rgb(120, 120, 120),
    }
}

fn phase_color(phase: Phase, proto: Color32) -> Color32 {
    match phase {
        Phase::Handshake => Color32::from_rgb(235, 180, 0),
        Phase::Data => proto,
        Phase::Ack => Color32::from_gray(150),
        Phase::Close => Color32::from_rgb(240, 120, 20),
        Phase::Reset => Color32::from_rgb(220, 30, 30),
    }
}

/// Up to this many hosts the picture is fixed: every host has its place
/// all the time, as a lesson needs. Beyond it (a capture from a real
/// network) only the hosts of the connections at the playhead are drawn,
/// placed as they come and go.
pub const FIXED_HOSTS: usize = 40;
/// Hosts drawn at most at once, by default (`ClassroomApp::max_hosts`).
pub const MAX_HOSTS_DRAWN: usize = 80;

/// Which hosts are drawn when the connections alive from `t` to
/// `horizon` (the furthest packet on the way) are shown.
pub fn visible_hosts(
    scene: &Scene,
    t: f64,
    horizon: f64,
    selected: Option<usize>,
    max_hosts: usize,
) -> Vec<bool> {
    let n = scene.hosts.len();
    if n <= FIXED_HOSTS {
        return vec![true; n];
    }
    let mut visible = vec![false; n];
    for (ci, c) in scene.conns.iter().enumerate() {
        if (c.start <= horizon && c.end >= t) || selected == Some(ci) {
            visible[c.client_host] = true;
            visible[c.server_host] = true;
        }
    }
    let mut shown: Vec<usize> = (0..n).filter(|&h| visible[h]).collect();
    if shown.len() > max_hosts {
        // Servers first (few, and every connection needs one), then the
        // busiest clients.
        shown.sort_by_key(|&h| {
            let host = &scene.hosts[h];
            (
                host.role != Role::MailServer,
                std::cmp::Reverse(host.bytes),
                h,
            )
        });
        for &h in &shown[max_hosts..] {
            visible[h] = false;
        }
    }
    visible
}

/// Where each visible host is drawn inside `rect` (hidden hosts get the
/// centre; nothing is drawn for them).
pub fn layout(scene: &Scene, visible: &[bool], rect: Rect) -> Vec<Pos2> {
    let on_path = |h: &super::model::Host| matches!(h.role, Role::UserAgent | Role::MailServer);
    let columns = scene
        .hosts
        .iter()
        .zip(visible)
        .filter(|(h, v)| **v && on_path(h))
        .map(|(h, _)| h.column)
        .max()
        .unwrap_or(0)
        + 1;
    // Rows among the visible hosts of each column, in the scene's order.
    let mut order: Vec<usize> = (0..scene.hosts.len()).filter(|&i| visible[i]).collect();
    order.sort_by_key(|&i| (scene.hosts[i].column, scene.hosts[i].row, i));
    let mut row_of = vec![0usize; scene.hosts.len()];
    let mut rows = vec![0usize; columns];
    let mut others = 0usize;
    for &i in &order {
        let h = &scene.hosts[i];
        if on_path(h) {
            row_of[i] = rows[h.column];
            rows[h.column] += 1;
        } else {
            row_of[i] = others;
            others += 1;
        }
    }
    let top = rect.top() + rect.height() * 0.28;
    let body = Rect::from_min_max(Pos2::new(rect.left(), top), rect.max);
    scene
        .hosts
        .iter()
        .enumerate()
        .map(|(i, h)| {
            if !visible[i] {
                return rect.center();
            }
            if on_path(h) {
                let x = body.left() + body.width() * (h.column as f32 + 0.5) / columns as f32;
                let n = rows[h.column].max(1);
                let y = if n == 1 {
                    // A zigzag: neighbouring columns at different heights,
                    // so the edge between them is long enough to show the
                    // packets and its label.
                    let lift = if h.column % 2 == 1 { -0.3 } else { 0.25 };
                    body.center().y + body.height() * lift
                } else {
                    body.top() + body.height() * (row_of[i] as f32 + 0.5) / n as f32
                };
                Pos2::new(x, y)
            } else {
                // DNS and the rest: aside, along the top.
                let x = rect.left() + rect.width() * (row_of[i] + 1) as f32 / (others + 1) as f32;
                Pos2::new(x, rect.top() + rect.height() * 0.12)
            }
        })
        .collect()
}

/// For each connection, its place among the connections between the same
/// two hosts (k of n), so parallel connections are drawn side by side.
/// Computed once per scene.
pub fn edge_slots(scene: &Scene) -> Vec<(f32, f32)> {
    let mut count: std::collections::HashMap<(usize, usize), usize> = Default::default();
    let pair = |c: &Conn| {
        (
            c.client_host.min(c.server_host),
            c.client_host.max(c.server_host),
        )
    };
    let ks: Vec<usize> = scene
        .conns
        .iter()
        .map(|c| {
            let n = count.entry(pair(c)).or_default();
            *n += 1;
            *n - 1
        })
        .collect();
    scene
        .conns
        .iter()
        .zip(ks)
        .map(|(c, k)| {
            // Beyond nine, connections share the outer tracks.
            let n = count[&pair(c)].min(9);
            ((k % 9) as f32, n as f32)
        })
        .collect()
}

/// Ends of a connection's edge, moved off the straight line by its slot.
fn edge(pos: &[Pos2], c: &Conn, (k, n): (f32, f32)) -> (Pos2, Pos2) {
    let a = pos[c.client_host];
    let b = pos[c.server_host];
    let offset = (k.min(n - 1.0) - (n - 1.0) / 2.0) * 14.0;
    let d = b - a;
    let normal = Vec2::new(-d.y, d.x).normalized();
    (a + normal * offset, b + normal * offset)
}

/// What the picture shows.
pub struct View<'a> {
    pub scene: &'a Scene,
    /// From [`edge_slots`].
    pub slots: &'a [(f32, f32)],
    pub playback: &'a Playback,
    /// The connection the other panels show.
    pub selected: Option<usize>,
    pub presenter: bool,
    /// Hosts drawn at most at once.
    pub max_hosts: usize,
}

/// Draws the picture.
pub fn show(ui: &mut Ui, lang: Lang, view: View<'_>) -> TopologyResponse {
    let View {
        scene,
        slots,
        playback,
        selected,
        presenter,
        max_hosts,
    } = view;
    let mut response = TopologyResponse::default();
    let (rect, _) = ui.allocate_exact_size(ui.available_size(), Sense::hover());
    let painter = ui.painter_at(rect);
    let visuals = ui.visuals().clone();
    let scale = if presenter { 1.5 } else { 1.0 };
    let t = playback.t;
    // Packets on the way. Packets are in time order, so only those whose
    // time is just ahead of the playhead can be flying.
    let start = scene.packet_at(t);
    let flying: Vec<(usize, f32)> = scene.packets[start..]
        .iter()
        .enumerate()
        .map_while(|(k, p)| playback.in_flight(p.t).map(|f| (start + k, f)))
        .collect();
    let horizon = flying.last().map_or(t, |&(i, _)| scene.packets[i].t);
    let visible = visible_hosts(scene, t, horizon, selected, max_hosts);
    let pos = layout(scene, &visible, rect.shrink(40.0 * scale));

    // Only the connections near the playhead (or the selected one) are
    // drawn solid; the rest are faint, so a capture with hundreds of
    // connections stays readable.
    let many = scene.conns.len() > 200;
    let mut edges = Vec::with_capacity(scene.conns.len());
    for (ci, c) in scene.conns.iter().enumerate() {
        let (a, b) = edge(&pos, c, slots.get(ci).copied().unwrap_or((0.0, 1.0)));
        edges.push((a, b));
        let active = c.start <= horizon && t <= c.end;
        if !(visible[c.client_host] && visible[c.server_host])
            || (many && !active && selected != Some(ci))
        {
            continue;
        }
        let color = protocol_color(c.protocol);
        let width = scale
            * if selected == Some(ci) {
                5.0
            } else if active {
                3.0
            } else {
                1.0
            };
        let color = if active || selected == Some(ci) {
            color
        } else {
            color.gamma_multiply(0.35)
        };
        if c.encrypted() {
            // A double line: the tunnel TLS builds.
            let d = (b - a).normalized();
            let n = Vec2::new(-d.y, d.x) * (width + 2.0);
            painter.line_segment([a + n, b + n], Stroke::new(width * 0.6, color));
            painter.line_segment([a - n, b - n], Stroke::new(width * 0.6, color));
        } else {
            painter.line_segment([a, b], Stroke::new(width, color));
        }
        // The label: `SMTP 587`, with the lock or the warning.
        let mid = a + (b - a) * 0.5;
        let tag = if !c.encrypted() && !c.credentials.is_empty() {
            format!("{}\n! {}", c.label(), lang.t("Credentials in clear"))
        } else {
            c.label()
        };
        let r = ui.interact(
            Rect::from_center_size(mid, Vec2::new(120.0 * scale, 22.0 * scale)),
            ui.scope_id().with(("edge", ci)),
            Sense::click(),
        );
        if r.clicked() {
            response.clicked_conn = Some(ci);
        }
        if !many || active || selected == Some(ci) {
            let fg = if !c.encrypted() && !c.credentials.is_empty() {
                Color32::from_rgb(220, 30, 30)
            } else {
                visuals.text_color()
            };
            let galley = painter.layout_no_wrap(tag, FontId::proportional(12.0 * scale), fg);
            // Beside the edge, not on it: packets and envelopes pass the
            // middle of the edge.
            let d = (b - a).normalized();
            let mut normal = Vec2::new(-d.y, d.x);
            if normal.y > 0.0 {
                normal = -normal;
            }
            let size = galley.size() + Vec2::splat(6.0);
            let away = normal * (size.x * normal.x.abs() + size.y * normal.y.abs()) * 0.5;
            let bg = Rect::from_center_size(mid + away + normal * 6.0, size);
            painter.rect_filled(bg, 4.0, visuals.extreme_bg_color.gamma_multiply(0.9));
            painter.galley(bg.min + Vec2::splat(3.0), galley, fg);
        }
    }

    // DNS: who asked the server (faint, always), then the MX question and
    // answer as a dotted line while they travel.
    let mut asked: Vec<(usize, usize)> = Vec::new();
    for d in &scene.dns {
        let pair = (d.from.min(d.to), d.from.max(d.to));
        if !(visible[pair.0] && visible[pair.1]) {
            continue;
        }
        if asked.len() < 64 && !asked.contains(&pair) {
            asked.push(pair);
            painter.add(Shape::dashed_line(
                &[pos[pair.0], pos[pair.1]],
                Stroke::new(
                    1.0 * scale,
                    Color32::from_rgb(0, 150, 160).gamma_multiply(0.5),
                ),
                4.0,
                6.0,
            ));
        }
    }
    for d in &scene.dns {
        if let Some(f) = playback.in_flight(d.t)
            && visible[d.from]
            && visible[d.to]
        {
            let (a, b) = (pos[d.from], pos[d.to]);
            painter.add(Shape::dashed_line(
                &[a, b],
                Stroke::new(1.5 * scale, Color32::from_rgb(0, 150, 160)),
                6.0,
                4.0,
            ));
            let p = a + (b - a) * f;
            painter.circle_filled(p, 6.0 * scale, Color32::from_rgb(0, 150, 160));
            painter.text(
                p + Vec2::new(0.0, -12.0 * scale),
                Align2::CENTER_BOTTOM,
                &d.text,
                FontId::monospace(12.0 * scale),
                visuals.text_color(),
            );
        }
    }

    let mut drawn = 0usize;
    let mut labels = Vec::new();
    let dense = flying.len() > 400;
    let mut mesh = egui::Mesh::default();
    for &(pi, f) in &flying {
        let p = &scene.packets[pi];
        response.in_flight += 1;
        let c = &scene.conns[p.conn as usize];
        if drawn >= MAX_DRAWN || !(visible[c.client_host] && visible[c.server_host]) {
            continue;
        }
        drawn += 1;
        let (a, b) = edges[p.conn as usize];
        let (from, to) = match p.dir {
            Direction::ClientToServer => (a, b),
            Direction::ServerToClient => (b, a),
        };
        let at = from + (to - from) * f;
        let color = phase_color(p.phase, protocol_color(c.protocol));
        let r = 6.0 * scale;
        if dense {
            // Thousands on screen: one square each, all in one mesh (one
            // shape to tessellate instead of thousands).
            let side = if p.phase == Phase::Ack { r } else { 1.6 * r };
            mesh.add_colored_rect(Rect::from_center_size(at, Vec2::splat(side)), color);
            continue;
        }
        match p.phase {
            Phase::Handshake => {
                painter.circle_filled(at, r, color);
            }
            Phase::Data => {
                painter.rect_filled(Rect::from_center_size(at, Vec2::splat(2.0 * r)), 2.0, color);
            }
            Phase::Ack => {
                painter.circle_filled(at, r * 0.5, color);
            }
            Phase::Close => {
                painter.add(Shape::convex_polygon(
                    vec![
                        at + Vec2::new(0.0, -r * 1.2),
                        at + Vec2::new(r * 1.2, 0.0),
                        at + Vec2::new(0.0, r * 1.2),
                        at + Vec2::new(-r * 1.2, 0.0),
                    ],
                    color,
                    Stroke::NONE,
                ));
            }
            Phase::Reset => {
                let s = Stroke::new(3.0 * scale, color);
                painter.line_segment([at - Vec2::splat(r), at + Vec2::splat(r)], s);
                painter.line_segment([at + Vec2::new(-r, r), at + Vec2::new(r, -r)], s);
            }
        }
        labels.push((at, p.flags, p.len, p.phase));
    }
    if !mesh.is_empty() {
        painter.add(Shape::mesh(mesh));
    }
    // Messages: an envelope on the hop under way, or resting where the
    // message is between hops (in crepes.fr's queue, in Bob's mailbox):
    // e-mail is store-and-forward.
    let mut envelopes: Vec<(Pos2, Color32, Option<&str>)> = Vec::new();
    for j in scene.journeys.iter().take(2000) {
        let Some(first) = j.hops.first() else {
            continue;
        };
        if t < scene.conns[first.conn].start {
            continue;
        }
        let on_screen = j.hops.iter().all(|h| {
            let c = &scene.conns[h.conn];
            visible[c.client_host] && visible[c.server_host]
        });
        if !on_screen {
            continue;
        }
        let dest = |h: &super::model::Hop| {
            let c = &scene.conns[h.conn];
            if h.upstream {
                c.server_host
            } else {
                c.client_host
            }
        };
        let rest = |host: usize| pos[host] + Vec2::new(0.0, -40.0 * scale);
        let mut at = None;
        let mut moving = false;
        for (i, hop) in j.hops.iter().enumerate() {
            let c = &scene.conns[hop.conn];
            match playback.carried(hop.t_first, hop.t_end) {
                Err(false) => {
                    // Not yet sent on this hop: it waits where the last
                    // hop left it (or with its sender).
                    at = Some(match i {
                        0 => rest(if hop.upstream {
                            c.client_host
                        } else {
                            c.server_host
                        }),
                        _ => rest(dest(&j.hops[i - 1])),
                    });
                    break;
                }
                Ok(f) => {
                    let (a, b) = edges[hop.conn];
                    let (from, to) = if hop.upstream { (a, b) } else { (b, a) };
                    at = Some(from + (to - from) * f);
                    moving = true;
                    break;
                }
                Err(true) => {}
            }
        }
        let last = j.hops.last().expect("a journey has a hop");
        let at = at.unwrap_or_else(|| rest(dest(last)));
        let color = protocol_color(scene.conns[last.conn].protocol);
        // The subject is written while the message rests: on the way, it
        // would sit on the edge's own label.
        envelopes.push((at, color, j.subject.as_deref().filter(|_| !moving)));
    }

    // Hosts last, on top of the edges. A box is as wide as its name;
    // neighbouring columns sit at different heights, so boxes do not meet.
    let crowded = visible.iter().filter(|v| **v).count() > MAX_HOSTS_DRAWN;
    let mut boxes: Vec<Rect> = Vec::new();
    for ((h, &p), _) in scene
        .hosts
        .iter()
        .zip(&pos)
        .zip(&visible)
        .filter(|(_, v)| **v)
    {
        if crowded && h.role != Role::MailServer {
            // Hundreds of clients: a dot each (hover shows nothing; the
            // flows table names them).
            painter.circle_filled(p, 4.0 * scale, Color32::from_rgb(200, 160, 40));
            continue;
        }
        let name = painter.layout_no_wrap(
            h.name.clone(),
            FontId::proportional(14.0 * scale),
            Color32::BLACK,
        );
        let w = (name.size().x + 16.0 * scale).max(110.0 * scale);
        let hgt = 54.0 * scale;
        let r = Rect::from_center_size(p, Vec2::new(w, hgt));
        boxes.push(r);
        let fill = match h.role {
            Role::UserAgent => Color32::from_rgb(255, 244, 214),
            Role::MailServer => Color32::from_rgb(220, 234, 255),
            Role::Dns => Color32::from_rgb(214, 245, 245),
            Role::Other => Color32::from_gray(235),
        };
        painter.rect_filled(r, 8.0, fill);
        painter.rect_stroke(
            r,
            8.0,
            Stroke::new(1.5 * scale, Color32::from_gray(90)),
            egui::StrokeKind::Inside,
        );
        let role = match h.role {
            Role::UserAgent => lang.t("user agent"),
            Role::MailServer => lang.t("mail server"),
            Role::Dns => lang.t("DNS server"),
            Role::Other => lang.t("host"),
        };
        painter.text(
            r.center_top() + Vec2::new(0.0, 4.0 * scale),
            Align2::CENTER_TOP,
            &h.name,
            FontId::proportional(14.0 * scale),
            Color32::BLACK,
        );
        painter.text(
            r.center() + Vec2::new(0.0, 4.0 * scale),
            Align2::CENTER_CENTER,
            role,
            FontId::proportional(11.0 * scale),
            Color32::from_gray(60),
        );
        painter.text(
            r.center_bottom() - Vec2::new(0.0, 4.0 * scale),
            Align2::CENTER_BOTTOM,
            h.addr.to_string(),
            FontId::monospace(11.0 * scale),
            Color32::from_gray(60),
        );
    }

    // Flags beside packets while few are on screen, never on top of each
    // other and never half hidden under a host's box (a packet that has
    // just left or nearly arrived sits under its host).
    if labels.len() <= 24 {
        let mut placed: Vec<Pos2> = Vec::new();
        for (at, flags, len, phase) in labels {
            if placed.iter().any(|p| p.distance(at) < 28.0 * scale) {
                continue;
            }
            let mut text = Vec::new();
            if flags.syn {
                text.push("SYN");
            }
            if flags.fin {
                text.push("FIN");
            }
            if flags.rst {
                text.push("RST");
            }
            if flags.ack && phase != Phase::Data {
                text.push("ACK");
            }
            let text = if phase == Phase::Data {
                lang.f("{} bytes", len)
            } else {
                text.join(", ")
            };
            let g =
                painter.layout_no_wrap(text, FontId::monospace(11.0 * scale), visuals.text_color());
            let min = at + Vec2::new(9.0 * scale, -9.0 * scale - g.size().y);
            let label = Rect::from_min_size(min, g.size());
            if boxes.iter().any(|b| b.intersects(label)) {
                continue;
            }
            placed.push(at);
            painter.galley(min, g, visuals.text_color());
        }
    }

    // Messages resting at the same place (a mailbox holding twenty) are one
    // pile with a count: twenty subjects on top of each other read as none.
    let mut piles: Vec<(Pos2, Color32, Vec<&str>)> = Vec::new();
    for (at, color, subject) in envelopes {
        match subject {
            None => envelope(&painter, at, scale, color),
            Some(s) => match piles.iter_mut().find(|p| p.0 == at) {
                Some(pile) => pile.2.push(s),
                None => piles.push((at, color, vec![s])),
            },
        }
    }
    for (at, color, subjects) in piles {
        // A pile shows up to three envelopes, a little offset.
        let lift = 4.0 * scale * (subjects.len().min(3) - 1) as f32;
        for k in (0..subjects.len().min(3)).rev() {
            let d = 4.0 * scale * k as f32;
            envelope(&painter, at + Vec2::new(d, -d), scale, color);
        }
        let text = match subjects.as_slice() {
            [one] => shorten(one, 48),
            many => lang.f("{} messages", many.len()),
        };
        let g = painter.layout_no_wrap(
            text,
            FontId::proportional(12.0 * scale),
            visuals.text_color(),
        );
        // Above the envelope: below it sits the host's name when the
        // message rests there.
        let r = Rect::from_center_size(
            at - Vec2::new(0.0, lift + 12.0 * scale + g.size().y / 2.0),
            g.size() + Vec2::splat(4.0),
        );
        painter.rect_filled(r, 3.0, visuals.extreme_bg_color.gamma_multiply(0.85));
        painter.galley(r.min + Vec2::splat(2.0), g, visuals.text_color());
    }

    legend(&painter, rect, lang, scale, visuals.text_color());
    response.drawn = drawn;
    if response.in_flight > drawn {
        painter.text(
            rect.right_top() + Vec2::new(-8.0, 8.0),
            Align2::RIGHT_TOP,
            lang.f("{} packets on the way", response.in_flight),
            FontId::proportional(12.0 * scale),
            visuals.text_color(),
        );
    }
    response
}

/// `text` cut to `max` characters, with an ellipsis when cut.
fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.to_string(),
    }
}

fn envelope(painter: &egui::Painter, at: Pos2, scale: f32, color: Color32) {
    let r = Rect::from_center_size(at, Vec2::new(26.0 * scale, 17.0 * scale));
    painter.rect_filled(r, 2.0, Color32::WHITE);
    painter.rect_stroke(
        r,
        2.0,
        Stroke::new(2.0 * scale, color),
        egui::StrokeKind::Inside,
    );
    painter.line_segment([r.left_top(), r.center()], Stroke::new(1.5 * scale, color));
    painter.line_segment([r.right_top(), r.center()], Stroke::new(1.5 * scale, color));
}

/// What the shapes mean, bottom left.
fn legend(painter: &egui::Painter, rect: Rect, lang: Lang, scale: f32, text: Color32) {
    let items = [
        (Phase::Handshake, lang.t("Handshake")),
        (Phase::Data, lang.t("Data")),
        (Phase::Ack, lang.t("ACK")),
        (Phase::Close, lang.t("Close")),
        (Phase::Reset, lang.t("Reset")),
    ];
    let mut at = rect.left_bottom() + Vec2::new(14.0 * scale, -14.0 * scale);
    for (phase, name) in items {
        let c = phase_color(phase, protocol_color(Protocol::Smtp));
        painter.circle_filled(at, 5.0 * scale, c);
        let g = painter.layout_no_wrap(name.to_string(), FontId::proportional(12.0 * scale), text);
        let w = g.size().x;
        painter.galley(at + Vec2::new(9.0 * scale, -g.size().y / 2.0), g, text);
        at.x += w + 30.0 * scale;
    }
}

#[cfg(test)]
mod tests {
    use super::shorten;

    #[test]
    fn long_subjects_are_cut_on_a_character_boundary() {
        assert_eq!(shorten("¿Pícnic el sábado?", 48), "¿Pícnic el sábado?");
        assert_eq!(shorten("¿Pícnic el sábado?", 8), "¿Pícnic ...");
        assert_eq!(shorten("ñññ", 3), "ñññ");
        assert_eq!(shorten("ññññ", 3), "ñññ...");
    }
}
