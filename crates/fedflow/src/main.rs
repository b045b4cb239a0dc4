//! `fedflow`: the command line. Thin: it parses arguments, calls the library
//! crates and prints results; errors end in one line and a non-zero exit code.

use clap::Parser;
use fedflow::cli;

fn main() {
    let cli = cli::Cli::parse();
    cli::init_logging(&cli);
    if let Err(e) = cli::run(cli) {
        eprintln!("error: {}", cli::one_line(&e));
        std::process::exit(1);
    }
}
