//! The batch script of one array job: `#SBATCH` lines from `[executor.slurm]`, then
//! one `case` arm per task that `exec`s this binary's hidden worker on one run — the
//! same command line a `--jobs` worker is started with. `--dry-run` prints it as is.

use std::ffi::OsStr;
use std::path::Path;

use anyhow::{Result, bail};

use crate::build::jobs::{WORKER_COMMAND, WorkerArgs};
use crate::experiment::executor::SlurmSettings;

/// One array task: the run it trains.
#[derive(Debug, Clone)]
pub struct Task {
    /// The run and seed as the build's messages name them (`model-9/adam seed 2`).
    pub label: String,
    /// What its worker is told.
    pub args: WorkerArgs,
}

/// Everything the batch script says.
#[derive(Debug)]
pub struct ArrayJob<'a> {
    /// `--job-name`.
    pub name: String,
    /// The `report` binary every task runs: the one submitting, by absolute path.
    pub exe: &'a Path,
    /// The project root, absolute.
    pub root: &'a Path,
    /// `--output`, with `%A` and `%a` left for Slurm.
    pub log_pattern: &'a Path,
    /// The cluster settings.
    pub settings: &'a SlurmSettings,
    /// GPUs per task (`--gres=gpu:N`); 0 for a CPU build.
    pub gpus: u32,
    /// The tasks, in array order.
    pub tasks: &'a [Task],
}

/// The script's text.
pub fn script(job: &ArrayJob<'_>) -> Result<String> {
    if job.tasks.is_empty() {
        bail!("an array job needs at least one task");
    }
    let s = job.settings;
    let mut lines = vec!["#!/bin/bash".to_owned()];
    let mut sbatch = |option: String| lines.push(format!("#SBATCH {option}"));
    sbatch(format!("--job-name={}", directive(OsStr::new(&job.name))?));
    let limit = s.max_tasks.map_or(String::new(), |k| format!("%{k}"));
    sbatch(format!("--array=0-{}{limit}", job.tasks.len() - 1));
    sbatch(format!(
        "--output={}",
        directive(job.log_pattern.as_os_str())?
    ));
    sbatch("--ntasks=1".into());
    sbatch(format!("--cpus-per-task={}", s.cpus()));
    if let Some(p) = &s.partition {
        sbatch(format!("--partition={}", directive(OsStr::new(p))?));
    }
    if let Some(t) = &s.time {
        sbatch(format!("--time={t}"));
    }
    if let Some(m) = &s.memory {
        sbatch(format!("--mem={m}"));
    }
    if job.gpus > 0 {
        sbatch(format!("--gres=gpu:{}", job.gpus));
    }
    for extra in &s.sbatch_args {
        sbatch(directive(OsStr::new(extra))?);
    }
    lines.push(String::new());
    lines.push(format!(
        "# Written by report {} for `report build --executor slurm`. Task i trains run i",
        env!("CARGO_PKG_VERSION")
    ));
    lines.push(
        "# into its own staging folder and moves it into the store when it is complete.".into(),
    );
    lines.push("set -eu".into());
    lines.push("export REPORT_PROGRESS=plain".into());
    lines.push("case \"$SLURM_ARRAY_TASK_ID\" in".into());
    for (i, task) in job.tasks.iter().enumerate() {
        let mut words = vec![
            quote(job.exe.as_os_str())?,
            "--root".into(),
            quote(job.root.as_os_str())?,
            WORKER_COMMAND.into(),
        ];
        for arg in task.args.to_args() {
            words.push(quote(&arg)?);
        }
        lines.push(format!("  {i}) # {}", task.label));
        lines.push(format!("    exec {} ;;", words.join(" ")));
    }
    lines.push(
        "  *) echo \"report: no run for array task $SLURM_ARRAY_TASK_ID\" >&2; exit 2 ;;".into(),
    );
    lines.push("esac".into());
    Ok(lines.join("\n") + "\n")
}

/// `s` as one shell word: bare when it has only characters the shell leaves alone, else
/// in single quotes.
fn quote(s: &OsStr) -> Result<String> {
    let Some(s) = s.to_str() else {
        bail!(
            "{}: not valid UTF-8, which a Slurm batch script cannot hold",
            s.to_string_lossy()
        );
    };
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_./:=@%+,-".contains(&b))
    {
        return Ok(s.to_owned());
    }
    Ok(format!("'{}'", s.replace('\'', r"'\''")))
}

/// `s` as the value of an `#SBATCH` line, which sbatch splits on whitespace and whose
/// double quotes it strips: quoted when it has spaces; refused when it cannot be said.
fn directive(s: &OsStr) -> Result<String> {
    let Some(text) = s.to_str() else {
        bail!(
            "{}: not valid UTF-8, which a Slurm batch script cannot hold",
            s.to_string_lossy()
        );
    };
    if text.contains(['"', '\n', '\r']) {
        bail!("{text:?}: a double quote or a line break cannot be written in an #SBATCH line");
    }
    Ok(if text.contains(char::is_whitespace) {
        format!("\"{text}\"")
    } else {
        text.to_owned()
    })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::train::device::DeviceChoice;

    fn task(run: &str, seed: u64) -> Task {
        Task {
            label: format!("{run} seed {seed}"),
            args: WorkerArgs {
                profile: "quick".into(),
                run: run.into(),
                seed,
                device: DeviceChoice::Cpu,
                threads: 2,
                data: PathBuf::from("/p/data/it's here.tar.gz"),
                tsne_threads: 0,
                store: None,
            },
        }
    }

    #[test]
    fn the_script_asks_for_what_the_settings_say_and_runs_one_worker_per_task() {
        let settings = SlurmSettings {
            partition: Some("gpu".into()),
            time: Some("2:00:00".into()),
            cpus_per_task: Some(2),
            memory: Some("8G".into()),
            gpus_per_task: None,
            max_tasks: Some(3),
            sbatch_args: vec!["--account=ml".into()],
        };
        let tasks = [task("model-1", 0), task("model-9/adam", 2)];
        let text = script(&ArrayJob {
            name: "report-quick".into(),
            exe: Path::new("/opt/report/bin/report"),
            root: Path::new("/home/me/my project"),
            log_pattern: Path::new("/home/me/my project/out/slurm/%A_%a.log"),
            settings: &settings,
            gpus: 1,
            tasks: &tasks,
        })
        .unwrap();
        for line in [
            "#SBATCH --array=0-1%3",
            "#SBATCH --output=\"/home/me/my project/out/slurm/%A_%a.log\"",
            "#SBATCH --cpus-per-task=2",
            "#SBATCH --partition=gpu",
            "#SBATCH --time=2:00:00",
            "#SBATCH --mem=8G",
            "#SBATCH --gres=gpu:1",
            "#SBATCH --account=ml",
            "  1) # model-9/adam seed 2",
        ] {
            assert!(text.lines().any(|l| l == line), "no {line:?} in\n{text}");
        }
        let exec = text
            .lines()
            .find(|l| l.contains("--run model-9/adam"))
            .unwrap();
        assert_eq!(
            exec.trim(),
            "exec /opt/report/bin/report --root '/home/me/my project' __train-run --profile quick \
             --run model-9/adam --seed 2 --device cpu --threads 2 --data '/p/data/it'\\''s here.tar.gz' \
             --tsne-threads 0 ;;"
        );
        // bash itself reads the script: the quoting survives a real shell.
        let out = std::process::Command::new("bash")
            .args(["-n", "-c", &text])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    #[test]
    fn no_limit_no_gpu_and_unsayable_values() {
        let settings = SlurmSettings::default();
        let tasks = [task("a", 0)];
        let job = |name: &str| ArrayJob {
            name: name.into(),
            exe: Path::new("/r"),
            root: Path::new("/p"),
            log_pattern: Path::new("/p/out/slurm/%A_%a.log"),
            settings: &settings,
            gpus: 0,
            tasks: &tasks,
        };
        let text = script(&job("report-quick")).unwrap();
        assert!(text.contains("#SBATCH --array=0-0\n"), "{text}");
        assert!(text.contains("#SBATCH --cpus-per-task=1\n"), "{text}");
        assert!(!text.contains("--gres"), "{text}");
        let err = script(&job("a\"b")).unwrap_err().to_string();
        assert!(err.contains("double quote"), "{err}");
    }
}
