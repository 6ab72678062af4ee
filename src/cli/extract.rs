//! `mailscope extract FILE -o DIR`: every message as `.eml`, its
//! attachments decoded, and `index.json` (docs/output-schema.md § extract).
//!
//! Messages are written the moment they are complete, so an extract of a
//! capture of any size holds at most one message in memory.

use std::path::Path;
use std::sync::{Arc, Mutex};

use super::Failure;
use super::run;
use mailscope::analysis::{AnalyzeOptions, RunOptions};
use mailscope::report::extract::Extractor;
use mailscope::trace::{MessageHook, MessageRecord, RawMessage};

pub fn run(file: &Path, dir: &Path, keys: &super::KeyArgs, quiet: bool) -> Result<(), Failure> {
    let extractor = Extractor::new(dir)
        .map_err(|e| Failure::input(format!("cannot write to {}: {e}", dir.display())))?;
    let state = Arc::new(Mutex::new((extractor, None::<std::io::Error>)));
    let hook_state = Arc::clone(&state);
    let hook: MessageHook = Arc::new(Mutex::new(
        move |record: &mut MessageRecord, raw: &RawMessage, contents: &[Vec<u8>]| {
            let mut s = hook_state.lock().unwrap_or_else(|e| e.into_inner());
            if s.1.is_none()
                && let Err(e) = s.0.write(record, raw, contents)
            {
                s.1 = Some(e);
            }
        },
    ));
    let options = AnalyzeOptions {
        run: RunOptions {
            keys: keys.sources(),
            ..RunOptions::default()
        },
        hook: Some(hook),
        ..AnalyzeOptions::default()
    };
    run::analyze(file, &options, quiet, |_| {})?;
    // The hook's other owners (the options, the sessions) are gone.
    drop(options);
    let (extractor, error) = Arc::try_unwrap(state)
        .map_err(|_| Failure::input("internal error: extract hook still in use"))?
        .into_inner()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(e) = error {
        return Err(Failure::input(format!(
            "cannot write to {}: {e}",
            dir.display()
        )));
    }
    let written = extractor
        .finish()
        .map_err(|e| Failure::input(format!("cannot write {}: {e}", dir.display())))?;
    if !quiet {
        eprintln!(
            "mailscope: {written} message(s) written to {}",
            dir.display()
        );
    }
    Ok(())
}
