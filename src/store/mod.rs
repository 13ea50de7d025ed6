//! The run store under `out/`: the one module that knows its layout, its file formats
//! and its lock. Stages ask it for paths and records; none builds a path itself.

pub mod inventory;
pub mod layout;
pub mod lock;
pub mod npy;
pub mod record;
pub mod verification;

pub use inventory::{Inventory, PlannedRun, RunState, StoredRun};
pub use layout::{RunFiles, Store};
pub use record::{EpochMetrics, Metrics, RunRecord, RunStatus};
