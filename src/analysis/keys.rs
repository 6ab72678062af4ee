//! Where TLS secrets come from: `--keylog` files (NSS key log format, as
//! written by browsers, curl, OpenSSL and `mailscope demo --keylog`) and the
//! capture's own Decryption Secrets Blocks, read as they come.

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;

use super::Error;
use crate::proto::tls::decrypt::SharedKeyLog;
use crate::proto::tls::keylog::KeyLog;

/// The key sources of a run.
#[derive(Clone, Debug, Default)]
pub struct KeySources {
    /// Key log files, read before the capture.
    pub files: Vec<PathBuf>,
    /// Read no secrets at all (not even the capture's): show only what an
    /// eavesdropper without the keys sees.
    pub no_decrypt: bool,
}

/// The key log of a run, and a warning per file with lines it did not
/// understand. None with `no_decrypt`.
pub(crate) fn load(sources: &KeySources) -> Result<(Option<SharedKeyLog>, Vec<String>), Error> {
    if sources.no_decrypt {
        return Ok((None, Vec::new()));
    }
    let mut log = KeyLog::default();
    let mut warnings = Vec::new();
    for path in &sources.files {
        let text = std::fs::read(path).map_err(|source| Error::KeyLog {
            path: path.clone(),
            source,
        })?;
        let before = log.rejected.len();
        log.add(&text);
        let bad = &log.rejected[before..];
        if let Some(first) = bad.first() {
            warnings.push(format!(
                "key log {}: {} line(s) not understood (line {}: {})",
                path.display(),
                bad.len(),
                first.line,
                first.reason
            ));
        }
    }
    Ok((Some(Rc::new(RefCell::new(log))), warnings))
}
