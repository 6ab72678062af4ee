//! IDLE (RFC 2177): the client parks the connection and the server reports
//! new mail (and expunges, §3) as it arrives, until the client sends DONE.

use std::io;
use std::time::{Duration, Instant};

use super::super::conn::Line;
use super::reply::{Reply, bad, ok};
use super::session::Session;

/// How often IDLE looks at the store for new mail.
const IDLE_POLL: Duration = Duration::from_millis(200);

impl Session {
    /// IDLE (RFC 2177): "+ idling", then report new mail as it arrives
    /// until the client sends DONE.
    ///
    /// Waiting for DONE while also watching the store needs a read that can
    /// be interrupted every [`IDLE_POLL`]. `LineConn::read_line` is not
    /// cancellation-safe (an interrupted read leaves a zero-filled chunk in
    /// its buffer, see the report about conn.rs), so after each
    /// interrupted read this function takes whatever is buffered out of the
    /// connection, drops the NUL padding (a command line never holds NUL,
    /// RFC 3501 §9 CHAR8 excludes it outside literals) and keeps the real
    /// bytes as the start of the next line.
    pub(super) async fn cmd_idle(&mut self) -> io::Result<Reply> {
        self.continuation("idling");
        self.conn.flush().await?;
        let limit = self.host.policy.max_command_line;
        let deadline = Instant::now() + self.host.policy.imap_idle_timeout;
        let mut partial: Vec<u8> = Vec::new();
        loop {
            match tokio::time::timeout(IDLE_POLL, self.conn.read_line(limit)).await {
                Ok(Ok(Some(Line::Text(t)))) => {
                    partial.extend_from_slice(&t);
                    return Ok(if partial.eq_ignore_ascii_case(b"DONE") {
                        ok("IDLE terminated")
                    } else {
                        bad("expected DONE")
                    });
                }
                Ok(Ok(Some(Line::TooLong))) => return Ok(bad("line too long")),
                Ok(Ok(None)) => return Ok(Reply::Close),
                Ok(Err(e)) => return Err(e),
                Err(_) => {
                    let n = self.conn.buffered();
                    if n > 0 {
                        // The bytes are in the buffer, so this does not wait.
                        let mut bytes = Vec::new();
                        self.conn.read_counted(n, &mut bytes).await?;
                        bytes.retain(|&b| b != 0);
                        partial.extend_from_slice(&bytes);
                        if partial.len() > limit {
                            return Ok(bad("line too long"));
                        }
                    }
                    // During IDLE the server may send any untagged
                    // response, EXPUNGE included (RFC 2177 §3).
                    self.refresh(true);
                    self.conn.flush().await?;
                    if Instant::now() >= deadline {
                        self.autologout().await?;
                        return Ok(Reply::Close);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use crate::world::store::INBOX;
    use std::collections::BTreeSet;
    use std::time::Duration;

    #[tokio::test]
    async fn idle_reports_new_mail() {
        let h = host(true);
        let mut c = selected(h.clone()).await;
        c.send(b"i1 IDLE\r\n").await;
        assert_eq!(c.response_line().await, b"+ idling\r\n");
        // Let a poll or two pass with nothing to say, then send half of
        // DONE: the interrupted reads must not lose it.
        tokio::time::sleep(Duration::from_millis(450)).await;
        c.send(b"DO").await;
        tokio::time::sleep(Duration::from_millis(450)).await;
        h.store
            .deliver(
                "bob",
                INBOX,
                b"Subject: new\r\n\r\nnew\r\n",
                &BTreeSet::new(),
                T2,
            )
            .unwrap();
        assert_eq!(c.response_line().await, b"* 3 EXISTS\r\n");
        // Recent in this session: the two it selected and the new one.
        assert_eq!(c.response_line().await, b"* 3 RECENT\r\n");
        c.send(b"NE\r\n").await;
        assert_eq!(c.until_tagged("i1").await, b"i1 OK IDLE terminated\r\n");
        assert_eq!(
            c.cmd("i2 FETCH 3 UID").await,
            "* 3 FETCH (UID 3)\r\ni2 OK FETCH completed\r\n"
        );
        // Someone else expunges message 1: NOOP reports it.
        h.store.remove("bob", INBOX, &[1]).unwrap();
        assert_eq!(
            c.cmd("i3 NOOP").await,
            "* 1 EXPUNGE\r\ni3 OK NOOP completed\r\n"
        );
    }
}
