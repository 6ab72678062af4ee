//! The `mailscope` command. Thin on purpose: parse the command line, call the
//! library, print. All the work is in the library so scripts and tests can
//! use it the same way.

fn main() {
    std::process::exit(mailscope::cli::main());
}
