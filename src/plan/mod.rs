//! Stage 2, the plan: resolves experiments into validated runs and gives each a
//! content key, without training anything.

pub mod diff;
pub mod layer;
pub mod resolve;
pub mod shape;
pub mod spec;
pub mod validate;

use std::cmp::Ordering;
use std::fmt;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::experiment::Experiments;
pub use spec::{RunId, RunSpec, TrainSpec};

/// A run's content key: a hash of everything that determines its results.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RunKey(pub String);

impl fmt::Display for RunKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0[..16.min(self.0.len())])
    }
}

impl RunKey {
    /// The key of `spec` trained on `device` on data with `data_fingerprint`: the
    /// resolved training spec, the profile, the data, the kind of device (a GPU's
    /// kernels do not give a CPU's floats, so one does not stand in for the other) and
    /// this crate's version (a new version may train differently, so it never reuses an
    /// older one's runs).
    pub fn of(spec: &RunSpec, data_fingerprint: &str, device: DeviceKind) -> RunKey {
        #[derive(Serialize)]
        struct KeyInput<'a> {
            crate_version: &'a str,
            profile: &'a str,
            data: &'a str,
            train: &'a TrainSpec,
            // Left out for the CPU, so that CPU runs keep the keys they had before
            // the device was part of the key.
            #[serde(skip_serializing_if = "DeviceKind::is_cpu")]
            device: DeviceKind,
        }
        RunKey(crate::hash::value(&KeyInput {
            crate_version: env!("CARGO_PKG_VERSION"),
            profile: &spec.profile,
            data: data_fingerprint,
            train: &spec.train,
            device,
        }))
    }
}

/// Which devices' runs a survey of the store accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Devices {
    /// The kind the build trains on: the key of every run it trains.
    pub kind: DeviceKind,
    /// Also reuse runs stored for the same spec on another kind (`--reuse-any-device`).
    pub reuse_any: bool,
}

impl Devices {
    /// The key of `spec` on [`Devices::kind`], and the keys on the other kinds that are
    /// accepted too.
    pub fn keys(&self, spec: &RunSpec, data_fingerprint: &str) -> (RunKey, Vec<RunKey>) {
        let also = DeviceKind::ALL
            .into_iter()
            .filter(|k| self.reuse_any && *k != self.kind)
            .map(|k| RunKey::of(spec, data_fingerprint, k))
            .collect();
        (RunKey::of(spec, data_fingerprint, self.kind), also)
    }
}

/// The kind of device a run trains on: what its key and its reuse depend on (which
/// CUDA device of several does not matter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceKind {
    /// The CPU.
    #[default]
    Cpu,
    /// An NVIDIA GPU.
    Cuda,
}

impl DeviceKind {
    /// Every kind.
    pub const ALL: [DeviceKind; 2] = [DeviceKind::Cpu, DeviceKind::Cuda];

    /// Whether this is the CPU.
    pub fn is_cpu(&self) -> bool {
        *self == DeviceKind::Cpu
    }

    /// The kind of a recorded device label: `cpu`, `cuda:0`.
    pub fn of_label(label: &str) -> DeviceKind {
        if label.starts_with("cuda") {
            DeviceKind::Cuda
        } else {
            DeviceKind::Cpu
        }
    }
}

/// Resolves every run of every section under `profile`, in report order.
pub fn runs(exps: &Experiments, profile: &str) -> Result<Vec<RunSpec>> {
    let mut out = Vec::new();
    for name in section_order(exps) {
        let section = resolve::section(exps, &name)?;
        out.extend(resolve::section_runs(exps, &section, profile)?);
    }
    Ok(out)
}

/// Sections in report order: those `report.toml` lists, then the rest in natural order
/// (`model-2` before `model-10`).
pub fn section_order(exps: &Experiments) -> Vec<String> {
    let mut rest: Vec<String> = exps
        .sections
        .keys()
        .filter(|k| !exps.report.order.contains(k))
        .cloned()
        .collect();
    rest.sort_by(|a, b| natural_cmp(a, b));
    exps.report
        .order
        .iter()
        .filter(|k| exps.sections.contains_key(*k))
        .cloned()
        .chain(rest)
        .collect()
}

/// Compares strings with digit runs as numbers.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    fn chunks(s: &str) -> Vec<(bool, &str)> {
        let mut out = Vec::new();
        let mut start = 0;
        let bytes = s.as_bytes();
        for i in 1..=bytes.len() {
            if i == bytes.len() || bytes[i].is_ascii_digit() != bytes[start].is_ascii_digit() {
                out.push((bytes[start].is_ascii_digit(), &s[start..i]));
                start = i;
            }
        }
        out
    }
    let (ca, cb) = (chunks(a), chunks(b));
    for ((da, xa), (db, xb)) in ca.iter().zip(&cb) {
        let ord = if *da && *db {
            let (ta, tb) = (xa.trim_start_matches('0'), xb.trim_start_matches('0'));
            ta.len().cmp(&tb.len()).then(ta.cmp(tb))
        } else {
            xa.cmp(xb)
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    ca.len().cmp(&cb.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order_puts_numbers_in_order() {
        let mut v = vec!["model-10", "model-2", "model-1", "alpha"];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(v, ["alpha", "model-1", "model-2", "model-10"]);
    }

    #[test]
    fn the_device_kind_is_in_the_key_and_cpu_keys_are_as_before() {
        let spec = RunSpec::example("M", vec![]);
        // The key as it was computed before the device joined it.
        #[derive(Serialize)]
        struct Before<'a> {
            crate_version: &'a str,
            profile: &'a str,
            data: &'a str,
            train: &'a TrainSpec,
        }
        let before = crate::hash::value(&Before {
            crate_version: env!("CARGO_PKG_VERSION"),
            profile: &spec.profile,
            data: "fp",
            train: &spec.train,
        });
        let cpu = RunKey::of(&spec, "fp", DeviceKind::Cpu);
        let cuda = RunKey::of(&spec, "fp", DeviceKind::Cuda);
        assert_eq!(cpu.0, before);
        assert_ne!(cpu, cuda);
        assert_eq!(cuda, RunKey::of(&spec, "fp", DeviceKind::Cuda));
        assert_eq!(DeviceKind::of_label("cuda:3"), DeviceKind::Cuda);
        assert_eq!(DeviceKind::of_label("cpu"), DeviceKind::Cpu);
    }
}
