//! The command line: parses arguments and calls one stage function per command.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

use crate::pipeline::{self, BuildOptions, RunReport};
use crate::plan::RunKey;
use crate::project::Project;
use crate::store::{RunState, RunStatus, record};
use crate::train::device::DeviceChoice;
use crate::{check, data};

/// Turns deep-learning experiments into a reproducible, homework-style report.
#[derive(Debug, Parser)]
#[command(name = "report", version, about)]
pub struct Cli {
    /// Project root (holds experiments/, templates/ and out/).
    #[arg(long, global = true, default_value = ".")]
    pub root: PathBuf,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train what changed and build the report.
    Build {
        /// Profile from experiments/report.toml (default: its default_profile).
        #[arg(long)]
        profile: Option<String>,
        /// Only these sections (e.g. model-5); may be repeated.
        #[arg(long, num_args = 1..)]
        only: Vec<String>,
        /// Retrain even runs that are cached.
        #[arg(long)]
        force: bool,
        /// auto, cpu, cuda or cuda:N.
        #[arg(long, default_value = "auto")]
        device: DeviceChoice,
        /// Data source (folder, .tar or .tar.gz) instead of the profile's.
        #[arg(long)]
        data: Option<PathBuf>,
        /// Runs trained at once, each in its own process (longest first).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
        jobs: u16,
    },
    /// Internal: trains one run for `build --jobs`; the parent holds the store lock.
    #[command(name = "__train-run", hide = true)]
    TrainRun {
        #[arg(long)]
        profile: String,
        #[arg(long)]
        run: String,
        #[arg(long)]
        device: DeviceChoice,
        #[arg(long)]
        threads: i32,
        #[arg(long)]
        data: PathBuf,
    },
    /// Validate every experiment and profile without training.
    Check {
        /// Print each model's layer table.
        #[arg(long)]
        verbose: bool,
    },
    /// Each run of a profile: cached, stale, missing or damaged, with its test accuracy.
    List {
        /// Profile (default: report.toml's default_profile).
        #[arg(long)]
        profile: Option<String>,
        /// Data source instead of the profile's.
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// Redraw the figures of a profile from the store, training nothing.
    Figures {
        /// Profile (default: report.toml's default_profile).
        #[arg(long)]
        profile: Option<String>,
        /// Only these sections; may be repeated.
        #[arg(long, num_args = 1..)]
        only: Vec<String>,
        /// Data source instead of the profile's (it identifies the runs).
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// Render the report (out/site/index.html, out/report.md) from the store, training nothing.
    Render {
        /// Profile (default: report.toml's default_profile).
        #[arg(long)]
        profile: Option<String>,
    },
    /// Preview out/site on http://127.0.0.1:PORT/ (this machine only).
    Serve {
        /// Port on 127.0.0.1 (0: any free port; the URL is printed).
        #[arg(long, default_value_t = 8000)]
        port: u16,
    },
    /// Download datasets.
    Data {
        /// What to do.
        #[command(subcommand)]
        command: DataCommand,
    },
}

/// The `report data` subcommands.
#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Download an official dataset release (resuming a cut download), check its SHA-256,
    /// and unpack it into data/ (e.g. data/cifar-10-batches-bin for the full profile).
    Fetch {
        /// The dataset.
        #[arg(value_parser = clap::builder::PossibleValuesParser::new(
            data::fetch::RELEASES.iter().map(|r| r.name)))]
        dataset: String,
        /// A mirror to download from; it must serve the same bytes as the official URL.
        #[arg(long)]
        url: Option<String>,
        /// Folder to unpack into (default: data/ in the project root).
        #[arg(long)]
        dest: Option<PathBuf>,
        /// Expected SHA-256 instead of the built-in one: for mirrors of other files, and tests.
        #[arg(long, hide = true, requires = "size")]
        sha256: Option<String>,
        /// Expected size in bytes, with --sha256.
        #[arg(long, hide = true, requires = "sha256")]
        size: Option<u64>,
    },
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    configure_threads();
    let project = Project::open(&cli.root)?;
    match cli.command {
        Command::TrainRun {
            profile,
            run,
            device,
            threads,
            data,
        } => crate::jobs::worker(&project, &profile, &run, device, threads, &data),
        Command::Build {
            profile,
            only,
            force,
            device,
            data,
            jobs,
        } => {
            let profile =
                profile.unwrap_or_else(|| project.experiments.report.default_profile.clone());
            let opts = BuildOptions {
                profile,
                only,
                force,
                device,
                data,
                jobs: jobs.into(),
            };
            let built = pipeline::build(&project, &opts)?;
            print!("{}", summary_table(&built.runs));
            println!("{}", built.index.display());
            Ok(())
        }
        Command::Check { verbose } => check::run(&project, verbose),
        Command::List { profile, data } => {
            let profile =
                profile.unwrap_or_else(|| project.experiments.report.default_profile.clone());
            list(&project, &profile, data)
        }
        Command::Figures {
            profile,
            only,
            data,
        } => {
            let profile =
                profile.unwrap_or_else(|| project.experiments.report.default_profile.clone());
            project.runs(&profile, &only)?;
            let source = project.data_source(&profile, data.as_deref())?;
            let fingerprint = data::fingerprint(&source)?;
            let sections: Vec<String> = only
                .iter()
                .map(|o| o.split('/').next().unwrap_or(o).to_owned())
                .collect();
            let analysis =
                crate::analyze::figures::analyze(&project, &profile, &fingerprint, &sections)?;
            let count: usize = analysis.sections.iter().map(|s| s.runs.len()).sum();
            println!(
                "figures of {count} runs in {}",
                project.store.site().join("figures").display()
            );
            Ok(())
        }
        Command::Render { profile } => {
            let profile =
                profile.unwrap_or_else(|| project.experiments.report.default_profile.clone());
            let index = crate::render::render(&project, &profile)?;
            println!("{}", index.display());
            Ok(())
        }
        Command::Serve { port } => crate::render::serve::serve(&project.store.site(), port),
        Command::Data {
            command:
                DataCommand::Fetch {
                    dataset,
                    url,
                    dest,
                    sha256,
                    size,
                },
        } => {
            let release = data::fetch::release(&dataset)?;
            let expected = match (sha256, size) {
                (Some(sha256), Some(size)) => Some(data::fetch::Expected::new(&sha256, size)?),
                _ => None,
            };
            let dest = dest.unwrap_or_else(|| project.root.join("data"));
            let opts = data::fetch::Options {
                url,
                dest,
                expected,
            };
            let folder = data::fetch::fetch(release, &opts)?;
            println!("{} is ready in {}", release.title, folder.display());
            Ok(())
        }
    }
}

/// libtorch would use every core it sees, hyper-threads included; one thread per
/// available core is what these small convolutions run fastest with.
fn configure_threads() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as i32;
    tch::set_num_threads(cores);
}

fn list(project: &Project, profile: &str, data: Option<PathBuf>) -> Result<()> {
    let specs = project.runs(profile, &[])?;
    let source = project.data_source(profile, data.as_deref())?;
    let fingerprint = data::fingerprint(&source)?;
    println!("{:<20} {:<9} {:>9}  note", "run", "state", "test acc");
    for spec in specs {
        let files = project.store.run(profile, &spec.id);
        let state = record::inspect(&files, &RunKey::of(&spec, &fingerprint));
        let (acc, note) = match &state {
            RunState::Cached(r) | RunState::Stale(r) => {
                let metrics: Option<crate::store::Metrics> =
                    crate::fsx::read_json(&files.metrics_json()).ok();
                let acc = metrics
                    .and_then(|m| {
                        m.last()
                            .map(|e| format!("{:.1} %", 100.0 * e.test_accuracy))
                    })
                    .unwrap_or_else(|| "-".into());
                let note = match r.status {
                    RunStatus::Diverged { epoch } => format!("diverged in epoch {epoch}"),
                    RunStatus::Complete => format!("{} epochs on {}", spec.train.epochs, r.device),
                };
                (acc, note)
            }
            RunState::Damaged(why) => ("-".into(), why.clone()),
            RunState::Missing => ("-".into(), String::new()),
        };
        println!(
            "{:<20} {:<9} {:>9}  {}",
            spec.id.to_string(),
            state.to_string(),
            acc,
            note
        );
    }
    Ok(())
}

/// The end-of-build table: one line per run.
pub fn summary_table(reports: &[RunReport]) -> String {
    let mut s = format!(
        "{:<20} {:>8} {:>9} {:>9} {:>14} {:>9}\n",
        "run", "result", "train acc", "test acc", "best test", "time"
    );
    for r in reports {
        let result = match (&r.record.status, r.trained) {
            (RunStatus::Diverged { .. }, _) => "diverged",
            (_, true) => "trained",
            (_, false) => "cached",
        };
        let pct = |v: f64| format!("{:.1} %", 100.0 * v);
        let last = r.metrics.last();
        let best = r
            .metrics
            .epochs
            .iter()
            .max_by(|a, b| a.test_accuracy.total_cmp(&b.test_accuracy))
            .map_or("-".into(), |e| {
                format!("{} (ep {})", pct(e.test_accuracy), e.epoch)
            });
        let seconds = (r.record.finished - r.record.started).num_milliseconds() as f64 / 1000.0;
        s.push_str(&format!(
            "{:<20} {:>8} {:>9} {:>9} {:>14} {:>8.0}s\n",
            r.spec.id.to_string(),
            result,
            last.map_or("-".into(), |e| pct(e.train_accuracy)),
            last.map_or("-".into(), |e| pct(e.test_accuracy)),
            best,
            seconds
        ));
    }
    s
}
