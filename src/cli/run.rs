//! How the commands run the one analysis driver: the progress bar, the
//! warnings on stderr, and the error of `--flow N` when there is no such
//! flow.

use super::{Captures, Failure, KeyArgs, print_warnings, progress};
use mailscope::analysis::{
    AnalyzeOptions, Driver, FlowAnalysis, FlowReader, FlowStart, KeySources, Observed, Order,
    RunOptions,
};
use mailscope::capture::{CaptureError, InputSource, expand_inputs};

impl KeyArgs {
    pub fn sources(&self) -> KeySources {
        KeySources {
            files: self.files.clone(),
            no_decrypt: self.no_decrypt,
        }
    }
}

impl Captures {
    /// The inputs to read: directories replaced by their files.
    pub fn sources(&self) -> Result<Vec<InputSource>, Failure> {
        Ok(expand_inputs(&self.paths)?)
    }

    /// How the inputs are named in messages.
    pub fn name(&self) -> String {
        self.paths
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl From<mailscope::analysis::Error> for Failure {
    fn from(e: mailscope::analysis::Error) -> Self {
        Failure::input(e)
    }
}

/// Runs the full analysis; `on_flow` gets every analysed flow (in the
/// options' order). Returns the driver, which knows the capture's
/// statistics.
pub fn analyze(
    captures: &Captures,
    options: &AnalyzeOptions,
    quiet: bool,
    on_flow: impl FnMut(FlowAnalysis),
) -> Result<Driver, Failure> {
    analyze_observing(captures, options, quiet, on_flow, |_| {})
}

/// [`analyze`], also handing `on_packet` what the driver observes (the
/// UDP datagrams, with `observe_udp`).
pub fn analyze_observing(
    captures: &Captures,
    options: &AnalyzeOptions,
    quiet: bool,
    on_flow: impl FnMut(FlowAnalysis),
    on_packet: impl FnMut(Observed<'_>),
) -> Result<Driver, Failure> {
    with_progress(captures, &options.run, quiet, |driver, progress| {
        driver.analyze(options, on_flow, progress, on_packet)
    })
}

/// Runs the driver with another reader per flow (`flows`, `stream`).
pub fn read<R: FlowReader>(
    captures: &Captures,
    options: &RunOptions,
    quiet: bool,
    new_reader: impl FnMut(FlowStart<'_>) -> Option<R>,
    on_flow: impl FnMut(R::Output),
) -> Result<Driver, Failure> {
    with_progress(captures, options, quiet, |driver, progress| {
        driver.run(options.order, new_reader, on_flow, progress, |_| {})
    })
}

/// [`read`] for readers that can be made on any thread: on
/// `options.threads` workers when there are several (`flows --threads`).
pub fn read_shared<R>(
    captures: &Captures,
    options: &RunOptions,
    quiet: bool,
    new_reader: impl Fn(FlowStart<'_>) -> Option<R> + Sync,
    on_flow: impl FnMut(R::Output),
) -> Result<Driver, Failure>
where
    R: FlowReader,
    R::Output: Send,
{
    with_progress(captures, options, quiet, |driver, progress| {
        driver.run_on(options, new_reader, on_flow, progress, |_| {})
    })
}

/// Opens the capture, shows a progress bar while `go` reads it (unless
/// `quiet`), then the warnings.
fn with_progress(
    captures: &Captures,
    options: &RunOptions,
    quiet: bool,
    go: impl FnOnce(&mut Driver, &mut dyn FnMut(u64)) -> Result<(), CaptureError>,
) -> Result<Driver, Failure> {
    let mut driver = Driver::open_inputs(&captures.sources()?, options)?;
    let bar = progress::bar(driver.pipeline().file_len(), quiet);
    go(&mut driver, &mut |done| {
        if let Some(bar) = &bar {
            bar.set_position(done);
        }
    })?;
    finish_reading(&driver, bar, quiet);
    Ok(driver)
}

impl super::Input {
    /// How the driver reads this input: its keys, workers and frames,
    /// flows given in `order`.
    pub fn run_options(&self, order: Order) -> Result<RunOptions, Failure> {
        Ok(RunOptions {
            order,
            keys: self.keys.sources(),
            threads: self.threads.count(),
            selection: self.selection.selection()?,
            ..RunOptions::default()
        })
    }
}

/// After the capture was read: the progress bar goes, the warnings are
/// shown.
fn finish_reading(driver: &Driver, bar: Option<indicatif::ProgressBar>, quiet: bool) {
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    print_warnings(&driver.warnings(), quiet);
}

/// The error of `--flow N` when the capture has no flow N.
pub fn no_such_flow(captures: &Captures, flow: u64, flows_seen: u64) -> Failure {
    let has = match flows_seen {
        0 => "it has no TCP flow".to_string(),
        n => format!("it has flows 0 to {}; see `mailscope flows`", n - 1),
    };
    Failure {
        code: 2,
        message: format!("no flow {flow} in {} ({has})", captures.name()),
    }
}
