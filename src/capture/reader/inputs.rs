//! What the user named as the capture: files, directories, `-` for stdin,
//! turned into the list of streams to read.
//!
//! A directory stands for the files directly in it, sorted by name (the
//! order `tcpdump -G` and `editcap -c` number their pieces in; the merge
//! orders packets by time anyway). It is not walked recursively: a folder of
//! rotated captures is flat, and a recursive walk would pull in unrelated
//! captures kept in subfolders. Names starting with `.` are left out (editor
//! and OS litter). Files in it that are not captures are skipped with a
//! warning by the merged reader.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::CaptureError;
use super::decompress::{Decompressed, decompressed};

/// One input stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputSource {
    /// Standard input (`-` on the command line).
    Stdin,
    File(PathBuf),
}

impl InputSource {
    /// `-` is stdin, anything else a path.
    pub fn from_arg(arg: &Path) -> Self {
        if arg == Path::new("-") {
            InputSource::Stdin
        } else {
            InputSource::File(arg.to_path_buf())
        }
    }

    /// The name shown in records and warnings: the path as given, `-` for
    /// stdin.
    pub fn name(&self) -> String {
        match self {
            InputSource::Stdin => "-".to_string(),
            InputSource::File(p) => p.display().to_string(),
        }
    }

    /// Size in bytes, when it is a file (for the progress bar).
    pub(super) fn len(&self) -> Option<u64> {
        match self {
            InputSource::Stdin => None,
            InputSource::File(p) => std::fs::metadata(p).ok().map(|m| m.len()),
        }
    }

    /// Opens the stream, its compression removed.
    pub(super) fn open(&self) -> Result<Decompressed, CaptureError> {
        let raw: Box<dyn Read> = match self {
            InputSource::Stdin => Box::new(io::stdin()),
            InputSource::File(path) => {
                let open_error = |source| CaptureError::Open {
                    path: path.display().to_string(),
                    source,
                };
                let file = File::open(path).map_err(open_error)?;
                if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
                    return Err(open_error(io::Error::other("it is a directory")));
                }
                Box::new(file)
            }
        };
        Ok(decompressed(raw)?)
    }
}

/// The inputs named by `args`, directories replaced by the files in them.
/// An argument that does not exist stays, so that opening it gives the
/// usual error; a directory that cannot be listed is an error.
pub fn expand_inputs(args: &[PathBuf]) -> Result<Vec<InputSource>, CaptureError> {
    let mut out = Vec::new();
    for arg in args {
        if arg.is_dir() {
            out.extend(files_in(arg)?.into_iter().map(InputSource::File));
        } else {
            out.push(InputSource::from_arg(arg));
        }
    }
    Ok(out)
}

/// The regular files directly in `dir`, sorted by name, without dot files.
fn files_in(dir: &Path) -> Result<Vec<PathBuf>, CaptureError> {
    let list_error = |source| CaptureError::Open {
        path: dir.display().to_string(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(list_error)? {
        let entry = entry.map_err(list_error)?;
        let hidden = entry.file_name().as_encoded_bytes().starts_with(b".");
        if !hidden && entry.path().is_file() {
            files.push(entry.path());
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(CaptureError::NoCaptures(format!(
            "the directory {} has no files",
            dir.display()
        )));
    }
    Ok(files)
}
