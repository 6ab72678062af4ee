//! The flows table (for captures with many connections) and the findings
//! list. Both are filtered and virtualised: only the rows on screen are
//! laid out, so a capture with 100 000 flows scrolls smoothly.

use std::net::SocketAddr;

use egui::{Color32, RichText, Ui};
use egui_extras::{Column, TableBuilder};

use super::i18n::Lang;
use super::model::Scene;
use super::timeline::clock_text;
use crate::proto::Protocol;
use crate::trace::Severity;

/// One DNS exchange, as Wireshark's UDP conversations count it: the
/// datagrams between one client socket and one server socket (RFC 1035
/// §4.2.1: a question and its answer travel between the same two ports).
#[derive(Clone, Debug, PartialEq)]
pub struct DnsFlow {
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub client_host: usize,
    pub server_host: usize,
    /// The questions asked, `MX hamburger.edu` (several joined by `; `).
    pub question: String,
    /// What came back, `MX 10 hamburger.edu, A 127.0.10.3` (empty while
    /// unanswered).
    pub answers: String,
    pub packets: u64,
    /// DNS message bytes (UDP payloads), both ways.
    pub bytes: u64,
    /// When the first datagram was seen.
    pub start: f64,
}

impl DnsFlow {
    /// The Info column: `MX hamburger.edu? -> MX 10 hamburger.edu, …` (an
    /// ASCII arrow: egui's own font has no `→`).
    pub fn info(&self) -> String {
        if self.answers.is_empty() {
            format!("{}?", self.question)
        } else {
            format!("{}? -> {}", self.question, self.answers)
        }
    }
}

/// The scene's DNS datagrams grouped into exchanges, in the order of their
/// first datagram.
pub fn dns_flows(scene: &Scene) -> Vec<DnsFlow> {
    let mut flows: Vec<DnsFlow> = Vec::new();
    for d in &scene.dns {
        let (client, server) = if d.query {
            (d.src, d.dst)
        } else {
            (d.dst, d.src)
        };
        let (client_host, server_host) = if d.query {
            (d.from, d.to)
        } else {
            (d.to, d.from)
        };
        let i = match flows
            .iter()
            .position(|f| f.client == client && f.server == server)
        {
            Some(i) => i,
            None => {
                flows.push(DnsFlow {
                    client,
                    server,
                    client_host,
                    server_host,
                    question: String::new(),
                    answers: String::new(),
                    packets: 0,
                    bytes: 0,
                    start: d.t,
                });
                flows.len() - 1
            }
        };
        let f = &mut flows[i];
        f.packets += 1;
        f.bytes += u64::from(d.payload_len);
        // `MX hamburger.edu?` asks; `MX hamburger.edu -> …` answers.
        let (question, answers) = match d.text.split_once(" -> ") {
            Some((q, a)) => (q, a),
            None => (d.text.trim_end_matches('?'), ""),
        };
        if !f.question.split("; ").any(|q| q == question) {
            if !f.question.is_empty() {
                f.question.push_str("; ");
            }
            f.question.push_str(question);
        }
        if !answers.is_empty() {
            if !f.answers.is_empty() {
                f.answers.push_str("; ");
            }
            f.answers.push_str(answers);
        }
    }
    flows
}

/// What the protocol filter keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// TCP connections read as this protocol.
    Tcp(Protocol),
    /// DNS exchanges (UDP).
    Dns,
}

/// One row of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Row {
    /// Index into [`Scene::conns`].
    Conn(usize),
    /// Index into [`FlowFilter::dns`].
    Dns(usize),
}

/// What a click on a row asks for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Pick {
    /// Select this connection.
    Conn(usize),
    /// A DNS exchange: put the playhead at its question.
    At(f64),
}

/// The filter of the flows table.
#[derive(Clone, Debug, Default)]
pub struct FlowFilter {
    /// Matches host names and addresses (case-insensitive substring).
    pub text: String,
    pub kind: Option<Kind>,
    pub with_findings: bool,
    /// The scene's DNS exchanges, and the scene they were read from.
    dns: Option<(usize, Vec<DnsFlow>)>,
    /// Cached rows for the scene and the filter above (None: recompute).
    rows: Option<(RowsKey, Vec<Row>)>,
}

/// What the cached rows were computed for: the scene (its address and
/// sizes: another capture, or the same one read again, is another scene)
/// and the filter.
type RowsKey = ((usize, usize, usize), String, Option<Kind>, bool);

fn scene_key(scene: &Scene) -> (usize, usize, usize) {
    (
        scene as *const Scene as usize,
        scene.conns.len(),
        scene.dns.len(),
    )
}

impl FlowFilter {
    /// The scene's DNS exchanges.
    pub fn dns(&mut self, scene: &Scene) -> &[DnsFlow] {
        let key = scene as *const Scene as usize;
        if self.dns.as_ref().is_none_or(|(k, _)| *k != key) {
            self.dns = Some((key, dns_flows(scene)));
        }
        &self.dns.as_ref().expect("just filled").1
    }

    /// The rows that pass the filter: the connections, then the DNS
    /// exchanges.
    pub fn rows(&mut self, scene: &Scene) -> &[Row] {
        let key: RowsKey = (
            scene_key(scene),
            self.text.clone(),
            self.kind,
            self.with_findings,
        );
        if self.rows.as_ref().is_none_or(|(k, _)| *k != key) {
            let needle = self.text.to_lowercase();
            // A connection or DNS exchange matches by either end's host
            // name or address.
            let matches = |hosts: [usize; 2], addrs: [SocketAddr; 2]| {
                if needle.is_empty() {
                    return true;
                }
                let addrs = addrs.map(|a| a.to_string());
                hosts
                    .iter()
                    .map(|&h| scene.hosts[h].name.as_str())
                    .chain(addrs.iter().map(String::as_str))
                    .any(|s| s.to_lowercase().contains(&needle))
            };
            let mut rows: Vec<Row> = scene
                .conns
                .iter()
                .enumerate()
                .filter(|(_, c)| self.kind.is_none_or(|k| k == Kind::Tcp(c.protocol)))
                .filter(|(_, c)| !self.with_findings || !c.findings.is_empty())
                .filter(|(_, c)| matches([c.client_host, c.server_host], [c.client, c.server]))
                .map(|(i, _)| Row::Conn(i))
                .collect();
            // The analyzer raises no finding on DNS.
            if self.kind.is_none_or(|k| k == Kind::Dns) && !self.with_findings {
                let dns = self.dns(scene).to_vec();
                rows.extend(
                    dns.iter()
                        .enumerate()
                        .filter(|(_, f)| {
                            matches([f.client_host, f.server_host], [f.client, f.server])
                        })
                        .map(|(i, _)| Row::Dns(i)),
                );
            }
            self.rows = Some((key, rows));
        }
        &self.rows.as_ref().expect("just filled").1
    }
}

/// Draws the table; returns what a click on a row asks for.
pub fn show(
    ui: &mut Ui,
    lang: Lang,
    scene: &Scene,
    filter: &mut FlowFilter,
    selected: Option<usize>,
) -> Option<Pick> {
    ui.horizontal(|ui| {
        let search = ui.label(lang.t("Search"));
        ui.text_edit_singleline(&mut filter.text)
            .labelled_by(search.id);
        let protocol = ui.label(lang.t("Protocol"));
        egui::ComboBox::from_id_salt("proto-filter")
            .selected_text(match filter.kind {
                None => lang.t("All protocols").to_string(),
                Some(Kind::Tcp(p)) => p.as_str().to_uppercase(),
                Some(Kind::Dns) => "DNS".to_string(),
            })
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut filter.kind, None, lang.t("All protocols"));
                for p in [
                    Protocol::Smtp,
                    Protocol::Pop3,
                    Protocol::Imap,
                    Protocol::Tls,
                    Protocol::Unknown,
                ] {
                    ui.selectable_value(
                        &mut filter.kind,
                        Some(Kind::Tcp(p)),
                        p.as_str().to_uppercase(),
                    );
                }
                ui.selectable_value(&mut filter.kind, Some(Kind::Dns), "DNS");
            })
            .response
            .labelled_by(protocol.id);
        ui.checkbox(&mut filter.with_findings, lang.t("With findings only"));
    });
    let rows = filter.rows(scene).to_vec();
    let dns = filter.dns(scene).to_vec();
    let total = scene.conns.len() + dns.len();
    // TCP connections and DNS exchanges alike, as Wireshark's
    // conversations count both.
    ui.label(lang.f2("{} of {} flows", rows.len(), total));
    // Scrolled sideways where even then the columns do not fit (presenter
    // mode's bigger type at 1280 px): no column is out of reach.
    egui::ScrollArea::horizontal()
        .id_salt("flows-wide")
        .show(ui, |ui| table(ui, lang, scene, &rows, &dns, selected))
        .inner
}

/// The table of [`show`]; returns the row clicked.
fn table(
    ui: &mut Ui,
    lang: Lang,
    scene: &Scene,
    rows: &[Row],
    dns: &[DnsFlow],
    selected: Option<usize>,
) -> Option<Pick> {
    let mut clicked = None;
    TableBuilder::new(ui)
        .id_salt("flows")
        .striped(true)
        .sense(egui::Sense::click())
        .column(Column::exact(40.0))
        .column(Column::exact(120.0))
        // Info beside the protocol: on a 1280-pixel projector the last
        // columns fall off the panel, and a DNS row's question must show.
        .columns(Column::remainder().at_least(100.0), 3)
        // As wide as their header needs ("Paquetes", "Mensajes"), not cut.
        .columns(Column::auto().at_least(80.0), 4)
        .header(20.0, |mut h| {
            for title in [
                "#",
                lang.t("Protocol"),
                "Info",
                lang.t("From"),
                lang.t("To"),
                lang.t("Packets"),
                lang.t("Bytes"),
                lang.t("Messages"),
                lang.t("Findings"),
            ] {
                h.col(|ui| {
                    // On one line: a header cut short says more than one
                    // broken in two ("Paquete / s").
                    ui.add(
                        egui::Label::new(egui::RichText::new(title).strong())
                            .wrap_mode(egui::TextWrapMode::Extend),
                    );
                });
            }
        })
        .body(|body| {
            body.rows(20.0, rows.len(), |mut row| {
                let r = rows[row.index()];
                let cells = match r {
                    Row::Conn(ci) => {
                        let c = &scene.conns[ci];
                        row.set_selected(selected == Some(ci));
                        [
                            c.flow.to_string(),
                            c.label(),
                            c.helo.clone().unwrap_or_default(),
                            format!("{} ({})", scene.hosts[c.client_host].name, c.client),
                            format!("{} ({})", scene.hosts[c.server_host].name, c.server),
                            c.packets.to_string(),
                            (c.bytes[0] + c.bytes[1]).to_string(),
                            c.messages.len().to_string(),
                            c.findings.len().to_string(),
                        ]
                    }
                    Row::Dns(di) => {
                        let f = &dns[di];
                        [
                            String::new(),
                            format!("DNS {} (UDP)", f.server.port()),
                            f.info(),
                            format!("{} ({})", scene.hosts[f.client_host].name, f.client),
                            format!("{} ({})", scene.hosts[f.server_host].name, f.server),
                            f.packets.to_string(),
                            f.bytes.to_string(),
                            String::new(),
                            String::new(),
                        ]
                    }
                };
                for text in cells {
                    row.col(|ui| {
                        ui.add(egui::Label::new(text).truncate().selectable(false));
                    });
                }
                if row.response().clicked() {
                    clicked = Some(match r {
                        Row::Conn(ci) => Pick::Conn(ci),
                        Row::Dns(di) => Pick::At(dns[di].start),
                    });
                }
            });
        });
    clicked
}

fn severity_color(s: Severity) -> Color32 {
    match s {
        Severity::High => Color32::from_rgb(210, 30, 30),
        Severity::Medium => Color32::from_rgb(220, 130, 0),
        Severity::Info => Color32::from_gray(120),
    }
}

/// The findings list; returns the finding clicked (the app selects its
/// connection and moves the playhead to it).
/// Findings listed at most in the Findings tab.
const MAX_FINDINGS_LISTED: usize = 2_000;

pub fn findings(ui: &mut Ui, lang: Lang, scene: &Scene) -> Option<usize> {
    let mut clicked = None;
    ui.heading(lang.t("Findings"));
    if scene.findings.is_empty() {
        ui.label(lang.t("(none)"));
    }
    egui::ScrollArea::vertical()
        .id_salt("findings")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            // Wrapped, not cut; a capture with more findings than this
            // lists the first ones (the JSON report has them all).
            for i in 0..scene.findings.len().min(MAX_FINDINGS_LISTED) {
                let f = &scene.findings[i];
                ui.horizontal_wrapped(|ui| {
                    ui.label(
                        RichText::new(lang.severity(f.record.severity))
                            .strong()
                            .color(severity_color(f.record.severity)),
                    );
                    let place = f
                        .conn
                        .map(|c| format!("#{}", scene.conns[c].flow))
                        .unwrap_or_default();
                    // The code stays as the JSON has it (it is what one
                    // searches for); the sentence is the language's own
                    // when it has one, with the analyzer's case on hover.
                    let text = match lang {
                        Lang::En => format!(
                            "{place} {}  {}: {}",
                            clock_text(f.t),
                            f.record.code,
                            f.record.message
                        ),
                        Lang::Es => format!(
                            "{place} {}  {}: {}",
                            clock_text(f.t),
                            f.record.code,
                            lang.finding_meaning(f.record.code)
                        ),
                    };
                    let mut link = ui.link(text);
                    if lang == Lang::Es {
                        link = link.on_hover_text(&f.record.message);
                    }
                    if link.clicked() {
                        clicked = Some(i);
                    }
                });
            }
        });
    clicked
}
