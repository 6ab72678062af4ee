//! Packet Tracer's step mode on the window: Previous and Next by event or
//! by packet, the packet stopped at, its PDU detail read from the file, the
//! transcript line of the moment.

use super::super::bytes;
use super::super::model::{Scene, Wire};
use super::super::pdu::{self, Pdu};
use super::super::timeline::{Step, StepBy};
use super::{ClassroomApp, background};

impl ClassroomApp {
    /// Moves the playhead to wire packet `k` and stops there: the packet
    /// is drawn halfway along its edge, its line is the current one.
    pub fn step_to(&mut self, k: usize) {
        let Some(scene) = &self.scene else {
            return;
        };
        if k >= scene.wire.len() {
            return;
        }
        self.playback.playing = false;
        self.playback.seek(scene.wire_t(k));
        self.stepped = Some(k);
        self.stepped_t = self.playback.t;
    }

    /// Previous or Next, by the chosen granularity. Past either end the
    /// playhead stops at that end.
    pub fn step(&mut self, step: Step) {
        let Some(scene) = self.scene.clone() else {
            return;
        };
        self.playback.playing = false;
        let end = match step {
            Step::Next => self.playback.duration(),
            Step::Previous => 0.0,
        };
        match self.step_by {
            StepBy::Event => {
                self.stepped = None;
                let marker = match step {
                    Step::Next => scene.next_marker(self.playback.t),
                    Step::Previous => scene.previous_marker(self.playback.t),
                };
                self.playback.seek(marker.map_or(end, |m| m.t));
            }
            StepBy::Packet => {
                // From a packet stopped at, the one beside it (several can
                // share a timestamp); else the first not yet arrived, or
                // the last already sent.
                let (t, n) = (self.playback.t, scene.wire.len());
                let k = match (step, self.stepped) {
                    (Step::Next, Some(k)) => Some(k + 1).filter(|&k| k < n),
                    (Step::Previous, Some(k)) => k.checked_sub(1),
                    (Step::Next, None) => (0..n).find(|&k| scene.wire_t(k) >= t - 1e-12),
                    (Step::Previous, None) => (0..n).rev().find(|&k| scene.wire_t(k) < t - 1e-12),
                };
                match k {
                    Some(k) => self.step_to(k),
                    None => {
                        self.stepped = None;
                        self.playback.seek(end);
                    }
                }
            }
        }
    }

    /// The detail of the packet stopped at, once read.
    pub fn pdu(&self) -> Option<&Pdu> {
        match &self.pdu {
            Some(Ok(p)) if Some(p.wire) == self.stepped => Some(p),
            _ => None,
        }
    }

    /// Whether the packet's detail is still being read.
    pub fn reading_pdu(&self) -> bool {
        self.pdu_rx.is_some()
    }

    /// The transcript line of the moment: the one the packet stopped at
    /// carries, else while playing the last one said.
    pub fn current_line(&self) -> Option<usize> {
        let scene = self.scene.as_deref()?;
        if let Some(k) = self.stepped {
            return match scene.wire[k] {
                Wire::Tcp(i) => scene.packets[i as usize].line.map(|l| l as usize),
                Wire::Dns(_) => None,
            };
        }
        if !self.playback.playing {
            return None;
        }
        let lines: Vec<usize> = match self.selected_conn {
            Some(c) => scene.conns[c].lines.clone(),
            None => {
                let n = scene.lines.partition_point(|l| l.t <= self.playback.t);
                return n.checked_sub(1);
            }
        };
        let n = lines.partition_point(|&i| scene.lines[i].t <= self.playback.t);
        n.checked_sub(1).map(|k| lines[k])
    }

    /// Starts reading the stopped-at packet's bytes when it changed.
    pub(super) fn follow_pdu(&mut self, ctx: &egui::Context) {
        background::receive(&mut self.pdu_rx, &mut self.pdu, ctx);
        if self.stepped == self.pdu_for {
            return;
        }
        self.pdu_for = self.stepped;
        self.pdu = None;
        self.pdu_rx = None;
        let (Some(k), Some(scene), Some(path)) = (self.stepped, &self.scene, &self.path) else {
            return;
        };
        let (tx, rx) = std::sync::mpsc::channel();
        let (scene, path) = (scene.clone(), path.clone());
        let ctx = ctx.clone();
        std::thread::spawn(move || {
            let index = scene.wire_index(k);
            let read = bytes::fetch(&path, &[index]).map(|packets| match packets.first() {
                Some(p) => pdu::decode(&scene, k, p),
                None => Pdu {
                    wire: k,
                    layers: Vec::new(),
                },
            });
            let _ = tx.send(read);
            ctx.request_repaint();
        });
        self.pdu_rx = Some(rx);
    }

    /// The packet of the moment in the list: the one stopped at, else the
    /// last one sent by the playhead.
    pub(super) fn current_packet(&self, scene: &Scene) -> Option<usize> {
        self.stepped.or_else(|| {
            let t = self.playback.t;
            let n = (0..scene.wire.len()).collect::<Vec<_>>();
            let after = n.partition_point(|&k| scene.wire_t(k) <= t);
            after.checked_sub(1).filter(|_| t > 0.0)
        })
    }
}
