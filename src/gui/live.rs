//! Following the embedded demo while it runs (`mailscope demo --gui`, or
//! the window's "Run the Alice→Bob demo").
//!
//! The demo runs on its own thread with its own async runtime. Its
//! recorder is shared, so every few hundred milliseconds the window writes
//! what has been recorded so far as a pcapng file and analyses that file
//! like any other capture: what students watch live is exactly what the
//! final capture will show. When the demo ends, the final capture is
//! written where asked and can be replayed.
//!
//! Each analysis runs on a thread of its own, one at a time, so the window
//! never waits for one (a long demo makes long snapshots).

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use super::loader::{self, LoadError, LoadOptions};
use super::model::Scene;
use crate::world::demo::{DemoOptions, Stage, run_with, stage};
use crate::world::recorder::Recorder;
use crate::world::tls::KeyLogCollector;

/// How often a snapshot of the recording is analysed.
const SNAPSHOT_EVERY: Duration = Duration::from_millis(300);

enum Event {
    Started(Recorder, Arc<KeyLogCollector>, Stage),
    Finished(Result<(), DemoError>),
}

/// What stopped the demo, or the reading of its capture.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("cannot start the async runtime: {0}")]
    Runtime(io::Error),
    #[error("the demo failed: {0}")]
    Run(io::Error),
    #[error("cannot create {}: {source}", path.display())]
    Create { path: PathBuf, source: io::Error },
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
    /// Flushing the final capture to its file.
    #[error(transparent)]
    Flush(io::Error),
    #[error("cannot record the snapshot: {0}")]
    Snapshot(io::Error),
    #[error("the analysis thread stopped")]
    AnalysisStopped,
    #[error(transparent)]
    Load(#[from] LoadError),
}

/// What [`LiveDemo::poll`] found.
pub enum LivePoll {
    Nothing,
    /// The scene of a new snapshot, read from this file.
    Snapshot(Box<Scene>, PathBuf),
    /// The demo is over: the scene of the final capture, in this file.
    Finished(Box<Scene>, PathBuf),
    Failed(DemoError),
}

/// Which capture an analysis under way reads.
enum Reading {
    Snapshot,
    Final,
}

/// A demo running in the background.
pub struct LiveDemo {
    rx: Receiver<Event>,
    recording: Option<(Recorder, Arc<KeyLogCollector>)>,
    snapshot: PathBuf,
    /// Where the final capture goes.
    pub target: PathBuf,
    last: Option<Instant>,
    /// Size of the last snapshot written.
    snapshot_len: usize,
    /// The demo has ended and its capture is written.
    done: bool,
    analysing: Option<(Reading, Receiver<Result<Scene, LoadError>>)>,
    /// The demo's path, known once its world is up.
    stage: Option<Stage>,
    load: LoadOptions,
    wake: Arc<dyn Fn() + Send + Sync>,
}

impl LiveDemo {
    /// Starts the demo; `wake` is called when something happens. Captures
    /// are read with `load` (key logs, or none at all).
    pub fn start(
        options: DemoOptions,
        target: PathBuf,
        load: LoadOptions,
        wake: impl Fn() + Send + Sync + 'static,
    ) -> Self {
        let wake: Arc<dyn Fn() + Send + Sync> = Arc::new(wake);
        let (tx, rx) = channel();
        let out = target.clone();
        let wake_demo = wake.clone();
        std::thread::Builder::new()
            .name("mailscope-demo".into())
            .spawn(move || {
                let result = (|| -> Result<(), DemoError> {
                    let rt = tokio::runtime::Builder::new_multi_thread()
                        .enable_all()
                        .build()
                        .map_err(DemoError::Runtime)?;
                    let started_tx = tx.clone();
                    let report = rt
                        .block_on(run_with(&options, |world| {
                            let _ = started_tx.send(Event::Started(
                                world.recorder.clone(),
                                world.pki.key_log(),
                                stage(&options, world),
                            ));
                        }))
                        .map_err(DemoError::Run)?;
                    let file = std::fs::File::create(&out).map_err(|source| DemoError::Create {
                        path: out.clone(),
                        source,
                    })?;
                    let mut w = io::BufWriter::new(file);
                    report
                        .world
                        .recorder
                        .write_pcapng(&mut w, &report.world.key_log())
                        .map_err(|source| DemoError::Write {
                            path: out.clone(),
                            source,
                        })?;
                    io::Write::flush(&mut w).map_err(DemoError::Flush)?;
                    Ok(())
                })();
                let _ = tx.send(Event::Finished(result));
                wake_demo();
            })
            .expect("cannot start the demo thread");
        let snapshot = std::env::temp_dir().join(format!(
            "mailscope-live-{}-{}.pcapng",
            std::process::id(),
            Instant::now().elapsed().as_nanos()
        ));
        LiveDemo {
            rx,
            recording: None,
            snapshot,
            target,
            last: None,
            snapshot_len: 0,
            done: false,
            analysing: None,
            stage: None,
            load,
            wake,
        }
    }

    /// Analyses `path` on a thread of its own.
    fn analyse(&mut self, reading: Reading, path: PathBuf) {
        let (tx, rx) = channel();
        let mut load = self.load.clone();
        // A snapshot places the hosts of hops still to come; the final
        // capture is read as any capture is, from its packets alone.
        if matches!(reading, Reading::Snapshot) {
            load.stage = self.stage.clone();
        }
        let wake = self.wake.clone();
        std::thread::Builder::new()
            .name("mailscope-live-load".into())
            .spawn(move || {
                let _ = tx.send(loader::analyze(&path, &load, |_, _| {}));
                wake();
            })
            .expect("cannot start the snapshot thread");
        self.analysing = Some((reading, rx));
    }

    /// Called every frame.
    pub fn poll(&mut self) -> LivePoll {
        while let Ok(ev) = self.rx.try_recv() {
            match ev {
                Event::Started(r, k, stage) => {
                    self.recording = Some((r, k));
                    self.stage = Some(stage);
                }
                Event::Finished(Ok(())) => self.done = true,
                Event::Finished(Err(e)) => return LivePoll::Failed(e),
            }
        }
        if let Some((reading, rx)) = &self.analysing {
            let result = match rx.try_recv() {
                Ok(result) => result.map_err(DemoError::Load),
                Err(std::sync::mpsc::TryRecvError::Empty) => return LivePoll::Nothing,
                Err(std::sync::mpsc::TryRecvError::Disconnected) => Err(DemoError::AnalysisStopped),
            };
            let final_capture = matches!(reading, Reading::Final);
            self.analysing = None;
            return match (final_capture, result) {
                (true, Ok(scene)) => {
                    let _ = std::fs::remove_file(&self.snapshot);
                    LivePoll::Finished(Box::new(scene), self.target.clone())
                }
                (true, Err(e)) => LivePoll::Failed(e),
                (false, Ok(scene)) => LivePoll::Snapshot(Box::new(scene), self.snapshot.clone()),
                // A snapshot is only a preview: the next one may read.
                (false, Err(_)) => LivePoll::Nothing,
            };
        }
        if self.done {
            self.analyse(Reading::Final, self.target.clone());
            return LivePoll::Nothing;
        }
        let Some((recorder, keys)) = &self.recording else {
            return LivePoll::Nothing;
        };
        if self.last.is_some_and(|l| l.elapsed() < SNAPSHOT_EVERY) {
            return LivePoll::Nothing;
        }
        self.last = Some(Instant::now());
        // The recording grows only: a snapshot of the same size is the
        // same snapshot, and needs no new analysis.
        let mut bytes = Vec::new();
        if let Err(e) = recorder.write_pcapng(&mut bytes, &keys.contents()) {
            return LivePoll::Failed(DemoError::Snapshot(e));
        }
        if bytes.len() == self.snapshot_len {
            return LivePoll::Nothing;
        }
        self.snapshot_len = bytes.len();
        match std::fs::write(&self.snapshot, &bytes) {
            Ok(()) => {
                self.analyse(Reading::Snapshot, self.snapshot.clone());
                LivePoll::Nothing
            }
            Err(source) => LivePoll::Failed(DemoError::Write {
                path: self.snapshot.clone(),
                source,
            }),
        }
    }
}

impl Drop for LiveDemo {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.snapshot);
    }
}
