//! What the SMTP parser tells besides the dialogue: lines that break the
//! RFC's limits, a STARTTLS offer blanked by a middlebox. (Whether a
//! server relays for anyone is not for one flow to tell: the analysis
//! follows a message across flows, `analysis::relay`.)

use super::parser::{C, ClientMode, State};
use crate::flow::Direction;
use crate::proto::line_parser::note_bare_lf;
use crate::proto::lines::Line;
use crate::trace::{Dialogue, FindingCode, Severity};

/// RFC 5321 §4.5.3.1.4: a command line is at most 512 octets with CRLF.
const MAX_COMMAND_LINE: usize = 512;
/// RFC 5321 §4.5.3.1.6: a text line of a message is at most 1000 octets.
pub(super) const MAX_TEXT_LINE: usize = 1000;

impl State {
    /// Line-level findings: bare LF and over-long lines.
    pub(super) fn check_line(
        &mut self,
        dir: Direction,
        line: &Line,
        continues: bool,
        out: &mut Dialogue,
    ) {
        note_bare_lf(&mut self.bare_lf, dir, line, "RFC 5321 §2.3.8", out);
        let in_text = dir == C && matches!(self.mode, ClientMode::Data { .. });
        let limit = if in_text {
            MAX_TEXT_LINE
        } else {
            MAX_COMMAND_LINE
        };
        let too_long = line.overlong || continues || line.wire_len() as usize > limit;
        if too_long && !self.overlong {
            self.overlong = true;
            let what = if in_text {
                "message text"
            } else {
                "command/reply"
            };
            out.finding(
                Severity::Medium,
                FindingCode::OverlongLine,
                format!(
                    "a {what} line of {}{} bytes exceeds the {limit}-octet limit of RFC 5321 §4.5.3.1",
                    line.wire_len(),
                    if line.overlong { "+" } else { "" }
                ),
            );
        }
    }

    /// `starttls-stripped`: a middlebox on the path overwrote the STARTTLS
    /// keyword of the EHLO reply with X's (the same length, so the packet
    /// size does not change: "XXXXXXXA"), so the client never learns it
    /// could encrypt. The extension is not the server's, and the session
    /// stays in clear.
    pub(super) fn check_stripped(&mut self, out: &mut Dialogue) {
        let blanked = self.extensions.iter().any(|e| is_blanked_starttls(e));
        if blanked && !out.has_finding(FindingCode::StarttlsStripped) {
            out.finding(
                Severity::High,
                FindingCode::StarttlsStripped,
                "the EHLO reply lists \"XXXXXXXA\" where STARTTLS would be: something on the path blanked the offer of encryption (a STARTTLS stripping attack or an over-eager firewall)",
            );
        }
    }
}

/// An EHLO keyword that is STARTTLS overwritten with X's, keeping its
/// length (`XXXXXXXA`, as SMTP-"inspecting" firewalls and strippers write
/// it): the mark of `starttls-stripped`.
pub fn is_blanked_starttls(keyword: &str) -> bool {
    keyword.len() == "STARTTLS".len()
        && keyword.starts_with("XXXX")
        && keyword.bytes().all(|b| b == b'X' || b == b'A')
}

/// The same on a transcript line of the EHLO reply (`250-XXXXXXXA`).
pub fn is_blanked_starttls_line(line: &str) -> bool {
    line.strip_prefix("250")
        .and_then(|rest| rest.strip_prefix(['-', ' ']))
        .is_some_and(|k| is_blanked_starttls(k.trim_end()))
}
