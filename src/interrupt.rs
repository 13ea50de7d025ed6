//! Ctrl-C: the first one asks the build to stop at the next batch, so the store is
//! left as it is (finished runs kept, the run in progress discarded); a second one
//! exits at once, which is equally safe because every write is atomic.

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Installs the handler; harmless if called twice.
pub fn install() {
    let installed = ctrlc::set_handler(|| {
        if REQUESTED.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("\ninterrupted: stopping after this batch (Ctrl-C again to quit now)");
    });
    match installed {
        Ok(()) | Err(ctrlc::Error::MultipleHandlers) => {}
        // Without the handler Ctrl-C kills the process at once: a Slurm build cannot
        // cancel its array, and half-trained runs stay in staging until the next build.
        Err(e) => eprintln!(
            "warning: Ctrl-C cannot be caught ({e}): it will stop this command at once, and a Slurm build's submitted tasks will keep running (cancel them with scancel)"
        ),
    }
}

/// Whether Ctrl-C was pressed.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// The error a stage returns when it stopped because of Ctrl-C.
#[derive(Debug, thiserror::Error)]
#[error(
    "interrupted by Ctrl-C; finished runs are kept, the run in progress will be retrained next time"
)]
pub struct Interrupted;
