//! `report`: see the README, or `report --help`.

use clap::Parser;

fn main() {
    let cli = report::cli::Cli::parse();
    if let Err(e) = report::cli::run(cli) {
        // One line: the context chain joined, so scripts and people see the whole cause.
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
