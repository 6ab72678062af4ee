//! A multi-line response that never ends.
//!
//! RFC 1939 §3 ends every multi-line response with a line holding only
//! "." (CRLF "." CRLF). A broken server may leave it out; a parser that
//! waits for it reads everything after as part of the response: the
//! reply to the next command, the next message, the rest of the session.
//! So the parser looks for the place where the reply to the next command
//! begins, and ends the response there:
//!
//! * In a listing (LIST and UIDL without argument, RFC 1939 §5 and §7; the
//!   mechanisms of AUTH, RFC 5034 §4) and in a CAPA response (RFC 2449
//!   §5) no line can start with "+OK" or "-ERR": their lines are numbers,
//!   capability tags and mechanism names. Such a line while a later
//!   command is waiting for its reply is that reply, whether the client
//!   pipelined the command or sent it after the response.
//! * In a message (RETR, TOP) any line may start with "+OK": a message can
//!   quote a POP3 session. There the parser also needs the client's word:
//!   a client that does not pipeline sends its next command only once it
//!   has read the end of the response, so a command sent inside the
//!   message says that, for the client, the message is over; the server
//!   bytes after it must then start with the status line of the reply.
//!   A server that announced PIPELINING (RFC 2449 §6.6) lets the client
//!   send ahead, so there a command proves nothing and the parser keeps
//!   waiting for the ".". If the first server line after the client's
//!   command is not a status line, the client was sending ahead: the
//!   message goes on.
//!
//! Zeek's POP3 analyzer does not resynchronise: in a multi-line response
//! every line up to the terminator is data, so the rest of the session
//! becomes part of the message. Wireshark's POP dissector goes the other
//! way: a server packet that starts with "+OK" or "-ERR" starts a new
//! response, whatever came before, which breaks when a message line
//! starting with "+OK" opens a packet. Here the rule is per line, needs a
//! reply to be due, and inside a message the client's word as well.

use super::parser::{Multi, State};
use super::response::Response;
use crate::proto::lines::Line;
use crate::proto::quote;
use crate::trace::{Dialogue, FindingCode, Severity};

impl State {
    /// A line of the server inside a multi-line response (not the rest of
    /// a line cut in pieces): if it is where the reply to the next command
    /// begins, the response is ended here without its ".", with an
    /// `unterminated-response` finding, and the line is read as a reply.
    pub(super) fn resync(&mut self, line: &Line, out: &mut Dialogue) {
        let Some(multi) = &self.multi else {
            return;
        };
        let status = matches!(
            Response::parse(line.text),
            Some(Response::Ok(_) | Response::Err(_))
        );
        let in_message = matches!(multi, Multi::Message(_));
        let reply_due = !self.pending.is_empty() && self.dot.at_line_start();
        let client_says_over = self.client_moved_on && !self.pipelining;
        // Only the first server line after the client's command can start
        // its reply; later ones are the message going on.
        self.client_moved_on = false;
        if !status || !reply_due || (in_message && !client_says_over) {
            return;
        }
        let (what, start) = std::mem::take(&mut self.multi_of);
        let (severity, lost) = if in_message {
            (
                Severity::Medium,
                ": the message is kept as retrieved so far, marked incomplete, since its end is not known",
            )
        } else {
            (Severity::Info, "")
        };
        out.finding(
            severity,
            FindingCode::UnterminatedResponse,
            format!(
                "the multi-line response to {what} (status line at offset {start}) ended without its final \".\" line (RFC 1939 §3); the parser resynchronised at offset {} on {}, the reply to the client's next command{lost}",
                line.start,
                quote(line.text)
            ),
        );
        if let Some(Multi::Message(m)) = self.multi.take() {
            self.end_message(*m, false, out);
        }
        self.dot = Default::default();
    }
}
