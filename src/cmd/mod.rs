//! One file per subcommand, each with one `run` entry that strings the stages together;
//! [`run`] dispatches the parsed command line to it.

pub mod build;
pub mod check;
pub mod data_fetch;
pub mod diff;
pub mod figures;
pub mod init;
pub mod list;
pub mod render;
pub mod serve;
pub mod train_run;
pub mod verify;

use anyhow::Result;

use crate::cli::{Cli, Command, DataCommand};
use crate::project::Project;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    configure_threads();
    // The one command that needs no project: it makes one.
    if let Command::Init(args) = &cli.command {
        return init::run(args.dir.as_deref().unwrap_or(&cli.root));
    }
    // Nor does diff: it names its two sides.
    if let Command::Diff(args) = cli.command {
        return diff::run(args);
    }
    let project = Project::open(&cli.root)?;
    match cli.command {
        Command::Init(_) | Command::Diff(_) => unreachable!("handled above"),
        Command::Build(args) => build::run(&project, args),
        Command::TrainRun(args) => train_run::run(&project, args),
        Command::Check(args) => check::run(&project, args),
        Command::List(args) => list::run(&project, args),
        Command::Figures(args) => figures::run(&project, args),
        Command::Render(args) => render::run(&project, args),
        Command::Verify(args) => verify::run(&project, args),
        Command::Serve(args) => serve::run(&project, args),
        Command::Data {
            command: DataCommand::Fetch(args),
        } => data_fetch::run(&project, args),
    }
}

/// libtorch would use every core it sees, hyper-threads included; one thread per
/// available core is what these small convolutions run fastest with.
fn configure_threads() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as i32;
    tch::set_num_threads(cores);
}
