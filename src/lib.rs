//! `report`: experiments → plan → train → analyze → render.
//!
//! Each stage is a module that reads the previous stage's files; `build` strings them
//! together, `cmd` holds one file per subcommand and `cli` the command line's shape.
//! ARCHITECTURE.md draws the layers and the one rule between them: a module imports
//! only modules below it.

pub mod analyze;
pub mod build;
pub mod cli;
pub mod cmd;
pub mod data;
pub mod diff;
pub mod experiment;
pub mod fsx;
pub mod hash;
pub mod interrupt;
#[cfg(test)]
mod layering;
pub mod plan;
pub mod progress;
pub mod project;
pub mod render;
pub mod stats;
pub mod store;
#[cfg(test)]
pub(crate) mod testutil;
pub mod text;
pub mod train;
pub mod verify;
