//! Writing files so they survive a crash (kill -9, power loss): the
//! store's building blocks. A file reaches its final name only by a rename
//! after its bytes were flushed, and the directory is flushed after the
//! rename, since a rename that is not on the disk did not happen.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

/// Write `bytes` to `path` so that it is on the disk when we return:
/// a temporary file, fsync, rename, fsync of the directory.
pub(super) fn write_durably(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().ok_or_else(|| io::Error::other("no parent"))?;
    let tmp = dir.join(format!(
        ".{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("state")
    ));
    {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    sync_dir(dir)
}

/// Write message `uid` into a folder directory the Maildir way: `tmp/`,
/// fsync, rename into `cur/`, fsync `cur/` (the rename itself must reach
/// the disk too).
pub(super) fn write_message(dir: &Path, uid: u32, data: &[u8]) -> io::Result<()> {
    let tmp = dir
        .join("tmp")
        .join(format!("{uid}.{}.part", std::process::id()));
    let result = (|| {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(data)?;
        file.sync_all()?;
        fs::rename(&tmp, dir.join("cur").join(format!("{uid}.eml")))?;
        sync_dir(&dir.join("cur"))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Writes `bytes` to a new file at `path` and flushes it to the disk.
pub(super) fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = fs::File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

pub(super) fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// Removes the files of `dir` whose name `matches`: the leftovers of
/// writes a crash interrupted (see [`write_message`], [`write_durably`]).
pub(super) fn remove_leftovers(dir: &Path, matches: impl Fn(&str) -> bool) -> io::Result<()> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries {
        let entry = entry?;
        let leftover = entry.file_name().to_str().is_some_and(&matches)
            && entry.file_type().is_ok_and(|t| t.is_file());
        if leftover {
            fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}
