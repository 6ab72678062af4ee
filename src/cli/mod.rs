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
mod serve;
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
        /// A pcap or pcapng file.
        file: PathBuf,
        /// JSON Lines (the records of docs/output-schema.md).
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        keys: KeyArgs,
        /// Threads reading the flows, behind one capture reader (default:
        /// the machine's cores). The records are the same at any number.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
        threads: Option<u16>,
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
        #[command(flatten)]
        keys: KeyArgs,
        /// Threads reading the flows, behind one capture reader (default:
        /// the machine's cores). The output is the same at any number.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
        threads: Option<u16>,
    },
    /// Write every message as .eml, its attachments decoded, and index.json.
    Extract {
        file: PathBuf,
        /// Output directory (created if needed; nothing is written outside it).
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
        #[command(flatten)]
        keys: KeyArgs,
    },
    /// The credentials that travelled in clear (and, with keys, those
    /// that TLS protected).
    Creds {
        file: PathBuf,
        /// JSON Lines: one `credential` record per line.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        keys: KeyArgs,
        /// Threads reading the flows, behind one capture reader (default:
        /// the machine's cores). The output is the same at any number.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
        threads: Option<u16>,
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
    /// Run the Alice → Bob delivery path on loopback, print its
    /// transcript and record it as a pcapng capture.
    Demo {
        /// How the user agents protect their connections: none (the lesson
        /// on eavesdropping), starttls (587/110/143 with STARTTLS/STLS) or
        /// implicit (465/995/993).
        #[arg(long, value_enum, default_value = "starttls")]
        tls: TlsArg,
        /// How Bob reads his mail.
        #[arg(long, value_enum, default_value = "pop3")]
        read: ReadArg,
        /// Where to write the capture.
        #[arg(short = 'w', long = "write", default_value = "alice-to-bob.pcapng")]
        write: PathBuf,
        /// Pace of the user agents: 1 = a step every 150 ms, 2 = twice as
        /// fast, 0 = no pauses (default 1; with --gui, a step a second,
        /// to narrate).
        #[arg(long)]
        speed: Option<f64>,
        /// First three bytes of the hosts' loopback addresses.
        #[arg(long, default_value = "127.0.10")]
        net: String,
        /// Ports: standard, offset, offset=N, or service=port,… (smtp,
        /// submission, smtps, pop3, pop3s, imap, imaps, dns).
        #[arg(long)]
        ports: Option<String>,
        /// POP3: leave the message on the server.
        #[arg(long)]
        keep: bool,
        /// Also write the TLS key log (SSLKEYLOGFILE format) to this file.
        #[arg(long)]
        keylog: Option<PathBuf>,
        /// Record the real loopback traffic through libpcap instead of the
        /// socket taps (feature `live`, root or cap_net_raw).
        #[arg(long)]
        capture_lo: bool,
        /// Alice's domain (her mail server's name).
        #[arg(long, default_value = "crepes.fr")]
        alice_domain: String,
        /// Bob's domain (his mail server's name).
        #[arg(long, default_value = "hamburger.edu")]
        bob_domain: String,
        /// Use only this TLS cipher suite, by its IANA name: one of TLS 1.3's
        /// (TLS_AES_128_GCM_SHA256, …) or TLS 1.2's ECDHE_ECDSA AEAD suites
        /// (TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, …), which also picks
        /// the TLS version.
        #[arg(long)]
        cipher: Option<String>,
        /// Open the classroom window and follow the demo live while it
        /// records; the capture can be replayed afterwards.
        #[arg(long)]
        gui: bool,
        /// crepes.fr relays for anyone: Alice's agent hands it the message
        /// on port 25 without authenticating (the lesson on open relays;
        /// `analyze` shows an `open-relay` finding).
        #[arg(long)]
        open_relay: bool,
    },
    /// The classroom window: the capture animated as hosts, connections
    /// and packets, with transcripts, the message inspector and what an
    /// eavesdropper reads.
    Gui(gui::GuiArgs),
    /// Classroom mode: a mail server (SMTP, submission, POP3, IMAP, with
    /// STARTTLS and implicit TLS) for students to talk to by hand.
    Serve(serve::ServeArgs),
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
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum TlsArg {
    None,
    Starttls,
    Implicit,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum ReadArg {
    Pop3,
    Imap,
}

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
            file,
            json,
            keys,
            threads,
        } => analyze::run(&file, json, &keys, run::threads(threads), cli.quiet),
        Command::Dialog {
            file,
            flow,
            full,
            json,
            keys,
            threads,
        } => dialog::run(
            &file,
            flow,
            full,
            json,
            &keys,
            run::threads(threads),
            cli.quiet,
        ),
        Command::Extract { file, output, keys } => extract::run(&file, &output, &keys, cli.quiet),
        Command::Creds {
            file,
            json,
            keys,
            threads,
        } => creds::run(&file, json, &keys, run::threads(threads), cli.quiet),
        Command::Flows { file, json } => flows::run(&file, json, cli.quiet),
        Command::Stream { file, flow, raw } => stream::run(&file, flow, raw, cli.quiet),
        Command::Demo {
            tls,
            read,
            write,
            speed,
            net,
            ports,
            keep,
            keylog,
            capture_lo,
            alice_domain,
            bob_domain,
            cipher,
            gui,
            open_relay,
        } => (|| {
            let usage = |m: String| Failure {
                code: 2,
                message: m,
            };
            for d in [&alice_domain, &bob_domain] {
                mailscope::world::topology::check_domain(d).map_err(usage)?;
            }
            let speed = speed.unwrap_or(if gui { gui::narrated_speed() } else { 1.0 });
            if alice_domain.eq_ignore_ascii_case(&bob_domain) {
                return Err(usage("Alice and Bob need two different domains".into()));
            }
            let net = mailscope::world::topology::parse_net(&net).map_err(usage)?;
            let cipher = cipher
                .as_deref()
                .map(mailscope::world::tls::suite_by_name)
                .transpose()
                .map_err(usage)?;
            let ports = match ports {
                Some(spec) => {
                    let mut p = mailscope::world::topology::PortPlan::standard();
                    p.apply(&spec).map_err(usage)?;
                    Some(p)
                }
                None => None,
            };
            demo::run(
                demo::DemoArgs {
                    tls: match tls {
                        TlsArg::None => mailscope::proto::TlsMode::None,
                        TlsArg::Starttls => mailscope::proto::TlsMode::Starttls,
                        TlsArg::Implicit => mailscope::proto::TlsMode::Implicit,
                    },
                    read: match read {
                        ReadArg::Pop3 => mailscope::world::demo::ReadWith::Pop3,
                        ReadArg::Imap => mailscope::world::demo::ReadWith::Imap,
                    },
                    write: &write,
                    speed,
                    net,
                    ports,
                    keep,
                    keylog: keylog.as_deref(),
                    capture_lo,
                    alice_domain,
                    bob_domain,
                    cipher,
                    gui,
                    open_relay,
                },
                cli.quiet,
            )
        })(),
        Command::Gui(args) => gui::run(args),
        Command::Serve(args) => serve::run(&args, cli.quiet),
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
