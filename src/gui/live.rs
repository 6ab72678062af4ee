//! Following the embedded demo while it runs (`mailscope demo --gui`, or
//! the window's "Run the Alice→Bob demo").
//!
//! The demo runs on its own thread with its own async runtime. Its
//! recorder is shared, so every few hundred milliseconds the window writes
//! what has been recorded so far as a pcapng file and analyses that file
//! like any other capture: what students watch live is exactly what the
//! final capture will show. When the demo ends, the final capture is
//! written where asked and can be replayed.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use crate::world::demo::{DemoOptions, run_with};
use crate::world::recorder::Recorder;
use crate::world::tls::KeyLogCollector;

/// How often a snapshot of the recording is analysed.
const SNAPSHOT_EVERY: Duration = Duration::from_millis(300);

enum Event {
    Started(Recorder, Arc<KeyLogCollector>),
    Finished(Result<(), String>),
}

/// What [`LiveDemo::poll`] found.
pub enum LivePoll {
    Nothing,
    /// A new snapshot is in this file.
    Snapshot(PathBuf),
    /// The demo is over; the final capture is in this file.
    Finished(PathBuf),
    Failed(String),
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
}

impl LiveDemo {
    /// Starts the demo; `wake` is called when something happens.
    pub fn start(options: DemoOptions, target: PathBuf, wake: impl Fn() + Send + 'static) -> Self {
        let (tx, rx) = channel();
        let out = target.clone();
        std::thread::Builder::new()
            .name("mailscope-demo".into())
            .spawn(move || {
                let result = (|| -> Result<(), String> {
                    let rt = tokio::runtime::Builder::new_multi_thread()
                        .enable_all()
                        .build()
                        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
                    let started_tx = tx.clone();
                    let report = rt
                        .block_on(run_with(&options, |world| {
                            let _ = started_tx
                                .send(Event::Started(world.recorder.clone(), world.pki.key_log()));
                        }))
                        .map_err(|e| format!("the demo failed: {e}"))?;
                    let file = std::fs::File::create(&out)
                        .map_err(|e| format!("cannot create {}: {e}", out.display()))?;
                    let mut w = std::io::BufWriter::new(file);
                    report
                        .world
                        .recorder
                        .write_pcapng(&mut w, &report.world.key_log())
                        .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
                    std::io::Write::flush(&mut w).map_err(|e| e.to_string())?;
                    Ok(())
                })();
                let _ = tx.send(Event::Finished(result));
                wake();
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
        }
    }

    /// Called every frame.
    pub fn poll(&mut self) -> LivePoll {
        while let Ok(ev) = self.rx.try_recv() {
            match ev {
                Event::Started(r, k) => self.recording = Some((r, k)),
                Event::Finished(Ok(())) => {
                    let _ = std::fs::remove_file(&self.snapshot);
                    return LivePoll::Finished(self.target.clone());
                }
                Event::Finished(Err(e)) => return LivePoll::Failed(e),
            }
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
            return LivePoll::Failed(format!("cannot record the snapshot: {e}"));
        }
        if bytes.len() == self.snapshot_len {
            return LivePoll::Nothing;
        }
        self.snapshot_len = bytes.len();
        match std::fs::write(&self.snapshot, &bytes) {
            Ok(()) => LivePoll::Snapshot(self.snapshot.clone()),
            Err(e) => LivePoll::Failed(format!("cannot write {}: {e}", self.snapshot.display())),
        }
    }
}

impl Drop for LiveDemo {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.snapshot);
    }
}
