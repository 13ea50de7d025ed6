//! Resolution: `extends` chains, layer edits, profiles and variants → one [`RunSpec`]
//! per run, validated.
//!
//! Precedence, lowest first: the inherited settings, the section's own, the variant's,
//! the profile's in `report.toml`, then the section's own `[profiles.<name>]` table.
//! Profiles beat plain settings so that `quick` can shorten every run; a section that
//! really needs something else under one profile says so in its profile table.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Result, anyhow, bail};
use indexmap::IndexMap;

use crate::experiment::file::{
    ClaimSpec, ClaimTable, Claims, SettingsPatch, TsnePatch, VariantPatch,
};
use crate::experiment::layer::{LayerEdit, LayerSpec};
use crate::experiment::{Experiments, check_name};

use super::spec::{Claim, DEFAULT_VARIANT, RunId, RunSpec};
use super::validate::{self, Input};

/// A section with its whole `extends` chain applied.
#[derive(Debug, Clone)]
pub struct Section {
    /// Section name.
    pub name: String,
    /// Its file.
    pub path: PathBuf,
    /// The section it extends.
    pub parent: Option<String>,
    /// Heading.
    pub title: String,
    /// What it changes.
    pub summary: Option<String>,
    /// The author's claim about its change (its own file's only).
    pub claim: Option<Claims>,
    /// Layers, every one with an id.
    pub layers: Vec<LayerSpec>,
    /// Settings, inherited and own.
    pub settings: SettingsPatch,
    /// Per-profile settings, inherited and own.
    pub profiles: BTreeMap<String, SettingsPatch>,
    /// Variants, inherited and own.
    pub variants: IndexMap<String, VariantPatch>,
}

/// Resolves one section, following `extends` and detecting cycles.
pub fn section(exps: &Experiments, name: &str) -> Result<Section> {
    resolve_section(exps, name, &mut Vec::new())
}

fn resolve_section(exps: &Experiments, name: &str, stack: &mut Vec<String>) -> Result<Section> {
    let src = &exps.sections[name];
    let file = &src.value;
    let at = src.path.display();
    stack.push(name.to_owned());
    let base = match &file.extends {
        None => None,
        Some(parent) => {
            if stack.iter().any(|s| s == parent) {
                stack.push(parent.clone());
                bail!("{at}: extends cycle: {}", stack.join(" → "));
            }
            if !exps.sections.contains_key(parent) {
                let have: Vec<&str> = exps.sections.keys().map(String::as_str).collect();
                bail!(
                    "{at}: extends \"{parent}\", which is not an experiment in {} (have: {})",
                    exps.dir.display(),
                    have.join(", ")
                );
            }
            Some(resolve_section(exps, parent, stack)?)
        }
    };
    stack.pop();

    let mut layers = match (&file.layers, &base) {
        (Some(own), _) => assign_ids(own.clone()).map_err(|e| anyhow!("{at}: {e}"))?,
        (None, Some(b)) => b.layers.clone(),
        (None, None) => {
            bail!("{at}: no layers: give `layers = [...]` or `extends` another section")
        }
    };
    for (i, edit) in file.edit.iter().enumerate() {
        apply_edit(&mut layers, edit).map_err(|e| anyhow!("{at}: edit {}: {e}", i + 1))?;
    }

    let empty = Section {
        name: String::new(),
        path: PathBuf::new(),
        parent: None,
        title: String::new(),
        summary: None,
        claim: None,
        layers: Vec::new(),
        settings: SettingsPatch::default(),
        profiles: BTreeMap::new(),
        variants: IndexMap::new(),
    };
    let base = base.unwrap_or(empty);
    let sets_epochs = |p: &SettingsPatch| {
        p.training.as_ref().is_some_and(|t| t.epochs.is_some())
            || p.tsne.as_ref().is_some_and(|t| t.epochs.is_some())
    };
    if sets_epochs(&file.settings()) || file.variants.values().any(|v| sets_epochs(&v.settings())) {
        bail!(
            "{at}: epoch counts belong to profiles: set them under [profiles.<name>.training] \
             or [profiles.<name>.tsne], or in {}",
            crate::experiment::REPORT_FILE
        );
    }
    let mut profiles = base.profiles;
    for (p, patch) in &file.profiles {
        if !exps.report.profiles.contains_key(p) {
            bail!(
                "{at}: profile \"{p}\" is not defined in {}",
                crate::experiment::REPORT_FILE
            );
        }
        let merged = merge(profiles.get(p).unwrap_or(&SettingsPatch::default()), patch);
        profiles.insert(p.clone(), merged);
    }
    let mut variants = base.variants;
    // A claim is about the change its own file makes, so it is not inherited.
    for v in variants.values_mut() {
        v.claim = None;
    }
    for (v, patch) in &file.variants {
        check_name(v).map_err(|e| anyhow!("{at}: variant: {e}"))?;
        let old = variants.get(v).cloned().unwrap_or_default();
        let settings = merge(&old.settings(), &patch.settings());
        variants.insert(
            v.clone(),
            VariantPatch {
                title: patch.title.clone().or(old.title),
                training: settings.training,
                augment: settings.augment,
                normalize: settings.normalize,
                tsne: settings.tsne,
                claim: patch.claim.clone(),
            },
        );
    }
    Ok(Section {
        name: name.to_owned(),
        path: src.path.clone(),
        parent: file.extends.clone(),
        title: file.title.clone().unwrap_or_else(|| name.to_owned()),
        summary: file.summary.clone(),
        claim: file.claim.clone(),
        layers,
        settings: merge(&base.settings, &file.settings()),
        profiles,
        variants,
    })
}

/// All runs of one section under `profile`.
pub fn section_runs(
    exps: &Experiments,
    section: &Section,
    profile: &str,
    input: &Input,
) -> Result<Vec<RunSpec>> {
    let report_profile = exps.report.profiles.get(profile).ok_or_else(|| {
        let have: Vec<&str> = exps.report.profiles.keys().map(String::as_str).collect();
        anyhow!(
            "unknown profile \"{profile}\" ({} defines: {})",
            exps.dir.join(crate::experiment::REPORT_FILE).display(),
            have.join(", ")
        )
    })?;
    let from_profile = SettingsPatch {
        training: Some(crate::experiment::file::TrainingPatch {
            epochs: report_profile.epochs,
            memory_format: report_profile.memory_format,
            precision: report_profile.precision,
            ..Default::default()
        }),
        tsne: Some(TsnePatch {
            epochs: report_profile.tsne_epochs.clone(),
            ..Default::default()
        }),
        ..Default::default()
    };
    // The profile's seeds are a default under the experiment's own, unlike its epochs,
    // which override: how often to repeat a run is the author's call per experiment.
    let profile_seeds = SettingsPatch {
        training: Some(crate::experiment::file::TrainingPatch {
            seeds: report_profile.seeds.clone(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let own_profile = section.profiles.get(profile).cloned().unwrap_or_default();
    let variants: Vec<(String, Option<VariantPatch>)> = if section.variants.is_empty() {
        vec![(DEFAULT_VARIANT.to_owned(), None)]
    } else {
        section
            .variants
            .iter()
            .map(|(k, v)| (k.clone(), Some(v.clone())))
            .collect()
    };
    let mut out = Vec::new();
    for (variant, patch) in variants {
        let mut settings = merge(&profile_seeds, &section.settings);
        if let Some(p) = &patch {
            settings = merge(&settings, &p.settings());
        }
        settings = merge(&merge(&settings, &from_profile), &own_profile);
        let id = RunId {
            section: section.name.clone(),
            variant: variant.clone(),
        };
        let context = if variant == DEFAULT_VARIANT {
            format!("{} (profile {profile})", section.path.display())
        } else {
            format!(
                "{} (variant {variant}, profile {profile})",
                section.path.display()
            )
        };
        let (train, tsne, shapes, seeds) = validate::finish(&section.layers, &settings, input)
            .map_err(|e| anyhow!("{context}: {e}"))?;
        let written = patch
            .as_ref()
            .and_then(|p| p.claim.as_ref())
            .or(section.claim.as_ref());
        let claims = match written {
            Some(c) => claims(exps, section, &variant, c).map_err(|e| anyhow!("{context}: {e}"))?,
            None => Vec::new(),
        };
        let spec = RunSpec {
            id,
            profile: profile.to_owned(),
            section_title: section.title.clone(),
            variant_title: patch.map(|p| p.title.unwrap_or_else(|| variant.clone())),
            summary: section.summary.clone(),
            parent: section.parent.clone(),
            source: section.path.clone(),
            train,
            tsne,
            input: input.image,
            shapes,
            seeds: seeds.clone(),
            claims,
        };
        // One run per seed, in the order the seeds are listed: the first is the one
        // whose t-SNE and confusion matrix the report shows.
        for seed in seeds {
            let mut run = spec.clone();
            run.train.seed = seed;
            out.push(run);
        }
    }
    Ok(out)
}

/// The claims of `variant` of `section`, each against a run that exists.
fn claims(
    exps: &Experiments,
    section: &Section,
    variant: &str,
    written: &Claims,
) -> Result<Vec<Claim>, String> {
    let mut out = Vec::new();
    for spec in written.list() {
        let table = match spec {
            ClaimSpec::Expect(expect) => ClaimTable {
                expect,
                metric: Default::default(),
                against: None,
                text: None,
                margin_pp: None,
                margin: None,
            },
            ClaimSpec::Table(t) => t,
        };
        let against = match &table.against {
            Some(a) => a.clone(),
            None => vec![section.parent.clone().ok_or(
                "claim: the section extends none, so say what it is compared with (`against = \"…\"`)",
            )?],
        };
        let margin = margin(exps, &table)?;
        for name in against {
            out.push(Claim {
                expect: table.expect,
                metric: table.metric,
                against: claimed_run(exps, &name, variant)?,
                text: table.text.clone(),
                margin,
            });
        }
    }
    Ok(out)
}

/// The margin of a claim, in its metric's units: for accuracies its `margin_pp` or
/// `[statistics] margin_pp`, as a fraction; for losses its `margin` or `[statistics]
/// loss_margin`, which one of them must give. Only sameness and non-inferiority claims
/// have one.
fn margin(exps: &Experiments, claim: &ClaimTable) -> Result<Option<f64>, String> {
    let expect = claim.expect.word();
    let accuracy = claim.metric.higher_is_better();
    if !claim.expect.has_margin() {
        if claim.margin_pp.is_some() || claim.margin.is_some() {
            return Err(format!(
                "claim = \"{expect}\": a margin belongs to \"same\", \"not_better\" and \"not_worse\" claims"
            ));
        }
        return Ok(None);
    }
    let statistics = &exps.report.statistics;
    match (accuracy, claim.margin_pp, claim.margin) {
        (true, _, Some(_)) => Err(format!(
            "claim on {}: margin is in a loss's units; write margin_pp (percentage points) for an accuracy",
            claim.metric.words()
        )),
        (false, Some(_), _) => Err(format!(
            "claim on {}: margin_pp is for accuracies; write margin, in the loss's units",
            claim.metric.words()
        )),
        (true, pp, None) => Ok(Some(pp.unwrap_or(statistics.margin_pp) / 100.0)),
        (false, None, m) => m.or(statistics.loss_margin).map(Some).ok_or_else(|| {
            format!(
                "claim = \"{expect}\" on {}: give its margin (`margin = 0.05`, in the loss's units) or [statistics] loss_margin in {}",
                claim.metric.words(),
                crate::experiment::REPORT_FILE
            )
        }),
    }
}

/// The run `name` names (`model-3` or `model-9/adam`); a section alone means its run of
/// the variant `variant` when it has one, else its first.
fn claimed_run(exps: &Experiments, name: &str, variant: &str) -> Result<RunId, String> {
    let (sec, var) = match name.split_once('/') {
        Some((s, v)) => (s, Some(v)),
        None => (name, None),
    };
    if !exps.sections.contains_key(sec) {
        let have: Vec<&str> = exps.sections.keys().map(String::as_str).collect();
        return Err(format!(
            "claim: against \"{name}\": no experiment \"{sec}\" (have: {})",
            have.join(", ")
        ));
    }
    let target = self::section(exps, sec).map_err(|e| e.to_string())?;
    let names: Vec<&str> = target.variants.keys().map(String::as_str).collect();
    let variant = match var {
        Some(v) if names.contains(&v) || (names.is_empty() && v == DEFAULT_VARIANT) => v,
        Some(v) => {
            return Err(format!(
                "claim: against \"{name}\": {sec} has no variant \"{v}\" (has: {})",
                if names.is_empty() {
                    DEFAULT_VARIANT.to_owned()
                } else {
                    names.join(", ")
                }
            ));
        }
        None if names.is_empty() => DEFAULT_VARIANT,
        None => names
            .iter()
            .copied()
            .find(|n| *n == variant)
            .unwrap_or(names[0]),
    };
    Ok(RunId {
        section: sec.to_owned(),
        variant: variant.to_owned(),
    })
}

/// `top` over `base`: every field `top` sets wins.
pub fn merge(base: &SettingsPatch, top: &SettingsPatch) -> SettingsPatch {
    fn pick<T: Clone>(top: &Option<T>, base: &Option<T>) -> Option<T> {
        top.clone().or_else(|| base.clone())
    }
    let training = match (&base.training, &top.training) {
        (Some(b), Some(t)) => Some(crate::experiment::file::TrainingPatch {
            epochs: pick(&t.epochs, &b.epochs),
            batch_size: pick(&t.batch_size, &b.batch_size),
            // `seed` and `seeds` say one thing: the table that sets either wins whole.
            seed: if t.seed.is_some() || t.seeds.is_some() {
                t.seed
            } else {
                b.seed
            },
            seeds: if t.seed.is_some() || t.seeds.is_some() {
                t.seeds.clone()
            } else {
                b.seeds.clone()
            },
            optimizer: pick(&t.optimizer, &b.optimizer),
            lr_schedule: pick(&t.lr_schedule, &b.lr_schedule),
            warmup_epochs: pick(&t.warmup_epochs, &b.warmup_epochs),
            memory_format: pick(&t.memory_format, &b.memory_format),
            precision: pick(&t.precision, &b.precision),
            deterministic: pick(&t.deterministic, &b.deterministic),
        }),
        (b, t) => pick(t, b),
    };
    let augment = match (&base.augment, &top.augment) {
        (Some(b), Some(t)) => Some(crate::experiment::file::AugmentPatch {
            crop_padding: pick(&t.crop_padding, &b.crop_padding),
            hflip: pick(&t.hflip, &b.hflip),
            vflip: pick(&t.vflip, &b.vflip),
        }),
        (b, t) => pick(t, b),
    };
    let tsne = match (&base.tsne, &top.tsne) {
        (Some(b), Some(t)) => Some(TsnePatch {
            enabled: pick(&t.enabled, &b.enabled),
            epochs: pick(&t.epochs, &b.epochs),
            pca: pick(&t.pca, &b.pca),
            perplexity: pick(&t.perplexity, &b.perplexity),
            iterations: pick(&t.iterations, &b.iterations),
            method: pick(&t.method, &b.method),
        }),
        (b, t) => pick(t, b),
    };
    SettingsPatch {
        training,
        augment,
        normalize: pick(&top.normalize, &base.normalize),
        tsne,
    }
}

/// Names every unnamed layer after its kind and position (`conv1`, `conv2`…).
fn assign_ids(mut layers: Vec<LayerSpec>) -> Result<Vec<LayerSpec>, String> {
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    let explicit: Vec<String> = layers
        .iter()
        .filter_map(|l| l.id().map(str::to_owned))
        .collect();
    for layer in &mut layers {
        let prefix = layer.id_prefix();
        let n = counts.entry(prefix).or_insert(0);
        *n += 1;
        if layer.id().is_none() {
            let mut candidate = format!("{prefix}{n}");
            while explicit.contains(&candidate) {
                *n += 1;
                candidate = format!("{prefix}{n}");
            }
            layer.set_id(candidate);
        }
    }
    check_unique(&layers)?;
    Ok(layers)
}

fn check_unique(layers: &[LayerSpec]) -> Result<(), String> {
    let mut seen = std::collections::BTreeSet::new();
    for l in layers {
        let id = l.id().expect("ids assigned");
        if !seen.insert(id) {
            return Err(format!("two layers are named \"{id}\""));
        }
    }
    Ok(())
}

/// The next free id for a layer of this kind: one past the highest number in use.
fn fresh_id(layers: &[LayerSpec], prefix: &str) -> String {
    let max = layers
        .iter()
        .filter_map(|l| l.id()?.strip_prefix(prefix)?.parse::<usize>().ok())
        .max()
        .unwrap_or(0);
    format!("{prefix}{}", max + 1)
}

fn position(layers: &[LayerSpec], id: &str) -> Result<usize, String> {
    layers
        .iter()
        .position(|l| l.id() == Some(id))
        .ok_or_else(|| {
            let ids: Vec<&str> = layers.iter().filter_map(LayerSpec::id).collect();
            format!("no layer \"{id}\" (layers: {})", ids.join(", "))
        })
}

fn apply_edit(layers: &mut Vec<LayerSpec>, edit: &LayerEdit) -> Result<(), String> {
    let forms = [
        edit.remove.is_some(),
        edit.insert.is_some() || edit.after.is_some() || edit.before.is_some(),
        edit.layer.is_some() || edit.set.is_some(),
    ];
    if forms.iter().filter(|f| **f).count() != 1 {
        return Err(
            "give exactly one of `remove`, `after`/`before` with `insert`, or `layer` with `set`"
                .into(),
        );
    }
    if let Some(remove) = &edit.remove {
        for id in remove.ids() {
            let i = position(layers, id)?;
            layers.remove(i);
        }
        return Ok(());
    }
    if let Some(new) = &edit.insert {
        let at = match (&edit.after, &edit.before) {
            (Some(a), None) => position(layers, a)? + 1,
            (None, Some(b)) => position(layers, b)?,
            _ => return Err("`insert` needs exactly one of `after` or `before`".into()),
        };
        for (offset, layer) in new.iter().enumerate() {
            let mut layer = layer.clone();
            if layer.id().is_none() {
                layer.set_id(fresh_id(layers, layer.id_prefix()));
            }
            layers.insert(at + offset, layer);
        }
        return check_unique(layers);
    }
    let (Some(target), Some(set)) = (&edit.layer, &edit.set) else {
        return Err("`layer` and `set` go together".into());
    };
    if set.contains_key("type") || set.contains_key("id") {
        return Err(
            "`set` cannot change a layer's type or id: remove it and insert another".into(),
        );
    }
    let i = position(layers, target)?;
    let mut table = toml::Table::try_from(&layers[i]).map_err(|e| e.to_string())?;
    for (k, v) in set {
        table.insert(k.clone(), v.clone());
    }
    layers[i] = table
        .try_into()
        .map_err(|e: toml::de::Error| format!("layer {target}: {}", e.message().trim()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> Vec<LayerSpec> {
        #[derive(serde::Deserialize)]
        struct D {
            layers: Vec<LayerSpec>,
        }
        toml::from_str::<D>(text).unwrap().layers
    }

    fn ids(layers: &[LayerSpec]) -> Vec<&str> {
        layers.iter().filter_map(LayerSpec::id).collect()
    }

    fn edit(text: &str) -> LayerEdit {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn ids_count_per_kind_and_avoid_explicit_ones() {
        let layers = assign_ids(spec(
            r#"layers = [{type="conv",out=1,kernel=1},{type="relu"},{type="conv",out=1,kernel=1,id="conv1x"},{type="relu"},{type="linear",out=2,id="fc2"},{type="linear",out=2}]"#,
        ))
        .unwrap();
        assert_eq!(
            ids(&layers),
            ["conv1", "relu1", "conv1x", "relu2", "fc2", "fc3"]
        );
        let err = assign_ids(spec(
            r#"layers = [{type="relu",id="a"},{type="relu",id="a"}]"#,
        ))
        .unwrap_err();
        assert!(err.contains("\"a\""), "{err}");
    }

    #[test]
    fn edits_insert_remove_and_set() {
        let mut layers = assign_ids(spec(
            r#"layers = [{type="conv",out=4,kernel=5},{type="relu"},{type="maxpool"},{type="flatten"}]"#,
        ))
        .unwrap();
        apply_edit(
            &mut layers,
            &edit("after = \"conv1\"\ninsert = [{type=\"batchnorm\"}]"),
        )
        .unwrap();
        apply_edit(&mut layers, &edit("remove = \"pool1\"")).unwrap();
        apply_edit(
            &mut layers,
            &edit("layer = \"conv1\"\nset = { kernel = 3 }"),
        )
        .unwrap();
        apply_edit(
            &mut layers,
            &edit("before = \"flatten1\"\ninsert = [{type=\"relu\"}]"),
        )
        .unwrap();
        assert_eq!(ids(&layers), ["conv1", "bn1", "relu1", "relu2", "flatten1"]);
        assert_eq!(
            layers[0],
            LayerSpec::Conv {
                id: Some("conv1".into()),
                out: 4,
                kernel: 3,
                stride: 1,
                padding: 0
            }
        );
    }

    #[test]
    fn bad_edits_say_what_is_wrong() {
        let mut layers = assign_ids(spec(r#"layers = [{type="relu"}]"#)).unwrap();
        let err = apply_edit(&mut layers, &edit("remove = \"pool9\"")).unwrap_err();
        assert!(err.contains("pool9") && err.contains("relu1"), "{err}");
        let err = apply_edit(
            &mut layers,
            &edit("layer = \"relu1\"\nset = { kernel = 3 }"),
        )
        .unwrap_err();
        assert!(err.contains("kernel"), "{err}");
        let err =
            apply_edit(&mut layers, &edit("remove = \"relu1\"\nlayer = \"relu1\"")).unwrap_err();
        assert!(err.contains("exactly one"), "{err}");
        let err = apply_edit(&mut layers, &edit("insert = [{type=\"relu\"}]")).unwrap_err();
        assert!(err.contains("after"), "{err}");
    }
}
