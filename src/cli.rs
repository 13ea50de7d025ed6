//! The command line's shape: clap types only. What each command does is in `cmd/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::build::Executor;
use crate::build::jobs::WorkerArgs;
use crate::data;
use crate::project::Project;
use crate::train::device::DeviceChoice;

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
    /// Start a project: experiments, prose, a .gitignore and the CIFAR-10 sample.
    Init(InitArgs),
    /// Train what changed and build the report.
    Build(BuildArgs),
    /// Internal: trains one run for `build --jobs`; the parent holds the store lock.
    #[command(name = "__train-run", hide = true)]
    TrainRun(WorkerArgs),
    /// Validate every experiment and profile without training.
    Check(CheckArgs),
    /// Each run of a profile: cached, stale, missing or damaged, with its test accuracy.
    List(ListArgs),
    /// Redraw the figures of a profile from the store, training nothing.
    Figures(FiguresArgs),
    /// Render the report (out/site/index.html, out/report.md) from the store, training nothing.
    Render(RenderArgs),
    /// Retrain a sample of the stored runs into a scratch store and check that they
    /// reproduce (out/verify.json, the report's Verification appendix); exit 1 if not.
    Verify(VerifyArgs),
    /// What changed between two builds (project roots or out/ folders), training
    /// nothing: runs, their metrics tested over seeds, claims that flipped.
    Diff(DiffArgs),
    /// Preview out/site on http://127.0.0.1:PORT/ (this machine only).
    Serve(ServeArgs),
    /// Download datasets.
    Data {
        /// What to do.
        #[command(subcommand)]
        command: DataCommand,
    },
}

/// The profile a command works on.
#[derive(Debug, Clone, Args)]
pub struct ProfileArg {
    /// Profile from experiments/report.toml (default: its default_profile, or its only
    /// profile).
    #[arg(long)]
    pub profile: Option<String>,
}

impl ProfileArg {
    /// The profile given, else the project's default: the one place that default is read.
    pub fn name(&self, project: &Project) -> anyhow::Result<String> {
        match &self.profile {
            Some(p) => Ok(p.clone()),
            None => project.default_profile(),
        }
    }
}

/// Which runs a command works on: a profile, some of its sections, and its data.
#[derive(Debug, Clone, Args)]
pub struct Selection {
    /// The profile.
    #[command(flatten)]
    pub profile: ProfileArg,
    /// Only these sections (e.g. model-5) or runs (model-9/adam); may be repeated.
    #[arg(long, num_args = 1..)]
    pub only: Vec<String>,
    /// Data source (folder, .tar or .tar.gz) instead of the profile's; it identifies the runs.
    #[arg(long)]
    pub data: Option<PathBuf>,
}

/// `report build`.
#[derive(Debug, Clone, Args)]
pub struct BuildArgs {
    /// Profile, sections and data.
    #[command(flatten)]
    pub selection: Selection,
    /// Retrain even runs that are cached.
    #[arg(long)]
    pub force: bool,
    /// auto, cpu, cuda or cuda:N.
    #[arg(long, default_value = "auto")]
    pub device: DeviceChoice,
    /// Runs trained at once, each in its own process (longest first; local executor).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: u16,
    /// Where runs are trained: here, or as a Slurm array job ([executor.slurm] in
    /// experiments/report.toml or a profile).
    #[arg(long, value_enum, default_value_t = Executor::Local)]
    pub executor: Executor,
    /// With --executor slurm: print the batch script that would be submitted, and stop.
    #[arg(long)]
    pub dry_run: bool,
    /// Reuse runs stored for the same spec on another kind of device (a CPU run on a GPU
    /// build, or the reverse) instead of retraining them.
    #[arg(long)]
    pub reuse_any_device: bool,
    /// Cores that embed t-SNE snapshots while runs train, each run's as soon as it is
    /// in the store; training gets the rest (default: on CUDA every core the training
    /// processes leave free, on the CPU none; local executor).
    #[arg(long)]
    pub tsne_threads: Option<usize>,
}

/// `report diff`.
#[derive(Debug, Clone, Args)]
pub struct DiffArgs {
    /// The older build: a project root (its experiments/ and out/) or an out/ folder.
    pub old: PathBuf,
    /// The newer build, the same way.
    pub new: PathBuf,
    /// Profile of both sides (default: the new side's default profile).
    #[arg(long)]
    pub profile: Option<String>,
    /// Only these sections (e.g. model-5) or runs (model-9/adam); may be repeated.
    #[arg(long, num_args = 1..)]
    pub only: Vec<String>,
    /// text for a terminal, md for a pull-request comment, json for tools.
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,
    /// Show the runs and claims that did not change too.
    #[arg(long)]
    pub all: bool,
    /// Write the changed runs' overlaid test-accuracy curves (test-accuracy.svg and
    /// .png) into this folder; the Markdown links the SVG there.
    #[arg(long)]
    pub figures: Option<PathBuf>,
    /// Exit 1 when a claim's outcome or a run's verdict flipped.
    #[arg(long)]
    pub fail_on_flip: bool,
}

/// How `report diff` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    /// Plain text.
    Text,
    /// GitHub-flavoured Markdown.
    Md,
    /// JSON, as `diff.schema.json` describes it.
    Json,
}

/// `report verify`.
#[derive(Debug, Clone, Args)]
pub struct VerifyArgs {
    /// Profile, sections and data.
    #[command(flatten)]
    pub selection: Selection,
    /// Retrain every stored run instead of a sample.
    #[arg(long, conflicts_with = "sample")]
    pub all: bool,
    /// Runs retrained per section, picked by --sample-seed.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    pub sample: u16,
    /// The seed of the pick: the same seed picks the same runs.
    #[arg(long, default_value_t = 0)]
    pub sample_seed: u64,
    /// libtorch threads per training process (default: each run's recorded count,
    /// so that a run retrained on its machine can come back bit for bit).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
    /// auto, cpu, cuda or cuda:N.
    #[arg(long, default_value = "auto")]
    pub device: DeviceChoice,
    /// Where runs are retrained: here, or as a Slurm array job.
    #[arg(long, value_enum, default_value_t = Executor::Local)]
    pub executor: Executor,
    /// Runs retrained at once, each in its own process (local executor).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: u16,
}

/// `report init`.
#[derive(Debug, Clone, Args)]
pub struct InitArgs {
    /// The new project's folder (default: --root, the current folder); created if needed.
    pub dir: Option<PathBuf>,
}

/// `report check`.
#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// Print each model's layer table.
    #[arg(long)]
    pub verbose: bool,
}

/// `report list`.
#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// Profile, sections and data.
    #[command(flatten)]
    pub selection: Selection,
}

/// `report figures`.
#[derive(Debug, Clone, Args)]
pub struct FiguresArgs {
    /// Profile, sections (whose figures are redrawn) and data.
    #[command(flatten)]
    pub selection: Selection,
}

/// `report render`.
#[derive(Debug, Clone, Args)]
pub struct RenderArgs {
    /// The profile.
    #[command(flatten)]
    pub profile: ProfileArg,
}

/// `report serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Port on 127.0.0.1 (0: any free port; the URL is printed).
    #[arg(long, default_value_t = 8000)]
    pub port: u16,
    /// Build first, then rebuild on every change to experiments/ or templates/; open
    /// pages reload themselves, or show the error of a rebuild that failed.
    #[arg(long)]
    pub watch: bool,
    /// The profile --watch builds.
    #[command(flatten)]
    pub profile: ProfileArg,
    /// The device --watch trains on: auto, cpu, cuda or cuda:N.
    #[arg(long, default_value = "auto")]
    pub device: DeviceChoice,
}

/// The `report data` subcommands.
#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Download an official dataset release (resuming a cut download), check its published
    /// checksum, and put it into data/ (e.g. data/cifar-10-batches-bin for the full profile).
    Fetch(FetchArgs),
}

/// `report data fetch`.
#[derive(Debug, Clone, Args)]
pub struct FetchArgs {
    /// The dataset.
    #[arg(value_parser = clap::builder::PossibleValuesParser::new(
        data::fetch::RELEASES.iter().map(|r| r.name)))]
    pub dataset: String,
    /// A mirror to download from instead of the official ones; repeat it for several,
    /// tried in order. For cifar10 and cifar100 it is the archive's URL; for the MNIST
    /// family a base URL the file names are appended to. It must serve the same bytes.
    #[arg(long, value_name = "URL")]
    pub url: Vec<String>,
    /// Folder to put the dataset in (default: data/ in the project root).
    #[arg(long)]
    pub dest: Option<PathBuf>,
    /// Expected SHA-256 instead of the built-in one, for a single-file release: for
    /// mirrors of other files, and tests.
    #[arg(long, hide = true, requires = "size")]
    pub sha256: Option<String>,
    /// Expected size in bytes, with --sha256.
    #[arg(long, hide = true, requires = "sha256")]
    pub size: Option<u64>,
    /// Expected checksums instead of the built-in ones, for a multi-file release: a text
    /// file of `NAME MD5-or-SHA256 [SIZE]` lines, one per file.
    #[arg(long, hide = true, value_name = "FILE", conflicts_with_all = ["sha256", "size"])]
    pub checksums: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_reads_back_what_its_parent_wrote() {
        let sent = WorkerArgs {
            profile: "quick".into(),
            run: "model-9/adam".into(),
            seed: 2,
            device: DeviceChoice::Cuda(1),
            threads: 3,
            data: PathBuf::from("data/a b.tar.gz"),
            tsne_threads: 5,
            store: Some(PathBuf::from("/p/out/.verify")),
        };
        let mut argv: Vec<std::ffi::OsString> = vec!["report".into(), "--root".into(), "/p".into()];
        argv.push(crate::build::jobs::WORKER_COMMAND.into());
        argv.extend(sent.to_args());
        let cli = Cli::try_parse_from(argv).unwrap();
        let Command::TrainRun(got) = cli.command else {
            panic!("not the worker command: {:?}", cli.command)
        };
        assert_eq!(got, sent);
        assert_eq!(cli.root, PathBuf::from("/p"));
    }

    #[test]
    fn clap_accepts_the_command_line() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
