//! Every figure of the report, drawn with plotters: data in, SVG and PNG out.
//!
//! Nothing here touches files, and the same input always draws the same bytes, so the
//! figures stage can write with `write_if_changed` and a rebuild that changed nothing
//! rewrites nothing. Each figure is one description drawn twice: as SVG at its nominal
//! size (about 800 px wide, what the HTML report shows) and as PNG at twice that, sharp
//! on dense screens and in print. Text uses the DejaVu Sans shipped in
//! `assets/fonts/`, so a machine without fonts draws the same PNG; the SVG names that
//! family with a sans-serif fallback for browsers that lack it.

mod architecture;
mod canvas;
mod confusion;
mod curves;
mod scatter;
mod shapes;
pub mod style;
#[cfg(test)]
mod testutil;

pub use architecture::architecture;
pub use canvas::Drawn;
pub use confusion::confusion;
pub use curves::{accuracy, learning_rate, loss, overlay};
pub use scatter::{tsne_panel, tsne_scatter};
