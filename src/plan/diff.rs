//! What changed between two runs, in words: the report's "what changed" lines.
//!
//! A pure function of two [`RunSpec`]s. Layers are matched by id (ids are stable across
//! `extends`, see `resolve`), so an edited layer reads as "conv1: conv k5 p2 16 → conv
//! k3 16" rather than as one removal and one insertion. The architecture diagram
//! highlights the same [`LayerChanges`], so the drawing and the text always agree.

use super::layer::{Layer, LayerOp, Notation};
use super::spec::{LrSchedule, NormalizeSetting, OptimizerSpec, RunSpec};
use crate::text::setting;

/// Human lines saying how `new` differs from `old`, layers first (in model order), then
/// training settings. Empty when they train the same way.
pub fn diff(old: &RunSpec, new: &RunSpec) -> Vec<String> {
    let mut lines = layers(&old.train.layers, &new.train.layers);
    let (o, n) = (&old.train, &new.train);
    change(&mut lines, "optimizer:", &o.optimizer, &n.optimizer, |x| {
        optimizer(x)
    });
    change(
        &mut lines,
        "learning rate:",
        (&o.lr_schedule, o.warmup_epochs),
        (&n.lr_schedule, n.warmup_epochs),
        |(s, w)| lr_schedule(s.as_ref(), *w),
    );
    change(&mut lines, "batch size:", o.batch_size, n.batch_size, text);
    change(&mut lines, "epochs:", o.epochs, n.epochs, text);
    change(&mut lines, "seed:", o.seed, n.seed, text);
    let (oa, na) = (&o.augment, &n.augment);
    let crop = "augmentation: random crop padding";
    change(&mut lines, crop, oa.crop_padding, na.crop_padding, text);
    let hflip = "augmentation: horizontal flip probability";
    change(&mut lines, hflip, oa.hflip, na.hflip, |x| setting(*x));
    let vflip = "augmentation: vertical flip probability";
    change(&mut lines, vflip, oa.vflip, na.vflip, |x| setting(*x));
    change(
        &mut lines,
        "memory format:",
        o.memory_format,
        n.memory_format,
        text,
    );
    change(&mut lines, "precision:", o.precision, n.precision, text);
    change(
        &mut lines,
        "deterministic:",
        o.deterministic,
        n.deterministic,
        text,
    );
    change(
        &mut lines,
        "normalization:",
        &o.normalize,
        &n.normalize,
        |x| match x {
            NormalizeSetting::Values(v) => {
                format!("mean {} std {}", triple(&v.mean), triple(&v.std))
            }
            NormalizeSetting::Auto(_) => "auto (the training images' own)".to_owned(),
        },
    );
    change(
        &mut lines,
        "t-SNE snapshots:",
        &o.snapshot_epochs,
        &n.snapshot_epochs,
        |x| epochs(x),
    );
    // PCA and t-SNE settings matter only where both runs take snapshots.
    if !o.snapshot_epochs.is_empty() && !n.snapshot_epochs.is_empty() {
        let pca = "t-SNE snapshot PCA components:";
        change(&mut lines, pca, o.snapshot_pca, n.snapshot_pca, text);
        let (ot, nt) = (&old.tsne, &new.tsne);
        change(
            &mut lines,
            "t-SNE perplexity:",
            ot.perplexity,
            nt.perplexity,
            |x| setting(*x),
        );
        change(
            &mut lines,
            "t-SNE iterations:",
            ot.iterations,
            nt.iterations,
            text,
        );
    }
    lines
}

/// Layer changes in model order: edited layers, added ones (with the layer they follow)
/// and removed ones (where they were), then a reordering of the layers both keep.
pub fn layers(old: &[Layer], new: &[Layer]) -> Vec<String> {
    LayerChanges::between(old, new).lines()
}

/// How one model's layers differ from another's, matched by id: what the "what changed"
/// lines say and what the architecture diagram highlights, worked out once for both.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LayerChanges {
    /// Edited, added and removed layers in reading order: the new model's order, with
    /// each removed layer just after the last layer before it that both models keep
    /// (first when there is none).
    pub layers: Vec<LayerChange>,
    /// The ids both models keep, in the old model's order and in the new one's, when
    /// the two orders differ.
    pub reordered: Option<(Vec<String>, Vec<String>)>,
}

/// One layer that differs between two models.
#[derive(Debug, Clone, PartialEq)]
pub enum LayerChange {
    /// Both models have layer `id`, with operation `from` in the old one and `to` in
    /// the new one.
    Modified {
        /// The layer.
        id: String,
        /// Its operation in the old model.
        from: LayerOp,
        /// Its operation in the new model.
        to: LayerOp,
    },
    /// Only the new model has layer `id`; `follows` is the layer before it there
    /// (`None`: it is first).
    Added {
        /// The layer.
        id: String,
        /// Its operation.
        op: LayerOp,
        /// The layer before it in the new model.
        follows: Option<String>,
    },
    /// Only the old model has the layer.
    Removed(RemovedLayer),
}

/// A layer of the old model that the new one dropped.
#[derive(Debug, Clone, PartialEq)]
pub struct RemovedLayer {
    /// Its id in the old model.
    pub id: String,
    /// What it did.
    pub op: LayerOp,
    /// The nearest layer before it that the new model kept (`None`: none was), which
    /// is where the text lists it and the drawing shows the gap.
    pub after: Option<String>,
}

impl RemovedLayer {
    /// "removed pool1 (maxpool 2)", with the operation in `notation`: the one sentence
    /// of the text and the diagram.
    pub fn line(&self, notation: Notation) -> String {
        format!("removed {} ({})", self.id, self.op.label(notation))
    }
}

impl LayerChange {
    /// The id of the layer that changed.
    pub fn id(&self) -> &str {
        match self {
            LayerChange::Modified { id, .. } | LayerChange::Added { id, .. } => id,
            LayerChange::Removed(r) => &r.id,
        }
    }

    /// The change as a "what changed" line.
    pub fn line(&self) -> String {
        match self {
            LayerChange::Modified { id, from, to } => format!("{id}: {from} → {to}"),
            LayerChange::Added { id, op, follows } => {
                let place = match follows {
                    Some(p) => format!("after {p}"),
                    None => "at the start".to_owned(),
                };
                format!("added {id} ({op}) {place}")
            }
            LayerChange::Removed(r) => r.line(Notation::Compact),
        }
    }
}

impl LayerChanges {
    /// How `new` differs from `old`. Ids are stable across `extends`, so a layer under
    /// the same id with another operation is an edit, not a removal and an insertion.
    pub fn between(old: &[Layer], new: &[Layer]) -> LayerChanges {
        let in_new = |id: &str| new.iter().position(|l| l.id == id);
        let in_old = |id: &str| old.iter().find(|l| l.id == id);
        // (sort key, change): a layer of `new` at index j sorts at 2j+2; a removed layer
        // sorts just after the last layer both keep that came before it in `old`: 2k+3
        // for that layer's index k in `new`, 1 if there is none. The sort is stable, so
        // removed layers with the same key keep `old`'s order.
        let mut keyed: Vec<(usize, LayerChange)> = Vec::new();
        for (j, layer) in new.iter().enumerate() {
            let change = match in_old(&layer.id) {
                Some(before) if before.op != layer.op => LayerChange::Modified {
                    id: layer.id.clone(),
                    from: before.op.clone(),
                    to: layer.op.clone(),
                },
                Some(_) => continue,
                None => LayerChange::Added {
                    id: layer.id.clone(),
                    op: layer.op.clone(),
                    follows: j.checked_sub(1).map(|p| new[p].id.clone()),
                },
            };
            keyed.push((2 * j + 2, change));
        }
        let mut kept_before: Option<usize> = None;
        for layer in old {
            match in_new(&layer.id) {
                Some(k) => kept_before = Some(k),
                None => keyed.push((
                    kept_before.map_or(1, |k| 2 * k + 3),
                    LayerChange::Removed(RemovedLayer {
                        id: layer.id.clone(),
                        op: layer.op.clone(),
                        after: kept_before.map(|k| new[k].id.clone()),
                    }),
                )),
            }
        }
        keyed.sort_by_key(|(k, _)| *k);
        let kept_old: Vec<String> = old
            .iter()
            .filter(|l| in_new(&l.id).is_some())
            .map(|l| l.id.clone())
            .collect();
        let kept_new: Vec<String> = new
            .iter()
            .filter(|l| in_old(&l.id).is_some())
            .map(|l| l.id.clone())
            .collect();
        LayerChanges {
            layers: keyed.into_iter().map(|(_, c)| c).collect(),
            reordered: (kept_old != kept_new).then_some((kept_old, kept_new)),
        }
    }

    /// Whether layer `id` is one the old model lacks.
    pub fn is_added(&self, id: &str) -> bool {
        self.layers
            .iter()
            .any(|c| matches!(c, LayerChange::Added { .. }) && c.id() == id)
    }

    /// Whether layer `id` has another operation than in the old model.
    pub fn is_modified(&self, id: &str) -> bool {
        self.layers
            .iter()
            .any(|c| matches!(c, LayerChange::Modified { .. }) && c.id() == id)
    }

    /// Whether layer `id` is new or changed.
    pub fn contains(&self, id: &str) -> bool {
        self.is_added(id) || self.is_modified(id)
    }

    /// The layers the new model dropped, in reading order.
    pub fn removed(&self) -> impl Iterator<Item = &RemovedLayer> {
        self.layers.iter().filter_map(|c| match c {
            LayerChange::Removed(r) => Some(r),
            _ => None,
        })
    }

    /// Whether both models have the same layers with the same operations, in whatever
    /// order.
    pub fn same_layers(&self) -> bool {
        self.layers.is_empty()
    }

    /// The "what changed" lines: one per changed layer in reading order, then the new
    /// order of the layers both keep, if it is new.
    pub fn lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self.layers.iter().map(LayerChange::line).collect();
        if let Some((old, new)) = &self.reordered {
            lines.push(format!(
                "layer order: {} → {}",
                old.join(", "),
                new.join(", ")
            ));
        }
        lines
    }
}

/// How the learning rate moves: "constant", "warm-up 2, then cosine over 8 to 0.001",
/// "step every 10 × 0.1", "multistep at 30, 40 × 0.1".
pub fn lr_schedule(schedule: Option<&LrSchedule>, warmup: i64) -> String {
    let main = match schedule {
        None => "constant".to_owned(),
        Some(LrSchedule::Step { step_size, gamma }) => {
            format!("step every {step_size} × {}", setting(*gamma))
        }
        Some(LrSchedule::Multistep { milestones, gamma }) => format!(
            "multistep at {} × {}",
            milestones
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            setting(*gamma)
        ),
        Some(LrSchedule::Cosine { t_max, eta_min }) => format!(
            "cosine over {} to {}",
            t_max.map_or("the run".into(), |t| t.to_string()),
            setting(*eta_min)
        ),
    };
    if warmup > 0 {
        format!("warm-up {warmup}, then {main}")
    } else {
        main
    }
}

/// An optimizer and the hyper-parameters that differ from PyTorch's defaults:
/// "SGD lr 0.01 momentum 0.9", "Adam lr 0.001".
pub fn optimizer(o: &OptimizerSpec) -> String {
    let mut s;
    match o {
        OptimizerSpec::Sgd {
            lr,
            momentum,
            weight_decay,
            nesterov,
        } => {
            s = format!("SGD lr {}", setting(*lr));
            if *momentum != 0.0 {
                s += &format!(" momentum {}", setting(*momentum));
            }
            if *nesterov {
                s += " nesterov";
            }
            if *weight_decay != 0.0 {
                s += &format!(" weight decay {}", setting(*weight_decay));
            }
        }
        OptimizerSpec::Adam {
            lr,
            beta1,
            beta2,
            eps,
            weight_decay,
        } => {
            s = format!("Adam lr {}", setting(*lr));
            if *beta1 != 0.9 || *beta2 != 0.999 {
                s += &format!(" betas {}/{}", setting(*beta1), setting(*beta2));
            }
            if *eps != 1e-8 {
                s += &format!(" eps {}", setting(*eps));
            }
            if *weight_decay != 0.0 {
                s += &format!(" weight decay {}", setting(*weight_decay));
            }
        }
        OptimizerSpec::Rmsprop {
            lr,
            alpha,
            eps,
            momentum,
            weight_decay,
        } => {
            s = format!("RMSprop lr {}", setting(*lr));
            if *alpha != 0.99 {
                s += &format!(" alpha {}", setting(*alpha));
            }
            if *eps != 1e-8 {
                s += &format!(" eps {}", setting(*eps));
            }
            if *momentum != 0.0 {
                s += &format!(" momentum {}", setting(*momentum));
            }
            if *weight_decay != 0.0 {
                s += &format!(" weight decay {}", setting(*weight_decay));
            }
        }
    }
    s
}

/// Adds "`what` old → new" when the two values differ.
fn change<T: PartialEq>(
    lines: &mut Vec<String>,
    what: &str,
    old: T,
    new: T,
    show: impl Fn(&T) -> String,
) {
    if old != new {
        lines.push(format!("{what} {} → {}", show(&old), show(&new)));
    }
}

fn text<T: std::fmt::Display>(x: &T) -> String {
    x.to_string()
}

fn triple(v: &[f64]) -> String {
    v.iter().map(|x| setting(*x)).collect::<Vec<_>>().join("/")
}

fn epochs(e: &[i64]) -> String {
    if e.is_empty() {
        "none".to_owned()
    } else {
        let list: Vec<String> = e.iter().map(i64::to_string).collect();
        format!("epochs {}", list.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(id: &str, op: LayerOp) -> Layer {
        Layer { id: id.into(), op }
    }

    fn conv(out: i64, kernel: i64, padding: i64) -> LayerOp {
        LayerOp::Conv {
            out,
            kernel,
            stride: 1,
            padding,
        }
    }

    fn pool() -> LayerOp {
        LayerOp::Maxpool {
            kernel: 2,
            stride: 2,
        }
    }

    fn spec(layers: Vec<Layer>) -> RunSpec {
        RunSpec::example("S", layers)
    }

    fn base() -> Vec<Layer> {
        vec![
            layer("conv1", conv(16, 5, 2)),
            layer("relu1", LayerOp::Relu),
            layer("pool1", pool()),
            layer("flatten1", LayerOp::Flatten),
            layer("fc1", LayerOp::Linear { out: 10 }),
        ]
    }

    #[test]
    fn identical_specs_have_no_changes() {
        assert!(diff(&spec(base()), &spec(base())).is_empty());
    }

    #[test]
    fn edited_added_and_removed_layers_read_in_model_order() {
        let mut new = base();
        new[0].op = conv(16, 3, 0);
        new.insert(1, layer("bn1", LayerOp::Batchnorm));
        new.retain(|l| l.id != "pool1");
        new.insert(
            4,
            layer("fc0", LayerOp::Linear { out: 512 }), // after flatten1
        );
        let lines = diff(&spec(base()), &spec(new));
        assert_eq!(
            lines,
            [
                "conv1: conv k5 p2 16 → conv k3 16",
                "added bn1 (batchnorm) after conv1",
                "removed pool1 (maxpool 2)",
                "added fc0 (linear 512) after flatten1",
            ]
        );
    }

    #[test]
    fn a_layer_added_first_or_removed_first_says_where() {
        let mut new = base();
        new.remove(0);
        new.insert(0, layer("bn0", LayerOp::Batchnorm));
        let lines = layers(&base(), &new);
        assert_eq!(
            lines,
            [
                "removed conv1 (conv k5 p2 16)",
                "added bn0 (batchnorm) at the start"
            ]
        );
    }

    #[test]
    fn changes_are_found_by_id_and_read_in_model_order() {
        let mut new = base();
        new[0].op = conv(16, 3, 1);
        new.retain(|l| l.id != "relu1");
        new.insert(1, layer("bn1", LayerOp::Batchnorm));
        let c = LayerChanges::between(&base(), &new);
        assert_eq!(
            c.layers,
            [
                LayerChange::Modified {
                    id: "conv1".into(),
                    from: conv(16, 5, 2),
                    to: conv(16, 3, 1),
                },
                LayerChange::Removed(RemovedLayer {
                    id: "relu1".into(),
                    op: LayerOp::Relu,
                    after: Some("conv1".into()),
                }),
                LayerChange::Added {
                    id: "bn1".into(),
                    op: LayerOp::Batchnorm,
                    follows: Some("conv1".into()),
                },
            ]
        );
        assert_eq!(c.reordered, None);
        assert!(c.is_modified("conv1") && !c.is_added("conv1"));
        assert!(c.is_added("bn1") && !c.is_modified("bn1"));
        assert!(c.contains("conv1") && c.contains("bn1"));
        assert!(!c.contains("relu1") && !c.contains("pool1"));
        assert_eq!(
            c.removed().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            ["relu1"]
        );
        assert!(!c.same_layers());
        assert_eq!(c.lines(), layers(&base(), &new));
        assert!(LayerChanges::between(&base(), &base()).same_layers());
    }

    #[test]
    fn removed_layers_name_the_kept_layer_before_them_in_either_notation() {
        let mut new = base();
        new.retain(|l| l.id != "relu1" && l.id != "pool1");
        let c = LayerChanges::between(&base(), &new);
        let removed: Vec<&RemovedLayer> = c.removed().collect();
        assert_eq!(removed.len(), 2);
        assert!(removed.iter().all(|r| r.after.as_deref() == Some("conv1")));
        let text: Vec<String> = removed.iter().map(|r| r.line(Notation::Compact)).collect();
        assert_eq!(text, ["removed relu1 (relu)", "removed pool1 (maxpool 2)"]);
        assert_eq!(
            removed[1].line(Notation::Diagram),
            "removed pool1 (maxpool 2×2)"
        );
        let first = LayerChanges::between(&base(), &base()[1..]);
        assert_eq!(first.removed().next().unwrap().after, None);
    }

    #[test]
    fn a_reordering_alone_keeps_the_same_layers() {
        let mut new = base();
        new.swap(1, 2);
        let c = LayerChanges::between(&base(), &new);
        assert!(c.same_layers());
        let (old_order, new_order) = c.reordered.unwrap();
        assert_eq!(old_order[1..3], ["relu1", "pool1"]);
        assert_eq!(new_order[1..3], ["pool1", "relu1"]);
    }

    #[test]
    fn reordered_layers_are_reported() {
        let mut new = base();
        new.swap(1, 2);
        let lines = layers(&base(), &new);
        assert_eq!(
            lines,
            [
                "layer order: conv1, relu1, pool1, flatten1, fc1 → conv1, pool1, relu1, flatten1, fc1"
            ]
        );
    }

    #[test]
    fn training_settings_changes_are_named() {
        let old = spec(base());
        let mut new = spec(base());
        new.train.optimizer = OptimizerSpec::Adam {
            lr: 0.001,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
        };
        new.train.augment.crop_padding = 4;
        new.train.augment.vflip = 0.5;
        new.train.batch_size = 128;
        new.train.warmup_epochs = 2;
        new.train.lr_schedule = Some(LrSchedule::Cosine {
            t_max: Some(6),
            eta_min: 0.001,
        });
        new.train.snapshot_epochs = vec![0, 4, 8];
        new.train.memory_format = crate::plan::spec::MemoryFormat::Contiguous;
        new.train.precision = crate::plan::spec::Precision::Bf16;
        assert_eq!(
            diff(&old, &new),
            [
                "optimizer: SGD lr 0.01 momentum 0.9 → Adam lr 0.001",
                "learning rate: constant → warm-up 2, then cosine over 6 to 0.001",
                "batch size: 64 → 128",
                "augmentation: random crop padding 0 → 4",
                "augmentation: vertical flip probability 0 → 0.5",
                "memory format: channels_last → contiguous",
                "precision: fp32 → bf16",
                "t-SNE snapshots: none → epochs 0, 4, 8",
            ]
        );
        // t-SNE settings only count where both runs take snapshots.
        let mut other = new.clone();
        other.tsne.perplexity = 50.0;
        assert_eq!(diff(&new, &other), ["t-SNE perplexity: 30 → 50"]);
        let mut no_snap = old.clone();
        no_snap.tsne.perplexity = 50.0;
        assert!(diff(&old, &no_snap).is_empty());
    }

    #[test]
    fn optimizers_show_only_non_default_hyper_parameters() {
        assert_eq!(
            optimizer(&OptimizerSpec::Rmsprop {
                lr: 1e-4,
                alpha: 0.99,
                eps: 1e-8,
                momentum: 0.0,
                weight_decay: 0.0
            }),
            "RMSprop lr 0.0001"
        );
        assert_eq!(
            optimizer(&OptimizerSpec::Sgd {
                lr: 0.1,
                momentum: 0.0,
                weight_decay: 5e-4,
                nesterov: true
            }),
            "SGD lr 0.1 nesterov weight decay 0.0005"
        );
        assert_eq!(
            optimizer(&OptimizerSpec::Adam {
                lr: 3e-4,
                beta1: 0.9,
                beta2: 0.99,
                eps: 1e-6,
                weight_decay: 0.0
            }),
            "Adam lr 0.0003 betas 0.9/0.99 eps 1e-6"
        );
    }
}
