//! Where everything lives under `out/`.
//!
//! ```text
//! out/
//!   .lock                          held by the build that writes the store
//!   cache/data/<fingerprint>.bin   decoded datasets
//!   runs/<profile>/<section>/<variant>/seed-<seed>/   one per seed of the run
//!     run.json      the record: key, status, device, times, file digests (written last)
//!     spec.json     the resolved run spec
//!     metrics.json  per-epoch metrics and the final confusion matrix
//!     metrics.csv   the per-epoch metrics for spreadsheets and pandas
//!     weights.safetensors  final weights, named as PyTorch names them (conv1.weight)
//!     model.py      the network as a torch.nn.Module, with its input normalisation
//!     log.txt       the training log
//!     snapshots/labels.npy, snapshots/epoch-NNN.npy   PCA-compressed latent vectors
//!   runs/.staging/  runs being trained; moved into place when complete
//!   cache/tsne/<hash>.csv          t-SNE coordinates by snapshot and settings
//!   cache/pdf.key                  digests of the PDF's inputs and of the PDF
//!   site/                          the publishable static site
//!     index.html, style.css, report.json
//!     report.schema.json           the JSON Schema of report.json
//!     data/<section>/<variant>/seed-<seed>/metrics.{json,csv}   copies of the runs' metrics
//!     figures/figures.json         the figure manifest the renderer reads
//!     figures/<section>/architecture.{svg,png}
//!     figures/<section>/variants.{svg,png}
//!     figures/<section>/<variant>/{accuracy,loss,confusion}.{svg,png}
//!     figures/<section>/<variant>/tsne-epoch-NNN.{svg,png,csv}, tsne-panel.{svg,png}
//!     figures/overview/test-accuracy.{svg,png}
//!   report.md                      the Markdown report (links into site/)
//!   report.pdf                     the PDF report, figures embedded
//!   report.typ                     the Typst source it was typeset from (its errors name it)
//!   build.json                     how the last build was invoked
//!   verify.json                    what the last `report verify` retrained and found
//!   .verify/runs/<profile>/...     the runs it retrained (a scratch store of its own)
//!   slurm/array.sh                 the batch script of the last `--executor slurm` build
//!   slurm/<job>_<task>.log         each array task's output
//! ```

use std::path::{Path, PathBuf};

use crate::plan::spec::SeedRun;

/// The store rooted at an `out/` folder.
#[derive(Debug, Clone)]
pub struct Store {
    out: PathBuf,
}

impl Store {
    /// The JSON Schema of `report.json`: its name in the site, beside `report.json`, and
    /// so also the relative reference `report.json`'s `$schema` holds.
    pub const REPORT_SCHEMA: &'static str = "report.schema.json";

    /// The store in `out`; nothing is created until something is written.
    pub fn new(out: &Path) -> Self {
        Store {
            out: out.to_path_buf(),
        }
    }

    /// The `out/` folder.
    pub fn out(&self) -> &Path {
        &self.out
    }

    /// Every cache (decoded data, t-SNE coordinates): rebuilt from the runs when lost.
    pub fn cache_root(&self) -> PathBuf {
        self.out.join("cache")
    }

    /// Decoded dataset cache.
    pub fn data_cache(&self) -> PathBuf {
        self.cache_root().join("data")
    }

    /// The finished runs of every profile.
    pub fn runs_root(&self) -> PathBuf {
        self.out.join("runs")
    }

    /// The lock file.
    pub fn lock_path(&self) -> PathBuf {
        self.out.join(".lock")
    }

    /// The folder of a finished run.
    pub fn run(&self, profile: &str, run: &SeedRun) -> RunFiles {
        RunFiles {
            dir: self
                .runs_root()
                .join(profile)
                .join(&run.id.section)
                .join(&run.id.variant)
                .join(Self::seed_folder(run.seed)),
        }
    }

    /// Where a run is trained before it is moved into place.
    pub fn staging(&self, profile: &str, run: &SeedRun) -> RunFiles {
        RunFiles {
            dir: self.staging_root().join(format!(
                "{profile}--{}--{}--{}",
                run.id.section,
                run.id.variant,
                Self::seed_folder(run.seed)
            )),
        }
    }

    /// The folder of one seed's run, under its run's.
    fn seed_folder(seed: u64) -> String {
        format!("seed-{seed}")
    }

    /// Cached t-SNE coordinates.
    pub fn tsne_cache(&self) -> PathBuf {
        self.cache_root().join("tsne")
    }

    /// The static site.
    pub fn site(&self) -> PathBuf {
        self.out.join("site")
    }

    /// The site's page.
    pub fn index_html(&self) -> PathBuf {
        self.site().join("index.html")
    }

    /// The report context as JSON, for other tools.
    pub fn report_json(&self) -> PathBuf {
        self.site().join("report.json")
    }

    /// The JSON Schema of `report.json`, beside it.
    pub fn report_schema(&self) -> PathBuf {
        self.site().join(Self::REPORT_SCHEMA)
    }

    /// The site's copy of a run's file (`metrics.json`, `metrics.csv`: `file` is its
    /// path in the run folder), relative to the site folder:
    /// `data/<section>/<variant>/seed-<seed>/<file name>`.
    pub fn site_run_copy(run: &SeedRun, file: &Path) -> String {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default();
        format!(
            "data/{}/{}/{}/{name}",
            run.id.section,
            run.id.variant,
            Self::seed_folder(run.seed)
        )
    }

    /// A file at the top of the site (the stylesheet, named by its template).
    pub fn site_file(&self, name: &str) -> PathBuf {
        self.site().join(name)
    }

    /// The folder of every figure.
    pub fn figures(&self) -> PathBuf {
        self.site().join("figures")
    }

    /// How the last build was invoked.
    pub fn build_info(&self) -> PathBuf {
        self.out.join("build.json")
    }

    /// What the last `report verify` found.
    pub fn verification(&self) -> PathBuf {
        self.out.join("verify.json")
    }

    /// The scratch store `report verify` retrains into, emptied by each verify: no
    /// stored file is ever written by a verification.
    pub fn verify_scratch(&self) -> Store {
        Store::new(&self.out.join(".verify"))
    }

    /// The Markdown report.
    pub fn markdown(&self) -> PathBuf {
        self.out.join("report.md")
    }

    /// The PDF report.
    pub fn pdf(&self) -> PathBuf {
        self.out.join("report.pdf")
    }

    /// The digest of what the PDF was typeset from, and of the PDF.
    pub fn pdf_key(&self) -> PathBuf {
        self.cache_root().join("pdf.key")
    }

    /// The Typst source the PDF is typeset from.
    pub fn typst_source(&self) -> PathBuf {
        self.out.join("report.typ")
    }

    /// The figure manifest.
    pub fn figure_manifest(&self) -> PathBuf {
        self.figures().join("figures.json")
    }

    /// A figure's path without extension, relative to the site folder:
    /// `figures/<section>/<name>` or `figures/<section>/<variant>/<name>`.
    pub fn figure_stem(section: &str, variant: Option<&str>, name: &str) -> String {
        match variant {
            Some(v) => format!("figures/{section}/{v}/{name}"),
            None => format!("figures/{section}/{name}"),
        }
    }

    /// What `--executor slurm` writes: its batch script and the tasks' logs.
    pub fn slurm_dir(&self) -> PathBuf {
        self.out.join("slurm")
    }

    /// The batch script of the last Slurm submission.
    pub fn slurm_script(&self) -> PathBuf {
        self.slurm_dir().join("array.sh")
    }

    /// The output of task `task` of array job `job`, as its `--output` pattern names it.
    pub fn slurm_log(&self, job: &str, task: usize) -> PathBuf {
        self.slurm_dir().join(format!("{job}_{task}.log"))
    }

    /// `--output` for the batch script: Slurm fills in the job and task numbers.
    pub fn slurm_log_pattern(&self) -> PathBuf {
        self.slurm_dir().join("%A_%a.log")
    }

    /// The folder of all runs in training; left-overs of a killed build are removed.
    pub fn staging_root(&self) -> PathBuf {
        self.runs_root().join(".staging")
    }
}

/// The files of one run folder.
#[derive(Debug, Clone)]
pub struct RunFiles {
    /// The folder.
    pub dir: PathBuf,
}

impl RunFiles {
    /// The record, written last.
    pub fn record(&self) -> PathBuf {
        self.dir.join("run.json")
    }
    /// The resolved spec.
    pub fn spec(&self) -> PathBuf {
        self.dir.join("spec.json")
    }
    /// Per-epoch metrics and the confusion matrix.
    pub fn metrics_json(&self) -> PathBuf {
        self.dir.join("metrics.json")
    }
    /// Per-epoch metrics as CSV.
    pub fn metrics_csv(&self) -> PathBuf {
        self.dir.join("metrics.csv")
    }
    /// Final weights.
    pub fn weights(&self) -> PathBuf {
        self.dir.join("weights.safetensors")
    }
    /// The network as PyTorch code (`model.load()` reads the weights beside it).
    pub fn model_py(&self) -> PathBuf {
        self.dir.join("model.py")
    }
    /// Training log.
    pub fn log(&self) -> PathBuf {
        self.dir.join("log.txt")
    }
    /// Labels of the snapshot rows (the test set's).
    pub fn snapshot_labels(&self) -> PathBuf {
        self.dir.join("snapshots").join("labels.npy")
    }
    /// The latent snapshot of one epoch.
    pub fn snapshot(&self, epoch: i64) -> PathBuf {
        self.dir
            .join("snapshots")
            .join(format!("epoch-{epoch:03}.npy"))
    }
    /// A path relative to the run folder, as recorded in `run.json`.
    pub fn relative(&self, path: &Path) -> String {
        path.strip_prefix(&self.dir)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/")
    }
}
