//! Crowd mode: the clients of one server gathered into one node, "N
//! clients", when the canvas has no room for a box each.
//!
//! A capture from a real network (the 200 MB bench capture: 26 000
//! connections, some sixty alive at any instant, a few servers with a dozen
//! clients each) drawn one box per host puts dozens of boxes on top of each
//! other. Here the clients of the servers with the most clients are
//! gathered first, until the boxes fit ([`Room`]); each crowd has one edge
//! per protocol to its server, carrying every member's packets and
//! messages. A click on a crowd opens it (its members are drawn one by one,
//! as many as fit, the others stay a node "N more clients"); "Gather the
//! clients again" closes every opened crowd. A picture whose hosts fit (the
//! demo, a lesson's capture) has no crowd and looks as before.
//!
//! Nothing here decides where a box goes: the crowd takes the place
//! [`placement::layout`] gives its first (busiest) member.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use egui::{Color32, FontId, Pos2, Rect, Sense, Stroke, Ui, Vec2};

use super::i18n::Lang;
use super::model::{Role, Scene};
use super::placement::{self, EdgeGroup, Groups};
use crate::proto::Protocol;

/// Which crowd, across frames (what a click opens): the server its members
/// are clients of, None for the crowd of a whole column (the clients of
/// every server, when even one node per server has no room), and the
/// column (lane) its members sit in (a server's senders sit left of it, its
/// mailbox readers right: two crowds).
pub type Key = (Option<usize>, usize);

/// A host box is never narrower than this (times the presenter's scale):
/// about 12 characters of a name. The canvas has room for a host while its
/// columns can be this wide ([`Room`]).
pub const BOX_W: f32 = 110.0;
/// Below this width (times the scale) boxes of neighbouring columns would
/// touch: beyond the columns this allows, hosts are left out of the picture
/// (they stay in the Flows tab).
pub const TIGHT_BOX_W: f32 = 60.0;

/// Clients gathered into one node.
#[derive(Clone, Debug)]
pub struct Crowd {
    pub key: Key,
    /// Host indices, busiest first; the first one's place is the node's.
    pub members: Vec<usize>,
    /// What did not fit of an opened crowd ("N more clients").
    pub rest: bool,
    /// Servers its edges go to.
    pub servers: usize,
}

impl Crowd {
    /// The member whose place (and box, in [`super::placement::Placement`])
    /// is the node's.
    pub fn rep(&self) -> usize {
        self.members[0]
    }
}

/// How many boxes the canvas has room for, from its size: a column holds
/// [`placement::rows_per_column`] boxes one above the other, and the width
/// takes as many columns as stay [`BOX_W`] wide (`columns`), or at the very
/// least [`TIGHT_BOX_W`] (`most_columns`). At 1280×720 (the topology's
/// canvas is about 620×520 there) that is 6 rows and 5 columns, 30 boxes;
/// at 1600×900, 8 rows and 7 columns; in presenter mode fewer.
#[derive(Clone, Copy, Debug)]
pub struct Room {
    pub rows: usize,
    pub columns: usize,
    pub most_columns: usize,
}

impl Room {
    /// The room in `rect` (the canvas less its margin) for boxes `box_h`
    /// high, with a band of DNS servers along the top or not.
    pub fn new(rect: Rect, box_h: f32, scale: f32, band: bool) -> Room {
        let body = placement::body(rect, box_h, band);
        // layout() gives a column its width less half a gap for the box.
        let half_gap = placement::gap(box_h) * 0.5;
        let columns = |w: f32| ((body.width() / (w * scale + half_gap)).floor() as usize).max(1);
        Room {
            rows: placement::rows_per_column(body.height(), box_h),
            columns: columns(BOX_W),
            most_columns: columns(TIGHT_BOX_W),
        }
    }

    /// Whether boxes counted per lane fit in `columns` (each lane wraps
    /// into as many columns as its boxes need).
    fn fits(&self, per_lane: &[usize], columns: usize) -> bool {
        per_lane
            .iter()
            .map(|c| c.div_ceil(self.rows))
            .sum::<usize>()
            <= columns
    }
}

/// What became of a server's clients in one column.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Form {
    /// A box each.
    Apart,
    /// One node.
    Gathered,
    /// In the node of their whole column.
    InColumn,
    /// Opened, but only the first `k` have room; the rest is one node.
    Partly(usize),
}

/// The crowds of one frame and the edges they draw.
#[derive(Clone, Debug, Default)]
pub struct Crowds {
    pub nodes: Vec<Crowd>,
    /// One edge per crowd, server and protocol; numbered after the scene's
    /// groups ([`Crowds::edge`]).
    pub edges: Vec<EdgeGroup>,
    /// The crowd of each host, if gathered.
    pub of_host: Vec<Option<usize>>,
    /// Hosts given a place of their own: the visible ones, less the members
    /// of a crowd but its first.
    pub laid: Vec<bool>,
    /// The crowd edge each of the scene's groups was merged into.
    of_group: HashMap<usize, usize>,
    n_groups: usize,
}

impl Crowds {
    /// Edge `i`: one of the scene's groups, or past them a crowd's edge.
    pub fn edge<'a>(&'a self, groups: &'a Groups, i: usize) -> &'a EdgeGroup {
        match i.checked_sub(self.n_groups) {
            Some(k) => &self.edges[k],
            None => &groups.groups[i],
        }
    }

    /// How many edges [`Crowds::edge`] numbers.
    pub fn edge_count(&self) -> usize {
        self.n_groups + self.edges.len()
    }

    /// Whether scene group `gi` is drawn as part of a crowd's edge.
    pub fn merged(&self, gi: usize) -> bool {
        self.of_group.contains_key(&gi)
    }

    /// The edge connection `conn` is drawn on.
    pub fn edge_of_conn(&self, groups: &Groups, conn: usize) -> usize {
        let g = groups.of_conn[conn];
        self.of_group.get(&g).map_or(g, |k| self.n_groups + k)
    }

    /// The host whose place `h` is drawn at (its crowd's, if gathered).
    pub fn node(&self, h: usize) -> usize {
        self.of_host
            .get(h)
            .copied()
            .flatten()
            .map_or(h, |k| self.nodes[k].rep())
    }

    /// Gives every member the place [`placement::layout`] gave its crowd.
    pub fn spread(&self, places: &mut [(Pos2, f32)]) {
        for c in &self.nodes {
            let at = places[c.rep()];
            for &h in &c.members[1..] {
                places[h] = at;
            }
        }
    }
}

/// Decides, for the hosts `visible` at this frame, which clients are
/// gathered into crowds so the boxes fit the `room`: first the clients of
/// the server with the most clients in a column, then the next, except the
/// crowds in `open`; if that is not enough, each column's clients into one
/// node; then what the opened crowds keep apart. If even then the boxes
/// would touch, or there are more than `max_boxes`, the least busy hosts are
/// left out (`visible` is updated): clients first, then servers with theirs.
pub fn gather(
    scene: &Scene,
    groups: &Groups,
    visible: &mut [bool],
    room: Room,
    open: &BTreeSet<Key>,
    max_boxes: usize,
) -> Crowds {
    // Each round leaves hosts out; a handful of rounds is enough even for a
    // network of thousands, and bounds a frame's work.
    for _ in 0..8 {
        let (crowds, fit) = try_gather(scene, groups, visible, room, open, max_boxes);
        match fit {
            Ok(()) => return crowds,
            Err(excess) => leave_out(scene, groups, visible, &crowds, excess),
        }
    }
    try_gather(scene, groups, visible, room, open, max_boxes).0
}

/// The clients of each (server, column): hosts that serve no visible
/// connection, sorted busiest first; a client of several servers belongs to
/// the one it has most connections with.
fn candidates(
    scene: &Scene,
    groups: &Groups,
    visible: &[bool],
    lane: &[Option<(usize, bool)>],
) -> BTreeMap<Key, Vec<usize>> {
    let n = scene.hosts.len();
    let mut serves = vec![false; n];
    let mut pairs: HashMap<(usize, usize), usize> = HashMap::new();
    for g in &groups.groups {
        if visible[g.client] && visible[g.server] {
            serves[g.server] = true;
            *pairs.entry((g.client, g.server)).or_default() += g.conns.len();
        }
    }
    let mut home: Vec<Option<(usize, usize)>> = vec![None; n];
    for (&(c, s), &k) in &pairs {
        // Ties go to the lower index, so the choice does not depend on the
        // map's order.
        if home[c].is_none_or(|(s0, k0)| k > k0 || (k == k0 && s < s0)) {
            home[c] = Some((s, k));
        }
    }
    let mut by_key: BTreeMap<Key, Vec<usize>> = BTreeMap::new();
    for h in 0..n {
        let (Some((l, false)), Some((s, _))) = (lane[h], home[h]) else {
            continue;
        };
        if serves[h]
            || matches!(
                scene.hosts[h].role,
                Role::MailServer | Role::Interceptor | Role::Dns
            )
        {
            continue;
        }
        by_key.entry((Some(s), l)).or_default().push(h);
    }
    for m in by_key.values_mut() {
        m.sort_by_key(|&h| (Reverse(scene.hosts[h].bytes), h));
    }
    by_key
}

/// One attempt: the crowds, and Ok when their boxes fit, else how many
/// boxes too many there are.
fn try_gather(
    scene: &Scene,
    groups: &Groups,
    visible: &[bool],
    room: Room,
    open: &BTreeSet<Key>,
    max_boxes: usize,
) -> (Crowds, Result<(), usize>) {
    let lane = placement::lanes(scene, visible);
    let by_key = candidates(scene, groups, visible, &lane);
    let lanes = lane.iter().flatten().map(|l| l.0 + 1).max().unwrap_or(0);
    let mut base = vec![0usize; lanes];
    let mut band = 0;
    for l in lane.iter().flatten() {
        match l {
            (l, false) => base[*l] += 1,
            (_, true) => band += 1,
        }
    }
    let mut forms: BTreeMap<Key, Form> = by_key.keys().map(|k| (*k, Form::Apart)).collect();
    let count = |forms: &BTreeMap<Key, Form>| {
        let mut per_lane = base.clone();
        let mut in_column = vec![0usize; lanes];
        for (key, form) in forms {
            let n = by_key[key].len();
            let boxes = match *form {
                Form::Apart => n,
                Form::Gathered => 1,
                Form::InColumn => {
                    in_column[key.1] += n;
                    0
                }
                Form::Partly(k) => k + 1,
            };
            per_lane[key.1] -= n - boxes;
        }
        for (l, &n) in in_column.iter().enumerate() {
            // A column "crowd" of one is that one host's box.
            per_lane[l] += n.min(1);
        }
        per_lane
    };
    // The columns to fill: those of boxes BOX_W wide, or if even one node
    // per column of clients needs more (many servers), the fewest that
    // holds them, narrower boxes rather than hidden hosts.
    let least: BTreeMap<Key, Form> = by_key.keys().map(|k| (*k, Form::InColumn)).collect();
    let least = count(&least)
        .iter()
        .map(|c| c.div_ceil(room.rows))
        .sum::<usize>();
    // A lesson's picture (every host always in place: the demo, Zeek's
    // smtp.pcap) is drawn as it is: no crowd.
    if scene.hosts.len() <= super::topology::FIXED_HOSTS {
        return (build(scene, groups, visible, &by_key, &forms), Ok(()));
    }
    // A real network's picture keeps its boxes BOX_W wide, where a name and
    // an address can be read: 80 boxes squeezed to TIGHT_BOX_W at 1600×900
    // fit, but their addresses ran over their borders and the edges made a
    // thicket. Narrower boxes only where even a node per column needs it.
    let target = room.columns.max(least).min(room.most_columns);
    // 1. The biggest crowds first: the fewest nodes for the room won.
    let mut order: Vec<Key> = by_key
        .iter()
        .filter(|(k, m)| m.len() >= 2 && !open.contains(k))
        .map(|(k, _)| *k)
        .collect();
    order.sort_by_key(|k| (Reverse(by_key[k].len()), *k));
    for key in order {
        if room.fits(&count(&forms), target) {
            break;
        }
        forms.insert(key, Form::Gathered);
    }
    // 2. One column at a time, the one that takes the most room first: its
    //    smallest crowds (and lone clients) join one node for the column
    //    until it needs one column less; again until everything fits. The
    //    servers with many clients keep a node of their own.
    let movable = |forms: &BTreeMap<Key, Form>, l: usize| -> Vec<Key> {
        let mut keys: Vec<Key> = forms
            .iter()
            .filter(|(k, f)| k.1 == l && **f != Form::InColumn && !open.contains(k))
            .map(|(k, _)| *k)
            .collect();
        keys.sort_by_key(|k| (by_key[k].len(), Reverse(*k)));
        keys
    };
    while !room.fits(&count(&forms), target) {
        let per_lane = count(&forms);
        let Some(l) = (0..lanes)
            .filter(|&l| !open.contains(&(None, l)) && !movable(&forms, l).is_empty())
            .max_by_key(|&l| (per_lane[l].div_ceil(room.rows), Reverse(l)))
        else {
            break;
        };
        let need = per_lane[l].div_ceil(room.rows);
        for key in movable(&forms, l) {
            forms.insert(key, Form::InColumn);
            if count(&forms)[l].div_ceil(room.rows) < need {
                break;
            }
        }
    }
    // 3. Opened crowds keep apart as many members as have room.
    for key in open {
        let Some(m) = by_key.get(key).filter(|m| m.len() >= 2) else {
            continue;
        };
        if room.fits(&count(&forms), target) {
            break;
        }
        // The rest is at least two ("1 more client" would be a box).
        for k in (0..=m.len() - 2).rev() {
            forms.insert(*key, Form::Partly(k));
            if room.fits(&count(&forms), target) {
                break;
            }
        }
    }
    let per_lane = count(&forms);
    let boxes = per_lane.iter().sum::<usize>() + band;
    let fit = if room.fits(&per_lane, room.most_columns) && boxes <= max_boxes {
        Ok(())
    } else {
        let room_boxes = room.rows * room.most_columns;
        Err((boxes - room_boxes.min(boxes))
            .max(boxes.saturating_sub(max_boxes))
            .max(1))
    };
    (build(scene, groups, visible, &by_key, &forms), fit)
}

/// The crowds and their edges for the decided `forms`.
fn build(
    scene: &Scene,
    groups: &Groups,
    visible: &[bool],
    by_key: &BTreeMap<Key, Vec<usize>>,
    forms: &BTreeMap<Key, Form>,
) -> Crowds {
    let n = scene.hosts.len();
    let mut nodes = Vec::new();
    let mut columns: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (key, form) in forms {
        let m = &by_key[key];
        let (members, rest) = match *form {
            Form::Apart => continue,
            Form::Gathered => (m.clone(), false),
            Form::Partly(k) => (m[k..].to_vec(), k > 0),
            Form::InColumn => {
                columns.entry(key.1).or_default().extend(m);
                continue;
            }
        };
        nodes.push(Crowd {
            key: *key,
            members,
            rest,
            servers: 0,
        });
    }
    for (l, mut members) in columns {
        if members.len() >= 2 {
            members.sort_by_key(|&h| (Reverse(scene.hosts[h].bytes), h));
            nodes.push(Crowd {
                key: (None, l),
                members,
                rest: false,
                servers: 0,
            });
        }
    }
    let mut of_host = vec![None; n];
    let mut laid = visible.to_vec();
    for (k, c) in nodes.iter().enumerate() {
        for &h in &c.members {
            of_host[h] = Some(k);
            laid[h] = false;
        }
        laid[c.rep()] = true;
    }
    // One edge per crowd, server and protocol.
    let mut edges: Vec<EdgeGroup> = Vec::new();
    let mut labels: Vec<BTreeSet<(u16, &str)>> = Vec::new();
    let mut index: HashMap<(usize, usize, Protocol), usize> = HashMap::new();
    let mut of_group = HashMap::new();
    for (gi, g) in groups.groups.iter().enumerate() {
        let Some(k) = of_host[g.client] else {
            continue;
        };
        if !visible[g.server] {
            continue;
        }
        let first = &scene.conns[g.conns[0]];
        let e = *index
            .entry((k, g.server, first.protocol))
            .or_insert_with(|| {
                edges.push(EdgeGroup {
                    client: nodes[k].rep(),
                    server: g.server,
                    conns: Vec::new(),
                    label: String::new(),
                    offset: 0.0,
                });
                labels.push(BTreeSet::new());
                edges.len() - 1
            });
        edges[e].conns.extend(&g.conns);
        labels[e].insert((first.server.port(), g.label.as_str()));
        of_group.insert(gi, e);
    }
    let mut pairs: BTreeMap<(usize, usize), Vec<usize>> = BTreeMap::new();
    for (e, edge) in edges.iter_mut().enumerate() {
        edge.conns.sort_unstable();
        edge.label = crowd_label(scene.conns[edge.conns[0]].protocol, &labels[e]);
        pairs.entry((edge.client, edge.server)).or_default().push(e);
    }
    // Edges of one crowd to one server side by side (placement::Groups).
    for members in pairs.values() {
        let n = members.len().min(9);
        for (k, &e) in members.iter().enumerate() {
            edges[e].offset = k.min(n - 1) as f32 - (n as f32 - 1.0) / 2.0;
        }
    }
    for c in &mut nodes {
        let rep = c.rep();
        c.servers = pairs.keys().filter(|(cl, _)| *cl == rep).count();
    }
    Crowds {
        nodes,
        edges,
        of_host,
        laid,
        of_group,
        n_groups: groups.groups.len(),
    }
}

/// The label of a crowd's edge: its connections' common label (`SMTP 25`),
/// or the protocol and every port (`SMTP 25/587`) when they differ.
fn crowd_label(protocol: Protocol, labels: &BTreeSet<(u16, &str)>) -> String {
    let distinct: BTreeSet<&str> = labels.iter().map(|(_, l)| *l).collect();
    if let [one] = distinct.into_iter().collect::<Vec<_>>()[..] {
        return one.to_string();
    }
    let mut ports: Vec<u16> = labels.iter().map(|(p, _)| *p).collect();
    ports.dedup();
    let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
    let name = match protocol {
        Protocol::Unknown => "TCP".to_string(),
        p => p.as_str().to_uppercase(),
    };
    format!("{name} {}", ports.join("/"))
}

/// Leaves out `excess` boxes' worth of hosts: the least busy clients drawn
/// apart first, then the least busy servers with the clients that only
/// they served.
fn leave_out(scene: &Scene, groups: &Groups, visible: &mut [bool], crowds: &Crowds, excess: usize) {
    let lane = placement::lanes(scene, visible);
    let mut serves = vec![false; visible.len()];
    for g in &groups.groups {
        if visible[g.client] && visible[g.server] {
            serves[g.server] = true;
        }
    }
    let mut apart: Vec<usize> = (0..visible.len())
        .filter(|&h| crowds.laid[h] && crowds.of_host[h].is_none())
        .filter(|&h| matches!(lane[h], Some((_, false))))
        .collect();
    apart.sort_by_key(|&h| (serves[h], scene.hosts[h].bytes, h));
    for &h in apart.iter().take(excess) {
        visible[h] = false;
        if serves[h] {
            // Its gathered clients go with it.
            for c in crowds.nodes.iter().filter(|c| c.key.0 == Some(h)) {
                for &m in &c.members {
                    visible[m] = false;
                }
            }
        }
    }
}

/// The rectangle of crowd `c`'s node at `place` (centre, widest allowed).
pub fn node_box(
    painter: &egui::Painter,
    lang: Lang,
    c: &Crowd,
    (at, max_w): (Pos2, f32),
    box_h: f32,
    scale: f32,
) -> Rect {
    let w = painter
        .layout_no_wrap(
            title(lang, c),
            FontId::proportional(14.0 * scale),
            Color32::BLACK,
        )
        .size()
        .x;
    let w = (w + 24.0 * scale)
        .max(BOX_W * scale)
        .min(max_w.max(TIGHT_BOX_W));
    Rect::from_center_size(at, Vec2::new(w, box_h))
}

fn title(lang: Lang, c: &Crowd) -> String {
    let n = c.members.len();
    if c.rest {
        lang.f("{} more clients", n)
    } else {
        lang.f("{} clients", n)
    }
}

/// Draws crowd `c` in `r`: a stack of cards with the count, the server (or
/// how many), and what a click does. True when it was clicked.
pub fn draw_node(
    ui: &Ui,
    painter: &egui::Painter,
    lang: Lang,
    scene: &Scene,
    c: &Crowd,
    r: Rect,
) -> bool {
    let scale = r.height() / 54.0;
    let d = 5.0 * scale;
    let front = Rect::from_min_max(r.min + Vec2::new(0.0, d), r.max - Vec2::new(d, 0.0));
    let fill = Color32::from_rgb(255, 244, 214);
    let stroke = Stroke::new(1.5 * scale, Color32::from_gray(90));
    for card in [front.translate(Vec2::new(d, -d)), front] {
        painter.rect_filled(card, 8.0, fill);
        painter.rect_stroke(card, 8.0, stroke, egui::StrokeKind::Inside);
    }
    let inner = front.width() - 8.0 * scale;
    let line = |text: String, size: f32, y: f32, color: Color32| {
        let font = FontId::proportional(size * scale);
        let mut text = text;
        let mut g = painter.layout_no_wrap(text.clone(), font.clone(), color);
        while g.size().x > inner && text.chars().count() > 2 {
            let n = text.trim_end_matches('…').chars().count();
            text = placement::ellipsize(&text, n.saturating_sub(2).max(1));
            g = painter.layout_no_wrap(text.clone(), font.clone(), color);
        }
        let at = Pos2::new(front.center().x - g.size().x / 2.0, y - g.size().y / 2.0);
        painter.galley(at, g, color);
    };
    let h = front.height();
    line(title(lang, c), 14.0, front.top() + h * 0.22, Color32::BLACK);
    let server = match c.key.0 {
        Some(s) => lang.f("of {}", placement::capped_name(&scene.hosts[s].name)),
        None => lang.f("of {} servers", c.servers),
    };
    line(server, 11.0, front.top() + h * 0.55, Color32::from_gray(60));
    let hint = if c.rest {
        lang.t("no room to show them")
    } else {
        lang.t("click to show them")
    };
    line(
        hint.to_string(),
        10.0,
        front.top() + h * 0.82,
        Color32::from_gray(90),
    );
    // The members' names on hover: who is in there.
    let mut names: Vec<String> = c
        .members
        .iter()
        .take(12)
        .map(|&m| {
            let h = &scene.hosts[m];
            format!("{} ({})", placement::capped_name(&h.name), h.addr)
        })
        .collect();
    if c.members.len() > 12 {
        names.push(lang.f("and {} more", c.members.len() - 12));
    }
    let sense = if c.rest {
        Sense::hover()
    } else {
        Sense::click()
    };
    let response = ui.interact(r, ui.scope_id().with(("crowd", c.key)), sense);
    // Named like a button, for screen readers (and the tests).
    let name = title(lang, c);
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &name));
    let response = response.on_hover_text(names.join("\n"));
    !c.rest && response.clicked()
}

/// (English, Spanish), sorted by the English text.
pub const SPANISH: &[(&str, &str)] = &[
    ("Gather the clients again", "Volver a agrupar los clientes"),
    ("and {} more", "y {} más"),
    ("click to show them", "clic para verlos"),
    ("no room to show them", "no caben más"),
    ("of {}", "de {}"),
    ("of {} servers", "de {} servidores"),
    ("{} clients", "{} clientes"),
    ("{} more clients", "{} clientes más"),
];
