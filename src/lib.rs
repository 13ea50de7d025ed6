//! `report`: experiments → plan → train → analyze → render.
//!
//! Each stage is a module that reads the previous stage's files; the CLI in `cli.rs`
//! only strings them together.

pub mod analyze;
pub mod check;
pub mod cli;
pub mod data;
pub mod experiment;
pub mod fsx;
pub mod hash;
pub mod interrupt;
pub mod jobs;
pub mod pipeline;
pub mod plan;
pub mod progress;
pub mod project;
pub mod render;
pub mod store;
pub mod train;
