//! Command-line interface: argument parsing and the commands.
//!
//! Exit codes (the contract in `docs/output-schema.md`): 0 success, 1 the
//! input is unusable, 2 usage error. A closed stdout pipe (`| head`) ends the
//! program quietly with 0.

mod analyze;
mod capture;
mod creds;
mod demo;
mod dialog;
mod extract;
mod flows;
mod gui;
mod progress;
mod run;
mod selection;
mod serve;
mod shard;
mod spool;
mod stream;

use std::io;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use mailscope::trace::text::visible;

#[derive(Parser, Debug)]
#[command(
    name = "mailscope",
    version,
    about = "See e-mail on the wire: SMTP, POP3 and IMAP in pcap/pcapng captures",
    after_help = "Examples:\n  mailscope analyze captures/smtp-crepes-hamburger.pcapng\n  mailscope dialog captures/pop3-bob.pcapng\n  mailscope creds captures/imap-bob.pcapng\n  mailscope extract captures/smtp-crepes-hamburger.pcapng -o out/"
)]
pub struct Cli {
    /// No progress bar and no warnings on stderr (errors are still shown).
    #[arg(short, long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Analyse the mail in a capture: flows, messages, credentials sent in
    /// clear, findings.
    Analyze {
        #[command(flatten)]
        input: Input,
        /// JSON Lines (the records of docs/output-schema.md); the same as
        /// `--format json`.
        #[arg(long, conflicts_with = "format")]
        json: bool,
        /// `text` (tables for people), `json` (JSON Lines), `ecs` (JSON
        /// Lines in the Elastic Common Schema, for a SIEM) or `parquet`
        /// (six tables, flows to transactions, in the directory -o names).
        #[arg(long, value_enum)]
        format: Option<analyze::Format>,
        /// The directory `--format parquet` writes its tables to (created
        /// if needed).
        #[arg(
            short = 'o',
            long = "output",
            value_name = "DIR",
            required_if_eq("format", "parquet")
        )]
        output: Option<PathBuf>,
        /// Only the headline and the overview (totals, top talkers,
        /// senders, recipients, users); with --json one `summary` object.
        #[arg(long)]
        summary: bool,
    },
    /// The textbook transcript (C:/S: lines) of each mail flow.
    Dialog {
        #[command(flatten)]
        input: Input,
        /// Only this flow (ids as listed by `mailscope flows`).
        #[arg(long)]
        flow: Option<u64>,
        /// Show every line of the messages instead of a summary line.
        #[arg(long)]
        full: bool,
        /// JSON Lines: one object per transcript line.
        #[arg(long)]
        json: bool,
    },
    /// Write every message as .eml, its attachments decoded, and index.json
    /// (or with --attachments-only, the attachments by SHA-256 and an index).
    Extract {
        #[command(flatten)]
        input: Input,
        /// Output directory (created if needed; nothing is written outside it).
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
        /// Only the attachments, for antivirus and YARA: each distinct
        /// content once as DIR/ab/<sha256> (no name from the wire), and
        /// index.jsonl and index.csv with a row per attachment (message,
        /// file name as sent, type, hashes). No .eml files.
        #[arg(long)]
        attachments_only: bool,
    },
    /// The credentials that travelled in clear (and, with keys, those
    /// that TLS protected).
    Creds {
        #[command(flatten)]
        input: Input,
        /// JSON Lines: one `credential` record per line.
        #[arg(long)]
        json: bool,
    },
    /// List the TCP flows of a capture (one row per connection).
    Flows {
        #[command(flatten)]
        captures: Captures,
        /// JSON Lines: a `capture` record, then one `flow` record per flow.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        threads: Threads,
        #[command(flatten)]
        selection: selection::SelectionArgs,
    },
    /// Print one flow's reassembled conversation, like Wireshark's
    /// "Follow TCP Stream".
    Stream {
        #[command(flatten)]
        captures: Captures,
        /// Flow id, as listed by `mailscope flows` (Wireshark's tcp.stream).
        #[arg(long)]
        flow: u64,
        /// Hex dump instead of text.
        #[arg(long)]
        raw: bool,
        #[command(flatten)]
        selection: selection::SelectionArgs,
    },
    /// Run the Alice → Bob delivery path on loopback, print its
    /// transcript and record it as a pcapng capture.
    Demo(demo::DemoArgs),
    /// The classroom window: the capture animated as hosts, connections
    /// and packets, with transcripts, the message inspector and what an
    /// eavesdropper reads.
    Gui(gui::GuiArgs),
    /// Classroom mode: a mail server (SMTP, submission, POP3, IMAP, with
    /// STARTTLS and implicit TLS) for students to talk to by hand.
    Serve(serve::ServeArgs),
    /// Capture mail traffic from a network interface (cargo feature `live`).
    Capture(capture::CaptureArgs),
    /// Split captures into N pcapng files by a symmetric hash of each
    /// connection's endpoints, to analyse the pieces apart.
    Shard(shard::ShardArgs),
}

/// What every command of the full analysis reads, and how: the capture,
/// where TLS secrets come from, and the workers.
#[derive(clap::Args, Debug)]
pub(crate) struct Input {
    #[command(flatten)]
    pub captures: Captures,
    #[command(flatten)]
    pub keys: KeyArgs,
    #[command(flatten)]
    pub threads: Threads,
    #[command(flatten)]
    pub selection: selection::SelectionArgs,
}

/// The capture: one or several inputs read as one (`capture::MergedReader`).
#[derive(clap::Args, Debug)]
pub(crate) struct Captures {
    /// pcap or pcapng files (gzip or zstd compressed too, recognized by
    /// their first bytes), directories of them (the files directly in
    /// each, by name), or - for stdin. Several are read as one capture,
    /// packet by packet in timestamp order, as mergecap merges them.
    #[arg(value_name = "FILE", required = true, num_args = 1..)]
    pub paths: Vec<PathBuf>,
}

/// `--threads N`: the workers that read the flows (`analysis::workers`).
#[derive(clap::Args, Clone, Copy, Debug, Default)]
pub(crate) struct Threads {
    /// Threads reading the flows, behind one capture reader (default: the
    /// machine's cores). The output is the same at any number.
    #[arg(long = "threads", value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    asked: Option<u16>,
}

impl Threads {
    /// The number asked for, or the machine's cores.
    pub fn count(self) -> usize {
        self.asked
            .map_or_else(mailscope::analysis::machine_cores, usize::from)
    }
}

/// Where TLS secrets come from (issue 6).
#[derive(clap::Args, Clone, Debug, Default)]
pub(crate) struct KeyArgs {
    /// Decrypt TLS with this key log (NSS / SSLKEYLOGFILE format, as
    /// written by browsers, curl, openssl -keylogfile, `mailscope demo
    /// --keylog`); repeat for several files.
    #[arg(long = "keylog", value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Do not decrypt: ignore the capture's Decryption Secrets Blocks and
    /// any --keylog, and show only what an eavesdropper without the keys
    /// sees.
    #[arg(long, conflicts_with = "files")]
    pub no_decrypt: bool,
}

/// A failure with its exit code.
pub(crate) struct Failure {
    pub code: i32,
    pub message: String,
}

impl Failure {
    pub fn input(message: impl std::fmt::Display) -> Self {
        Failure {
            code: 1,
            message: message.to_string(),
        }
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure::input(e)
    }
}

impl From<mailscope::capture::CaptureError> for Failure {
    fn from(e: mailscope::capture::CaptureError) -> Self {
        Failure::input(e)
    }
}

/// Runs the command line and returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    let result = match cli.command {
        Command::Analyze {
            input,
            json,
            format,
            output,
            summary,
        } => analyze::Format::chosen(json, format, output.as_deref(), summary)
            .and_then(|format| analyze::run(&input, format, cli.quiet)),
        Command::Dialog {
            input,
            flow,
            full,
            json,
        } => dialog::run(&input, flow, full, json, cli.quiet),
        Command::Extract {
            input,
            output,
            attachments_only,
        } => {
            let layout = if attachments_only {
                mailscope::report::extract::Layout::Attachments
            } else {
                mailscope::report::extract::Layout::Messages
            };
            extract::run(&input, &output, layout, cli.quiet)
        }
        Command::Creds { input, json } => creds::run(&input, json, cli.quiet),
        Command::Flows {
            captures,
            json,
            threads,
            selection,
        } => selection.selection().and_then(|selection| {
            flows::run(&captures, json, threads.count(), selection, cli.quiet)
        }),
        Command::Stream {
            captures,
            flow,
            raw,
            selection,
        } => selection
            .selection()
            .and_then(|selection| stream::run(&captures, flow, raw, selection, cli.quiet)),
        Command::Demo(args) => demo::run(&args, cli.quiet),
        Command::Gui(args) => gui::run(args),
        Command::Serve(args) => serve::run(&args, cli.quiet),
        Command::Capture(args) => capture::run(&args, cli.quiet),
        Command::Shard(args) => shard::run(&args, cli.quiet),
    };
    match result {
        Ok(()) => 0,
        Err(f) if f.code == 0 => 0,
        Err(f) => {
            eprintln!("mailscope: {}", visible(&f.message));
            f.code
        }
    }
}

/// Maps a write error: a closed pipe is a normal end (exit 0, no message).
pub(crate) fn output_error(e: io::Error) -> Failure {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Failure {
            code: 0,
            message: String::new(),
        }
    } else {
        Failure::input(format!("cannot write output: {e}"))
    }
}

/// Prints the capture's warnings on stderr (unless quiet); what they quote
/// from the file is made safe for the terminal.
pub(crate) fn print_warnings(warnings: &[String], quiet: bool) {
    if !quiet {
        for w in warnings {
            eprintln!("mailscope: warning: {}", visible(w));
        }
    }
}

/// Standard output for people: buffered, and every control character
/// from the wire written out instead of obeyed (`report::terminal`).
pub(crate) fn human_stdout() -> Box<dyn io::Write> {
    Box::new(io::BufWriter::with_capacity(
        1 << 16,
        mailscope::report::terminal::TerminalSafe::new(io::stdout().lock()),
    ))
}

/// Standard output for scripts (JSON escapes control characters itself).
pub(crate) fn json_stdout() -> Box<dyn io::Write> {
    Box::new(io::BufWriter::with_capacity(1 << 16, io::stdout().lock()))
}
