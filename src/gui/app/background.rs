//! The window's reads on another thread (a stopped-at packet's detail, a
//! line's packets): taking their result in once it has come.

use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::Duration;

/// Moves what `rx` brought into `slot` and lets the receiver go. While the
/// read still runs, asks for a frame soon: egui draws only on input, and
/// the result should show without the user moving the mouse.
pub(super) fn receive<T>(rx: &mut Option<Receiver<T>>, slot: &mut Option<T>, ctx: &egui::Context) {
    let Some(receiver) = rx.as_ref() else {
        return;
    };
    match receiver.try_recv() {
        Ok(read) => {
            *slot = Some(read);
            *rx = None;
        }
        Err(TryRecvError::Empty) => ctx.request_repaint_after(Duration::from_millis(20)),
        Err(TryRecvError::Disconnected) => *rx = None,
    }
}
