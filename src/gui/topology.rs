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

use std::collections::BTreeSet;

use egui::{Align2, Color32, FontId, Pos2, Rect, Sense, Shape, Stroke, Ui, Vec2};

use super::crowd;
use super::host_box::{draw_host, host_boxes};
use super::i18n::Lang;
use super::model::{Phase, Role, Scene, Wire};
use super::placement;
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
    /// Where the boxes and labels went.
    pub placement: placement::Placement,
    /// Where the packet stopped at was drawn.
    pub stepped_at: Option<Pos2>,
    /// A crowd of clients was clicked (to open it).
    pub crowd_clicked: Option<crowd::Key>,
    /// "Gather the clients again" was clicked.
    pub gather_all: bool,
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
/// Boxes drawn at most at once, by default (`ClassroomApp::max_hosts`);
/// the clients of a crowd ([`crowd`]) are one box.
pub const MAX_HOSTS_DRAWN: usize = 80;

/// Which hosts are shown when the connections alive from `t` to `horizon`
/// (the furthest packet on the way) are shown; [`crowd::gather`] then
/// decides which of them get a box.
pub fn visible_hosts(scene: &Scene, t: f64, horizon: f64, selected: Option<usize>) -> Vec<bool> {
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
    visible
}

/// What the picture shows.
pub struct View<'a> {
    pub scene: &'a Scene,
    /// The scene's edges ([`placement::Groups::new`]).
    pub groups: &'a placement::Groups,
    pub playback: &'a Playback,
    /// The packet ([`Scene::wire`]) the step mode stopped at: drawn alone,
    /// halfway along its edge, ringed and labelled.
    pub stepped: Option<usize>,
    /// The connection the other panels show.
    pub selected: Option<usize>,
    pub presenter: bool,
    /// Boxes drawn at most at once.
    pub max_hosts: usize,
    /// The crowds a click opened.
    pub open_crowds: &'a BTreeSet<crowd::Key>,
}

/// Draws the picture.
pub fn show(ui: &mut Ui, lang: Lang, view: View<'_>) -> TopologyResponse {
    let View {
        scene,
        groups,
        playback,
        stepped,
        selected,
        presenter,
        max_hosts,
        open_crowds,
    } = view;
    let mut response = TopologyResponse::default();
    let (rect, _) = ui.allocate_exact_size(ui.available_size(), Sense::hover());
    // Only what is visible: the panel beside can cover part of the space
    // the layout offers.
    let rect = rect.intersect(ui.clip_rect());
    let painter = ui.painter_at(rect);
    let visuals = ui.visuals().clone();
    let scale = if presenter { 1.5 } else { 1.0 };
    let t = playback.t;
    // Packets on the way. Packets are in time order, so only those whose
    // time is just ahead of the playhead can be flying.
    let start = scene.packet_at(t);
    let flying: Vec<(usize, f32)> = match stepped.map(|k| scene.wire[k]) {
        Some(Wire::Tcp(i)) => vec![(i as usize, 0.5)],
        Some(Wire::Dns(_)) => Vec::new(),
        None => scene.packets[start..]
            .iter()
            .enumerate()
            .map_while(|(k, p)| playback.in_flight(p.t).map(|f| (start + k, f)))
            .collect(),
    };
    let horizon = flying.last().map_or(t, |&(i, _)| scene.packets[i].t);
    let mut visible = visible_hosts(scene, t, horizon, selected);
    // The legend takes the bottom strip; nothing else goes there.
    let legend_h = 28.0 * scale;
    let canvas = Rect::from_min_max(rect.min, rect.max - Vec2::new(0.0, legend_h));
    let box_h = 54.0 * scale;
    // Clients gathered into crowds where the boxes would not fit.
    let area = canvas.shrink(12.0 * scale);
    let band = (0..visible.len()).any(|h| visible[h] && scene.hosts[h].role == Role::Dns);
    let room = crowd::Room::new(area, box_h, scale, band);
    let crowds = crowd::gather(scene, groups, &mut visible, room, open_crowds, max_hosts);
    let mut places = placement::layout(scene, &crowds.laid, area, box_h);
    crowds.spread(&mut places);
    let pos: Vec<Pos2> = places.iter().map(|p| p.0).collect();
    let boxes = host_boxes(&painter, lang, scene, &crowds, &places, box_h, scale);

    // Edges: one per group of connections between the same two hosts (or
    // between a crowd and a server, per protocol).
    let many = scene.conns.len() > 200;
    let spacing = 14.0 * scale;
    let sel_group = selected
        .filter(|&c| c < groups.of_conn.len())
        .map(|c| crowds.edge_of_conn(groups, c));
    let mut routes: Vec<Vec<Pos2>> = Vec::with_capacity(crowds.edge_count());
    let mut wanted = Vec::new();
    let mut drawn_edges = Vec::new();
    let route_boxes = boxes.len() <= placement::ROUTED_BOXES;
    for gi in 0..crowds.edge_count() {
        if crowds.merged(gi) {
            // Drawn as its crowd's edge.
            routes.push(Vec::new());
            continue;
        }
        let g = crowds.edge(groups, gi);
        let (a, b) = placement::edge_ends(&pos, g, spacing);
        if !(visible[g.client] && visible[g.server]) {
            routes.push(vec![a, b]);
            continue;
        }
        // Around the boxes of other hosts, not under them: an edge under
        // a box reads as a connection to that host.
        let route = if route_boxes {
            let others: Vec<Rect> = boxes
                .iter()
                .filter(|(h, _)| **h != g.client && **h != g.server)
                .map(|(_, r)| *r)
                .collect();
            placement::route(a, b, &others, canvas, 8.0 * scale)
        } else {
            vec![a, b]
        };
        routes.push(route);
        let route = &routes[gi];
        let active = g.conns.iter().any(|&ci| {
            let c = &scene.conns[ci];
            c.start <= horizon && t <= c.end
        });
        if many && !active && sel_group != Some(gi) {
            continue;
        }
        let color = protocol_color(scene.conns[g.conns[0]].protocol);
        let width = scale
            * if sel_group == Some(gi) {
                5.0
            } else if active {
                3.0
            } else {
                1.5
            };
        let color = if active || sel_group == Some(gi) {
            color
        } else {
            // Idle edges stay visible on a dark background too.
            color.gamma_multiply(if visuals.dark_mode { 0.8 } else { 0.45 })
        };
        let encrypted = g.conns.iter().all(|&c| scene.conns[c].encrypted());
        for w in route.windows(2) {
            let (p, q) = (w[0], w[1]);
            if encrypted {
                // A double line: the tunnel TLS builds.
                let d = (q - p).normalized();
                let n = Vec2::new(-d.y, d.x) * (width + 2.0);
                painter.line_segment([p + n, q + n], Stroke::new(width * 0.6, color));
                painter.line_segment([p - n, q - n], Stroke::new(width * 0.6, color));
            } else {
                painter.line_segment([p, q], Stroke::new(width, color));
            }
        }
        // The visible part of the edge, from box border to box border; the
        // arrowhead at the server's border says who called whom.
        let k = route.len();
        let from = boxes
            .get(&g.client)
            .map_or(a, |r| placement::exit_point(*r, a, route[1]));
        let to = boxes
            .get(&g.server)
            .map_or(b, |r| placement::exit_point(*r, b, route[k - 2]));
        arrowhead(
            &painter,
            if k > 2 { route[k - 2] } else { from },
            to,
            color,
            scale,
        );
        drawn_edges.push((gi, g.client, g.server, route.clone()));
        if !many || active || sel_group == Some(gi) {
            // The label goes by the longest visible stretch of the path.
            let mut visible_path = route.clone();
            visible_path[0] = from;
            visible_path[k - 1] = to;
            let (from, to) = visible_path
                .windows(2)
                .map(|w| (w[0], w[1]))
                .max_by(|x, y| x.0.distance(x.1).total_cmp(&y.0.distance(y.1)))
                .unwrap_or((from, to));
            wanted.push(placement::Wanted {
                group: gi,
                from,
                to,
                text: edge_text(scene, g, t, lang),
            });
        }
    }
    // The selected edge and those with a warning are placed first: they
    // get the best spots.
    wanted.sort_by_key(|w| (Some(w.group) != sel_group, !w.text.contains('\n'), w.group));

    // DNS: who asked the server (faint, always), then the MX question and
    // answer as a dotted line while they travel.
    let mut asked: Vec<(usize, usize)> = Vec::new();
    let dns_route = |x: usize, y: usize| {
        if !route_boxes {
            return vec![pos[x], pos[y]];
        }
        let others: Vec<Rect> = boxes
            .iter()
            .filter(|(h, _)| **h != x && **h != y)
            .map(|(_, r)| *r)
            .collect();
        placement::route(pos[x], pos[y], &others, canvas, 8.0 * scale)
    };
    for d in &scene.dns {
        let (x, y) = (crowds.node(d.from), crowds.node(d.to));
        let pair = (x.min(y), x.max(y));
        if !(visible[pair.0] && visible[pair.1]) {
            continue;
        }
        if asked.len() < 64 && !asked.contains(&pair) {
            asked.push(pair);
            painter.add(Shape::dashed_line(
                &dns_route(pair.0, pair.1),
                Stroke::new(
                    1.0 * scale,
                    Color32::from_rgb(0, 150, 160).gamma_multiply(0.5),
                ),
                4.0,
                6.0,
            ));
        }
    }
    let mut dns_texts: Vec<(Pos2, String)> = Vec::new();
    let stepped_dns = match stepped.map(|k| scene.wire[k]) {
        Some(Wire::Dns(i)) => Some(i as usize),
        _ => None,
    };
    for (di, d) in scene.dns.iter().enumerate() {
        let f = match (stepped, stepped_dns) {
            (Some(_), Some(s)) if s == di => Some(0.5),
            (Some(_), _) => None,
            (None, _) => playback.in_flight(d.t),
        };
        if let Some(f) = f
            && visible[d.from]
            && visible[d.to]
        {
            let path = dns_route(crowds.node(d.from), crowds.node(d.to));
            painter.add(Shape::dashed_line(
                &path,
                Stroke::new(1.5 * scale, Color32::from_rgb(0, 150, 160)),
                6.0,
                4.0,
            ));
            let p = placement::along(&path, f);
            painter.circle_filled(p, 6.0 * scale, Color32::from_rgb(0, 150, 160));
            if stepped.is_some() {
                ring(&painter, p, scale, &visuals);
                response.stepped_at = Some(p);
            }
            // Written once the labels are placed, where it covers none.
            dns_texts.push((p, d.transcript()));
        }
    }

    let mut drawn = 0usize;
    let mut flags = Vec::new();
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
        let is_stepped = stepped.is_some();
        let route = &routes[crowds.edge_of_conn(groups, p.conn as usize)];
        let at = match p.dir {
            Direction::ClientToServer => placement::along(route, f),
            Direction::ServerToClient => placement::along(route, 1.0 - f),
        };
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
        flags.push((at, p.flags, p.len, p.phase));
        if is_stepped {
            ring(&painter, at, scale, &visuals);
            response.stepped_at = Some(at);
        }
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
                    let route = &routes[crowds.edge_of_conn(groups, hop.conn)];
                    at = Some(placement::along(
                        route,
                        if hop.upstream { f } else { 1.0 - f },
                    ));
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

    // Messages resting at the same place (a mailbox holding twenty) are one
    // pile with a count: twenty subjects on top of each other read as none.
    let mut piles: Vec<(Pos2, Color32, Vec<&str>)> = Vec::new();
    let mut moving = Vec::new();
    for (at, color, subject) in envelopes {
        match subject {
            None => moving.push((at, color)),
            Some(s) => match piles.iter_mut().find(|p| p.0 == at) {
                Some(pile) => pile.2.push(s),
                None => piles.push((at, color, vec![s])),
            },
        }
    }
    let mut piles: Vec<Pile> = piles
        .into_iter()
        .map(|(at, color, subjects)| pile(lang, (at, color), &subjects, scale))
        .collect();
    // Their subjects, placed like the edge labels: on no box, no envelope,
    // no other subject; shortened, or left to the hover, when there is no
    // room.
    let box_rects: Vec<Rect> = boxes.values().copied().collect();
    let mut avoid: Vec<Rect> = box_rects
        .iter()
        .map(|b| b.expand(3.0))
        .chain(piles.iter().map(|p| p.envelopes))
        // The packet stopped at stays in sight.
        .chain(
            response
                .stepped_at
                .map(|at| Rect::from_center_size(at, Vec2::splat(30.0 * scale))),
        )
        .collect();
    // A little inside the canvas: its right edge meets the transcript's.
    let inner = canvas.shrink(6.0);
    let note_font = FontId::proportional(12.0 * scale);
    for p in &mut piles {
        for max in [48, 24, 12] {
            let text = placement::ellipsize(&p.full, max);
            let size = painter
                .layout_no_wrap(text.clone(), note_font.clone(), Color32::BLACK)
                .size()
                + Vec2::splat(4.0);
            if let Some(r) = placement::place_note(inner, &avoid, p.envelopes, size) {
                avoid.push(r.expand(2.0));
                p.text = text;
                p.label = Some(r);
                break;
            }
        }
    }

    // Edge labels, where they cover no box, no resting envelope, no other
    // label (placement.rs).
    let obstacles: Vec<Rect> = piles
        .iter()
        .flat_map(|p| std::iter::once(p.envelopes).chain(p.label))
        .collect();
    let font = FontId::proportional(12.0 * scale);
    let (labels, unplaced) = placement::place_labels(
        canvas,
        &box_rects,
        &obstacles,
        &wanted,
        &mut |text: &str| {
            painter
                .layout_no_wrap(text.to_string(), font.clone(), Color32::BLACK)
                .size()
                + Vec2::splat(6.0)
        },
    );

    for (at, color) in moving {
        envelope(&painter, at, scale, color);
    }
    // Hosts on top of the edges.
    for (&h, &r) in &boxes {
        match crowds.of_host[h] {
            Some(k) => {
                let c = &crowds.nodes[k];
                if crowd::draw_node(ui, &painter, lang, scene, c, r) {
                    response.crowd_clicked = Some(c.key);
                }
            }
            None => draw_host(ui, &painter, lang, &scene.hosts[h], r, scale),
        }
    }
    for l in &labels {
        let g = crowds.edge(groups, l.group);
        let warn = l.full.contains('\n');
        let fg = if warn {
            Color32::from_rgb(220, 30, 30)
        } else {
            visuals.text_color()
        };
        if !l.rect.expand(12.0 * scale).contains(l.anchor) {
            // Placed away from its edge: a thin line says whose it is.
            let start = placement::exit_point(l.rect, l.rect.center(), l.anchor);
            painter.line_segment([start, l.anchor], Stroke::new(1.0, fg.gamma_multiply(0.6)));
        }
        painter.rect_filled(l.rect, 4.0, visuals.extreme_bg_color.gamma_multiply(0.9));
        let galley = painter.layout_no_wrap(l.text.clone(), font.clone(), fg);
        painter.galley(l.rect.min + Vec2::splat(3.0), galley, fg);
        // Clicking a label selects its connection; clicking again the next
        // one of a merged edge.
        let mut r = ui.interact(
            l.rect,
            ui.scope_id().with(("edge", l.group)),
            Sense::click(),
        );
        if l.text != l.full || g.conns.len() > 1 {
            r = r.on_hover_text(&l.full);
        }
        if r.clicked() {
            let next = match selected.and_then(|c| g.conns.iter().position(|&x| x == c)) {
                Some(k) => g.conns[(k + 1) % g.conns.len()],
                None => g.conns[0],
            };
            response.clicked_conn = Some(next);
        }
    }

    // Flags beside packets while few are on screen, never on top of each
    // other, of a label or of a host's box (a packet that has just left or
    // nearly arrived sits under its host).
    if flags.len() <= 24 {
        let mut placed: Vec<Pos2> = Vec::new();
        for (at, flags, len, phase) in flags {
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
            let line = stepped
                .and_then(|k| match scene.wire[k] {
                    Wire::Tcp(i) => scene.packets[i as usize].line,
                    Wire::Dns(_) => None,
                })
                .and_then(|l| scene.lines.get(l as usize))
                .filter(|_| phase == Phase::Data);
            let text = match line {
                // Stopped at a packet: what it carries, in the protocol's
                // words.
                Some(l) => placement::ellipsize(&format!("{} {}", l.speaker(), l.text), 40),
                None if phase == Phase::Data => lang.f("{} bytes", len),
                None => text.join(", "),
            };
            let g =
                painter.layout_no_wrap(text, FontId::monospace(11.0 * scale), visuals.text_color());
            // Above right of the packet, else in another corner around it.
            let (d, sz) = (9.0 * scale, g.size());
            let spot = [
                Vec2::new(d, -d - sz.y),
                Vec2::new(d, d),
                Vec2::new(-d - sz.x, -d - sz.y),
                Vec2::new(-d - sz.x, d),
            ]
            .into_iter()
            .map(|o| Rect::from_min_size(at + o, sz))
            .find(|label| {
                canvas.contains_rect(*label)
                    && !box_rects.iter().any(|b| b.intersects(*label))
                    && !labels.iter().any(|l| l.rect.intersects(*label))
            });
            let Some(label) = spot else {
                continue;
            };
            placed.push(at);
            if stepped.is_some() {
                painter.rect_filled(
                    label.expand(2.0),
                    3.0,
                    visuals.extreme_bg_color.gamma_multiply(0.9),
                );
            }
            painter.galley(label.min, g, visuals.text_color());
        }
    }
    for p in &piles {
        draw_pile(ui, &painter, p, scale, &visuals);
    }
    // The DNS question or answer on the way, beside its dot.
    let mut taken: Vec<Rect> = box_rects
        .iter()
        .copied()
        .chain(labels.iter().map(|l| l.rect))
        .chain(
            piles
                .iter()
                .flat_map(|p| std::iter::once(p.envelopes).chain(p.label)),
        )
        .collect();
    taken.extend(
        response
            .stepped_at
            .map(|at| Rect::from_center_size(at, Vec2::splat(30.0 * scale))),
    );
    for (at, text) in dns_texts.into_iter().take(8) {
        let text = crate::trace::text::visible(&text).into_owned();
        let font = FontId::monospace(12.0 * scale);
        let g = painter.layout_no_wrap(text, font, visuals.text_color());
        let dot = Rect::from_center_size(at, Vec2::splat(26.0 * scale));
        if let Some(r) = placement::place_note(inner, &taken, dot, g.size() + Vec2::splat(4.0)) {
            painter.rect_filled(r, 3.0, visuals.extreme_bg_color.gamma_multiply(0.9));
            painter.galley(r.min + Vec2::splat(2.0), g, Color32::from_rgb(0, 130, 140));
            taken.push(r);
        }
    }
    let crowds = crowds
        .nodes
        .iter()
        .map(|c| placement::CrowdNode {
            server: c.key.0,
            count: c.members.len(),
            rest: c.rest,
            rect: boxes[&c.rep()],
        })
        .collect();
    response.placement = placement::Placement {
        canvas,
        boxes: boxes.into_iter().collect(),
        labels,
        notes: piles.iter().filter_map(|p| p.label).collect(),
        edges: drawn_edges,
        unplaced,
        crowds,
    };

    legend(&painter, rect, lang, scale, visuals.text_color());
    if !open_crowds.is_empty() {
        // Bottom right, in the legend's strip: nothing else is there.
        let text = egui::RichText::new(lang.t("Gather the clients again")).size(12.0 * scale);
        let w = painter
            .layout_no_wrap(
                text.text().to_string(),
                FontId::proportional(12.0 * scale),
                Color32::BLACK,
            )
            .size()
            .x;
        let at = Rect::from_min_max(
            Pos2::new(
                rect.right() - w - 24.0 * scale,
                rect.bottom() - legend_h + 3.0,
            ),
            rect.right_bottom() - Vec2::new(6.0, 3.0),
        );
        response.gather_all = ui.put(at, egui::Button::new(text)).clicked();
    }
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

/// The mark around the packet stopped at.
fn ring(painter: &egui::Painter, at: Pos2, scale: f32, visuals: &egui::Visuals) {
    painter.circle_stroke(
        at,
        13.0 * scale,
        Stroke::new(2.5 * scale, visuals.strong_text_color()),
    );
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

/// A filled triangle at `to`, pointing from `from` to `to`: the direction
/// the connection was opened in (client → server).
fn arrowhead(painter: &egui::Painter, from: Pos2, to: Pos2, color: Color32, scale: f32) {
    let d = to - from;
    if d.length() < 20.0 * scale {
        return;
    }
    let d = d.normalized();
    let n = Vec2::new(-d.y, d.x);
    let (len, half) = (12.0 * scale, 6.0 * scale);
    painter.add(Shape::convex_polygon(
        vec![to, to - d * len + n * half, to - d * len - n * half],
        color,
        Stroke::NONE,
    ));
}

/// What an edge says: `POP3 110 (x5)`, and "! Credentials in clear" once a
/// plaintext login on it has happened at the playhead (not before).
fn edge_text(scene: &Scene, g: &placement::EdgeGroup, t: f64, lang: Lang) -> String {
    let mut text = g.label.clone();
    if g.conns.len() > 1 {
        text.push_str(&format!(" (x{})", g.conns.len()));
    }
    let login = g.conns.iter().any(|&ci| {
        let c = &scene.conns[ci];
        !c.encrypted() && c.credentials.iter().any(|&k| scene.credentials[k].t <= t)
    });
    if login {
        text.push_str("\n! ");
        text.push_str(lang.t("Credentials in clear"));
    }
    text
}

/// Messages resting in one place, as drawn: up to three envelopes and the
/// subject (or the count) beside them, where [`placement::place_note`] found
/// room.
struct Pile {
    at: Pos2,
    color: Color32,
    count: usize,
    /// The subject (or the count) in full, on hover when shortened.
    full: String,
    /// What is written.
    text: String,
    /// Where the envelopes are (an obstacle for labels).
    envelopes: Rect,
    /// Where the text is; None when it fit nowhere.
    label: Option<Rect>,
}

fn pile(lang: Lang, (at, color): (Pos2, Color32), subjects: &[&str], scale: f32) -> Pile {
    let count = subjects.len().min(3);
    let lift = 4.0 * scale * (count - 1) as f32;
    let full = match subjects {
        [one] => one.to_string(),
        many => lang.f("{} messages", many.len()),
    };
    let env = Vec2::new(26.0 * scale, 17.0 * scale);
    let envelopes = Rect::from_center_size(at, env)
        .union(Rect::from_center_size(at + Vec2::new(lift, -lift), env));
    Pile {
        at,
        color,
        count,
        text: full.clone(),
        full,
        envelopes,
        label: None,
    }
}

fn draw_pile(ui: &Ui, painter: &egui::Painter, p: &Pile, scale: f32, visuals: &egui::Visuals) {
    for k in (0..p.count).rev() {
        let d = 4.0 * scale * k as f32;
        envelope(painter, p.at + Vec2::new(d, -d), scale, p.color);
    }
    let hover = ui.interact(
        p.envelopes,
        ui.scope_id().with(("pile", p.at.x as i32, p.at.y as i32)),
        Sense::hover(),
    );
    let Some(label) = p.label else {
        hover.on_hover_text(&p.full);
        return;
    };
    if p.text != p.full {
        hover.on_hover_text(&p.full);
    }
    if label.distance_to_pos(p.envelopes.center()) > p.envelopes.height() {
        // Placed away from its envelope: a thin line says whose it is.
        let from = placement::exit_point(label, label.center(), p.envelopes.center());
        let to = placement::exit_point(p.envelopes, p.envelopes.center(), label.center());
        painter.line_segment(
            [from, to],
            Stroke::new(1.0, visuals.text_color().gamma_multiply(0.5)),
        );
    }
    painter.rect_filled(label, 3.0, visuals.extreme_bg_color.gamma_multiply(0.85));
    let g = painter.layout_no_wrap(
        p.text.clone(),
        FontId::proportional(12.0 * scale),
        visuals.text_color(),
    );
    painter.galley(label.min + Vec2::splat(2.0), g, visuals.text_color());
}
