//! "What anyone on the path can read": the lesson on why plaintext SMTP,
//! POP3 and IMAP are insecure.
//!
//! For a plaintext connection the panel shows, in red, the user names and
//! passwords next to the raw line that carried them (AUTH PLAIN's base64
//! decoded byte by byte, RFC 4616), and the messages' headers and first
//! lines. For a TLS connection it shows what TLS leaves visible: record
//! counts and sizes, the protocol version, the server name (SNI) and the
//! cipher suite — and the plaintext said before STARTTLS, if any.

use base64::Engine;
use egui::{Color32, Frame, RichText, Stroke, Ui};

use super::i18n::Lang;
use super::model::{Conn, Scene};
use super::timeline::clock_text;
use crate::proto::TlsMode;
use crate::trace::LineKind;

const DANGER: Color32 = Color32::from_rgb(200, 20, 20);
const SAFE: Color32 = Color32::from_rgb(20, 130, 60);

/// What an AUTH line's base64 says, NULs shown as `\0`: `AGFsaWNl…` →
/// `\0alice\0secret`. None when the line carries no base64.
pub fn decode_evidence(line: &str) -> Option<String> {
    // SASL sends base64 after `AUTH <mechanism>` or alone on a line
    // (RFC 4954 §4); `USER bob` or `PASS hungry` are already in clear.
    let words: Vec<&str> = line.split_whitespace().collect();
    let word = match words.as_slice() {
        [w] => *w,
        [auth, _, w] if auth.eq_ignore_ascii_case("AUTH") => *w,
        // IMAP: `a1 AUTHENTICATE PLAIN <base64>` (RFC 9051 §6.2.2).
        [_, auth, _, w] if auth.eq_ignore_ascii_case("AUTHENTICATE") => *w,
        _ => return None,
    };
    if word.len() < 4 {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(word)
        .ok()?;
    let mut out = String::new();
    for b in bytes {
        match b {
            0 => out.push_str("\\0"),
            b' '..=b'~' => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    Some(out)
}

/// Draws the panel for `conn`, or for every connection.
pub fn show(ui: &mut Ui, lang: Lang, scene: &Scene, conn: Option<usize>, t: f64, presenter: bool) {
    let big = if presenter { 26.0 } else { 17.0 };
    ui.label(
        RichText::new(lang.t("What anyone on the path can read"))
            .size(big + 4.0)
            .strong()
            .color(DANGER),
    );
    ui.add_space(6.0);
    egui::ScrollArea::vertical()
        .id_salt("eavesdropper")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            let conns: Vec<usize> = match conn {
                Some(c) => vec![c],
                None => (0..scene.conns.len()).take(200).collect(),
            };
            for ci in conns {
                let c = &scene.conns[ci];
                if c.start > t {
                    continue;
                }
                connection(ui, lang, scene, ci, c, t, big);
                ui.add_space(10.0);
            }
        });
}

fn connection(ui: &mut Ui, lang: Lang, scene: &Scene, ci: usize, c: &Conn, t: f64, big: f32) {
    let client = &scene.hosts[c.client_host].name;
    let server = &scene.hosts[c.server_host].name;
    let color = if c.encrypted() { SAFE } else { DANGER };
    Frame::group(ui.style())
        .stroke(Stroke::new(3.0, color))
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.label(
                RichText::new(format!("#{} {}  {client} -> {server}", c.flow, c.label()))
                    .size(big)
                    .strong(),
            );
            match &c.tls {
                None => {
                    ui.label(
                        RichText::new(lang.t("No TLS: everything below crossed the network in clear"))
                            .color(DANGER)
                            .size(big * 0.9)
                            .strong(),
                    );
                }
                Some(tls) => {
                    ui.label(
                        RichText::new(lang.t(
                            "A TLS connection: only sizes and handshake facts are visible",
                        ))
                        .color(SAFE)
                        .size(big * 0.9)
                        .strong(),
                    );
                    let s = &tls.summary;
                    egui::Grid::new(("tls", ci)).striped(true).show(ui, |ui| {
                        let row = |ui: &mut Ui, k: &str, v: String| {
                            ui.label(k);
                            ui.label(RichText::new(v).monospace());
                            ui.end_row();
                        };
                        row(ui, lang.t("TLS version"), s.version.clone().unwrap_or_else(|| "?".into()));
                        row(ui, "SNI", s.sni.clone().unwrap_or_else(|| lang.t("(none)").into()));
                        row(ui, lang.t("cipher"), s.cipher.clone().unwrap_or_else(|| "?".into()));
                        row(
                            ui,
                            lang.t("TLS records"),
                            format!(
                                "C->S {} ({}), S->C {} ({})",
                                s.records_c2s,
                                lang.f("{} bytes", s.bytes_c2s),
                                s.records_s2c,
                                lang.f("{} bytes", s.bytes_s2c)
                            ),
                        );
                    });
                    if tls.mode == TlsMode::Starttls {
                        ui.label(lang.t("Before STARTTLS, in clear:"));
                        let lines: Vec<_> = c
                            .lines
                            .iter()
                            .map(|&i| &scene.lines[i])
                            .take_while(|l| l.kind != LineKind::Tls && !l.decrypted)
                            .filter(|l| l.t <= t)
                            .collect();
                        for l in lines {
                            ui.label(RichText::new(format!("{} {}", l.speaker(), l.text)).monospace());
                        }
                    }
                    // What the wire shows of the encrypted part: who sent
                    // how many bytes, and when.
                    let sizes = of_conn(&c.lines, &scene.lines, |l| {
                        l.kind == LineKind::Tls && l.t <= t
                    });
                    if !sizes.is_empty() {
                        ui.label(lang.t("Encrypted, as the wire shows it:"));
                        for l in sizes.iter().take(40) {
                            ui.label(
                                RichText::new(format!("{}  {} {}", clock_text(l.t), l.speaker(), l.text))
                                    .monospace()
                                    .weak(),
                            );
                        }
                        if sizes.len() > 40 {
                            ui.label(lang.f("{} more", sizes.len() - 40));
                        }
                    }
                    if s.decrypted_records_c2s + s.decrypted_records_s2c > 0 {
                        ui.label(
                            RichText::new(lang.t(
                                "This window read inside with the key log; an eavesdropper without the keys cannot",
                            ))
                            .italics(),
                        );
                    }
                }
            }

            let creds = of_conn(&c.credentials, &scene.credentials, |cr| {
                cr.t <= t && cr.record.tls.is_none()
            });
            if !creds.is_empty() {
                in_clear_heading(ui, lang.t("Credentials in clear"), big);
                for cr in creds {
                    let r = &cr.record;
                    egui::Grid::new(("cred", ci, cr.t.to_bits())).show(ui, |ui| {
                        ui.label(lang.t("Mechanism"));
                        ui.label(RichText::new(&r.mechanism).monospace());
                        ui.end_row();
                        for (key, secret) in [
                            (lang.t("Username"), &r.username),
                            (lang.t("Password"), &r.password),
                        ] {
                            ui.label(key);
                            ui.label(
                                RichText::new(secret.clone().unwrap_or_default())
                                    .monospace()
                                    .size(big)
                                    .color(DANGER)
                                    .strong(),
                            );
                            ui.end_row();
                        }
                        for e in &r.evidence {
                            ui.label(lang.t("Raw line on the wire"));
                            ui.label(RichText::new(e).monospace().background_color(
                                Color32::from_rgb(255, 230, 230),
                            ).color(Color32::BLACK));
                            ui.end_row();
                            if let Some(d) = decode_evidence(e) {
                                ui.label(lang.t("Decoded"));
                                ui.label(RichText::new(format!("base64 -> {d}")).monospace());
                                ui.end_row();
                            }
                        }
                    });
                }
            }

            let msgs = of_conn(&c.messages, &scene.messages, |m| {
                m.t <= t && m.record.tls.is_none()
            });
            if !msgs.is_empty() && !c.encrypted() {
                in_clear_heading(ui, lang.t("Messages in clear"), big);
                for m in msgs {
                    let r = &m.record;
                    ui.label(
                        RichText::new(format!(
                            "{}: {}\n{}: {}\n{}: {}",
                            lang.t("Subject"),
                            r.subject.clone().unwrap_or_default(),
                            lang.t("From"),
                            r.from.join(", "),
                            lang.t("To"),
                            r.to.join(", ")
                        ))
                        .monospace(),
                    );
                    if let Some(raw) = &m.raw {
                        let body = crate::mail::parse::ParsedMail::new(raw).body_text();
                        let preview: String = body.lines().take(6).collect::<Vec<_>>().join("\n");
                        ui.label(RichText::new(preview).monospace().weak());
                    }
                }
            }
        });
}

/// The entries of a scene list `all` that a connection's `ids` point
/// at and `keep` accepts.
fn of_conn<'a, T>(ids: &[usize], all: &'a [T], keep: impl Fn(&T) -> bool) -> Vec<&'a T> {
    ids.iter().map(|&i| &all[i]).filter(|x| keep(x)).collect()
}

/// The red heading over a kind of thing the eavesdropper read in clear.
fn in_clear_heading(ui: &mut Ui, text: &str, big: f32) {
    ui.add_space(4.0);
    ui.label(RichText::new(text).size(big).strong().color(DANGER));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_plain_is_decoded_with_its_nuls() {
        assert_eq!(
            decode_evidence("AUTH PLAIN AGFsaWNlAHNlY3JldA==").as_deref(),
            Some("\\0alice\\0secret")
        );
        assert_eq!(decode_evidence("USER bob"), None);
        assert_eq!(decode_evidence("PASS abcd"), None, "a password, not base64");
        assert_eq!(decode_evidence("YWxpY2U=").as_deref(), Some("alice"));
    }
}
