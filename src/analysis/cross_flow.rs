//! Findings only the whole capture shows, from the flows as they end:
//! `open-relay` (one message's hops, `relay`), `auth-guessing` (one
//! client's logins at one server, `login_guessing`) and
//! `mta-sts-violation` (a domain's MTA-STS record in a DNS answer and a
//! session in clear to its exchanger, `mta_sts_check`).
//!
//! One definition for every output: `analyze --json` (after the
//! `message_path` records), the `analyze` table and the window feed a
//! [`CrossFlowWatch`] the flows they read and show its findings, each
//! naming the flow it is about.

use super::login_guessing::LoginWatch;
use super::mta_sts_check::MtaStsWatch;
use super::relay::RelayWatch;
use super::session::FlowAnalysis;
use crate::trace::Finding;

/// Watches every flow for the findings that need several.
#[derive(Default)]
pub struct CrossFlowWatch {
    relays: RelayWatch,
    logins: LoginWatch,
    mta_sts: MtaStsWatch,
}

impl CrossFlowWatch {
    /// One flow, as it ends.
    pub fn add(&mut self, a: &FlowAnalysis) {
        self.relays.add(a);
        self.logins.add(a);
        self.mta_sts.add(a);
    }

    /// A UDP datagram of the capture (the DNS answers MTA-STS needs).
    pub fn datagram(&mut self, payload: &[u8]) {
        self.mta_sts.datagram(payload);
    }

    /// The findings, after the last flow: `open-relay` ones in flow
    /// order, then `auth-guessing` ones by client, server and time, then
    /// `mta-sts-violation` ones in flow order.
    pub fn findings(self) -> Vec<Finding> {
        let mut out = self.relays.findings();
        out.extend(self.logins.findings());
        out.extend(self.mta_sts.findings());
        out
    }
}
