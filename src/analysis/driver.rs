//! The one driver: a capture → its TCP flows → a reader per flow → what
//! the readers make of them, in the order the caller asks for.
//!
//! Every command goes through here: `analyze`, `dialog`, `extract` and
//! `creds` with a [`FlowSession`] per flow, `flows` with the protocol
//! recognizer alone, `stream` with a byte printer, and the window's loader
//! with sessions and a packet observer. So a flow's `protocol` and `tls`
//! come from one decision ([`ProtocolSniffer`]) whatever the command.

use std::io::Read;
use std::net::SocketAddr;
use std::path::Path;

use super::Error;
use super::completion::completer;
use super::keys::{self, KeySources};
use super::order::InOrder;
use super::pipeline::{Observed, Pipeline, PipelineOptions};
use super::session::{FlowAnalysis, FlowSession};
use super::tls_layer::TlsLayer;
use crate::capture::selection::PacketSelection;
use crate::capture::{CaptureError, CaptureReader, InputSource, InputStream};
use crate::flow::{FlowSummary, StreamHandler};
use crate::proto::detect::ProtocolSniffer;
use crate::proto::tls::decrypt::SharedKeyLog;
use crate::trace::{CaptureRecord, Dialogue, DialogueOptions, MessageHook, Protocol, Verdict};

/// In which order finished flows are handed on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Order {
    /// As they end (streaming: `analyze --json`, `extract`).
    #[default]
    AsTheyEnd,
    /// By id (tables, transcripts). Costs memory: a flow that lasts holds
    /// back every later one.
    ById,
}

/// What to read and how (shared by every command).
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Read only this flow (and stop reading once it is over).
    pub only_flow: Option<u64>,
    pub order: Order,
    /// Show UDP datagrams (DNS) to the packet observer too.
    pub observe_udp: bool,
    /// Where TLS secrets come from.
    pub keys: KeySources,
    /// Workers for the flows' readers (`--threads N`, see
    /// `analysis::workers`); 0 or 1: everything on the calling thread.
    pub threads: usize,
    /// The frames to read (`--filter`, `--since`, `--until`).
    pub selection: PacketSelection,
}

/// What the full analysis keeps besides its records.
#[derive(Clone, Default)]
pub struct AnalyzeOptions {
    pub run: RunOptions,
    pub dialogue: DialogueOptions,
    /// Sees every message before its bytes are dropped (`extract`).
    pub hook: Option<MessageHook>,
}

/// What reads one flow, and what it makes of it once the flow is over.
pub trait FlowReader: StreamHandler {
    type Output;
    fn finish(self, summary: FlowSummary) -> Self::Output;
}

/// A flow whose reader is being made.
pub struct FlowStart<'a> {
    pub id: u64,
    pub client: SocketAddr,
    pub server: SocketAddr,
    /// The run's TLS secrets (None with `--no-decrypt`).
    pub keys: Option<&'a SharedKeyLog>,
}

/// The recognizer alone: what `flows` reports of a flow.
impl FlowReader for ProtocolSniffer {
    type Output = (FlowSummary, Verdict);
    fn finish(mut self, summary: FlowSummary) -> Self::Output {
        (summary, self.decide())
    }
}

impl FlowReader for FlowSession {
    type Output = FlowAnalysis;
    fn finish(self, summary: FlowSummary) -> FlowAnalysis {
        FlowSession::finish(self, summary)
    }
}

/// One capture being read (one input, or several merged in time order).
pub struct Driver<R = InputStream> {
    pub(super) pipeline: Pipeline<R>,
    pub(super) keys: Option<SharedKeyLog>,
    warnings: Vec<String>,
}

fn pipeline_options(options: &RunOptions) -> PipelineOptions {
    PipelineOptions {
        stop_after_flow: options.only_flow,
        observe_udp: options.observe_udp,
        selection: options.selection.clone(),
        ..PipelineOptions::default()
    }
}

impl Driver<InputStream> {
    /// Opens the capture and reads the key logs (the capture's own secrets
    /// are read as the packets are).
    pub fn open(path: &Path, options: &RunOptions) -> Result<Self, Error> {
        Driver::open_inputs(&[InputSource::from_arg(path)], options)
    }

    /// [`Driver::open`] for several inputs read as one capture, in
    /// timestamp order (see `capture::MergedReader`).
    pub fn open_inputs(sources: &[InputSource], options: &RunOptions) -> Result<Self, Error> {
        let pipeline = Pipeline::open_inputs(sources, pipeline_options(options))?;
        Driver::with_pipeline(pipeline, options)
    }
}

impl<R: Read> Driver<R> {
    /// A capture already open (a pipe, bytes in memory).
    pub fn new(reader: CaptureReader<R>, options: &RunOptions) -> Result<Self, Error> {
        Driver::with_pipeline(Pipeline::new(reader, pipeline_options(options)), options)
    }

    fn with_pipeline(mut pipeline: Pipeline<R>, options: &RunOptions) -> Result<Self, Error> {
        let (keys, warnings) = keys::load(&options.keys)?;
        if let Some(k) = &keys {
            pipeline.collect_secrets(k.clone());
        }
        Ok(Driver {
            pipeline,
            keys,
            warnings,
        })
    }

    pub fn pipeline(&self) -> &Pipeline<R> {
        &self.pipeline
    }

    /// The `capture` record of the inputs read (named as they were
    /// given; `-` for stdin or a capture opened with [`Driver::new`]), with
    /// [`Driver::warnings`]: every command reports the same.
    pub fn capture_record(&self) -> CaptureRecord {
        let pipeline = &self.pipeline;
        let mut capture = CaptureRecord::new(
            pipeline.reader(),
            pipeline.decode_stats(),
            pipeline.flows_seen(),
        );
        capture.warnings = self.warnings();
        capture
    }

    /// Problems with the inputs that did not stop the run: key log lines
    /// not understood, then the capture's damage.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = self.warnings.clone();
        w.extend(
            self.pipeline
                .reader()
                .warnings()
                .iter()
                .map(|w| w.to_string()),
        );
        w
    }

    /// Reads the capture to its end. `new_reader` makes the reader of each
    /// flow (None: the flow is not read); `on_flow` gets what each reader
    /// made, in `order`; `progress` the bytes read now and then;
    /// `on_packet` every packet as it is read.
    pub fn run<F: FlowReader>(
        &mut self,
        order: Order,
        mut new_reader: impl FnMut(FlowStart<'_>) -> Option<F>,
        mut on_flow: impl FnMut(F::Output),
        progress: impl FnMut(u64),
        on_packet: impl FnMut(Observed<'_>),
    ) -> Result<(), CaptureError> {
        let keys = self.keys.clone();
        let mut ordered = InOrder::new();
        let result = self.pipeline.run_observed(
            |id, client, server| {
                new_reader(FlowStart {
                    id,
                    client,
                    server,
                    keys: keys.as_ref(),
                })
            },
            |flow| {
                let id = flow.summary.id;
                let output = flow.handler.map(|r| r.finish(flow.summary));
                match order {
                    Order::AsTheyEnd => {
                        if let Some(o) = output {
                            on_flow(o)
                        }
                    }
                    Order::ById => ordered.push(id, output, |o| {
                        if let Some(o) = o {
                            on_flow(o)
                        }
                    }),
                }
            },
            progress,
            on_packet,
        );
        ordered.drain(|o| {
            if let Some(o) = o {
                on_flow(o)
            }
        });
        result
    }

    /// The full analysis: a [`FlowSession`] per flow (or for `only_flow`),
    /// on `options.run.threads` workers when there are several.
    pub fn analyze(
        &mut self,
        options: &AnalyzeOptions,
        on_flow: impl FnMut(FlowAnalysis),
        progress: impl FnMut(u64),
        on_packet: impl FnMut(Observed<'_>),
    ) -> Result<(), CaptureError> {
        let only = options.run.only_flow;
        let dialogue_options = options.dialogue;
        let hook = &options.hook;
        self.run_on(
            &options.run,
            |start| {
                (only.is_none() || only == Some(start.id))
                    .then(|| new_session(&start, dialogue_options, hook.clone()))
            },
            on_flow,
            progress,
            on_packet,
        )
    }
}

/// The session of one flow of the full analysis.
pub fn new_session(
    start: &FlowStart<'_>,
    options: DialogueOptions,
    hook: Option<MessageHook>,
) -> FlowSession {
    let mut dialogue = Dialogue::new(start.id, Protocol::Unknown, options);
    dialogue.set_completer(completer(hook));
    FlowSession::new(
        start.server.port(),
        dialogue,
        TlsLayer::new(start.keys.cloned()),
    )
}
