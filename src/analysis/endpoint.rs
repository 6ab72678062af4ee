//! A dialogue read from what an endpoint saw: the plaintext above TLS, as
//! the world's servers read and wrote it. The same parsers and the same
//! message reading as a capture's flow, so the demo's live transcript and
//! `mailscope dialog` on its capture are written by one piece of code.

use std::sync::{Arc, Mutex};

use super::completion::completer;
use crate::capture::Timestamp;
use crate::flow::Direction;
use crate::proto::new_parser;
use crate::trace::{Dialogue, DialogueOptions, MessageHook, Protocol};

/// Reads `pieces` (each direction's bytes in the order they were written)
/// as one stretch of a `protocol` session. None when the protocol has no
/// parser.
pub fn read_endpoint_view<'a>(
    protocol: Protocol,
    pieces: impl IntoIterator<Item = (Direction, &'a [u8])>,
    options: DialogueOptions,
) -> Option<Dialogue> {
    read(protocol, pieces, options, None)
}

/// The messages a `protocol` session carried, as whole messages after
/// dot-unstuffing: what someone holding `pieces` (an eavesdropper's copy
/// of a clear-text session) can save as .eml files.
pub fn messages_in_endpoint_view<'a>(
    protocol: Protocol,
    pieces: impl IntoIterator<Item = (Direction, &'a [u8])>,
) -> Vec<Vec<u8>> {
    let kept = Arc::new(Mutex::new(Vec::new()));
    let sink = kept.clone();
    let hook: MessageHook = Arc::new(move |_, raw, _| {
        if raw.part.is_full() {
            sink.lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(raw.bytes.clone());
        }
    });
    let options = DialogueOptions {
        transcript: false,
        full: false,
    };
    drop(read(protocol, pieces, options, Some(hook)));
    std::mem::take(&mut *kept.lock().unwrap_or_else(|e| e.into_inner()))
}

fn read<'a>(
    protocol: Protocol,
    pieces: impl IntoIterator<Item = (Direction, &'a [u8])>,
    options: DialogueOptions,
    hook: Option<MessageHook>,
) -> Option<Dialogue> {
    let mut parser = new_parser(protocol)?;
    let mut out = Dialogue::new(0, protocol, options);
    out.set_completer(completer(hook));
    let mut offset = [0u64; 2];
    for (i, (dir, bytes)) in pieces.into_iter().enumerate() {
        out.data_arrived(dir, offset[dir.index()], i as u64, Timestamp::from_nanos(0));
        // After an accepted STARTTLS the parser reads no more: the endpoint
        // view starts a new stretch there.
        if !parser.upgraded_to_tls() {
            parser.feed(dir, bytes, &mut out);
        }
        offset[dir.index()] += bytes.len() as u64;
    }
    parser.finish(&mut out);
    Some(out)
}
