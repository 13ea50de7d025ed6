//! Turns merged settings into a [`TrainSpec`], checking every value once, here.

use crate::data::Description;
use crate::experiment::file::{Normalize, NormalizeSetting, OptimizerSpec, SettingsPatch};
use crate::experiment::layer::{LayerSpec, Outputs};

use super::layer::{Layer, LayerOp};
use super::shape::{self, LayerShape, Shape};
use super::spec::{Augment, TrainSpec, TsneSettings};

/// PCA components kept per snapshot unless the experiment says otherwise.
pub const DEFAULT_SNAPSHOT_PCA: i64 = 50;
/// t-SNE perplexity unless configured.
pub const DEFAULT_PERPLEXITY: f64 = 30.0;
/// t-SNE iterations unless configured.
pub const DEFAULT_TSNE_ITERATIONS: i64 = 1000;

/// What the plan needs of the data: the shape of one input image and the class count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Input {
    /// Channels, height, width.
    pub image: [i64; 3],
    /// How many classes the labels index.
    pub classes: usize,
}

impl Input {
    /// CIFAR-10's input, for tests.
    #[cfg(test)]
    pub const CIFAR: Input = Input {
        image: [3, 32, 32],
        classes: 10,
    };

    /// The input of `data`.
    pub fn of(data: &Description) -> Input {
        let s = data.shape;
        Input {
            image: [s.channels as i64, s.height as i64, s.width as i64],
            classes: data.classes.len(),
        }
    }

    /// The input as the shape of the first layer's input.
    pub fn shape(&self) -> Shape {
        Shape::Image(self.image)
    }
}

/// Validates layers and settings against the data's `input`; the error is one line
/// naming the offending value.
pub fn finish(
    layers: &[LayerSpec],
    settings: &SettingsPatch,
    input: &Input,
) -> Result<(TrainSpec, TsneSettings, Vec<LayerShape>, Vec<u64>), String> {
    let layers = layers
        .iter()
        .map(|l| layer(l, input))
        .collect::<Result<Vec<_>, _>>()?;
    let shapes = shape::infer(&layers, input.shape())?;
    let flattens = layers.iter().filter(|l| l.op == LayerOp::Flatten).count();
    if flattens != 1 {
        return Err(format!(
            "a model needs exactly one flatten layer (its output is the latent vector), found {flattens}"
        ));
    }
    let Some(LayerOp::Linear { out }) = layers.last().map(|l| &l.op) else {
        return Err("the last layer must be linear: it outputs the class scores".into());
    };
    if *out != input.classes as i64 {
        let classes = input.classes;
        return Err(format!(
            "the last layer outputs {out} values but the data has {classes} classes \
             (write out = \"classes\" to follow the data)"
        ));
    }

    let training = settings.training.clone().unwrap_or_default();
    let epochs = training
        .epochs
        .ok_or("no epoch count: set [training] epochs or the profile's epochs")?;
    positive("[training] epochs", epochs)?;
    let batch_size = training
        .batch_size
        .ok_or("no batch size: set [training] batch_size")?;
    positive("[training] batch_size", batch_size)?;
    let optimizer = training
        .optimizer
        .ok_or("no optimizer: set [training] optimizer = { type = \"sgd\", lr = 0.01 }")?;
    check_optimizer(&optimizer)?;
    let warmup_epochs = training.warmup_epochs.unwrap_or(0);
    let lr_schedule = super::schedule::check(training.lr_schedule.as_ref(), warmup_epochs, epochs)?;

    let aug = settings.augment.clone().unwrap_or_default();
    let augment = Augment {
        crop_padding: aug.crop_padding.unwrap_or(0),
        hflip: aug.hflip.unwrap_or(0.0),
        vflip: aug.vflip.unwrap_or(0.0),
    };
    if augment.crop_padding < 0 {
        return Err(format!(
            "[augment] crop_padding must be 0 or more, got {}",
            augment.crop_padding
        ));
    }
    probability("[augment] hflip", augment.hflip, true)?;
    probability("[augment] vflip", augment.vflip, true)?;

    let normalize = settings.normalize.clone().unwrap_or_else(|| {
        let channels = input.image[0] as usize;
        NormalizeSetting::Values(Normalize {
            mean: vec![0.0; channels],
            std: vec![1.0; channels],
        })
    });
    if let NormalizeSetting::Values(values) = &normalize {
        if values.std.iter().any(|s| !(s.is_finite() && *s > 0.0))
            || values.mean.iter().any(|m| !m.is_finite())
        {
            return Err(format!(
                "[normalize] needs finite means and positive stds, got {values:?}"
            ));
        }
        let channels = input.image[0] as usize;
        let (m, d) = (values.mean.len(), values.std.len());
        if m != channels || d != channels {
            return Err(format!(
                "[normalize] has {m} means and {d} stds but the data's images have {channels} channels"
            ));
        }
    }

    let tsne = settings.tsne.clone().unwrap_or_default();
    let snapshot_epochs = if tsne.enabled.unwrap_or(false) {
        let mut e = tsne.epochs.ok_or(
            "[tsne] enabled but no epochs: set [tsne] epochs or the profile's tsne_epochs",
        )?;
        if let Some(bad) = e.iter().find(|x| **x < 0 || **x > epochs) {
            return Err(format!(
                "[tsne] epoch {bad} is outside 0..={epochs} (the run has {epochs} epochs)"
            ));
        }
        e.sort_unstable();
        e.dedup();
        e
    } else {
        Vec::new()
    };
    let snapshot_pca = tsne.pca.unwrap_or(DEFAULT_SNAPSHOT_PCA);
    positive("[tsne] pca", snapshot_pca)?;
    let tsne_settings = TsneSettings {
        perplexity: tsne.perplexity.unwrap_or(DEFAULT_PERPLEXITY),
        iterations: tsne.iterations.unwrap_or(DEFAULT_TSNE_ITERATIONS),
        method: tsne.method,
    };
    if !(tsne_settings.perplexity.is_finite() && tsne_settings.perplexity > 0.0) {
        return Err(format!(
            "[tsne] perplexity must be positive, got {}",
            tsne_settings.perplexity
        ));
    }
    positive("[tsne] iterations", tsne_settings.iterations)?;

    let seeds = match (training.seed, &training.seeds) {
        (Some(_), Some(_)) => {
            return Err("[training] sets both seed and seeds: keep one".into());
        }
        (Some(s), None) => vec![s],
        (None, Some(s)) => s.0.clone(),
        (None, None) => vec![0],
    };
    let train = TrainSpec {
        layers,
        optimizer,
        lr_schedule,
        warmup_epochs,
        epochs,
        batch_size,
        seed: seeds[0],
        augment,
        normalize,
        snapshot_epochs,
        snapshot_pca,
        memory_format: training.memory_format.unwrap_or_default(),
        precision: training.precision.unwrap_or_default(),
        deterministic: training.deterministic.unwrap_or(false),
    };
    Ok((train, tsne_settings, shapes, seeds))
}

fn layer(spec: &LayerSpec, input: &Input) -> Result<Layer, String> {
    let id = spec.id().expect("ids assigned by the resolver").to_owned();
    let at = |what: &str, v: i64| positive(&format!("layer {id}: {what}"), v);
    let op = match *spec {
        LayerSpec::Conv {
            out,
            kernel,
            stride,
            padding,
            ..
        } => {
            at("out", out)?;
            at("kernel", kernel)?;
            at("stride", stride)?;
            if padding < 0 {
                return Err(format!(
                    "layer {id}: padding must be 0 or more, got {padding}"
                ));
            }
            LayerOp::Conv {
                out,
                kernel,
                stride,
                padding,
            }
        }
        LayerSpec::Batchnorm { .. } => LayerOp::Batchnorm,
        LayerSpec::Relu { .. } => LayerOp::Relu,
        LayerSpec::Maxpool { kernel, stride, .. } => {
            at("kernel", kernel)?;
            let stride = stride.unwrap_or(kernel);
            at("stride", stride)?;
            LayerOp::Maxpool { kernel, stride }
        }
        LayerSpec::Flatten { .. } => LayerOp::Flatten,
        LayerSpec::Linear { out, .. } => {
            let out = match out {
                Outputs::Count(n) => n,
                Outputs::Classes(_) => input.classes as i64,
            };
            at("out", out)?;
            LayerOp::Linear { out }
        }
        LayerSpec::Dropout { p, .. } => {
            probability(&format!("layer {id}: p"), p, false)?;
            LayerOp::Dropout { p }
        }
        LayerSpec::Dropout2d { p, .. } => {
            probability(&format!("layer {id}: p"), p, false)?;
            LayerOp::Dropout2d { p }
        }
        LayerSpec::Avgpool { kernel, stride, .. } => {
            at("kernel", kernel)?;
            let stride = stride.unwrap_or(kernel);
            at("stride", stride)?;
            LayerOp::Avgpool { kernel, stride }
        }
        LayerSpec::GlobalAvgpool { .. } => LayerOp::GlobalAvgpool,
        LayerSpec::LeakyRelu { negative_slope, .. } => {
            if !negative_slope.is_finite() {
                return Err(format!(
                    "layer {id}: negative_slope must be a finite number, got {negative_slope}"
                ));
            }
            LayerOp::LeakyRelu { negative_slope }
        }
        LayerSpec::Gelu { .. } => LayerOp::Gelu,
        LayerSpec::Tanh { .. } => LayerOp::Tanh,
        LayerSpec::Sigmoid { .. } => LayerOp::Sigmoid,
    };
    Ok(Layer { id, op })
}

fn positive(what: &str, v: i64) -> Result<(), String> {
    if v <= 0 {
        return Err(format!("{what} must be positive, got {v}"));
    }
    Ok(())
}

fn probability(what: &str, p: f64, one_ok: bool) -> Result<(), String> {
    if !(p >= 0.0 && (p < 1.0 || (one_ok && p == 1.0))) {
        let range = if one_ok { "[0, 1]" } else { "[0, 1)" };
        return Err(format!("{what} must be in {range}, got {p}"));
    }
    Ok(())
}

fn check_optimizer(o: &OptimizerSpec) -> Result<(), String> {
    let (lr, checks): (f64, Vec<(&str, f64)>) = match *o {
        OptimizerSpec::Sgd {
            lr,
            momentum,
            weight_decay,
            ..
        } => (
            lr,
            vec![("momentum", momentum), ("weight_decay", weight_decay)],
        ),
        OptimizerSpec::Adam {
            lr,
            beta1,
            beta2,
            eps,
            weight_decay,
        } => (
            lr,
            vec![
                ("beta1", beta1),
                ("beta2", beta2),
                ("eps", eps),
                ("weight_decay", weight_decay),
            ],
        ),
        OptimizerSpec::Rmsprop {
            lr,
            alpha,
            eps,
            momentum,
            weight_decay,
        } => (
            lr,
            vec![
                ("alpha", alpha),
                ("eps", eps),
                ("momentum", momentum),
                ("weight_decay", weight_decay),
            ],
        ),
    };
    if !(lr.is_finite() && lr > 0.0) {
        return Err(format!("optimizer lr must be positive, got {lr}"));
    }
    for (name, v) in checks {
        let bounded = matches!(name, "momentum" | "beta1" | "beta2" | "alpha");
        if !(v.is_finite() && v >= 0.0 && (!bounded || v < 1.0)) {
            let range = if bounded { "[0, 1)" } else { "0 or more" };
            return Err(format!("optimizer {name} must be in {range}, got {v}"));
        }
    }
    Ok(())
}
