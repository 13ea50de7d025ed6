//! `--executor slurm`: the runs the store lacks, trained as one Slurm array job.
//!
//! The submitting build holds the store lock for the whole wait; each task runs this
//! binary's hidden worker on one run, which trains into its own staging folder and moves
//! it into place when complete, exactly as a `--jobs` worker does, and never takes the
//! lock. So the store is the record of what finished: a task that leaves the queue
//! without its run in place failed, whatever `squeue` can no longer say about it.

pub mod queue;
pub mod script;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result};

use crate::fsx;
use crate::progress::{Plain, bar};
use crate::store::Store;
use queue::Queued;
use script::{ArrayJob, Task};

/// How often the queue is read while the array runs.
const POLL: Duration = Duration::from_secs(1);
/// How long `squeue` may keep failing (a restarting controller) before the build gives up.
const QUEUE_PATIENCE: Duration = Duration::from_secs(120);
/// How long a cancelled array may take to leave the queue.
const CANCEL_PATIENCE: Duration = Duration::from_secs(60);
/// Lines of a failed task's log shown in the build's error.
const LOG_TAIL: usize = 6;

/// One submission: the tasks and where their runs land.
#[derive(Debug)]
pub struct Submission<'a> {
    /// The store the tasks write.
    pub store: &'a Store,
    /// The project root, absolute.
    pub root: PathBuf,
    /// The profile (the job is named after it).
    pub profile: &'a str,
    /// The cluster settings.
    pub settings: &'a crate::experiment::executor::SlurmSettings,
    /// GPUs per task; 0 for a CPU build.
    pub gpus: u32,
    /// The tasks, each with the record its run has in the store once it succeeded.
    pub tasks: Vec<(Task, PathBuf)>,
}

impl Submission<'_> {
    /// The batch script that would be submitted.
    pub fn script(&self) -> Result<String> {
        let exe = std::env::current_exe().context("cannot find the report binary")?;
        let log_pattern = std::path::absolute(self.store.slurm_log_pattern())?;
        let tasks: Vec<Task> = self.tasks.iter().map(|(t, _)| t.clone()).collect();
        script::script(&ArrayJob {
            name: format!("report-{}", self.profile),
            exe: &exe,
            root: &self.root,
            log_pattern: &log_pattern,
            settings: self.settings,
            gpus: self.gpus,
            tasks: &tasks,
        })
    }

    /// Submits the array, waits for every task to leave the queue, and fails naming each
    /// run that is not in the store, with the tail of its log. Ctrl-C cancels the array.
    pub fn run(&self) -> Result<()> {
        let text = self.script()?;
        let script_path = self.store.slurm_script();
        fsx::write_atomic(&script_path, text.as_bytes())?;
        let before: Vec<Option<SystemTime>> =
            self.tasks.iter().map(|(_, dir)| record_time(dir)).collect();
        let job = queue::sbatch(&script_path)?;
        let limit = self
            .settings
            .max_tasks
            .map_or(String::new(), |k| format!(", at most {k} at once"));
        eprintln!(
            "slurm: submitted array job {job}: {} tasks, one per run and seed{limit}; logs in {}",
            self.tasks.len(),
            self.store.slurm_dir().display()
        );
        let failed = self.wait(&job, &before)?;
        if failed.is_empty() {
            return Ok(());
        }
        let ended = queue::ended(&job);
        let mut message = format!(
            "{} of {} runs did not finish on Slurm (array job {job}); the others are kept and \
             the next build submits only these:",
            failed.len(),
            self.tasks.len()
        );
        for i in failed {
            let how = ended
                .get(&i)
                .map_or("left the queue".into(), |e| e.summary());
            let log = self.store.slurm_log(&job, i);
            message.push_str(&format!(
                "\n  {}: {how} (task {job}_{i}), log {}",
                self.tasks[i].0.label,
                log.display()
            ));
            for line in tail(&log, LOG_TAIL) {
                message.push_str(&format!("\n    | {line}"));
            }
        }
        anyhow::bail!(message)
    }

    /// Polls the queue until it is empty, showing pending / running / done / failed;
    /// returns the tasks whose run is not in the store.
    fn wait(&self, job: &str, before: &[Option<SystemTime>]) -> Result<Vec<usize>> {
        let total = self.tasks.len();
        let meter = bar(
            Plain::Honoured,
            total as u64,
            "{prefix:>16} [{bar:30}] {pos}/{len} {msg} {elapsed}",
            &format!("slurm {job}"),
            |_| {},
        );
        let mut last_line = String::new();
        let mut last_answer = Instant::now();
        loop {
            if crate::interrupt::requested() {
                if let Some(m) = &meter {
                    m.abandon();
                }
                return Err(self.cancel(job));
            }
            let queued = match queue::squeue(job) {
                Ok(q) => {
                    last_answer = Instant::now();
                    q
                }
                Err(_) if last_answer.elapsed() < QUEUE_PATIENCE => {
                    std::thread::sleep(POLL);
                    continue;
                }
                Err(e) => return Err(e),
            };
            let pending = queued.values().filter(|q| **q == Queued::Pending).count();
            let running = queued.len() - pending;
            let failed: Vec<usize> = (0..total)
                .filter(|i| !queued.contains_key(i) && !self.landed(*i, before))
                .collect();
            let done = total - queued.len() - failed.len();
            let line = format!(
                "{pending} pending, {running} running, {done} done, {} failed",
                failed.len()
            );
            match &meter {
                Some(m) => {
                    m.set_position((done + failed.len()) as u64);
                    m.set_message(line.clone());
                }
                None if line != last_line => eprintln!("slurm {job}: {line}"),
                None => {}
            }
            last_line = line;
            if queued.is_empty() {
                if let Some(m) = &meter {
                    m.finish();
                }
                return Ok(failed);
            }
            std::thread::sleep(POLL);
        }
    }

    /// Whether task `i`'s run was moved into the store since the submission.
    fn landed(&self, i: usize, before: &[Option<SystemTime>]) -> bool {
        let now = record_time(&self.tasks[i].1);
        now.is_some() && now != before[i]
    }

    /// Cancels the array and waits for it to leave the queue: the error the build ends with.
    fn cancel(&self, job: &str) -> anyhow::Error {
        if let Err(e) = queue::scancel(job) {
            return e.context(format!("array job {job} may still be running"));
        }
        let started = Instant::now();
        while started.elapsed() < CANCEL_PATIENCE {
            match queue::squeue(job) {
                Ok(q) if q.is_empty() => break,
                _ => std::thread::sleep(Duration::from_millis(200)),
            }
        }
        eprintln!("slurm: cancelled array job {job}");
        crate::interrupt::Interrupted.into()
    }
}

/// When a run's record was written, if it is there: a task moves its run into place
/// with the record inside, so a new time means the task finished.
fn record_time(record: &Path) -> Option<SystemTime> {
    std::fs::metadata(record).and_then(|m| m.modified()).ok()
}

/// The last `n` non-empty lines of a log, if it can be read.
fn tail(path: &Path, n: usize) -> Vec<String> {
    let text = std::fs::read(path).unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|l| l.trim_end().to_owned())
        .collect()
}
