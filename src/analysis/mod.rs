//! The analysis: from a capture to the records of each flow.
//!
//! * [`pipeline`]: the main loop, packets → TCP segments → flow table →
//!   each flow's [`StreamHandler`](crate::flow::StreamHandler) (the
//!   extension point `examples/follow_smtp.rs` shows).
//! * `facade`: [`analyze`], the library's front door (a capture in, typed
//!   records out).
//! * [`driver`]: the one driver every command and the window call.
//! * [`session`]: one flow — recognise, read the plaintext, follow the TLS.
//! * `tls_layer`: the TLS records of a flow, opened with a key log.
//! * `completion`: what happens to a message the moment it is complete.
//! * [`keys`]: where TLS secrets come from.
//! * `endpoint`: a dialogue read from an endpoint's plaintext view (the
//!   world's live transcript).
//! * `order`: finished flows put back in id order.
//! * `cross_flow`: the findings only several flows show, from
//!   `relay` (`open-relay`, the hops of one message across flows) and
//!   `login_guessing` (`auth-guessing`, one client's refused logins).
//! * `sender_checks`: what a message's headers say about its sender.
//! * `workers`: `--threads N`, the flows' readers on N worker threads
//!   behind the one reader.

mod completion;
mod cross_flow;
pub(crate) mod driver;
mod endpoint;
mod facade;
pub(crate) mod keys;
mod login_guessing;
mod mta_sts_check;
mod order;
pub(crate) mod pipeline;
mod relay;
mod sender_checks;
pub(crate) mod session;
mod tls_layer;
mod workers;

use std::path::PathBuf;

pub use crate::capture::decode::DecodeStats;
pub use completion::completer as message_completer;
pub use cross_flow::CrossFlowWatch;
pub use driver::{AnalyzeOptions, Driver, FlowReader, FlowStart, Order, RunOptions, new_session};
pub use endpoint::{messages_in_endpoint_view, read_endpoint_view};
pub use facade::{Options, analyze, analyze_inputs, flow_records};
pub use keys::KeySources;
pub use pipeline::{Observed, PacketSeen, Pipeline, PipelineOptions};
pub use session::{FlowAnalysis, FlowSession};
pub use workers::machine_cores;

/// Why a run could not start or go on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Capture(#[from] crate::capture::CaptureError),
    #[error("cannot read the key log {}: {source}", path.display())]
    KeyLog {
        path: PathBuf,
        source: std::io::Error,
    },
}
