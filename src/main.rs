//! `report`: see the README, or `report --help`.

use clap::Parser;

fn main() {
    report::train::host::tune_allocator();
    let cli = report::cli::Cli::parse();
    report::interrupt::install();
    if let Err(e) = report::cmd::run(cli) {
        // One line: the context chain joined, so scripts and people see the whole cause.
        eprintln!("error: {e:#}");
        let interrupted = e.downcast_ref::<report::interrupt::Interrupted>().is_some();
        std::process::exit(if interrupted { 130 } else { 1 });
    }
}
