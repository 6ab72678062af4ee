//! Reading one command off the wire (RFC 3501 §2.2, §4.3, §5.4): the
//! first line with its tag, then, for every literal announced at the end
//! of a line (`{n}`, or `{n+}` of LITERAL+, RFC 7888), exactly n bytes and
//! the line that continues the command. Sizes are checked before anything
//! is read or allocated, and every read runs under the autologout timer.
//!
//! This is only the socket side: the markers, the tag and what the
//! pieces mean are the shared grammar's ([`crate::proto::imap::syntax`]),
//! which [`super::session`] hands the [`Fragment`]s to.

use std::io;

use super::super::conn::Line;
use super::session::Session;
use crate::proto::imap::response::Status;
use crate::proto::imap::syntax::{Fragment, literal_marker, tag_of};

/// What one read of a command line gave.
pub(super) enum Input {
    Text(Vec<u8>),
    TooLong,
    Eof,
    Timeout,
}

impl Session {
    /// Read one line, with the idle timer of RFC 3501 §5.4.
    pub(super) async fn next_line(&mut self) -> io::Result<Input> {
        let limit = self.host.policy.max_command_line;
        let read = self.conn.read_line(limit);
        Ok(
            match tokio::time::timeout(self.host.policy.imap_idle_timeout, read).await {
                Err(_) => Input::Timeout,
                Ok(r) => match r? {
                    None => Input::Eof,
                    Some(Line::TooLong) => Input::TooLong,
                    Some(Line::Text(t)) => Input::Text(t),
                },
            },
        )
    }

    /// Read one complete command with its literals. `None`: the session is
    /// over; `Some(None)`: nothing to run (an error was answered already).
    pub(super) async fn read_command(&mut self) -> io::Result<Option<Option<Vec<Fragment>>>> {
        // Send the replies collected so far, unless more pipelined commands
        // are already waiting (then one segment carries all the replies).
        self.conn.flush_before_read().await?;
        let first = match self.next_line().await? {
            Input::Text(t) => t,
            Input::TooLong => {
                self.untagged(Status::Bad, "line too long");
                return Ok(Some(None));
            }
            Input::Eof => {
                self.host
                    .log(format_args!("{} closed the connection", self.ip));
                return Ok(None);
            }
            Input::Timeout => {
                self.autologout().await?;
                return Ok(None);
            }
        };
        if first.is_empty() {
            return Ok(Some(None));
        }
        self.commands += 1;
        if self.commands > self.host.policy.max_commands {
            self.bye("too many commands").await?;
            return Ok(None);
        }
        let Some(tag) = tag_of(&first) else {
            self.untagged(Status::Bad, "invalid tag");
            return Ok(Some(None));
        };
        let mut fragments = vec![Fragment::Line(first)];
        let mut literal_total = 0usize;
        loop {
            let marker = match fragments.last() {
                Some(Fragment::Line(l)) => literal_marker(l),
                _ => None,
            };
            let Some(marker) = marker else { break };
            // Check the announced size *before* reading or allocating
            // anything: the number comes from the client.
            let room = self.host.policy.max_literal.saturating_sub(literal_total);
            let n = match marker.size.and_then(|n| usize::try_from(n).ok()) {
                Some(n) if n <= room => n,
                _ if marker.synchronizing => {
                    // The client waits for "+" and sends nothing more, so
                    // the session can go on with the next command.
                    let why = format!(
                        "literal too large (at most {} octets)",
                        self.host.policy.max_literal
                    );
                    self.tagged(&tag, Status::Bad, &why);
                    return Ok(Some(None));
                }
                _ => {
                    // A non-synchronizing literal is on its way already;
                    // RFC 7888 §4 lets the server hang up.
                    self.bye("literal too large").await?;
                    return Ok(None);
                }
            };
            if marker.synchronizing {
                // RFC 3501 §7.5: the command continuation request.
                self.continuation("Ready for literal data");
                self.conn.flush().await?;
            }
            let mut bytes = Vec::new();
            let read = self.conn.read_counted(n, &mut bytes);
            match tokio::time::timeout(self.host.policy.imap_idle_timeout, read).await {
                Err(_) => {
                    self.autologout().await?;
                    return Ok(None);
                }
                Ok(Ok(true)) => {}
                Ok(Ok(false)) => return Ok(None),
                Ok(Err(e)) => return Err(e),
            }
            literal_total += n;
            fragments.push(Fragment::Literal(bytes));
            // The command goes on after the literal, on the same "line".
            match self.next_line().await? {
                Input::Text(t) => fragments.push(Fragment::Line(t)),
                Input::TooLong => {
                    self.tagged(&tag, Status::Bad, "line too long");
                    return Ok(Some(None));
                }
                Input::Eof => return Ok(None),
                Input::Timeout => {
                    self.autologout().await?;
                    return Ok(None);
                }
            }
        }
        Ok(Some(Some(fragments)))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use crate::world::host::Policy;
    use std::time::Duration;

    #[tokio::test]
    async fn huge_literal_and_long_line() {
        let mut c = logged_in(host(true)).await;
        assert_eq!(
            c.cmd("a1 LOGIN {4294967295}").await,
            "a1 BAD literal too large (at most 10485760 octets)\r\n"
        );
        assert_eq!(c.cmd("a2 NOOP").await, "a2 OK NOOP completed\r\n");
        let long = format!("a3 NOOP {}\r\n", "x".repeat(100 * 1024));
        c.send(long.as_bytes()).await;
        assert_eq!(c.response_line().await, b"* BAD line too long\r\n");
        assert_eq!(c.cmd("a4 NOOP").await, "a4 OK NOOP completed\r\n");
        assert_eq!(
            c.cmd("a5 LIST \"\" \"unterminated").await,
            "a5 BAD unterminated quoted string\r\n"
        );
        assert_eq!(
            c.cmd("a6 STATUS INBOX (MESSAGES").await,
            "a6 BAD missing )\r\n"
        );
        let deep = format!("a7 SEARCH {}ALL{}", "(".repeat(200), ")".repeat(200));
        assert_eq!(c.cmd(&deep).await, "a7 BAD lists nested too deeply\r\n");
        c.send(b"+bad NOOP\r\n").await;
        assert_eq!(c.response_line().await, b"* BAD invalid tag\r\n");
        assert_eq!(c.cmd("a8 NOOP").await, "a8 OK NOOP completed\r\n");
    }

    #[tokio::test]
    async fn too_many_commands_and_idle_timeout() {
        let h = host_with(
            bob_store(),
            None,
            Policy {
                plaintext_auth: true,
                max_commands: 2,
                imap_idle_timeout: Duration::from_millis(300),
                ..Default::default()
            },
        );
        let addr = serve(h).await;
        let (mut c, _) = Client::connect(addr).await;
        c.cmd("a1 NOOP").await;
        c.cmd("a2 NOOP").await;
        c.send(b"a3 NOOP\r\n").await;
        assert_eq!(c.response_line().await, b"* BYE too many commands\r\n");
        let (mut c, _) = Client::connect(addr).await;
        assert_eq!(
            c.response_line().await,
            b"* BYE Autologout; idle for too long\r\n"
        );
    }
}
