//! Where things go in the topology picture, as plain geometry: host boxes
//! in columns by role, connections merged into one edge per pair of hosts
//! and protocol, and edge labels placed where they cover neither a box nor
//! another label.
//!
//! Nothing here paints. [`crate::gui::topology`] measures text, calls these
//! functions and draws what they return; the tests check the same output
//! ([`Placement`]) the window drew, so "no label under a box" is a fact
//! about the real frame, not about a copy of its logic.

use std::collections::HashMap;

use egui::{Pos2, Rect, Vec2};

use super::model::{Role, Scene};

/// Host names longer than this are cut (with "…"); the full name is on
/// hover. A 200-character name would otherwise span the canvas.
pub const NAME_CHARS: usize = 28;

/// Connections drawn as one edge: same client host, same server host, same
/// label (`POP3 110`). Five logins of one reader to its server are one line
/// marked "(x5)", not five overlapping ones.
#[derive(Clone, Debug)]
pub struct EdgeGroup {
    pub client: usize,
    pub server: usize,
    /// Indices into [`Scene::conns`], in time order.
    pub conns: Vec<usize>,
    /// The connections' common label ([`super::model::Conn::label`]).
    pub label: String,
    /// Offset of this edge from the straight line between the two hosts,
    /// in edge widths (groups between the same two hosts sit side by side).
    pub offset: f32,
}

/// The edges of a scene; computed once per scene.
#[derive(Clone, Debug, Default)]
pub struct Groups {
    pub groups: Vec<EdgeGroup>,
    /// The group of each connection.
    pub of_conn: Vec<usize>,
}

impl Groups {
    pub fn new(scene: &Scene) -> Groups {
        let mut index: HashMap<(usize, usize, String), usize> = HashMap::new();
        let mut groups: Vec<EdgeGroup> = Vec::new();
        let mut of_conn = Vec::with_capacity(scene.conns.len());
        for (ci, c) in scene.conns.iter().enumerate() {
            let label = c.label();
            let g = *index
                .entry((c.client_host, c.server_host, label.clone()))
                .or_insert_with(|| {
                    groups.push(EdgeGroup {
                        client: c.client_host,
                        server: c.server_host,
                        conns: Vec::new(),
                        label,
                        offset: 0.0,
                    });
                    groups.len() - 1
                });
            groups[g].conns.push(ci);
            of_conn.push(g);
        }
        // Groups between the same two hosts (either direction) side by side;
        // beyond nine they share the outer tracks.
        let mut pairs: HashMap<(usize, usize), Vec<usize>> = HashMap::new();
        for (gi, g) in groups.iter().enumerate() {
            pairs
                .entry((g.client.min(g.server), g.client.max(g.server)))
                .or_default()
                .push(gi);
        }
        for members in pairs.values() {
            let n = members.len().min(9);
            for (k, &gi) in members.iter().enumerate() {
                let k = k.min(n - 1);
                groups[gi].offset = k as f32 - (n as f32 - 1.0) / 2.0;
            }
        }
        Groups { groups, of_conn }
    }
}

/// `text` cut to `max` characters with "…" when longer.
pub fn ellipsize(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", text[..at].trim_end()),
        None => text.to_string(),
    }
}

/// A host's name as drawn: at most [`NAME_CHARS`] characters.
pub fn capped_name(name: &str) -> String {
    ellipsize(name, NAME_CHARS)
}

/// The column (lane) of each visible host, and whether it is drawn in the
/// band along the top (DNS). Senders' agents and clients of anything sit
/// left, servers to the right of their clients, mailbox readers right of
/// their server ([`super::model::Host::column`]). `None` for hidden hosts.
pub fn lanes(scene: &Scene, visible: &[bool]) -> Vec<Option<(usize, bool)>> {
    let mut lane: Vec<Option<(usize, bool)>> = scene
        .hosts
        .iter()
        .zip(visible)
        .map(|(h, &v)| {
            v.then_some(match h.role {
                Role::UserAgent | Role::MailServer | Role::Interceptor => (h.column, false),
                Role::Dns => (0, true),
                Role::Other => (0, false),
            })
        })
        .collect();
    // A host that is neither mail server nor mail client but serves some
    // connection (HTTPS, XMPP next to the mail) goes right of its clients.
    for c in &scene.conns {
        let (cl, sv) = (c.client_host, c.server_host);
        if scene.hosts[sv].role != Role::Other {
            continue;
        }
        if let (Some((lc, false)), Some((ls, false))) = (lane[cl], lane[sv])
            && ls <= lc
        {
            lane[sv] = Some((lc + 1, false));
        }
    }
    lane
}

/// Centres of the host boxes inside `rect`, and the widest a box may be in
/// its column. Columns share the width by how many sub-columns each needs
/// (a column with more hosts than fit one above the other wraps), so the
/// whole canvas is used; a column of one host is lifted or lowered from its
/// neighbour's height, so the edge between them has room for its label.
pub fn layout(scene: &Scene, visible: &[bool], rect: Rect, box_h: f32) -> Vec<(Pos2, f32)> {
    let gap = gap(box_h);
    let lane = lanes(scene, visible);
    let band: Vec<usize> = (0..lane.len())
        .filter(|&i| matches!(lane[i], Some((_, true))))
        .collect();
    let body = body(rect, box_h, !band.is_empty());
    // Lanes in use, in order, without the empty ones.
    let mut used: Vec<usize> = lane
        .iter()
        .flatten()
        .filter(|l| !l.1)
        .map(|l| l.0)
        .collect();
    used.sort_unstable();
    used.dedup();
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); used.len()];
    for (i, l) in lane.iter().enumerate() {
        if let Some((l, false)) = l {
            let k = used.binary_search(l).expect("a used lane");
            members[k].push(i);
        }
    }
    for m in &mut members {
        // Mail servers before other servers, then by the model's row.
        m.sort_by_key(|&i| {
            let h = &scene.hosts[i];
            (h.role == Role::Other, h.row, std::cmp::Reverse(h.bytes), i)
        });
    }
    let per_column = rows_per_column(body.height(), box_h);
    let subs: Vec<usize> = members
        .iter()
        .map(|m| m.len().div_ceil(per_column).max(1))
        .collect();
    let total: usize = subs.iter().sum::<usize>().max(1);
    let sub_w = body.width() / total as f32;
    let mut out = vec![(rect.center(), rect.width()); scene.hosts.len()];
    let mut first_sub = 0usize;
    for (k, m) in members.iter().enumerate() {
        let rows = m.len().div_ceil(subs[k]);
        for (j, &i) in m.iter().enumerate() {
            let (s, r) = (j / rows, j % rows);
            let in_sub = rows.min(m.len() - s * rows);
            let x = body.left() + sub_w * ((first_sub + s) as f32 + 0.5);
            let y = if m.len() == 1 {
                let lift = if k % 2 == 1 { -0.28 } else { 0.22 };
                body.center().y + (body.height() - box_h) * lift
            } else {
                // Rows spread over the height with a quarter of their
                // spacing above the first and below the last (not half):
                // the room between the rows is where their edges and
                // labels run, the margins only hold the column's notes.
                let h = body.height() - box_h;
                body.top() + box_h / 2.0 + h * (r as f32 + 0.25) / (in_sub as f32 - 0.5)
            };
            out[i] = (Pos2::new(x, y), sub_w - gap * 0.5);
        }
        first_sub += subs[k];
    }
    for (j, &i) in band.iter().enumerate() {
        let w = rect.width() / band.len() as f32;
        let x = rect.left() + w * (j as f32 + 0.5);
        out[i] = (Pos2::new(x, rect.top() + gap + box_h / 2.0), w - gap);
    }
    out
}

/// The space between two boxes of a column.
pub fn gap(box_h: f32) -> f32 {
    box_h * 0.45
}

/// The part of `rect` the columns use: below the DNS band when there is one.
pub fn body(rect: Rect, box_h: f32, band: bool) -> Rect {
    if band {
        Rect::from_min_max(
            Pos2::new(rect.left(), rect.top() + box_h + 2.0 * gap(box_h)),
            rect.max,
        )
    } else {
        rect
    }
}

/// Boxes one column holds in `height` before it wraps into another: as
/// many as fit with a gap between them.
pub fn rows_per_column(height: f32, box_h: f32) -> usize {
    let gap = gap(box_h);
    ((height + gap) / (box_h + gap)).floor().max(1.0) as usize
}

/// The ends of edge `g` between host centres `pos`, moved off the straight
/// line by the group's offset (`spacing` apart).
pub fn edge_ends(pos: &[Pos2], g: &EdgeGroup, spacing: f32) -> (Pos2, Pos2) {
    let (a, b) = (pos[g.client], pos[g.server]);
    // The normal of the lower-numbered host to the other, so two groups in
    // opposite directions get opposite offsets rather than the same one.
    let (p, q) = if g.client <= g.server { (a, b) } else { (b, a) };
    let d = q - p;
    let normal = if d.length() > 0.0 {
        Vec2::new(-d.y, d.x).normalized()
    } else {
        Vec2::ZERO
    };
    let o = normal * g.offset * spacing;
    (a + o, b + o)
}

/// Where the segment from `inside` (in `r`) to `outside` leaves `r`.
pub fn exit_point(r: Rect, inside: Pos2, outside: Pos2) -> Pos2 {
    let d = outside - inside;
    let mut t = 1.0f32;
    if d.x > 0.0 {
        t = t.min((r.right() - inside.x) / d.x);
    } else if d.x < 0.0 {
        t = t.min((r.left() - inside.x) / d.x);
    }
    if d.y > 0.0 {
        t = t.min((r.bottom() - inside.y) / d.y);
    } else if d.y < 0.0 {
        t = t.min((r.top() - inside.y) / d.y);
    }
    inside + d * t.clamp(0.0, 1.0)
}

/// Whether the segment `a`–`b` passes through the inside of `r`
/// (Liang–Barsky clipping; touching the border does not count).
pub fn segment_hits_rect(a: Pos2, b: Pos2, r: Rect) -> bool {
    let d = b - a;
    let (mut lo, mut hi) = (0.0f32, 1.0f32);
    for (p, q) in [
        (-d.x, a.x - r.left()),
        (d.x, r.right() - a.x),
        (-d.y, a.y - r.top()),
        (d.y, r.bottom() - a.y),
    ] {
        if p == 0.0 {
            if q <= 0.0 {
                return false;
            }
        } else {
            let t = q / p;
            if p < 0.0 {
                lo = lo.max(t);
            } else {
                hi = hi.min(t);
            }
        }
    }
    hi - lo > 1e-4
}

/// Hosts at most for which edges are routed around boxes: the picture of a
/// lesson has a handful; a crowd of a big capture gets straight lines (the
/// search grows with the square of the boxes).
pub const ROUTED_BOXES: usize = 24;

/// The path of an edge from `a` (inside box `from`) to `b` (inside box
/// `to`) that crosses no other box of `others`: the straight line when it is
/// clear, else the shortest path through the corners of the boxes (a
/// visibility graph, each box grown by `margin`). When no such path exists
/// the straight line is kept.
pub fn route(a: Pos2, b: Pos2, others: &[Rect], canvas: Rect, margin: f32) -> Vec<Pos2> {
    let blocked = |p: Pos2, q: Pos2| {
        others
            .iter()
            .any(|r| segment_hits_rect(p, q, r.expand(margin * 0.5)))
    };
    if !blocked(a, b) || others.len() > ROUTED_BOXES {
        return vec![a, b];
    }
    let mut nodes = vec![a, b];
    for r in others {
        let r = r.expand(margin);
        for c in [
            r.left_top(),
            r.right_top(),
            r.left_bottom(),
            r.right_bottom(),
        ] {
            let inside = others.iter().any(|o| o.expand(margin * 0.5).contains(c));
            if canvas.contains(c) && !inside {
                nodes.push(c);
            }
        }
    }
    // Dijkstra over the visibility graph (a few dozen nodes).
    let n = nodes.len();
    let mut dist = vec![f32::INFINITY; n];
    let mut prev = vec![usize::MAX; n];
    let mut done = vec![false; n];
    dist[0] = 0.0;
    while let Some(u) = (0..n)
        .filter(|&i| !done[i] && dist[i].is_finite())
        .min_by(|&i, &j| dist[i].total_cmp(&dist[j]))
    {
        if u == 1 {
            break;
        }
        done[u] = true;
        for v in 0..n {
            if done[v] || v == u {
                continue;
            }
            let d = dist[u] + nodes[u].distance(nodes[v]);
            if d < dist[v] && !blocked(nodes[u], nodes[v]) {
                dist[v] = d;
                prev[v] = u;
            }
        }
    }
    if !dist[1].is_finite() {
        return vec![a, b];
    }
    let mut path = vec![b];
    let mut at = 1;
    while prev[at] != usize::MAX {
        at = prev[at];
        path.push(nodes[at]);
    }
    path.reverse();
    path
}

/// The point a fraction `f` (0…1) of the way along the path `points`.
pub fn along(points: &[Pos2], f: f32) -> Pos2 {
    let total: f32 = points.windows(2).map(|w| w[0].distance(w[1])).sum();
    let mut left = total * f.clamp(0.0, 1.0);
    for w in points.windows(2) {
        let len = w[0].distance(w[1]);
        if left <= len && len > 0.0 {
            return w[0] + (w[1] - w[0]) * (left / len);
        }
        left -= len;
    }
    points.last().copied().unwrap_or(Pos2::ZERO)
}

/// Where a note of `size` goes near `anchor` (a resting envelope): above
/// it first, then below, beside, and farther out, the first spot inside
/// `canvas` that meets none of `avoid`. None when there is no room.
pub fn place_note(canvas: Rect, avoid: &[Rect], anchor: Rect, size: Vec2) -> Option<Rect> {
    let gap = 3.0;
    let above = anchor.center_top() - Vec2::new(0.0, gap + size.y / 2.0);
    let below = anchor.center_bottom() + Vec2::new(0.0, gap + size.y / 2.0);
    let left = anchor.left_center() - Vec2::new(gap + size.x / 2.0, 0.0);
    let right = anchor.right_center() + Vec2::new(gap + size.x / 2.0, 0.0);
    let mut spots = Vec::new();
    for step in 0..6 {
        let up = Vec2::new(0.0, -(size.y + gap) * step as f32);
        let down = -up;
        let side = Vec2::new(size.x * 0.5 * step as f32, 0.0);
        spots.extend([
            above + up,
            above + up - side,
            above + up + side,
            below + down,
            below + down - side,
            below + down + side,
            left + up,
            right + up,
            left + down,
            right + down,
        ]);
    }
    spots.into_iter().find_map(|c| {
        let mut r = Rect::from_center_size(c, size);
        // Slid inside the canvas sideways (a mailbox at the right edge).
        let shift = (canvas.right() - r.right()).min(0.0) + (canvas.left() - r.left()).max(0.0);
        r = r.translate(Vec2::new(shift, 0.0));
        (canvas.contains_rect(r) && !avoid.iter().any(|o| o.intersects(r))).then_some(r)
    })
}

/// A label an edge asks for.
pub struct Wanted {
    pub group: usize,
    /// The visible part of the edge (from box border to box border).
    pub from: Pos2,
    pub to: Pos2,
    /// The full text, one or more lines.
    pub text: String,
}

/// A placed label.
#[derive(Clone, Debug)]
pub struct Label {
    pub group: usize,
    /// The background rectangle (text plus padding).
    pub rect: Rect,
    /// The point of the edge the label belongs to.
    pub anchor: Pos2,
    /// What is drawn.
    pub text: String,
    /// What the edge says in full (on hover when `text` is shorter).
    pub full: String,
}

/// What the topology drew in its last frame.
#[derive(Clone, Debug)]
pub struct Placement {
    pub canvas: Rect,
    /// Host boxes drawn (host index, rectangle).
    pub boxes: Vec<(usize, Rect)>,
    pub labels: Vec<Label>,
    /// The subjects written over resting messages.
    pub notes: Vec<Rect>,
    /// Each drawn edge: (group, client host, server host, its path from
    /// centre to centre).
    pub edges: Vec<(usize, usize, usize, Vec<Pos2>)>,
    /// Groups whose label fit nowhere, even shortened (their text is on the
    /// edge's hover).
    pub unplaced: Vec<usize>,
    /// The crowds of clients drawn as one node each (their rectangles are
    /// among `boxes` too).
    pub crowds: Vec<CrowdNode>,
}

/// A crowd of clients as drawn ([`super::crowd`]).
#[derive(Clone, Debug)]
pub struct CrowdNode {
    /// The server its members are clients of; None for a whole column's.
    pub server: Option<usize>,
    /// Members.
    pub count: usize,
    /// What did not fit of an opened crowd.
    pub rest: bool,
    pub rect: Rect,
}

impl Default for Placement {
    fn default() -> Self {
        Placement {
            canvas: Rect::NOTHING,
            boxes: Vec::new(),
            labels: Vec::new(),
            notes: Vec::new(),
            edges: Vec::new(),
            unplaced: Vec::new(),
            crowds: Vec::new(),
        }
    }
}

/// Shorter versions of `text`, longest first: each line cut, then only the
/// first line cut hard.
fn variants(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let longest = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let mut out = vec![text.to_string()];
    for max in [longest * 2 / 3, 12, 8] {
        if max == 0 || max >= longest {
            continue;
        }
        let cut: Vec<String> = lines.iter().map(|l| ellipsize(l, max)).collect();
        out.push(cut.join("\n"));
    }
    if lines.len() > 1 {
        out.push(ellipsize(lines[0], 10));
    }
    out.dedup();
    out
}

/// Places each wanted label beside or on its edge, at the first of a series
/// of positions along the edge (middle first) where its rectangle stays in
/// `canvas` and meets no box, no obstacle (envelopes, the legend) and no
/// label placed before it; if none fits, the same with shorter text.
/// `measure` gives the size of a text (padding included). Labels that fit
/// nowhere are left out rather than drawn over something.
pub fn place_labels(
    canvas: Rect,
    boxes: &[Rect],
    obstacles: &[Rect],
    wanted: &[Wanted],
    measure: &mut dyn FnMut(&str) -> Vec2,
) -> (Vec<Label>, Vec<usize>) {
    const ALONG: [f32; 11] = [0.5, 0.4, 0.6, 0.3, 0.7, 0.22, 0.78, 0.15, 0.85, 0.08, 0.92];
    let margin = 3.0;
    let mut placed: Vec<Label> = Vec::new();
    let mut unplaced = Vec::new();
    let free = |r: Rect, placed: &[Label]| {
        canvas.contains_rect(r)
            && !boxes.iter().any(|b| b.expand(margin).intersects(r))
            && !obstacles.iter().any(|o| o.intersects(r))
            && !placed.iter().any(|l| l.rect.expand(margin).intersects(r))
    };
    for w in wanted {
        let d = w.to - w.from;
        let normal = if d.length() > 0.0 {
            let n = Vec2::new(-d.y, d.x).normalized();
            // Above (or left of) the edge first.
            if n.y > 0.0 || (n.y == 0.0 && n.x > 0.0) {
                -n
            } else {
                n
            }
        } else {
            Vec2::new(0.0, -1.0)
        };
        let mut spot = None;
        'variants: for text in variants(&w.text) {
            let size = measure(&text);
            // How far the rectangle reaches along the normal from its centre.
            let reach = (size.x * normal.x.abs() + size.y * normal.y.abs()) / 2.0;
            // Beside the edge first; then farther out (a short edge between
            // two boxes has no room beside it), tied to it by a leader line.
            for away in [0.0, 1.0, 2.0] {
                for f in ALONG {
                    let p = w.from + d * f;
                    for side in [1.0, -1.0, 0.0] {
                        if side == 0.0 && away > 0.0 {
                            continue;
                        }
                        let c = p + normal * side * (reach + 4.0 + away * (size.y + 6.0));
                        let r = Rect::from_center_size(c, size);
                        if free(r, &placed) {
                            spot = Some((r, text, p));
                            break 'variants;
                        }
                    }
                }
            }
        }
        match spot {
            Some((rect, text, anchor)) => placed.push(Label {
                group: w.group,
                rect,
                anchor,
                text,
                full: w.text.clone(),
            }),
            None => unplaced.push(w.group),
        }
    }
    (placed, unplaced)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measure(s: &str) -> Vec2 {
        let lines = s.lines().count() as f32;
        let w = s.lines().map(|l| l.chars().count()).max().unwrap_or(0) as f32;
        Vec2::new(w * 7.0 + 6.0, lines * 14.0 + 6.0)
    }

    #[test]
    fn names_and_labels_are_cut_on_character_boundaries() {
        assert_eq!(ellipsize("¿Pícnic el sábado?", 48), "¿Pícnic el sábado?");
        assert_eq!(ellipsize("¿Pícnic el sábado?", 8), "¿Pícnic…");
        assert_eq!(ellipsize("ññññ", 3), "ñññ…");
        let long = "B".repeat(200);
        assert_eq!(capped_name(&long).chars().count(), NAME_CHARS + 1);
        assert_eq!(capped_name("crepes.fr"), "crepes.fr");
    }

    #[test]
    fn shorter_variants_end_with_the_first_line_alone() {
        assert_eq!(
            variants("SMTP 25 (x5)\n! Credentials in clear"),
            [
                "SMTP 25 (x5)\n! Credentials in clear",
                "SMTP 25 (x5)\n! Credentials…",
                "SMTP 25 (x5)\n! Credential…",
                "SMTP 25…\n! Creden…",
                "SMTP 25 (x…",
            ]
        );
    }

    #[test]
    fn edges_go_around_a_box_in_the_way() {
        let canvas = Rect::from_min_size(Pos2::ZERO, Vec2::new(600.0, 400.0));
        let middle = Rect::from_center_size(Pos2::new(300.0, 200.0), Vec2::new(100.0, 60.0));
        let (a, b) = (Pos2::new(50.0, 200.0), Pos2::new(550.0, 210.0));
        assert!(segment_hits_rect(a, b, middle));
        let path = route(a, b, &[middle], canvas, 8.0);
        assert_eq!((path[0], path[path.len() - 1]), (a, b));
        assert!(path.len() > 2, "{path:?}");
        for w in path.windows(2) {
            assert!(!segment_hits_rect(w[0], w[1], middle), "{path:?}");
        }
        // A clear line stays straight; touching a border is not crossing.
        assert_eq!(route(a, b, &[], canvas, 8.0), [a, b]);
        assert!(!segment_hits_rect(
            Pos2::new(0.0, 170.0),
            Pos2::new(600.0, 170.0),
            middle
        ));
        assert_eq!(
            along(&[a, Pos2::new(150.0, 200.0), Pos2::new(150.0, 300.0)], 0.75),
            Pos2::new(150.0, 250.0)
        );
    }

    #[test]
    fn labels_avoid_boxes_and_each_other() {
        let canvas = Rect::from_min_size(Pos2::ZERO, Vec2::new(600.0, 400.0));
        // Two boxes with three edges fanning out of the left one, and a
        // box sitting where the middle of the first edge's label would go.
        let boxes = [
            Rect::from_center_size(Pos2::new(80.0, 200.0), Vec2::new(120.0, 54.0)),
            Rect::from_center_size(Pos2::new(500.0, 200.0), Vec2::new(120.0, 54.0)),
            Rect::from_center_size(Pos2::new(290.0, 175.0), Vec2::new(100.0, 30.0)),
        ];
        let wanted: Vec<Wanted> = (0..3)
            .map(|k| Wanted {
                group: k,
                from: Pos2::new(140.0, 200.0),
                to: Pos2::new(440.0, 200.0 + k as f32 * 10.0),
                text: format!("IMAP 143 (STARTTLS) #{k}"),
            })
            .collect();
        let (labels, unplaced) =
            place_labels(canvas, &boxes, &[], &wanted, &mut |s: &str| measure(s));
        assert!(unplaced.is_empty());
        assert_eq!(labels.len(), 3);
        for (i, l) in labels.iter().enumerate() {
            assert!(canvas.contains_rect(l.rect));
            assert!(boxes.iter().all(|b| !b.intersects(l.rect)), "{l:?}");
            for m in &labels[i + 1..] {
                assert!(!l.rect.intersects(m.rect), "{l:?} {m:?}");
            }
        }
        // A label with no room at all is left out, not drawn over a box.
        let full = [canvas.shrink(1.0)];
        let (labels, unplaced) =
            place_labels(canvas, &full, &[], &wanted[..1], &mut |s| measure(s));
        assert!(labels.is_empty());
        assert_eq!(unplaced, [0]);
    }
}
