//! Stage 3, training: one run from its spec to a complete folder in the store.
//!
//! The data sits on the training device as uint8 for the whole run; an epoch's images
//! are gathered, augmented and normalised there (on CUDA, many batches at a time). Loss
//! and accuracy accumulate on the device and are read once per epoch, so a step never
//! waits on the host.

pub mod augment;
pub mod device;
pub mod epoch;
pub mod flat;
pub mod host;
pub mod model;
pub mod numerics;
pub mod optimizer;
pub mod pytorch;
pub mod runtime;
pub mod snapshot;
pub mod weights;

use std::fmt::Write as _;
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use tch::nn;
use tch::{Device, Kind, Reduction, Tensor};

use crate::data::Dataset;
use crate::fsx;
use crate::plan::RunSpec;
use crate::plan::schedule;
use crate::plan::shape::Shape;
use crate::plan::spec::{Normalize, NormalizeSetting};
use crate::store::npy::{self, MatrixF32};
use crate::store::record::{Numerics, SnapshotInfo};
use crate::store::{EpochMetrics, Metrics, RunFiles, RunStatus};
use augment::Normalizer;
use epoch::EpochBatches;
use model::Net;

/// Test-set forward passes run in batches of this size: large, since no graph is kept.
const EVAL_BATCH: i64 = 1000;

/// A dataset moved to the training device once, shared by every run of a build.
#[derive(Debug)]
pub struct DeviceData {
    train_x: Tensor,
    train_y: Tensor,
    test_x: Tensor,
    test_y: Tensor,
    /// Class names in label order.
    pub classes: Vec<String>,
    /// The device.
    pub device: Device,
    /// The training images' per-channel mean and standard deviation.
    pub train_stats: Normalize,
}

impl DeviceData {
    /// Copies `ds` to `device` as uint8 images and int64 labels.
    pub fn new(ds: &Dataset, device: Device) -> Self {
        let shape = ds.shape;
        let images = |s: &crate::data::Split| {
            let (c, h, w) = (shape.channels, shape.height, shape.width);
            Tensor::from_slice(&s.images)
                .view([s.len() as i64, c as i64, h as i64, w as i64])
                .to_device(device)
        };
        let labels = |s: &crate::data::Split| {
            Tensor::from_slice(&s.labels)
                .to_kind(Kind::Int64)
                .to_device(device)
        };
        DeviceData {
            train_x: images(&ds.train),
            train_y: labels(&ds.train),
            test_x: images(&ds.test),
            test_y: labels(&ds.test),
            classes: ds.classes.clone(),
            device,
            train_stats: Normalize {
                mean: ds.train_stats.mean.clone(),
                std: ds.train_stats.std.clone(),
            },
        }
    }

    /// Training images.
    pub fn train_len(&self) -> i64 {
        self.train_y.size()[0]
    }

    /// Test images.
    pub fn test_len(&self) -> i64 {
        self.test_y.size()[0]
    }
}

/// Receives progress while a run trains.
pub trait Progress {
    /// A batch finished: `done` of `total` batches of `epoch`.
    fn batch(&self, epoch: i64, done: i64, total: i64);
    /// An epoch finished.
    fn epoch(&self, metrics: &EpochMetrics);
}

/// What a run produced besides the files it wrote.
#[derive(Debug)]
pub struct Outcome {
    /// Metrics and confusion matrix.
    pub metrics: Metrics,
    /// How it ended.
    pub status: RunStatus,
    /// Snapshots written.
    pub snapshots: Vec<SnapshotInfo>,
    /// libtorch's deterministic, cuDNN and TF32 switches during the run.
    pub numerics: Numerics,
    /// Every file written, for the record.
    pub files: Vec<std::path::PathBuf>,
}

/// A latent snapshot just written, as [`train`] hands it to its caller.
#[derive(Debug)]
pub struct Taken<'a> {
    /// The epoch it was taken after (0 = before training).
    pub epoch: i64,
    /// The test set's PCA components, one row per test image.
    pub points: &'a MatrixF32,
    /// The class of every row.
    pub labels: &'a [u8],
    /// The digest of the file written, as the run record will give it.
    pub digest: &'a str,
}

/// Trains `spec` on `data`, writing weights, snapshots, metrics and log into `out`;
/// `taken` is shown each snapshot as soon as it is written.
pub fn train(
    spec: &RunSpec,
    data: &DeviceData,
    out: &RunFiles,
    progress: &dyn Progress,
    taken: &dyn Fn(&Taken<'_>),
) -> Result<Outcome> {
    let t = &spec.train;
    let device = data.device;
    let numerics = numerics::apply(t.deterministic, device.is_cuda())?;
    tch::manual_seed(t.seed as i64);
    let vs = nn::VarStore::new(device);
    let input = Shape::Image(spec.input);
    let net = Net::new(
        &vs.root(),
        &spec.shapes,
        input,
        t.memory_format,
        t.precision,
    );
    let mut opt = optimizer::build(&t.optimizer, &vs)?;
    let normalize = match &t.normalize {
        NormalizeSetting::Values(v) => v.clone(),
        NormalizeSetting::Auto(_) => data.train_stats.clone(),
    };
    let norm = Normalizer::new(&normalize, device);
    let mut log = String::new();
    let mut files = Vec::new();
    let mut snapshots = Vec::new();

    let labels: Vec<u8> = Vec::try_from(data.test_y.to_kind(Kind::Uint8).to_device(Device::Cpu))?;
    if !t.snapshot_epochs.is_empty() {
        fsx::write_atomic(&out.snapshot_labels(), &npy::encode_u8(&labels))?;
        files.push(out.snapshot_labels());
    }
    let mut take_snapshot = |epoch: i64, net: &Net, files: &mut Vec<_>| -> Result<()> {
        if !t.snapshot_epochs.contains(&epoch) {
            return Ok(());
        }
        let eval = evaluate(net, data, &norm, true)
            .with_context(|| format!("the snapshot of epoch {epoch}"))?;
        let latent = eval.latent.expect("asked for latents");
        let latent_dim = latent.size()[1];
        let proj = snapshot::pca(&latent, t.snapshot_pca)
            .with_context(|| format!("the PCA of epoch {epoch}'s snapshot"))?;
        let (rows, cols) = proj.points.size2()?;
        let values: Vec<f32> = Vec::try_from(proj.points.to_device(Device::Cpu).flatten(0, -1))?;
        let path = out.snapshot(epoch);
        let m = MatrixF32 {
            rows: rows as usize,
            cols: cols as usize,
            data: values,
        };
        let bytes = npy::encode_f32(&m);
        fsx::write_atomic(&path, &bytes)?;
        taken(&Taken {
            epoch,
            points: &m,
            labels: &labels,
            digest: &crate::hash::bytes(&bytes),
        });
        snapshots.push(SnapshotInfo {
            epoch,
            file: out.relative(&path),
            latent_dim,
            explained_variance: proj.explained_variance,
        });
        files.push(path);
        Ok(())
    };
    take_snapshot(0, &net, &mut files)?;

    let n = data.train_len();
    let EpochPlan { batches, trained } = epoch_plan(n, t.batch_size, net.has_batch_norm());
    if trained < n {
        let _ = writeln!(
            log,
            "every epoch leaves out its last batch: one image, which batch norm cannot normalise"
        );
    }
    let mut epochs = Vec::new();
    let mut status = RunStatus::Complete;
    let mut confusion = Vec::new();
    for epoch in 1..=t.epochs {
        let start = Instant::now();
        let lr = schedule::learning_rate(
            t.optimizer.lr(),
            t.lr_schedule.as_ref(),
            t.warmup_epochs,
            epoch,
        );
        opt.set_lr(lr);
        let order = Tensor::randperm(n, (Kind::Int64, device));
        let mut epoch_batches = EpochBatches::new(
            &data.train_x,
            &data.train_y,
            order,
            epoch::chunk_len(device, t.batch_size),
            &t.augment,
            &norm,
        );
        let loss_sum = Tensor::zeros([], (Kind::Float, device));
        let correct = Tensor::zeros([], (Kind::Int64, device));
        for b in 0..batches {
            let lo = b * t.batch_size;
            let len = t.batch_size.min(n - lo);
            if crate::interrupt::requested() {
                return Err(crate::interrupt::Interrupted.into());
            }
            let (x, y) = epoch_batches.batch(lo, len);
            let logits = net.forward(&x, true);
            let loss = logits.cross_entropy_for_logits(&y);
            opt.backward_step(&loss);
            tch::no_grad(|| {
                let _ = loss_sum
                    .shallow_clone()
                    .g_add_(&(loss.detach() * len as f64));
                let _ = correct
                    .shallow_clone()
                    .g_add_(&logits.argmax(-1, false).eq_tensor(&y).sum(Kind::Int64));
            });
            progress.batch(epoch, b + 1, batches);
        }
        let train_seconds = start.elapsed().as_secs_f64();
        let train_loss = f64::try_from(&loss_sum)? / trained as f64;
        if !train_loss.is_finite() {
            status = RunStatus::Diverged { epoch };
            let _ = writeln!(
                log,
                "epoch {epoch}: training loss is {train_loss}; the run diverged and stopped"
            );
            break;
        }
        let eval = evaluate(&net, data, &norm, false)
            .with_context(|| format!("evaluating the test set after epoch {epoch}"))?;
        confusion = eval.confusion;
        let m = EpochMetrics {
            epoch,
            train_loss,
            train_accuracy: i64::try_from(&correct)? as f64 / trained as f64,
            test_loss: eval.loss,
            test_accuracy: eval.accuracy,
            seconds: start.elapsed().as_secs_f64(),
            images_per_second: trained as f64 / train_seconds,
            lr: Some(lr),
        };
        let _ = writeln!(
            log,
            "epoch {epoch}: train loss {:.4} acc {:.4} | test loss {:.4} acc {:.4} | {:.1} s, {:.0} img/s",
            m.train_loss,
            m.train_accuracy,
            m.test_loss,
            m.test_accuracy,
            m.seconds,
            m.images_per_second
        );
        progress.epoch(&m);
        epochs.push(m);
        take_snapshot(epoch, &net, &mut files)?;
    }

    fsx::write_atomic(&out.weights(), &weights::safetensors(&vs)?)?;
    files.push(out.weights());
    let model_py = pytorch::model_py(spec, &normalize, input, &data.classes);
    fsx::write_atomic(&out.model_py(), model_py.as_bytes())?;
    files.push(out.model_py());
    let metrics = Metrics {
        classes: data.classes.clone(),
        epochs,
        confusion,
    };
    fsx::write_json(&out.metrics_json(), &metrics)?;
    fsx::write_atomic(&out.metrics_csv(), metrics.to_csv().as_bytes())?;
    fsx::write_json(&out.spec(), spec)?;
    fsx::write_atomic(&out.log(), log.as_bytes())?;
    files.extend([out.metrics_json(), out.metrics_csv(), out.spec(), out.log()]);
    Ok(Outcome {
        metrics,
        status,
        snapshots,
        numerics,
        files,
    })
}

/// What one epoch trains on.
#[derive(Debug, PartialEq)]
struct EpochPlan {
    /// Batches run, in order from the first.
    batches: i64,
    /// Images in them: what the epoch's loss and accuracy are over.
    trained: i64,
}

/// The epoch of `n` images in batches of `batch_size`. Batch norm cannot normalise a
/// single example (PyTorch fails on it), so a network with it leaves out a last batch
/// of one image; one without trains every image.
fn epoch_plan(n: i64, batch_size: i64, batch_norm: bool) -> EpochPlan {
    let batches = (n + batch_size - 1) / batch_size;
    let last = n - (batches - 1) * batch_size;
    if batch_norm && batches > 1 && last == 1 {
        EpochPlan {
            batches: batches - 1,
            trained: n - 1,
        }
    } else {
        EpochPlan {
            batches,
            trained: n,
        }
    }
}

struct Evaluation {
    loss: f64,
    accuracy: f64,
    confusion: Vec<Vec<i64>>,
    latent: Option<Tensor>,
}

/// One pass over the test set in eval mode, without autograd. A failure of any step is
/// an error, never a 0 % accuracy, an empty confusion matrix or a NaN loss that would
/// read as a diverged seed.
fn evaluate(
    net: &Net,
    data: &DeviceData,
    norm: &Normalizer,
    keep_latent: bool,
) -> Result<Evaluation> {
    tch::no_grad(|| {
        let n = data.test_len();
        let k = data.classes.len() as i64;
        let loss = Tensor::zeros([], (Kind::Float, data.device));
        let mut preds = Vec::new();
        let mut latents = Vec::new();
        let mut lo = 0;
        while lo < n {
            let len = EVAL_BATCH.min(n - lo);
            let x = norm.apply(&Normalizer::to_unit(&data.test_x.narrow(0, lo, len)));
            let y = data.test_y.narrow(0, lo, len);
            let (logits, latent) = net.forward_latent(&x, false);
            let batch_loss =
                logits.cross_entropy_loss::<Tensor>(&y, None, Reduction::Sum, -100, 0.0);
            let _ = loss.shallow_clone().g_add_(&batch_loss);
            preds.push(logits.argmax(-1, false));
            if keep_latent {
                latents.push(latent);
            }
            lo += len;
        }
        let preds = Tensor::cat(&preds, 0);
        let correct = i64::try_from(preds.eq_tensor(&data.test_y).sum(Kind::Int64))?;
        let counts: Vec<i64> = Vec::try_from(
            (&data.test_y * k + &preds)
                .bincount::<Tensor>(None, k * k)
                .to_device(Device::Cpu),
        )?;
        if counts.len() as i64 != k * k || counts.iter().sum::<i64>() != n {
            bail!(
                "the confusion matrix holds {} counts over {} cells, not {n} over {}",
                counts.iter().sum::<i64>(),
                counts.len(),
                k * k
            );
        }
        Ok(Evaluation {
            loss: f64::try_from(&loss)? / n as f64,
            accuracy: correct as f64 / n as f64,
            confusion: counts.chunks(k as usize).map(<[i64]>::to_vec).collect(),
            latent: keep_latent.then(|| Tensor::cat(&latents, 0)),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_last_batch_of_one_image_is_left_out_only_under_batch_norm() {
        let plan = |n, bn| epoch_plan(n, 64, bn);
        let all = |batches, trained| EpochPlan { batches, trained };
        assert_eq!(plan(129, false), all(3, 129));
        assert_eq!(plan(129, true), all(2, 128));
        assert_eq!(plan(130, true), all(3, 130));
        assert_eq!(plan(128, true), all(2, 128));
        // One image in all is the only batch: batch norm fails on it as PyTorch does,
        // rather than an epoch of nothing.
        assert_eq!(plan(1, true), all(1, 1));
    }
}
