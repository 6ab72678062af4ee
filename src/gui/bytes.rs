//! The bytes of the packets that carried a transcript line, with the
//! line's own bytes marked.
//!
//! The scene does not keep packet bytes (a 100 MB capture would double in
//! memory); clicking a line reads the few packets it needs from the file
//! again. Where a line sits inside a packet comes from sequence numbers:
//! the line's stream offsets ([`Line::span`]) against the packet's place
//! in the stream ([`Scene::stream_offset`]).

use std::ops::Range;
use std::path::{Path, PathBuf};

use egui::{Color32, RichText, Ui};

use super::i18n::Lang;
use super::model::{Line, Scene};
use crate::capture::{CaptureError, CaptureReader, DecodeOutcome, Decoder};

/// One packet's captured bytes.
#[derive(Clone, Debug)]
pub struct PacketBytes {
    /// Capture index.
    pub index: u64,
    /// The whole frame as captured (link header included).
    pub frame: Vec<u8>,
    /// LINKTYPE_* of the interface it was captured on.
    pub linktype: u16,
    /// Length on the wire (more than `frame.len()` under a snaplen).
    pub orig_len: u32,
    /// Where the TCP payload is in `frame` (empty when it could not be
    /// found, such as a reassembled IP fragment).
    pub payload: Range<usize>,
    /// The part of the frame that belongs to the selected line.
    pub mark: Option<Range<usize>>,
}

/// Why the packets of a line could not be read again.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("cannot read {}: {source}", path.display())]
    Open { path: PathBuf, source: CaptureError },
    #[error(transparent)]
    Read(CaptureError),
}

/// Reads the packets with capture indices `indices` from `path` (stops
/// after the last one).
pub fn fetch(path: &Path, indices: &[u64]) -> Result<Vec<PacketBytes>, FetchError> {
    let Some(&last) = indices.iter().max() else {
        return Ok(Vec::new());
    };
    let mut reader = CaptureReader::open(path).map_err(|source| FetchError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let mut decoder = Decoder::new();
    let mut out = Vec::new();
    while let Some(packet) = reader.next_packet().map_err(FetchError::Read)? {
        if packet.index > last {
            break;
        }
        if !indices.contains(&packet.index) {
            continue;
        }
        let frame = packet.data.to_vec();
        let base = packet.data.as_ptr() as usize;
        let payload = match decoder.decode(&packet) {
            DecodeOutcome::Tcp(seg) => {
                let at = (seg.payload.as_ptr() as usize).wrapping_sub(base);
                if at <= frame.len() && at + seg.payload.len() <= frame.len() {
                    at..at + seg.payload.len()
                } else {
                    0..0
                }
            }
            DecodeOutcome::Skipped(_) => 0..0,
        };
        out.push(PacketBytes {
            index: packet.index,
            linktype: packet.linktype,
            orig_len: packet.orig_len,
            frame,
            payload,
            mark: None,
        });
    }
    Ok(out)
}

/// Marks in each packet the bytes of `line` (its stream offsets against
/// the packet's sequence number). Decrypted lines and gaps have no place
/// on the wire and stay unmarked.
pub fn mark_line(scene: &Scene, line: &Line, packets: &mut [PacketBytes]) {
    let Some((start, end)) = line.span else {
        return;
    };
    for p in packets {
        let Some(pkt) = scene.packet_by_index(p.index) else {
            continue;
        };
        let Some(offset) = scene.stream_offset(pkt) else {
            continue;
        };
        let len = p.payload.len() as u64;
        let from = start.max(offset);
        let to = end.min(offset + len);
        if from < to {
            let a = p.payload.start + (from - offset) as usize;
            let b = p.payload.start + (to - offset) as usize;
            p.mark = Some(a..b);
        }
    }
}

/// Bytes shown per packet at most (a jumbo frame is 9000).
const SHOW_MAX: usize = 16 * 1024;

/// A hex dump, 16 bytes a row (8 in a narrow panel), with the printable text beside it; the
/// marked bytes are highlighted in both columns.
pub fn hex_view(ui: &mut Ui, lang: Lang, p: &PacketBytes, presenter: bool) {
    let size = if presenter { 16.0 } else { 12.0 };
    let mark_bg = Color32::from_rgb(250, 210, 60);
    let payload_fg = ui.visuals().strong_text_color();
    let header_fg = ui.visuals().weak_text_color();
    ui.label(
        RichText::new(format!(
            "{} #{} — {}",
            lang.t("Packet"),
            p.index + 1,
            lang.f("{} bytes", p.frame.len())
        ))
        .strong(),
    );
    let shown = &p.frame[..p.frame.len().min(SHOW_MAX)];
    // 16 bytes a row need about 74 columns; a narrow panel gets 8.
    let char_width = size * 0.62;
    let per_row = if ui.available_width() >= 74.0 * char_width {
        16
    } else {
        8
    };
    for (row, chunk) in shown.chunks(per_row).enumerate() {
        let mut job = egui::text::LayoutJob::default();
        let font = egui::FontId::monospace(size);
        let fmt = |i: usize| {
            let marked = p.mark.as_ref().is_some_and(|m| m.contains(&i));
            let color = if p.payload.contains(&i) {
                payload_fg
            } else {
                header_fg
            };
            egui::TextFormat {
                font_id: font.clone(),
                color: if marked { Color32::BLACK } else { color },
                background: if marked {
                    mark_bg
                } else {
                    Color32::TRANSPARENT
                },
                ..Default::default()
            }
        };
        job.append(&format!("{:04x}  ", row * per_row), 0.0, fmt(usize::MAX));
        for col in 0..per_row {
            let i = row * per_row + col;
            match chunk.get(col) {
                Some(b) => job.append(&format!("{b:02x}"), 0.0, fmt(i)),
                None => job.append("  ", 0.0, fmt(usize::MAX)),
            }
            job.append(if col == 7 { "  " } else { " " }, 0.0, fmt(usize::MAX));
        }
        job.append(" ", 0.0, fmt(usize::MAX));
        for (col, b) in chunk.iter().enumerate() {
            let c = if b.is_ascii_graphic() || *b == b' ' {
                *b as char
            } else {
                '.'
            };
            job.append(&c.to_string(), 0.0, fmt(row * per_row + col));
        }
        ui.label(job);
    }
    if p.frame.len() > SHOW_MAX {
        ui.label(lang.f("{} bytes", p.frame.len() - SHOW_MAX));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gui::loader::{LoadOptions, analyze};
    use crate::trace::LineKind;

    /// The bytes marked for a command are exactly the command's text.
    #[test]
    fn marks_the_lines_bytes_inside_its_packet() {
        let path = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/captures/smtp-crepes-hamburger.pcapng"
        ));
        let scene = analyze(path, &LoadOptions::default(), |_, _| {}).unwrap();
        let mut checked = 0;
        for line in scene.lines.iter().filter(|l| l.kind == LineKind::Command) {
            let mut packets = fetch(path, &line.packets).unwrap();
            assert_eq!(packets.len(), line.packets.len());
            mark_line(&scene, line, &mut packets);
            let marked: Vec<u8> = packets
                .iter()
                .filter_map(|p| p.mark.clone().map(|m| p.frame[m].to_vec()))
                .flatten()
                .collect();
            assert_eq!(
                String::from_utf8_lossy(&marked),
                format!("{}\r\n", line.text),
                "{line:?}"
            );
            checked += 1;
        }
        assert!(checked >= 5, "only {checked} commands");
    }
}
