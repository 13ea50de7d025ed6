//! Stage 2, the plan: resolves experiments into validated runs and gives each a
//! content key, without training anything.

pub mod diff;
pub mod layer;
pub mod resolve;
pub mod schedule;
pub mod shape;
pub mod spec;
pub mod validate;

use std::cmp::Ordering;
use std::fmt;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::experiment::Experiments;
pub use spec::{RunId, RunSpec, TrainSpec};
pub use validate::Input;

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

/// `items` gathered by run, in order: the plan lists a run's seeds next to each other,
/// so a run's items are a consecutive stretch.
pub fn by_run<T>(items: impl IntoIterator<Item = T>, id: impl Fn(&T) -> &RunId) -> Vec<Vec<T>> {
    let mut out: Vec<Vec<T>> = Vec::new();
    for item in items {
        match out.last_mut() {
            Some(run) if id(&run[0]) == id(&item) => run.push(item),
            _ => out.push(vec![item]),
        }
    }
    out
}

/// Resolves every run of every section under `profile` for data shaped as `input`, in
/// report order.
pub fn runs(exps: &Experiments, profile: &str, input: &Input) -> Result<Vec<RunSpec>> {
    let mut out = Vec::new();
    for name in section_order(exps) {
        let section = resolve::section(exps, &name)?;
        out.extend(resolve::section_runs(exps, &section, profile, input)?);
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
    use crate::plan::spec::{Expect, Metric};

    /// Experiments from `(file name, TOML)` pairs, with a `report.toml` whose profile
    /// `p` adds `profile` to its table.
    fn experiments(
        profile: &str,
        files: &[(&str, &str)],
    ) -> (tempfile::TempDir, Result<Experiments>) {
        let dir = tempfile::tempdir().unwrap();
        let report = format!(
            "title = \"T\"\ndefault_profile = \"p\"\n[profiles.p]\ndata = \"d\"\nepochs = 1\n{profile}\n"
        );
        std::fs::write(dir.path().join("report.toml"), report).unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let exps = Experiments::load(dir.path());
        (dir, exps)
    }

    const NET: &str = r#"
layers = [{ type = "conv", out = 2, kernel = 3 }, { type = "flatten" }, { type = "linear", out = 10 }]
[training]
batch_size = 8
optimizer = { type = "sgd", lr = 0.1 }
"#;

    fn seeds_of(specs: &[RunSpec], run: &str) -> Vec<u64> {
        specs
            .iter()
            .filter(|s| s.id.to_string() == run)
            .map(|s| s.train.seed)
            .collect()
    }

    #[test]
    fn seeds_fan_a_run_out_into_one_stored_run_each() {
        let with_variants =
            format!("{NET}\n[variants.a]\n[variants.b]\ntraining = {{ seeds = [4, 2] }}\n");
        let (_d, exps) = experiments(
            "seeds = 3",
            &[
                ("base.toml", NET),
                ("own.toml", &format!("{NET}seeds = [5, 9]\n")),
                ("one.toml", &format!("{NET}seed = 7\n")),
                ("vars.toml", &with_variants),
            ],
        );
        let specs = runs(&exps.unwrap(), "p", &Input::CIFAR).unwrap();
        // The profile's count where the experiment names none; the experiment's own list,
        // or its one seed, where it does; a variant's over its section's.
        assert_eq!(seeds_of(&specs, "base"), [0, 1, 2]);
        assert_eq!(seeds_of(&specs, "own"), [5, 9]);
        assert_eq!(seeds_of(&specs, "one"), [7]);
        assert_eq!(seeds_of(&specs, "vars/a"), [0, 1, 2]);
        assert_eq!(seeds_of(&specs, "vars/b"), [4, 2]);
        let base: Vec<&RunSpec> = specs.iter().filter(|s| s.id.section == "base").collect();
        assert!(base.iter().all(|s| s.seeds == [0, 1, 2]));
        assert!(base[0].is_first_seed() && !base[1].is_first_seed());
        let keys: Vec<RunKey> = base
            .iter()
            .map(|s| RunKey::of(s, "fp", DeviceKind::Cpu))
            .collect();
        assert!(keys[0] != keys[1] && keys[1] != keys[2]);
        // Seed 0 of three has the key of the same run trained with seed 0 alone: adding
        // seeds to a profile retrains nothing that was there.
        let (_d, one) = experiments("", &[("base.toml", NET)]);
        let alone = runs(&one.unwrap(), "p", &Input::CIFAR).unwrap();
        assert_eq!(alone.len(), 1);
        assert_eq!(RunKey::of(&alone[0], "fp", DeviceKind::Cpu), keys[0]);
    }

    #[test]
    fn bad_seeds_are_one_line_errors_naming_the_file() {
        for (table, want) in [
            ("seeds = 0", "give at least one seed"),
            ("seeds = []", "give at least one seed"),
            ("seeds = [1, 1]", "seed 1 is listed twice"),
            ("seeds = \"three\"", "a count of seeds"),
            ("seed = 1\nseeds = 2", "sets both seed and seeds"),
        ] {
            let (_d, exps) = experiments("", &[("base.toml", &format!("{NET}{table}\n"))]);
            let err = exps
                .and_then(|e| runs(&e, "p", &Input::CIFAR))
                .map(|_| ())
                .unwrap_err();
            let msg = format!("{err:#}");
            assert!(
                msg.contains("base.toml") && msg.contains(want),
                "{table}: {msg}"
            );
            assert!(!msg.contains('\n'), "{msg}");
        }
    }

    #[test]
    fn claims_resolve_to_existing_runs_and_are_not_inherited() {
        let child = r#"
extends = "base"
claim = "better"
[variants.x]
claim = { expect = "worse", metric = "train_loss", against = ["base", "child/y"], text = "T" }
[variants.y]
"#;
        let (_d, exps) = experiments(
            "",
            &[
                ("base.toml", NET),
                ("child.toml", child),
                ("grand.toml", "extends = \"child\"\n"),
            ],
        );
        let specs = runs(&exps.unwrap(), "p", &Input::CIFAR).unwrap();
        let of = |run: &str| specs.iter().find(|s| s.id.to_string() == run).unwrap();
        let y = &of("child/y").claims;
        assert_eq!(y.len(), 1);
        assert_eq!(
            (y[0].expect, y[0].metric),
            (Expect::Better, Metric::TestAccuracy)
        );
        assert_eq!(y[0].against.to_string(), "base");
        let x = &of("child/x").claims;
        let against: Vec<String> = x.iter().map(|c| c.against.to_string()).collect();
        assert_eq!(against, ["base", "child/y"]);
        assert!(
            x.iter()
                .all(|c| c.expect == Expect::Worse && c.metric == Metric::TrainLoss)
        );
        assert_eq!(x[0].text.as_deref(), Some("T"));
        // The grandchild inherits the variants, not what its parent claimed of them.
        assert!(of("grand/x").claims.is_empty() && of("grand/y").claims.is_empty());
        assert_eq!((y[0].margin, x[0].margin), (None, None));

        // Margins: the claim's own, else report.toml's (1 pp unless set), as fractions for
        // accuracies; in the loss's units for losses.
        let margins = r#"extends = "base"
claim = [
    { expect = "same" },
    { expect = "not_better", margin_pp = 0.5 },
    { expect = "not_worse", metric = "test_loss", margin = 0.02 },
    { expect = "same", metric = "train_loss" },
]
"#;
        let (_d, exps) = experiments(
            "[statistics]\nmargin_pp = 2.0\nloss_margin = 0.05\n",
            &[("base.toml", NET), ("m.toml", margins)],
        );
        let specs = runs(&exps.unwrap(), "p", &Input::CIFAR).unwrap();
        let m: Vec<Option<f64>> = specs
            .iter()
            .find(|s| s.id.section == "m")
            .unwrap()
            .claims
            .iter()
            .map(|c| c.margin)
            .collect();
        assert_eq!(m, [Some(0.02), Some(0.005), Some(0.02), Some(0.05)]);

        for (file, want) in [
            ("claim = \"better\"\n", "extends none"),
            (
                "claim = { expect = \"better\", against = \"nope\" }\n",
                "no experiment \"nope\"",
            ),
            (
                "claim = { expect = \"better\", against = \"base/z\" }\n",
                "has no variant \"z\"",
            ),
            (
                "claim = \"greater\"\n",
                "expected \"better\", \"worse\", \"same\", \"not_better\" or \"not_worse\"",
            ),
            (
                "claim = { expect = \"better\", against = \"base\", margin_pp = 1 }\n",
                "a margin belongs to \"same\", \"not_better\" and \"not_worse\" claims",
            ),
            (
                "claim = { expect = \"same\", against = \"base\", metric = \"test_loss\" }\n",
                "give its margin (`margin = 0.05`, in the loss's units) or [statistics] loss_margin",
            ),
            (
                "claim = { expect = \"same\", against = \"base\", margin = 0.1 }\n",
                "write margin_pp (percentage points) for an accuracy",
            ),
            (
                "claim = { expect = \"not_worse\", against = \"base\", metric = \"train_loss\", margin_pp = 1 }\n",
                "margin_pp is for accuracies",
            ),
            (
                "claim = { expect = \"same\", against = \"base\", margin_pp = -1 }\n",
                "a margin must be a positive number, got -1",
            ),
            (
                "claim = { expect = \"better\", against = 3 }\n",
                "against: expected a run",
            ),
            (
                "claim = [{ expect = \"better\", metric = \"speed\" }]\n",
                "unknown variant `speed`",
            ),
        ] {
            let lone = format!("{file}{NET}");
            let (_d, exps) = experiments("", &[("base.toml", NET), ("lone.toml", &lone)]);
            let err = exps
                .and_then(|e| runs(&e, "p", &Input::CIFAR))
                .map(|_| ())
                .unwrap_err();
            let msg = format!("{err:#}");
            assert!(
                msg.contains("lone.toml") && msg.contains(want),
                "{file}: {msg}"
            );
        }
    }

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
