//! A progress bar on stderr for big files, only when a person is watching.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// Files smaller than this are read too fast for a bar to be useful.
const MIN_SIZE: u64 = 32 << 20;

pub fn bar(file_len: Option<u64>, quiet: bool) -> Option<ProgressBar> {
    let len = file_len?;
    if quiet || len < MIN_SIZE || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
        )
        .expect("valid template"),
    );
    Some(bar)
}
