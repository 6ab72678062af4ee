//! A host's box in the picture of the mail path: how wide it is drawn
//! (the capped name, the role and the address), and the drawing itself,
//! coloured by the host's role (`Role`) so a classroom sees at a glance
//! who is a user agent, a server, the DNS, or the attacker on the path.

use std::collections::BTreeMap;

use egui::{Align2, Color32, FontId, Pos2, Rect, Sense, Stroke, Ui, Vec2};

use super::crowd::{self, Crowds};
use super::i18n::Lang;
use super::model::{Host, Role, Scene};
use super::placement;

/// Host boxes (host index → rectangle) for the hosts laid out: as wide as
/// the capped name, the role and the address need, no wider than the host's
/// column allows. A crowd's box is its first member's.
pub(super) fn host_boxes(
    painter: &egui::Painter,
    lang: Lang,
    scene: &Scene,
    crowds: &Crowds,
    places: &[(Pos2, f32)],
    box_h: f32,
    scale: f32,
) -> BTreeMap<usize, Rect> {
    let mut out = BTreeMap::new();
    for (i, h) in scene.hosts.iter().enumerate() {
        if !crowds.laid[i] {
            continue;
        }
        if let Some(k) = crowds.of_host[i] {
            let c = &crowds.nodes[k];
            out.insert(
                i,
                crowd::node_box(painter, lang, c, places[i], box_h, scale),
            );
            continue;
        }
        let (p, max_w) = places[i];
        let w = [
            (
                placement::capped_name(&h.name),
                FontId::proportional(14.0 * scale),
            ),
            (h.addr.to_string(), FontId::monospace(11.0 * scale)),
        ]
        .into_iter()
        .map(|(t, f)| painter.layout_no_wrap(t, f, Color32::BLACK).size().x)
        .fold(0.0f32, f32::max);
        let w = (w + 16.0 * scale)
            .max(crowd::BOX_W * scale)
            .min(max_w.max(crowd::TIGHT_BOX_W));
        out.insert(i, Rect::from_center_size(p, Vec2::new(w, box_h)));
    }
    out
}

/// The frame of a host that stripped STARTTLS (`Role::Interceptor`).
pub const INTERCEPTOR_RED: Color32 = Color32::from_rgb(200, 30, 30);

/// One host's box: name (capped, the full one on hover), role, address.
pub(super) fn draw_host(
    ui: &Ui,
    painter: &egui::Painter,
    lang: Lang,
    h: &Host,
    r: Rect,
    scale: f32,
) {
    let fill = match h.role {
        Role::UserAgent => Color32::from_rgb(255, 244, 214),
        Role::MailServer => Color32::from_rgb(220, 234, 255),
        Role::Interceptor => Color32::from_rgb(255, 205, 205),
        Role::Dns => Color32::from_rgb(214, 245, 245),
        Role::Other => Color32::from_gray(235),
    };
    painter.rect_filled(r, 8.0, fill);
    // The attacker's box gets a red frame, thick enough to see from the
    // back of a classroom.
    let stroke = match h.role {
        Role::Interceptor => Stroke::new(3.0 * scale, INTERCEPTOR_RED),
        _ => Stroke::new(1.5 * scale, Color32::from_gray(90)),
    };
    painter.rect_stroke(r, 8.0, stroke, egui::StrokeKind::Inside);
    let role = match h.role {
        Role::UserAgent => lang.t("user agent"),
        Role::MailServer => lang.t("mail server"),
        Role::Interceptor => lang.t("strips STARTTLS"),
        Role::Dns => lang.t("DNS server"),
        Role::Other => lang.t("host"),
    };
    // The name is cut to the box (a column narrower than the name).
    let inner = r.width() - 8.0 * scale;
    let mut name = placement::capped_name(&h.name);
    let font = FontId::proportional(14.0 * scale);
    let mut g = painter.layout_no_wrap(name.clone(), font.clone(), Color32::BLACK);
    while g.size().x > inner && name.chars().count() > 2 {
        let n = name.trim_end_matches('…').chars().count();
        name = placement::ellipsize(&h.name, n.saturating_sub(2).max(1));
        g = painter.layout_no_wrap(name.clone(), font.clone(), Color32::BLACK);
    }
    painter.galley(
        r.center_top() + Vec2::new(-g.size().x / 2.0, 4.0 * scale),
        g,
        Color32::BLACK,
    );
    // The role in smaller type when the box is narrower than the words
    // ("agente de usuario" in a presenter's narrow column), never below
    // eight points.
    let grey = Color32::from_gray(60);
    let mut size = 11.0 * scale;
    let mut g = painter.layout_no_wrap(role.to_string(), FontId::proportional(size), grey);
    if g.size().x > inner {
        size = (size * inner / g.size().x).max(8.0);
        g = painter.layout_no_wrap(role.to_string(), FontId::proportional(size), grey);
    }
    painter.galley(
        r.center() + Vec2::new(-g.size().x / 2.0, 4.0 * scale - g.size().y / 2.0),
        g,
        grey,
    );
    painter.text(
        r.center_bottom() - Vec2::new(0.0, 4.0 * scale),
        Align2::CENTER_BOTTOM,
        h.addr.to_string(),
        FontId::monospace(11.0 * scale),
        Color32::from_gray(60),
    );
    if name != h.name {
        ui.interact(r, ui.scope_id().with(("host", h.addr)), Sense::hover())
            .on_hover_text(&h.name);
    }
}
