//! What changed between two runs, in words: the report's "what changed" lines.
//!
//! A pure function of two [`RunSpec`]s. Layers are matched by id (ids are stable across
//! `extends`, see `resolve`), so an edited layer reads as "conv1: conv k5 p2 16 → conv
//! k3 16" rather than as one removal and one insertion.

use std::collections::BTreeSet;

use super::spec::{Layer, OptimizerSpec, RunSpec};

/// Human lines saying how `new` differs from `old`, layers first (in model order), then
/// training settings. Empty when they train the same way.
pub fn diff(old: &RunSpec, new: &RunSpec) -> Vec<String> {
    let mut lines = layers(&old.train.layers, &new.train.layers);
    let (o, n) = (&old.train, &new.train);
    change(&mut lines, "optimizer:", &o.optimizer, &n.optimizer, |x| {
        optimizer(x)
    });
    change(&mut lines, "batch size:", o.batch_size, n.batch_size, text);
    change(&mut lines, "epochs:", o.epochs, n.epochs, text);
    change(&mut lines, "seed:", o.seed, n.seed, text);
    let (oa, na) = (&o.augment, &n.augment);
    let crop = "augmentation: random crop padding";
    change(&mut lines, crop, oa.crop_padding, na.crop_padding, text);
    let hflip = "augmentation: horizontal flip probability";
    change(&mut lines, hflip, oa.hflip, na.hflip, |x| num(*x));
    let vflip = "augmentation: vertical flip probability";
    change(&mut lines, vflip, oa.vflip, na.vflip, |x| num(*x));
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
        "normalization:",
        &o.normalize,
        &n.normalize,
        |x| format!("mean {} std {}", triple(&x.mean), triple(&x.std)),
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
            |x| num(*x),
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
    let old_ids: BTreeSet<&str> = old.iter().map(|l| l.id.as_str()).collect();
    let new_ids: BTreeSet<&str> = new.iter().map(|l| l.id.as_str()).collect();
    // (sort key, line): a layer of `new` at index j sorts at 2j+2; a removed layer sorts
    // just after the last layer both keep that came before it in `old` (1 if none).
    let mut keyed: Vec<(usize, String)> = Vec::new();
    for (j, layer) in new.iter().enumerate() {
        match old.iter().find(|l| l.id == layer.id) {
            Some(before) if before.op != layer.op => {
                keyed.push((
                    2 * j + 2,
                    format!("{}: {} → {}", layer.id, before.op, layer.op),
                ));
            }
            Some(_) => {}
            None => {
                let place = match j.checked_sub(1) {
                    Some(p) => format!("after {}", new[p].id),
                    None => "at the start".to_owned(),
                };
                keyed.push((
                    2 * j + 2,
                    format!("added {} ({}) {place}", layer.id, layer.op),
                ));
            }
        }
    }
    let mut kept_before: Option<usize> = None;
    for layer in old {
        if new_ids.contains(layer.id.as_str()) {
            kept_before = new.iter().position(|l| l.id == layer.id);
        } else {
            let key = kept_before.map_or(1, |k| 2 * k + 3);
            keyed.push((key, format!("removed {} ({})", layer.id, layer.op)));
        }
    }
    keyed.sort_by_key(|(k, _)| *k);
    let mut lines: Vec<String> = keyed.into_iter().map(|(_, l)| l).collect();
    let kept_old: Vec<&str> = old
        .iter()
        .map(|l| l.id.as_str())
        .filter(|id| new_ids.contains(id))
        .collect();
    let kept_new: Vec<&str> = new
        .iter()
        .map(|l| l.id.as_str())
        .filter(|id| old_ids.contains(id))
        .collect();
    if kept_old != kept_new {
        lines.push(format!(
            "layer order: {} → {}",
            kept_old.join(", "),
            kept_new.join(", ")
        ));
    }
    lines
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
            s = format!("SGD lr {}", num(*lr));
            if *momentum != 0.0 {
                s += &format!(" momentum {}", num(*momentum));
            }
            if *nesterov {
                s += " nesterov";
            }
            if *weight_decay != 0.0 {
                s += &format!(" weight decay {}", num(*weight_decay));
            }
        }
        OptimizerSpec::Adam {
            lr,
            beta1,
            beta2,
            eps,
            weight_decay,
        } => {
            s = format!("Adam lr {}", num(*lr));
            if *beta1 != 0.9 || *beta2 != 0.999 {
                s += &format!(" betas {}/{}", num(*beta1), num(*beta2));
            }
            if *eps != 1e-8 {
                s += &format!(" eps {}", num(*eps));
            }
            if *weight_decay != 0.0 {
                s += &format!(" weight decay {}", num(*weight_decay));
            }
        }
        OptimizerSpec::Rmsprop {
            lr,
            alpha,
            eps,
            momentum,
            weight_decay,
        } => {
            s = format!("RMSprop lr {}", num(*lr));
            if *alpha != 0.99 {
                s += &format!(" alpha {}", num(*alpha));
            }
            if *eps != 1e-8 {
                s += &format!(" eps {}", num(*eps));
            }
            if *momentum != 0.0 {
                s += &format!(" momentum {}", num(*momentum));
            }
            if *weight_decay != 0.0 {
                s += &format!(" weight decay {}", num(*weight_decay));
            }
        }
    }
    s
}

/// A hyper-parameter as a person writes it: `0.001`, `1e-8`.
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

pub fn num(x: f64) -> String {
    if x != 0.0 && x.abs() < 1e-4 {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

fn triple(v: &[f64; 3]) -> String {
    v.iter().map(|x| num(*x)).collect::<Vec<_>>().join("/")
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
    use crate::plan::spec::LayerOp;

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
        new.train.snapshot_epochs = vec![0, 4, 8];
        new.train.memory_format = crate::plan::spec::MemoryFormat::Contiguous;
        new.train.precision = crate::plan::spec::Precision::Bf16;
        assert_eq!(
            diff(&old, &new),
            [
                "optimizer: SGD lr 0.01 momentum 0.9 → Adam lr 0.001",
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
