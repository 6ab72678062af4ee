//! The `mailscope` command. Thin on purpose: parse the command line, call the
//! library, print. All the work is in the library (`mailscope::analyze`,
//! the driver, the reports, the world, the window), so scripts and tests
//! can use it the same way.

mod cli;

fn main() {
    std::process::exit(cli::main());
}
