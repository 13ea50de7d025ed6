//! t-SNE embeddings of stored snapshots, cached by content under `out/cache/tsne/`.
//!
//! The figures stage reads every embedding through [`embedding`]. A build with cores to
//! spare while its runs train fills the same cache beforehand with [`prefetch`], each
//! snapshot as soon as training has written it; the figures stage then finds those
//! embeddings cached. The
//! cache key is the snapshot's digest, the t-SNE settings, the seed and the method, and
//! every embedding is seeded and independent of the thread count, so an embedding
//! computed beside training is the one the figures stage would have computed.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::TsneStats;
use super::tsne;
use crate::fsx;
use crate::hash;
use crate::plan::spec::{TsneMethod, TsneSettings};
use crate::plan::{DeviceKind, RunSpec};
use crate::store::Store;
use crate::store::npy::{self, MatrixF32};
use crate::store::record::RunRecord;

/// Neighbours used for the k-NN accuracy of embeddings and latent spaces.
pub const KNN_K: usize = 10;

/// One snapshot to embed, with everything its cached embedding is keyed by.
#[derive(Debug, Clone)]
pub struct Snapshot<'a> {
    /// The run it was taken from.
    pub spec: &'a RunSpec,
    /// Its latent vectors.
    pub points: Points,
    /// Its file's digest, as the run record gives it.
    pub digest: String,
    /// The epoch it was taken after (0 = before training).
    pub epoch: i64,
    /// How it is embedded.
    pub method: TsneMethod,
}

/// Where a snapshot's latent vectors are.
#[derive(Debug, Clone)]
pub enum Points {
    /// In its `.npy` file in the store.
    File(PathBuf),
    /// In memory, as training took them (the run is not in the store yet).
    Taken(Arc<MatrixF32>),
}

impl Snapshot<'_> {
    /// A snapshot training has just taken, of a run trained on `device`.
    pub fn taken<'a>(
        spec: &'a RunSpec,
        device: DeviceKind,
        epoch: i64,
        points: MatrixF32,
        digest: &str,
    ) -> Snapshot<'a> {
        Snapshot {
            spec,
            points: Points::Taken(Arc::new(points)),
            digest: digest.to_owned(),
            epoch,
            method: tsne_method(&spec.tsne, device),
        }
    }

    /// What error messages call it: its file, or its run and epoch.
    fn name(&self) -> String {
        match &self.points {
            Points::File(path) => path.display().to_string(),
            Points::Taken(_) => format!("the epoch-{} snapshot of {}", self.epoch, self.spec.id),
        }
    }
}

/// The snapshots of a stored run, in record order.
pub fn snapshots<'a>(store: &Store, spec: &'a RunSpec, record: &RunRecord) -> Vec<Snapshot<'a>> {
    let files = store.run(&spec.profile, &spec.seed_run());
    let method = tsne_method(&spec.tsne, DeviceKind::of_label(&record.device));
    record
        .snapshots
        .iter()
        .map(|snap| {
            let path = files.dir.join(&snap.file);
            // A snapshot the record lists without a digest is hashed here: an empty
            // digest would give two such snapshots one cache entry.
            let digest = record
                .files
                .get(&snap.file)
                .map(|f| f.blake3.clone())
                .or_else(|| hash::file(&path).ok())
                .unwrap_or_else(|| format!("unreadable {}", path.display()));
            Snapshot {
                spec,
                points: Points::File(path),
                digest,
                epoch: snap.epoch,
                method,
            }
        })
        .collect()
}

/// The class labels of a stored run's snapshot rows; empty when it took no snapshots.
pub fn labels(store: &Store, spec: &RunSpec, record: &RunRecord) -> Result<Vec<u8>> {
    if record.snapshots.is_empty() {
        return Ok(Vec::new());
    }
    let path = store.run(&spec.profile, &spec.seed_run()).snapshot_labels();
    let bytes = std::fs::read(&path)
        .with_context(|| format!("{}: cannot read snapshot labels", path.display()))?;
    npy::decode_u8(&bytes).with_context(|| format!("{}: damaged snapshot labels", path.display()))
}

/// A run's snapshot labels and the embedding of each snapshot, in record order.
#[derive(Debug, Default)]
pub struct Embedded {
    /// The class of every embedded row.
    pub labels: Vec<u8>,
    /// One embedding per snapshot.
    pub snapshots: Vec<CachedEmbedding>,
}

/// Embeds the snapshots of `runs` side by side, as many at a time as there are cores
/// (one embedding is single-threaded): the same coordinates as one after another, since
/// each is seeded and independent. One entry per run, in order.
pub fn embed_runs(store: &Store, runs: &[(&RunSpec, &RunRecord)]) -> Result<Vec<Embedded>> {
    let mut out: Vec<Embedded> = Vec::with_capacity(runs.len());
    let mut jobs = Vec::new();
    for (i, (spec, record)) in runs.iter().enumerate() {
        out.push(Embedded {
            labels: labels(store, spec, record)?,
            snapshots: Vec::new(),
        });
        jobs.extend(snapshots(store, spec, record).into_iter().map(|s| (i, s)));
    }
    let threads = rayon::current_num_threads().min(jobs.len());
    let results = side_by_side(jobs.iter(), threads, |(i, snap)| {
        embedding(store, snap, &out[*i].labels)
    });
    // Results come back in the jobs' order, so each goes to its run in the order of
    // its snapshots.
    for ((i, _), e) in jobs.iter().zip(results) {
        out[*i].snapshots.push(e?);
    }
    Ok(out)
}

/// Embeds every snapshot `jobs` yields (with its rows' labels) into the cache, `threads`
/// at a time, each on one core, until `jobs` ends or `stop` says so; a fit already
/// started is finished. What a build runs beside training with the cores training
/// leaves free. Returns how many were embedded; one that fails is left to the figures
/// stage, which computes it again and reports the error with its context.
pub fn prefetch<'a, L: AsRef<[u8]>>(
    store: &Store,
    jobs: impl Iterator<Item = (Snapshot<'a>, L)> + Send,
    threads: usize,
    stop: impl Fn() -> bool + Sync,
) -> usize {
    let done = side_by_side(jobs, threads, |(snap, labels)| {
        if stop() {
            return false;
        }
        // A pool of one for the neighbour searches, which would otherwise spread over
        // every core, training's included.
        let Ok(pool) = rayon::ThreadPoolBuilder::new().num_threads(1).build() else {
            return false;
        };
        let labels: &[u8] = labels.as_ref();
        pool.install(|| embedding(store, &snap, labels).is_ok())
    });
    done.into_iter().filter(|&ok| ok).count()
}

/// `f` of every job, in the jobs' order, computed on `threads` plain threads (at least
/// one) that each take the next job when done with one, until `jobs` ends. Not rayon's
/// workers: a worker waiting for another pool (each Barnes-Hut fit runs in a one-thread
/// pool of its own) takes other jobs meanwhile, so every embedding would start at once
/// and they would time-slice the cores, thrashing each other's caches.
fn side_by_side<I, R>(jobs: I, threads: usize, f: impl Fn(I::Item) -> R + Sync) -> Vec<R>
where
    I: Iterator + Send,
    R: Send,
{
    let next = Mutex::new(jobs.enumerate());
    let mut done: Vec<(usize, R)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.max(1))
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        // The lock is held only to take a job, never while running one.
                        let job = next.lock().unwrap_or_else(|e| e.into_inner()).next();
                        let Some((i, job)) = job else { break mine };
                        mine.push((i, f(job)));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// The t-SNE method of a run trained on `device`: the experiment's, else exact for CUDA
/// runs (a GPU build has the device to make it fast) and Barnes-Hut for CPU runs.
fn tsne_method(settings: &TsneSettings, device: DeviceKind) -> TsneMethod {
    settings.method.unwrap_or(match device {
        DeviceKind::Cuda => TsneMethod::Exact,
        DeviceKind::Cpu => TsneMethod::BarnesHut,
    })
}

/// A t-SNE result as cached on disk.
#[derive(Debug, Serialize, Deserialize)]
pub struct CachedEmbedding {
    /// One point per snapshot row.
    pub coords: Vec<[f32; 2]>,
    /// How faithful it is.
    pub stats: TsneStats,
}

/// The embedding of `snap`, from the cache when the same snapshot was embedded with the
/// same settings before (t-SNE of 10,000 points costs seconds to minutes). An exact
/// embedding is computed on CUDA when there is one, else on the CPU.
pub fn embedding(store: &Store, snap: &Snapshot<'_>, labels: &[u8]) -> Result<CachedEmbedding> {
    let spec = snap.spec;
    let cache = store.tsne_cache().join(format!("{}.json", cache_key(snap)));
    // A cached embedding of another row count is not this snapshot's: computed again.
    if let Ok(hit) = fsx::read_json::<CachedEmbedding>(&cache)
        && hit.coords.len() == labels.len()
    {
        return Ok(hit);
    }
    let points: Arc<MatrixF32> = match &snap.points {
        Points::Taken(points) => Arc::clone(points),
        Points::File(path) => {
            let bytes = std::fs::read(path)
                .with_context(|| format!("{}: cannot read snapshot", path.display()))?;
            let points = npy::decode_f32(&bytes)
                .with_context(|| format!("{}: damaged snapshot", path.display()))?;
            Arc::new(points)
        }
    };
    if points.rows != labels.len() {
        anyhow::bail!(
            "{}: {} rows but {} labels",
            snap.name(),
            points.rows,
            labels.len()
        );
    }
    let how = match snap.method {
        TsneMethod::BarnesHut => tsne::Method::BarnesHut,
        TsneMethod::Exact => tsne::Method::Exact(tch::Device::cuda_if_available()),
    };
    let emb = tsne::embed(
        &points,
        spec.tsne.perplexity,
        spec.tsne.iterations,
        spec.train.seed,
        how,
    )
    .with_context(|| {
        format!(
            "{} ({}): t-SNE of {}",
            spec.source.display(),
            spec.id,
            snap.name()
        )
    })?;
    let flat = MatrixF32 {
        rows: emb.coords.len(),
        cols: 2,
        data: emb.coords.iter().flatten().copied().collect(),
    };
    let stats = TsneStats {
        epoch: snap.epoch,
        points: points.rows,
        knn_embedding: tsne::knn_accuracy(&flat, labels, KNN_K),
        // The neighbours P was built on, when there were KNN_K of them.
        knn_latent: emb
            .neighbours
            .accuracy(labels, KNN_K)
            .unwrap_or_else(|| tsne::knn_accuracy(&points, labels, KNN_K)),
        kl_divergence: emb.kl_divergence,
        perplexity: spec.tsne.perplexity,
        iterations: spec.tsne.iterations,
        method: snap.method,
        seconds: emb.seconds,
    };
    let result = CachedEmbedding {
        coords: emb.coords,
        stats,
    };
    fsx::write_json(&cache, &result)?;
    Ok(result)
}

/// The cache file's name: the method in force, named or chosen, is part of it, and
/// Barnes-Hut keeps the key it had before there was a choice.
fn cache_key(snap: &Snapshot<'_>) -> String {
    let spec = snap.spec;
    let settings = TsneSettings {
        method: None,
        ..spec.tsne.clone()
    };
    let version = env!("CARGO_PKG_VERSION");
    let digest = snap.digest.as_str();
    match snap.method {
        TsneMethod::BarnesHut => hash::value(&(version, digest, &settings, spec.train.seed)),
        // The exact gradient runs on CUDA when there is one, and a GPU's sums are not
        // the CPU's: the device is part of the key.
        TsneMethod::Exact => {
            let device = match tch::Device::cuda_if_available() {
                tch::Device::Cuda(_) => "cuda",
                _ => "cpu",
            };
            hash::value(&(version, digest, &settings, spec.train.seed, "exact", device))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn side_by_side_keeps_the_jobs_order_and_runs_no_more_than_its_threads_at_once() {
        let running = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let jobs: Vec<u64> = (0..12).collect();
        let out = side_by_side(jobs.iter(), 3, |&j| {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            // Later jobs finish first, so an order kept by completion would show.
            std::thread::sleep(std::time::Duration::from_millis(30 - 2 * j));
            running.fetch_sub(1, Ordering::SeqCst);
            j * j
        });
        assert_eq!(out, jobs.iter().map(|j| j * j).collect::<Vec<_>>());
        assert_eq!(most.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn side_by_side_of_no_jobs_is_empty() {
        let out = side_by_side(std::iter::empty::<u8>(), 4, |j| j);
        assert!(out.is_empty());
    }

    #[test]
    fn side_by_side_takes_jobs_as_they_come_until_the_feed_closes() {
        // A channel is how a build feeds landed runs' snapshots: jobs sent after the
        // workers started, and the end of the feed is the sender dropped.
        let (tx, rx) = std::sync::mpsc::channel::<u32>();
        let feeder = std::thread::spawn(move || {
            for j in 0..5 {
                std::thread::sleep(std::time::Duration::from_millis(5));
                tx.send(j).unwrap();
            }
        });
        let out = side_by_side(rx.into_iter(), 2, |j| j + 100);
        feeder.join().unwrap();
        assert_eq!(out, vec![100, 101, 102, 103, 104]);
    }
}
