//! What happens to a message the moment a parser hands it over: it is read
//! (headers, MIME structure, attachments and their hashes, with `mail`),
//! checked against its envelope, and passed to the caller's hook (`extract`
//! writes it there) before its bytes are dropped.

use crate::mail;
use crate::trace::{Dialogue, MessageCompleter, MessageHook, RawMessage};

/// The completer a session installs in its dialogue (also for parsers
/// run outside a session, such as the fuzz targets).
pub fn completer(hook: Option<MessageHook>) -> MessageCompleter {
    Box::new(move |out: &mut Dialogue, index: usize, raw: &RawMessage| {
        let mut contents = Vec::new();
        let mut info = mail::inspect(&raw.bytes, hook.is_some().then_some(&mut contents));
        if !raw.part.is_full() {
            // A header, TOP or section retrieval: the parts seen are not
            // the message's (a multipart header alone looks like an empty
            // attachment).
            info.attachments.clear();
            contents.clear();
            // The links of a body read without its header (TEXT, a
            // section) would be read as header lines; TOP's are real.
            if raw.part != crate::trace::Part::Top {
                info.urls.clear();
            }
        }
        let record = &mut out.messages[index];
        record.set_info(info);
        if let Some(hook) = &hook {
            hook(record, raw, &contents);
        }
        // What the headers say about the sender, checked (`sender_checks`).
        super::sender_checks::check(out, index);
    })
}
