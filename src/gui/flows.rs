//! The flows table (for captures with many connections) and the findings
//! list. Both are filtered and virtualised: only the rows on screen are
//! laid out, so a capture with 100 000 flows scrolls smoothly.

use egui::{Color32, RichText, Ui};
use egui_extras::{Column, TableBuilder};

use super::i18n::Lang;
use super::model::Scene;
use super::timeline::clock_text;
use crate::proto::Protocol;
use crate::trace::Severity;

/// The filter of the flows table.
#[derive(Clone, Debug, Default)]
pub struct FlowFilter {
    /// Matches host names and addresses (case-insensitive substring).
    pub text: String,
    pub protocol: Option<Protocol>,
    pub with_findings: bool,
    /// Cached rows for the filter above (None: recompute).
    rows: Option<(String, Option<Protocol>, bool, Vec<usize>)>,
}

impl FlowFilter {
    /// The connections that pass the filter.
    pub fn rows(&mut self, scene: &Scene) -> &[usize] {
        let key = (self.text.clone(), self.protocol, self.with_findings);
        let stale = self
            .rows
            .as_ref()
            .is_none_or(|(t, p, f, _)| (t, p, f) != (&key.0, &key.1, &key.2));
        if stale {
            let needle = self.text.to_lowercase();
            let rows = scene
                .conns
                .iter()
                .enumerate()
                .filter(|(_, c)| self.protocol.is_none_or(|p| p == c.protocol))
                .filter(|(_, c)| !self.with_findings || !c.findings.is_empty())
                .filter(|(_, c)| {
                    needle.is_empty()
                        || [
                            &scene.hosts[c.client_host].name,
                            &scene.hosts[c.server_host].name,
                            &c.client.to_string(),
                            &c.server.to_string(),
                        ]
                        .iter()
                        .any(|s| s.to_lowercase().contains(&needle))
                })
                .map(|(i, _)| i)
                .collect();
            self.rows = Some((key.0, key.1, key.2, rows));
        }
        &self.rows.as_ref().expect("just filled").3
    }
}

/// Draws the table; returns the connection clicked.
pub fn show(
    ui: &mut Ui,
    lang: Lang,
    scene: &Scene,
    filter: &mut FlowFilter,
    selected: Option<usize>,
) -> Option<usize> {
    let mut clicked = None;
    ui.horizontal(|ui| {
        ui.label(lang.t("Search"));
        ui.text_edit_singleline(&mut filter.text);
        let protocol = ui.label(lang.t("Protocol"));
        egui::ComboBox::from_id_salt("proto-filter")
            .selected_text(match filter.protocol {
                None => lang.t("All protocols").to_string(),
                Some(p) => p.as_str().to_uppercase(),
            })
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut filter.protocol, None, lang.t("All protocols"));
                for p in [
                    Protocol::Smtp,
                    Protocol::Pop3,
                    Protocol::Imap,
                    Protocol::Tls,
                    Protocol::Unknown,
                ] {
                    ui.selectable_value(&mut filter.protocol, Some(p), p.as_str().to_uppercase());
                }
            })
            .response
            .labelled_by(protocol.id);
        ui.checkbox(&mut filter.with_findings, lang.t("With findings only"));
    });
    let rows = filter.rows(scene).to_vec();
    ui.label(lang.f2("{} of {} connections", rows.len(), scene.conns.len()));
    TableBuilder::new(ui)
        .id_salt("flows")
        .striped(true)
        .sense(egui::Sense::click())
        .column(Column::exact(50.0))
        .column(Column::exact(120.0))
        .columns(Column::remainder().at_least(150.0), 2)
        // As wide as their header needs ("Paquetes", "Mensajes"), not cut.
        .columns(Column::auto().at_least(80.0), 4)
        .header(20.0, |mut h| {
            for title in [
                "#",
                lang.t("Protocol"),
                lang.t("From"),
                lang.t("To"),
                lang.t("Packets"),
                lang.t("Bytes"),
                lang.t("Messages"),
                lang.t("Findings"),
            ] {
                h.col(|ui| {
                    ui.strong(title);
                });
            }
        })
        .body(|body| {
            body.rows(20.0, rows.len(), |mut row| {
                let ci = rows[row.index()];
                let c = &scene.conns[ci];
                row.set_selected(selected == Some(ci));
                let cells = [
                    c.flow.to_string(),
                    c.label(),
                    format!("{} ({})", scene.hosts[c.client_host].name, c.client),
                    format!("{} ({})", scene.hosts[c.server_host].name, c.server),
                    c.packets.to_string(),
                    (c.bytes[0] + c.bytes[1]).to_string(),
                    c.messages.len().to_string(),
                    c.findings.len().to_string(),
                ];
                for text in cells {
                    row.col(|ui| {
                        ui.add(egui::Label::new(text).truncate().selectable(false));
                    });
                }
                if row.response().clicked() {
                    clicked = Some(ci);
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
