//! Progress for people: bars on a terminal, plain lines in logs and CI.
//!
//! Every meter shares one decision, made in `bar`: whether to draw a bar at all, and how
//! a bar looks. [`ByteMeter`] counts downloaded bytes; the build's `RunProgress` counts
//! training batches.

mod bar;
mod bytes;

pub use bar::{Plain, bar};
pub use bytes::ByteMeter;
