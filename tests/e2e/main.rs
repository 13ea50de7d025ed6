//! The end-to-end tests: one test binary (so libtorch is linked once), one module per
//! area, all driving the `report` binary on throwaway projects from `fixture`.
//!
//! The modules share one process and run in parallel threads: each test works in its
//! own temporary project, and none changes the process's environment or current folder.

mod fixture;

mod build;
mod check;
mod datasets;
mod diff;
mod errors;
mod faults;
mod fetch;
mod figures;
mod hostile;
mod init;
mod markdown;
mod pdf;
mod pytorch;
mod render;
mod schema;
mod seeds;
mod site;
mod slurm;
mod verify;
