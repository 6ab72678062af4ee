//! Reading a capture into a [`Scene`], off the UI thread.
//!
//! The window must stay responsive while a 100 MB capture is analysed, so
//! the analysis runs on its own thread and reports progress over a
//! channel; the window polls the channel every frame. The analysis is the
//! analyzer's own ([`FlowAnalyzer`], the same as `mailscope analyze`), with
//! the transcript kept and a hook that keeps each message's bytes for the
//! inspector.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};

use super::model::{MessageBytes, Scene, SceneBuilder};
use crate::analysis::{AnalyzeOptions, Driver, KeySources, Observed, RunOptions, machine_cores};
use crate::trace::{DialogueOptions, MessageHook, MessageRecord, RawMessage};
use crate::world::demo::Stage;

/// What the loading thread tells the window.
pub enum LoadEvent {
    /// Bytes of the file read so far, and its size.
    Progress {
        read: u64,
        total: Option<u64>,
    },
    Done(Box<Scene>),
    /// The capture could not be read at all (not a capture, no such file).
    Failed(LoadError),
}

/// Why a capture could not be read into a scene at all. Damage inside a
/// capture is no error: the scene shows what came before it, with a
/// warning.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot open {}: {source}", path.display())]
    Open {
        path: PathBuf,
        source: crate::analysis::Error,
    },
}

/// Where to read secrets for TLS besides the capture's own DSBs.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    pub keylogs: Vec<PathBuf>,
    /// Read no secrets at all: show only what an eavesdropper without the
    /// keys sees.
    pub no_decrypt: bool,
    /// The path a demo still running will take: its hosts are placed from
    /// the first snapshot on ([`SceneBuilder::expect`]).
    pub stage: Option<Stage>,
    /// Workers reading the flows (`--threads`); None: the machine's cores.
    /// The scene is the same at any number.
    pub threads: Option<usize>,
}

/// Analyses `path` on a new thread. `wake` is called after each event so
/// the window repaints (egui's `request_repaint`).
pub fn spawn(
    path: PathBuf,
    options: LoadOptions,
    wake: impl Fn() + Send + 'static,
) -> Receiver<LoadEvent> {
    let (tx, rx) = channel();
    std::thread::Builder::new()
        .name("mailscope-load".into())
        .spawn(move || {
            let progress_tx = tx.clone();
            let result = analyze(&path, &options, |read, total| {
                let _ = progress_tx.send(LoadEvent::Progress { read, total });
                wake();
            });
            let event = match result {
                Ok(scene) => LoadEvent::Done(Box::new(scene)),
                Err(e) => LoadEvent::Failed(e),
            };
            let _ = tx.send(event);
            wake();
        })
        .expect("cannot start the loading thread");
    rx
}

/// Analyses `path` into a scene (on the calling thread), calling
/// `progress(bytes_read, file_size)` now and then.
pub fn analyze(
    path: &Path,
    options: &LoadOptions,
    mut progress: impl FnMut(u64, Option<u64>),
) -> Result<Scene, LoadError> {
    let builder = RefCell::new(SceneBuilder::new());
    if let Some(stage) = &options.stage {
        builder.borrow_mut().expect(stage);
    }
    // The hook sees each message before its bytes are dropped. It keeps
    // them in a store of its own: the finished flows keep their hook, so a
    // hook holding the builder would make a cycle.
    let store: Arc<Mutex<MessageBytes>> = Arc::default();
    let hook: MessageHook = {
        let store = store.clone();
        Arc::new(
            move |record: &mut MessageRecord, raw: &RawMessage, _parts: &[Vec<u8>]| {
                let mut store = store.lock().unwrap_or_else(|e| e.into_inner());
                store.add(record.flow, &raw.bytes);
            },
        )
    };
    let analyze_options = AnalyzeOptions {
        run: RunOptions {
            observe_udp: true,
            threads: options.threads.unwrap_or_else(machine_cores),
            keys: KeySources {
                files: options.keylogs.clone(),
                no_decrypt: options.no_decrypt,
            },
            ..RunOptions::default()
        },
        dialogue: DialogueOptions {
            transcript: true,
            full: false,
        },
        hook: Some(hook),
    };
    let mut driver =
        Driver::open(path, &analyze_options.run).map_err(|source| LoadError::Open {
            path: path.to_path_buf(),
            source,
        })?;
    let total = driver.pipeline().file_len();
    let result = driver.analyze(
        &analyze_options,
        |analysis| builder.borrow_mut().flow(analysis),
        |read| progress(read, total),
        |seen| match seen {
            Observed::Tcp(p) => builder.borrow_mut().packet(&p),
            Observed::Udp {
                index,
                ts,
                datagram,
                frame_len,
            } => builder.borrow_mut().datagram(
                index,
                ts,
                (datagram.src, datagram.dst),
                datagram.payload,
                frame_len,
            ),
        },
    );
    drop(analyze_options);
    let mut builder = builder.into_inner();
    let mut store = store.lock().unwrap_or_else(|e| e.into_inner());
    builder.message_bytes(std::mem::take(&mut *store));
    if let Err(e) = result {
        // Packets read before the damage are kept: the scene shows them
        // with the error as a warning.
        builder.warning(format!("reading stopped: {e}"));
    }
    builder.host_names(&driver.pipeline().reader().host_names());
    for w in driver.warnings() {
        builder.warning(w);
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    Ok(builder.finish(name))
}
