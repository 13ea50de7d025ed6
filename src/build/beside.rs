//! t-SNE beside training. A training process given cores that training leaves free (a
//! GPU build's: each training process needs one core to launch its kernels) embeds each
//! snapshot on them as soon as training has written it, into the cache the figures
//! stage reads; that stage then finds the embeddings done instead of starting them all
//! after the last run. They are the embeddings it would have computed (see
//! [`crate::analyze::embed`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Sender};
use std::thread::{Scope, ScopedJoinHandle};

use crate::analyze::embed::{self, Snapshot};
use crate::plan::{DeviceKind, RunSpec};
use crate::store::Store;
use crate::train::Taken;

/// One snapshot waiting for a free core, with its rows' labels.
type Job<'a> = (Snapshot<'a>, Arc<[u8]>);

/// Embedding threads that take snapshots as training writes them.
pub struct Beside<'scope, 'a> {
    feed: Sender<Job<'a>>,
    stop: Arc<AtomicBool>,
    worker: ScopedJoinHandle<'scope, usize>,
}

impl<'scope, 'a: 'scope> Beside<'scope, 'a> {
    /// Starts `threads` embedding threads (one core each) in `scope`.
    pub fn start(scope: &'scope Scope<'scope, '_>, store: &'a Store, threads: usize) -> Self {
        let (feed, jobs) = mpsc::channel::<Job<'a>>();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let worker = scope.spawn(move || {
            embed::prefetch(store, jobs.into_iter(), threads, || {
                stopped.load(Ordering::Relaxed) || crate::interrupt::requested()
            })
        });
        Beside { feed, stop, worker }
    }

    /// Queues a snapshot of `spec`'s run, trained on `device`, that training has just
    /// written, if the figures stage will show it: only runs with t-SNE take snapshots,
    /// and of a run's seeds only the first is embedded.
    pub fn taken(&self, spec: &'a RunSpec, device: DeviceKind, taken: &Taken<'_>) {
        if spec.seeds.first().is_some_and(|&s| s != spec.train.seed) {
            return;
        }
        let snap = Snapshot::taken(
            spec,
            device,
            taken.epoch,
            taken.points.clone(),
            taken.digest,
        );
        // Sending fails only once the threads are gone, after `finish`.
        let _ = self.feed.send((snap, Arc::from(taken.labels)));
    }

    /// Training is over: lets the fits under way finish and drops the snapshots not yet
    /// started, which the figures stage embeds on every core. Returns how many were
    /// embedded beside training.
    pub fn finish(self) -> usize {
        self.stop.store(true, Ordering::Relaxed);
        drop(self.feed);
        self.worker
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e))
    }
}

/// Runs `train` with embedding threads beside it (none when `threads` is 0), then
/// finishes them and says how many snapshots they embedded.
pub fn with_beside<'a, R>(
    store: &'a Store,
    threads: usize,
    train: impl for<'s> FnOnce(Option<&Beside<'s, 'a>>) -> R,
) -> R {
    std::thread::scope(|scope| {
        let beside = (threads > 0).then(|| Beside::start(scope, store, threads));
        let trained = train(beside.as_ref());
        let embedded = beside.map_or(0, Beside::finish);
        if embedded > 0 {
            eprintln!(
                "t-SNE: {embedded} snapshot{} embedded beside training ({threads} thread{})",
                if embedded == 1 { "" } else { "s" },
                if threads == 1 { "" } else { "s" },
            );
        }
        trained
    })
}
