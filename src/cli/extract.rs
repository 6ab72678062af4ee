//! `mailscope extract FILE -o DIR` (waiting for the extract writer).
use std::path::Path;

use super::Failure;

pub fn run(_file: &Path, _dir: &Path, _quiet: bool) -> Result<(), Failure> {
    Err(Failure::input("extract: not built yet"))
}
