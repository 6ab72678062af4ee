//! Findings only the whole capture shows, from the flows as they end:
//! `open-relay` (one message's hops, `relay`) and `auth-guessing` (one
//! client's logins at one server, `login_guessing`).
//!
//! One definition for every output: `analyze --json` (after the
//! `message_path` records), the `analyze` table and the window feed a
//! [`CrossFlowWatch`] the flows they read and show its findings, each
//! naming the flow it is about.

use super::login_guessing::LoginWatch;
use super::relay::RelayWatch;
use super::session::FlowAnalysis;
use crate::trace::Finding;

/// Watches every flow for the findings that need several.
#[derive(Default)]
pub struct CrossFlowWatch {
    relays: RelayWatch,
    logins: LoginWatch,
}

impl CrossFlowWatch {
    /// One flow, as it ends.
    pub fn add(&mut self, a: &FlowAnalysis) {
        self.relays.add(a);
        self.logins.add(a);
    }

    /// The findings, after the last flow: `open-relay` ones in flow
    /// order, then `auth-guessing` ones by client, server and time.
    pub fn findings(self) -> Vec<Finding> {
        let mut out = self.relays.findings();
        out.extend(self.logins.findings());
        out
    }
}
