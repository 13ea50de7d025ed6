//! `[executor.slurm]` in `report.toml` or in a profile: how `report build --executor
//! slurm` asks the cluster for its tasks. Values are checked as the file is read, so a
//! time limit Slurm would refuse is blamed on its line, not on a failed submission.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

/// `[executor]`: settings of the executors that need any.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecutorSettings {
    /// `[executor.slurm]`.
    #[serde(default)]
    pub slurm: SlurmSettings,
}

/// `[executor.slurm]`: what each array task asks for. Every field is optional; a
/// profile's table overrides the report-wide one field by field ([`SlurmSettings::over`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlurmSettings {
    /// `--partition`; the cluster's default partition when absent.
    pub partition: Option<String>,
    /// `--time`, as Slurm writes it: `MM`, `MM:SS`, `HH:MM:SS`, `D-HH`, `D-HH:MM`,
    /// `D-HH:MM:SS` or `UNLIMITED`.
    #[serde(default, deserialize_with = "time_limit")]
    pub time: Option<String>,
    /// `--cpus-per-task`, also each task's libtorch thread count (default 1).
    #[serde(default, deserialize_with = "at_least_one")]
    pub cpus_per_task: Option<u32>,
    /// `--mem`, as Slurm writes it: a number of megabytes, or with a K, M, G or T suffix.
    #[serde(default, deserialize_with = "memory")]
    pub memory: Option<String>,
    /// `--gres=gpu:N` when the build trains on CUDA (default 1 then); 0 asks for none.
    pub gpus_per_task: Option<u32>,
    /// The most tasks running at once, `%K` of `--array` (default: no limit).
    #[serde(default, deserialize_with = "at_least_one")]
    pub max_tasks: Option<u32>,
    /// More `sbatch` options, one per item (`"--account=ml"`), written as `#SBATCH` lines.
    #[serde(default)]
    pub sbatch_args: Vec<String>,
}

impl SlurmSettings {
    /// These settings with `profile`'s, where it has any, taking precedence.
    pub fn over(&self, profile: &SlurmSettings) -> SlurmSettings {
        SlurmSettings {
            partition: profile.partition.clone().or_else(|| self.partition.clone()),
            time: profile.time.clone().or_else(|| self.time.clone()),
            cpus_per_task: profile.cpus_per_task.or(self.cpus_per_task),
            memory: profile.memory.clone().or_else(|| self.memory.clone()),
            gpus_per_task: profile.gpus_per_task.or(self.gpus_per_task),
            max_tasks: profile.max_tasks.or(self.max_tasks),
            sbatch_args: if profile.sbatch_args.is_empty() {
                self.sbatch_args.clone()
            } else {
                profile.sbatch_args.clone()
            },
        }
    }

    /// CPUs (and so libtorch threads) of each task.
    pub fn cpus(&self) -> u32 {
        self.cpus_per_task.unwrap_or(1)
    }
}

fn at_least_one<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    let n = Option::<u32>::deserialize(d)?;
    if n == Some(0) {
        return Err(D::Error::custom("must be at least 1"));
    }
    Ok(n)
}

fn time_limit<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let t = Option::<String>::deserialize(d)?;
    match &t {
        Some(s) if !is_time_limit(s) => Err(D::Error::custom(format!(
            "time {s:?} is not a Slurm time limit (MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS or UNLIMITED)"
        ))),
        _ => Ok(t),
    }
}

fn memory<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let m = Option::<String>::deserialize(d)?;
    match &m {
        Some(s) if !is_memory(s) => Err(D::Error::custom(format!(
            "memory {s:?} is not a Slurm size (a whole number, optionally followed by K, M, G or T)"
        ))),
        _ => Ok(m),
    }
}

/// Whether `s` is one of the forms `sbatch --time` accepts.
fn is_time_limit(s: &str) -> bool {
    let digits = |p: &str| !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit());
    if matches!(s, "UNLIMITED" | "infinite" | "INFINITE") {
        return true;
    }
    let (days, rest) = match s.split_once('-') {
        Some((d, rest)) => (Some(d), rest),
        None => (None, s),
    };
    let parts: Vec<&str> = rest.split(':').collect();
    if !parts.iter().all(|p| digits(p)) || days.is_some_and(|d| !digits(d)) {
        return false;
    }
    (1..=3).contains(&parts.len())
}

/// Whether `s` is one of the forms `sbatch --mem` accepts.
fn is_memory(s: &str) -> bool {
    let number = s.strip_suffix(['K', 'M', 'G', 'T']).unwrap_or(s);
    !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<SlurmSettings, String> {
        toml::from_str::<SlurmSettings>(text).map_err(|e| e.to_string())
    }

    #[test]
    fn slurm_forms_of_time_and_memory_are_accepted_and_others_refused() {
        for good in [
            "30",
            "30:00",
            "2:00:00",
            "1-0",
            "1-12:00",
            "2-00:00:00",
            "UNLIMITED",
        ] {
            assert!(is_time_limit(good), "{good}");
        }
        for bad in ["", "2h", "1:2:3:4", "-1", "1-", "1.5", "a:00"] {
            assert!(!is_time_limit(bad), "{bad}");
        }
        for good in ["4000", "4G", "512M", "1T"] {
            assert!(is_memory(good), "{good}");
        }
        for bad in ["", "4GB", "G", "1.5G", "-4G"] {
            assert!(!is_memory(bad), "{bad}");
        }
        let err = parse("time = \"2 hours\"").unwrap_err();
        assert!(err.contains("not a Slurm time limit"), "{err}");
        let err = parse("cpus_per_task = 0").unwrap_err();
        assert!(err.contains("at least 1"), "{err}");
        let err = parse("cpu_per_task = 2").unwrap_err();
        assert!(err.contains("unknown field"), "{err}");
    }

    #[test]
    fn a_profile_overrides_the_report_field_by_field() {
        let report = parse(
            "partition = \"gpu\"\ntime = \"1:00:00\"\ncpus_per_task = 4\nsbatch_args = [\"--account=ml\"]",
        )
        .unwrap();
        let profile = parse("time = \"4:00:00\"\nmax_tasks = 2").unwrap();
        let both = report.over(&profile);
        assert_eq!(both.partition.as_deref(), Some("gpu"));
        assert_eq!(both.time.as_deref(), Some("4:00:00"));
        assert_eq!(both.cpus(), 4);
        assert_eq!(both.max_tasks, Some(2));
        assert_eq!(both.sbatch_args, ["--account=ml"]);
        assert_eq!(SlurmSettings::default().cpus(), 1);
    }
}
