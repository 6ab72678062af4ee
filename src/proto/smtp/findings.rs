//! What the SMTP parser tells besides the dialogue: lines that break the
//! RFC's limits, a STARTTLS offer blanked by a middlebox, a server that
//! relays for anyone.

use super::parser::{C, ClientMode, State};
use super::path::domain_of;
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
        let blanked = self.extensions.iter().any(|e| {
            e.len() == "STARTTLS".len()
                && e.starts_with("XXXX")
                && e.bytes().all(|b| b == b'X' || b == b'A')
        });
        if blanked && !out.has_finding(FindingCode::StarttlsStripped) {
            out.finding(
                Severity::High,
                FindingCode::StarttlsStripped,
                "the EHLO reply lists \"XXXXXXXA\" where STARTTLS would be: something on the path blanked the offer of encryption (a STARTTLS stripping attack or an over-eager firewall)",
            );
        }
    }

    /// `open-relay`: the server accepted a recipient of a foreign domain
    /// from a client that did not authenticate.
    pub(super) fn check_relay(&mut self, to: &str, out: &mut Dialogue) {
        if self.authenticated || out.has_finding(FindingCode::OpenRelay) {
            return;
        }
        let (Some(server), Some(domain)) = (self.server_name.as_deref(), domain_of(to)) else {
            return;
        };
        if !is_judgeable(server) || !is_judgeable(&domain) {
            return;
        }
        if !is_local_domain(server, &domain) {
            out.finding(
                Severity::Medium,
                FindingCode::OpenRelay,
                format!(
                    "{server} accepted mail for {to} (a foreign domain) from a client that did not authenticate: an open relay, unless the client's address is trusted"
                ),
            );
        }
    }
}

/// Whether mail for `domain` is the server's own: its name is the domain
/// or a host inside it (mx.hamburger.edu serves hamburger.edu), or the
/// organisation name is the same (mta5.mail.yahoo.com serves yahoo.fr).
/// Without the server's list of domains this is a guess, made to err on
/// the side of silence.
fn is_local_domain(server: &str, domain: &str) -> bool {
    let server = server.to_ascii_lowercase();
    if server == domain
        || server.ends_with(&format!(".{domain}"))
        || domain.ends_with(&format!(".{server}"))
    {
        return true;
    }
    // The label before the top-level domain ("yahoo" in yahoo.fr).
    let org = domain.rsplit('.').nth(1).unwrap_or(domain);
    server.split('.').any(|label| label == org)
}

/// Names that say nothing about who a server serves: addresses, single
/// labels, and the names of machines on a private network.
fn is_judgeable(name: &str) -> bool {
    let name = name.trim_matches(['[', ']']).to_ascii_lowercase();
    name.parse::<std::net::IpAddr>().is_err()
        && name.contains('.')
        && ![
            "localhost",
            "localdomain",
            "local",
            "lan",
            "internal",
            "home",
        ]
        .iter()
        .any(|s| name == *s || name.ends_with(&format!(".{s}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_domains_are_the_servers_own() {
        assert!(is_local_domain("hamburger.edu", "hamburger.edu"));
        assert!(is_local_domain("mx.hamburger.edu", "hamburger.edu"));
        assert!(is_local_domain("mta5.mail.ir2.yahoo.com", "yahoo.fr"));
        assert!(!is_local_domain("crepes.fr", "hamburger.edu"));
        assert!(!is_judgeable("localhost"));
        assert!(!is_judgeable("macbook.localdomain"));
        assert!(!is_judgeable("[10.0.0.1]"));
        assert!(is_judgeable("crepes.fr"));
    }
}
