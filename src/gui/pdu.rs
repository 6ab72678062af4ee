//! Packet Tracer's PDU detail and Wireshark's packet list: one packet's
//! layers (link, IP, TCP or UDP, DNS, the application line it carries) and
//! the list of every packet kept.
//!
//! The scene keeps no packet bytes; the detail reads its packet from the
//! file again ([`super::bytes::fetch`]) and takes the TCP and UDP fields
//! from the same decoder the analysis runs ([`Decoder`]), the link layer
//! from [`crate::capture::link`]. Only what those do not keep (MAC
//! addresses, the IP header's TTL and protocol number) is read here from
//! the headers with etherparse, the crate the decoder itself uses.

use egui::{Color32, RichText, Ui};

use super::bytes::PacketBytes;
use super::i18n::Lang;
use super::model::{Scene, Wire};
use super::timeline::clock_text;
use crate::capture::link::{self, ETHERTYPE_IPV4, ETHERTYPE_IPV6};
use crate::capture::{DecodeOutcome, Decoder, Packet, TcpFlags, Timestamp};
use crate::flow::Direction;
use crate::trace::text::visible;

/// The panel's strings in Spanish, sorted by the English text.
pub const SPANISH: &[(&str, &str)] = &[
    ("Acknowledgment number", "Número de acuse (ACK)"),
    ("Acknowledgment number (raw)", "Número de acuse (en bruto)"),
    ("Answer", "Respuesta"),
    ("Destination", "Destino"),
    ("Destination port", "Puerto de destino"),
    ("Event", "Evento"),
    ("Flags", "Indicadores"),
    ("Frame", "Trama"),
    ("Hop limit", "Límite de saltos"),
    ("Info", "Info"),
    ("Length", "Longitud"),
    ("Link layer", "Capa de enlace"),
    ("Next packet", "Siguiente paquete"),
    ("No.", "N.º"),
    ("Number", "Número"),
    ("PDU detail", "Detalle de la PDU"),
    ("Payload length", "Longitud de los datos"),
    ("Previous packet", "Paquete anterior"),
    ("Question", "Pregunta"),
    ("Reading the packet…", "Leyendo el paquete…"),
    ("Sequence number", "Número de secuencia"),
    ("Sequence number (raw)", "Número de secuencia (en bruto)"),
    ("Source", "Origen"),
    ("Source port", "Puerto de origen"),
    ("Step", "Paso"),
    ("Time to live", "Tiempo de vida (TTL)"),
    ("Total length", "Longitud total"),
    ("Type", "Tipo"),
    ("Window", "Ventana"),
    ("{} bytes captured", "{} bytes capturados"),
    ("{} bytes on the wire", "{} bytes en la red"),
];

/// One layer of a packet: a title and its fields, in English (the panel
/// translates names when it draws them; values are the wire's).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layer {
    pub title: String,
    pub fields: Vec<(&'static str, String)>,
}

/// A packet taken apart, layer by layer.
#[derive(Clone, Debug)]
pub struct Pdu {
    /// Index into [`Scene::wire`].
    pub wire: usize,
    pub layers: Vec<Layer>,
}

impl Pdu {
    /// The value of field `name` of the layer titled `layer` (tests, and
    /// the list's Info).
    pub fn field(&self, layer: &str, name: &str) -> Option<&str> {
        self.layers
            .iter()
            .find(|l| l.title == layer)?
            .fields
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// `SYN, ACK`: the flags set, in the order the header has them.
pub fn flags_text(f: TcpFlags) -> String {
    let names = [
        (f.fin, "FIN"),
        (f.syn, "SYN"),
        (f.rst, "RST"),
        (f.psh, "PSH"),
        (f.ack, "ACK"),
    ];
    let set: Vec<&str> = names
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, n)| *n)
        .collect();
    // A handshake reads SYN then ACK, as the textbook says "SYN-ACK".
    let mut set = set;
    if f.syn && f.ack {
        set.retain(|n| *n != "SYN" && *n != "ACK");
        set.insert(0, "ACK");
        set.insert(0, "SYN");
    }
    set.join(", ")
}

fn mac(b: [u8; 6]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn link_name(linktype: u16) -> String {
    match linktype {
        link::LINKTYPE_ETHERNET => "Ethernet II".into(),
        link::LINKTYPE_RAW | link::LINKTYPE_IPV4 | link::LINKTYPE_IPV6 => "Raw IP".into(),
        link::LINKTYPE_NULL | link::LINKTYPE_LOOP => "BSD loopback".into(),
        link::LINKTYPE_LINUX_SLL => "Linux cooked capture (SLL)".into(),
        link::LINKTYPE_LINUX_SLL2 => "Linux cooked capture v2 (SLL2)".into(),
        other => format!("LINKTYPE {other}"),
    }
}

fn ip_protocol_name(n: u8) -> String {
    match n {
        6 => "TCP (6)".into(),
        17 => "UDP (17)".into(),
        1 => "ICMP (1)".into(),
        58 => "ICMPv6 (58)".into(),
        n => n.to_string(),
    }
}

/// Takes wire packet `k` of `scene` apart, from its bytes `p`.
pub fn decode(scene: &Scene, k: usize, p: &PacketBytes) -> Pdu {
    let mut layers = Vec::new();
    layers.push(Layer {
        title: "Frame".into(),
        fields: vec![
            ("Number", (p.index + 1).to_string()),
            ("Time", clock_text(scene.wire_t(k))),
            ("Length", format!("{} / {}", p.orig_len, p.frame.len())),
        ],
    });
    // The link layer.
    let mut link_fields = vec![("Type", link_name(p.linktype))];
    if p.linktype == link::LINKTYPE_ETHERNET
        && let Ok(eth) = etherparse::Ethernet2HeaderSlice::from_slice(&p.frame)
    {
        link_fields.push(("Source", mac(eth.source())));
        link_fields.push(("Destination", mac(eth.destination())));
    }
    let net = link::network_packet(p.linktype, &p.frame).ok();
    if let Some(net) = net {
        link_fields.push(("Protocol", format!("0x{:04x}", net.ether_type)));
    }
    layers.push(Layer {
        title: if p.linktype == link::LINKTYPE_ETHERNET {
            "Ethernet II".into()
        } else {
            "Link layer".into()
        },
        fields: link_fields,
    });
    // IP: addresses, TTL (hop limit), protocol.
    if let Some(net) = net
        && (net.ether_type == ETHERTYPE_IPV4 || net.ether_type == ETHERTYPE_IPV6)
        && let Ok((ip, _)) = etherparse::LaxIpSlice::from_slice(net.data)
    {
        // The two versions name their hop count and length differently.
        let (title, hops, protocol, length) = match &ip {
            etherparse::LaxIpSlice::Ipv4(v4) => {
                let h = v4.header();
                let hops = ("Time to live", h.ttl());
                (
                    "IPv4",
                    hops,
                    h.protocol().0,
                    ("Total length", h.total_len()),
                )
            }
            etherparse::LaxIpSlice::Ipv6(v6) => {
                let h = v6.header();
                let hops = ("Hop limit", h.hop_limit());
                let length = ("Payload length", h.payload_length());
                ("IPv6", hops, ip.payload().ip_number.0, length)
            }
        };
        layers.push(Layer {
            title: title.into(),
            fields: vec![
                ("Source", ip.source_addr().to_string()),
                ("Destination", ip.destination_addr().to_string()),
                (hops.0, hops.1.to_string()),
                ("Protocol", ip_protocol_name(protocol)),
                (length.0, length.1.to_string()),
            ],
        });
    }
    // The transport, from the analysis' own decoder.
    let packet = Packet {
        index: p.index,
        ts: Timestamp::default(),
        linktype: p.linktype,
        interface: 0,
        data: &p.frame,
        orig_len: p.orig_len,
    };
    match scene.wire[k] {
        Wire::Tcp(i) => {
            let pkt = &scene.packets[i as usize];
            let mut decoder = Decoder::new();
            if let DecodeOutcome::Tcp(seg) = decoder.decode(&packet) {
                let conn = &scene.conns[pkt.conn as usize];
                // Relative numbers as Wireshark shows them: 0 for the SYN,
                // 1 for the first byte (RFC 9293 §3.4: the SYN takes one).
                let rel = |n: u32, dir: Direction| {
                    conn.stream_base[dir.index()]
                        .map(|b| n.wrapping_sub(b).wrapping_add(1).to_string())
                        .unwrap_or_else(|| "?".into())
                };
                let back = match pkt.dir {
                    Direction::ClientToServer => Direction::ServerToClient,
                    Direction::ServerToClient => Direction::ClientToServer,
                };
                let mut fields = vec![
                    ("Source port", seg.src.port().to_string()),
                    ("Destination port", seg.dst.port().to_string()),
                    ("Flags", flags_text(seg.flags)),
                    ("Sequence number", rel(seg.seq, pkt.dir)),
                    ("Sequence number (raw)", seg.seq.to_string()),
                ];
                if seg.flags.ack {
                    fields.push(("Acknowledgment number", rel(seg.ack, back)));
                    fields.push(("Acknowledgment number (raw)", seg.ack.to_string()));
                }
                fields.push(("Window", seg.window.to_string()));
                fields.push(("Payload length", seg.wire_len.to_string()));
                layers.push(Layer {
                    title: "TCP".into(),
                    fields,
                });
                // The application line(s) the packet carries, escaped.
                let lines: Vec<String> = conn
                    .lines
                    .iter()
                    .map(|&li| &scene.lines[li])
                    .filter(|l| l.packets.contains(&pkt.index))
                    .take(8)
                    .map(|l| visible(&format!("{} {}", l.speaker(), l.text)).into_owned())
                    .collect();
                if !lines.is_empty() {
                    let name = match conn.protocol {
                        crate::proto::Protocol::Unknown => "TCP".to_string(),
                        p => p.as_str().to_uppercase(),
                    };
                    layers.push(Layer {
                        title: name,
                        fields: lines.into_iter().map(|l| ("Line", l)).collect(),
                    });
                }
            }
        }
        Wire::Dns(i) => {
            let d = &scene.dns[i as usize];
            if let Some(udp) = Decoder::udp(&packet) {
                layers.push(Layer {
                    title: "UDP".into(),
                    fields: vec![
                        ("Source port", udp.src.port().to_string()),
                        ("Destination port", udp.dst.port().to_string()),
                        ("Payload length", udp.payload.len().to_string()),
                    ],
                });
            }
            let (q, a) = match d.text.split_once(" -> ") {
                Some((q, a)) => (format!("{q}?"), Some(a.to_string())),
                None => (d.text.clone(), None),
            };
            let mut fields = vec![("Question", visible(&q).into_owned())];
            if let Some(a) = a {
                fields.push(("Answer", visible(&a).into_owned()));
            }
            layers.push(Layer {
                title: "DNS".into(),
                fields,
            });
        }
    }
    Pdu { wire: k, layers }
}

/// The PDU detail: each layer a heading and its fields, one label each
/// (`Time to live: 64`).
pub fn show(ui: &mut Ui, lang: Lang, pdu: &Pdu, presenter: bool) {
    let size = if presenter { 17.0 } else { 12.5 };
    for layer in &pdu.layers {
        let title = match layer.title.as_str() {
            "Frame" => lang.t("Frame").to_string(),
            "Link layer" => lang.t("Link layer").to_string(),
            other => other.to_string(),
        };
        ui.label(RichText::new(title).strong().size(size + 1.0));
        for (name, value) in &layer.fields {
            let text = match *name {
                "Line" => value.clone(),
                // A decimal comma in Spanish.
                "Time" => format!("{}: {}", field_name(lang, name), lang.number(value.clone())),
                _ => format!("{}: {value}", field_name(lang, name)),
            };
            ui.add(
                egui::Label::new(RichText::new(format!("  {text}")).monospace().size(size)).wrap(),
            );
        }
    }
}

fn field_name(lang: Lang, name: &str) -> String {
    // The names are the fixed set `decode` writes.
    let known: &[&'static str] = &[
        "Number",
        "Time",
        "Length",
        "Type",
        "Source",
        "Destination",
        "Protocol",
        "Time to live",
        "Total length",
        "Hop limit",
        "Payload length",
        "Source port",
        "Destination port",
        "Flags",
        "Sequence number",
        "Sequence number (raw)",
        "Acknowledgment number",
        "Acknowledgment number (raw)",
        "Window",
        "Question",
        "Answer",
    ];
    match known.iter().find(|k| **k == name) {
        Some(k) => lang.t(k).to_string(),
        None => name.to_string(),
    }
}

/// One row of the packet list: No., time, source, destination, protocol,
/// length, info.
pub fn row(scene: &Scene, k: usize) -> [String; 7] {
    match scene.wire[k] {
        Wire::Tcp(i) => {
            let p = &scene.packets[i as usize];
            let c = &scene.conns[p.conn as usize];
            let (src, dst) = match p.dir {
                Direction::ClientToServer => (c.client, c.server),
                Direction::ServerToClient => (c.server, c.client),
            };
            let proto = match (c.protocol, p.len) {
                (crate::proto::Protocol::Unknown, _) | (_, 0) => "TCP".to_string(),
                (pr, _) => pr.as_str().to_uppercase(),
            };
            let line = p
                .line
                .and_then(|l| scene.lines.get(l as usize))
                .map(|l| format!("  {} {}", l.speaker(), visible(&l.text)));
            let info = format!(
                "{} → {} [{}] Len={}{}",
                src.port(),
                dst.port(),
                flags_text(p.flags),
                p.len,
                line.unwrap_or_default()
            );
            [
                (p.index + 1).to_string(),
                clock_text(p.t),
                src.to_string(),
                dst.to_string(),
                proto,
                p.frame_len.to_string(),
                info,
            ]
        }
        Wire::Dns(i) => {
            let d = &scene.dns[i as usize];
            [
                (d.index + 1).to_string(),
                clock_text(d.t),
                d.src.to_string(),
                d.dst.to_string(),
                "DNS".into(),
                d.frame_len.to_string(),
                visible(&d.text).into_owned(),
            ]
        }
    }
}

/// The packet list, virtualised (only the rows on screen are laid out);
/// returns the row clicked. `current` is the packet the step mode stopped
/// at, `selected` the one clicked before; `scroll_to` brings a row into
/// view (once, when the step moved: the user's own scrolling is left be).
pub fn list(
    ui: &mut Ui,
    lang: Lang,
    scene: &Scene,
    (selected, current): (Option<usize>, Option<usize>),
    scroll_to: Option<usize>,
    presenter: bool,
) -> Option<usize> {
    let size = if presenter { 16.0 } else { 12.0 };
    let widths = [6usize, 11, 20, 20, 9, 9];
    let fmt = |cells: [&str; 7]| {
        let mut out = String::new();
        for (i, w) in widths.iter().enumerate() {
            let cell: String = cells[i].chars().take(w - 1).collect();
            out.push_str(&format!("{cell:<w$}"));
        }
        out.push_str(cells[6]);
        out
    };
    ui.label(
        RichText::new(fmt([
            lang.t("No."),
            lang.t("Time"),
            lang.t("Source"),
            lang.t("Destination"),
            lang.t("Protocol"),
            lang.t("Length"),
            lang.t("Info"),
        ]))
        .monospace()
        .size(size)
        .strong(),
    );
    let mut clicked = None;
    let row_h = size + 6.0;
    let mut area = egui::ScrollArea::both()
        .id_salt("packet-list")
        .auto_shrink([false, false])
        .max_height(ui.available_height());
    if let Some(k) = scroll_to {
        let spaced = row_h + ui.spacing().item_spacing.y;
        area = area.vertical_scroll_offset((spaced * k as f32 - 3.0 * spaced).max(0.0));
    }
    area.show_rows(ui, row_h, scene.wire.len(), |ui, range| {
        for k in range {
            let cells = row(scene, k);
            let text = fmt([
                &cells[0], &cells[1], &cells[2], &cells[3], &cells[4], &cells[5], &cells[6],
            ]);
            let mut rich = RichText::new(text).monospace().size(size);
            if current == Some(k) {
                rich = rich
                    .background_color(Color32::from_rgb(250, 210, 60))
                    .color(Color32::BLACK);
            }
            if ui
                .add(
                    egui::Button::selectable(selected == Some(k), rich)
                        .wrap_mode(egui::TextWrapMode::Extend),
                )
                .clicked()
            {
                clicked = Some(k);
            }
        }
    });
    clicked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_read_as_the_textbook_writes_them() {
        let f = |syn, ack, fin, rst, psh| TcpFlags {
            syn,
            ack,
            fin,
            rst,
            psh,
        };
        assert_eq!(flags_text(f(true, false, false, false, false)), "SYN");
        assert_eq!(flags_text(f(true, true, false, false, false)), "SYN, ACK");
        assert_eq!(flags_text(f(false, true, false, false, true)), "PSH, ACK");
        assert_eq!(flags_text(f(false, true, true, false, false)), "FIN, ACK");
    }
}
