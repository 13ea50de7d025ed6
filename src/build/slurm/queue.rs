//! Slurm's own command line: `sbatch` to submit, `squeue` for what is still queued or
//! running, `scontrol` for how a finished task ended, `scancel`. Nothing here reads
//! `sacct`: most single-node clusters, and many real ones, keep no accounting database.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use anyhow::{Context, Result, bail};

/// A task that `squeue` still lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Queued {
    /// Waiting for resources or for the array's task limit.
    Pending,
    /// Running, or completing (its processes are being reaped).
    Running,
}

/// How a task that has left the queue ended, as `scontrol show job` remembers it (for
/// `MinJobAge` seconds, 300 by default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    /// `COMPLETED`, `FAILED`, `CANCELLED`, `TIMEOUT`, `NODE_FAIL`, `OUT_OF_MEMORY`, …
    pub state: String,
    /// `ExitCode`, `status:signal`.
    pub exit: String,
}

impl Ended {
    /// `CANCELLED`, `FAILED (exit 1)`, `TIMEOUT`: what a user reads first.
    pub fn summary(&self) -> String {
        match self.exit.split_once(':') {
            Some((code, "0")) if self.state == "FAILED" && code != "0" => {
                format!("FAILED (exit {code})")
            }
            Some(("0", signal)) if self.state == "FAILED" && signal != "0" => {
                format!("FAILED (signal {signal})")
            }
            _ => self.state.clone(),
        }
    }
}

/// Submits the batch script at `script` and returns the array's job id.
pub fn sbatch(script: &Path) -> Result<String> {
    let out = run(Command::new("sbatch").arg("--parsable").arg(script))?;
    if !out.status.success() {
        bail!(
            "sbatch refused the array job ({}): {}",
            script.display(),
            first_line(&out.stderr)
        );
    }
    // `--parsable` prints `id` or `id;cluster`.
    let text = String::from_utf8_lossy(&out.stdout);
    let id = text.trim().split(';').next().unwrap_or_default();
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        bail!("sbatch printed {:?}, not a job id", text.trim());
    }
    Ok(id.to_owned())
}

/// The tasks of array job `job` that are still queued or running, by task index; empty
/// once all have left the queue.
pub fn squeue(job: &str) -> Result<BTreeMap<usize, Queued>> {
    let out = run(Command::new("squeue").args(["-h", "-r", "-j", job, "-o", "%K|%T"]))?;
    if !out.status.success() {
        let err = first_line(&out.stderr);
        // A job purged from the controller's memory has certainly left the queue.
        if err.contains("Invalid job id") {
            return Ok(BTreeMap::new());
        }
        bail!("squeue -j {job} failed: {err}");
    }
    Ok(parse_squeue(&String::from_utf8_lossy(&out.stdout)))
}

/// How each finished task of `job` ended, where the controller still remembers it.
pub fn ended(job: &str) -> BTreeMap<usize, Ended> {
    match run(Command::new("scontrol").args(["-o", "show", "job", job])) {
        Ok(out) if out.status.success() => parse_scontrol(&String::from_utf8_lossy(&out.stdout)),
        _ => BTreeMap::new(),
    }
}

/// Cancels every task of `job`.
pub fn scancel(job: &str) -> Result<()> {
    let out = run(Command::new("scancel").arg(job))?;
    if !out.status.success() {
        bail!("scancel {job} failed: {}", first_line(&out.stderr));
    }
    Ok(())
}

fn run(cmd: &mut Command) -> Result<Output> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    cmd.output().with_context(|| {
        format!("cannot run {program}: --executor slurm needs Slurm's commands on PATH")
    })
}

fn first_line(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    text.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("(no message)")
        .trim()
        .to_owned()
}

/// `squeue -h -r -o '%K|%T'` lines: task index and state.
fn parse_squeue(text: &str) -> BTreeMap<usize, Queued> {
    text.lines()
        .filter_map(|line| {
            let (task, state) = line.trim().split_once('|')?;
            let state = match state {
                "PENDING" | "CONFIGURING" | "REQUEUED" | "REQUEUE_HOLD" | "RESV_DEL_HOLD"
                | "SUSPENDED" => Queued::Pending,
                _ => Queued::Running,
            };
            Some((task.parse().ok()?, state))
        })
        .collect()
}

/// `scontrol -o show job` lines, one per task: `ArrayTaskId`, `JobState`, `ExitCode`.
/// Lines of tasks not yet split off the array (`ArrayTaskId=3-4%2`) are skipped.
fn parse_scontrol(text: &str) -> BTreeMap<usize, Ended> {
    let mut ended = BTreeMap::new();
    for line in text.lines() {
        let field = |name: &str| {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix(name)?.strip_prefix('='))
        };
        let (Some(task), Some(state)) = (field("ArrayTaskId"), field("JobState")) else {
            continue;
        };
        let Ok(task) = task.parse() else { continue };
        ended.insert(
            task,
            Ended {
                state: state.to_owned(),
                exit: field("ExitCode").unwrap_or("0:0").to_owned(),
            },
        );
    }
    ended
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn squeue_lines_give_each_queued_task_its_state() {
        // As Slurm 22.05 printed them for a 5-task array with %2, one task cancelled.
        let text = "3|PENDING\n4|PENDING\n2|RUNNING\n1|COMPLETING\n\nnot a line\n";
        let got = parse_squeue(text);
        assert_eq!(got.len(), 4);
        assert_eq!(got[&3], Queued::Pending);
        assert_eq!(got[&2], Queued::Running);
        assert_eq!(got[&1], Queued::Running);
        assert!(!got.contains_key(&0));
    }

    #[test]
    fn scontrol_lines_say_how_each_task_ended() {
        let text = "JobId=6 ArrayJobId=6 ArrayTaskId=3-4%2 JobState=PENDING ExitCode=0:0\n\
                    JobId=9 ArrayJobId=6 ArrayTaskId=2 JobState=FAILED Reason=NonZeroExitCode ExitCode=1:0\n\
                    JobId=8 ArrayJobId=6 ArrayTaskId=1 JobState=COMPLETED ExitCode=0:0\n\
                    JobId=7 ArrayJobId=6 ArrayTaskId=0 JobState=CANCELLED ExitCode=0:15\n\
                    JobId=5 ArrayJobId=6 ArrayTaskId=5 JobState=FAILED ExitCode=0:9\n";
        let got = parse_scontrol(text);
        assert_eq!(got.len(), 4, "{got:?}");
        assert_eq!(got[&2].summary(), "FAILED (exit 1)");
        assert_eq!(got[&0].summary(), "CANCELLED");
        assert_eq!(got[&1].summary(), "COMPLETED");
        assert_eq!(got[&5].summary(), "FAILED (signal 9)");
    }
}
