//! Command-line interface: argument parsing and the commands.
//!
//! Exit codes (the contract in `docs/output-schema.md`): 0 success, 1 the
//! input is unusable, 2 usage error. A closed stdout pipe (`| head`) ends the
//! program quietly with 0.

mod analyze;
mod capture;
mod creds;
mod dialog;
mod extract;
mod flows;
mod progress;
mod run;
mod spool;
mod stream;

use std::io;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

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
        /// A pcap or pcapng file.
        file: PathBuf,
        /// JSON Lines (the records of docs/output-schema.md).
        #[arg(long)]
        json: bool,
    },
    /// The textbook transcript (C:/S: lines) of each mail flow.
    Dialog {
        file: PathBuf,
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
    /// Write every message as .eml, its attachments decoded, and index.json.
    Extract {
        file: PathBuf,
        /// Output directory (created if needed; nothing is written outside it).
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
    },
    /// The credentials that travelled in clear.
    Creds {
        file: PathBuf,
        /// JSON Lines: one `credential` record per line.
        #[arg(long)]
        json: bool,
    },
    /// List the TCP flows of a capture (one row per connection).
    Flows {
        /// A pcap or pcapng file.
        file: PathBuf,
        /// JSON Lines: a `capture` record, then one `flow` record per flow.
        #[arg(long)]
        json: bool,
    },
    /// Print one flow's reassembled conversation, like Wireshark's
    /// "Follow TCP Stream".
    Stream {
        file: PathBuf,
        /// Flow id, as listed by `mailscope flows` (Wireshark's tcp.stream).
        #[arg(long)]
        flow: u64,
        /// Hex dump instead of text.
        #[arg(long)]
        raw: bool,
    },
    /// Capture mail traffic from a network interface (cargo feature `live`).
    Capture {
        /// Interface to listen on, e.g. eth0 or lo.
        #[arg(short, long)]
        interface: String,
        /// Write the packets to this pcapng file.
        #[arg(short = 'w', long)]
        write: Option<PathBuf>,
        /// BPF capture filter (default: the mail ports).
        #[arg(short = 'f', long)]
        filter: Option<String>,
        /// Stop after this many packets.
        #[arg(short = 'c', long)]
        count: Option<u64>,
    },
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

impl From<crate::capture::CaptureError> for Failure {
    fn from(e: crate::capture::CaptureError) -> Self {
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
        Command::Analyze { file, json } => analyze::run(&file, json, cli.quiet),
        Command::Dialog {
            file,
            flow,
            full,
            json,
        } => dialog::run(&file, flow, full, json, cli.quiet),
        Command::Extract { file, output } => extract::run(&file, &output, cli.quiet),
        Command::Creds { file, json } => creds::run(&file, json, cli.quiet),
        Command::Flows { file, json } => flows::run(&file, json, cli.quiet),
        Command::Stream { file, flow, raw } => stream::run(&file, flow, raw, cli.quiet),
        Command::Capture {
            interface,
            write,
            filter,
            count,
        } => capture::run(
            &interface,
            write.as_deref(),
            filter.as_deref(),
            count,
            cli.quiet,
        ),
    };
    match result {
        Ok(()) => 0,
        Err(f) if f.code == 0 => 0,
        Err(f) => {
            eprintln!("mailscope: {}", f.message);
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

/// Prints the capture's warnings on stderr (unless quiet).
pub(crate) fn print_warnings(warnings: &[String], quiet: bool) {
    if !quiet {
        for w in warnings {
            eprintln!("mailscope: warning: {w}");
        }
    }
}
