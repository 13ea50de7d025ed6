//! The changed runs' test accuracy per epoch, old and new in one plot: what a reviewer
//! looks at first in a pull request that retuned an experiment.

use anyhow::Result;

use super::measure::complete;
use super::model::{Change, Diff};
use super::side::Side;
use crate::analyze::plot::{self, Drawn};
use crate::analyze::seeds::Curve;
use crate::render::context::Provenance;
use crate::store::Metrics;

/// The overlaid curves, mean over complete seeds with ± one standard deviation; `None`
/// when no changed run has a complete seed on both sides.
pub fn curves(diff: &Diff, old: &Side, new: &Side) -> Result<Option<Drawn>> {
    let mut series: Vec<(String, Curve)> = Vec::new();
    for r in diff.runs.iter().filter(|r| r.change == Change::Changed) {
        fn find<'s>(side: &'s Side, run: &str) -> Vec<(u64, Metrics, Option<&'s Provenance>)> {
            side.runs()
                .find(|e| e.id == run)
                .map(complete)
                .unwrap_or_default()
        }
        let (o, n) = (find(old, &r.run), find(new, &r.run));
        if o.is_empty() || n.is_empty() {
            continue;
        }
        for (label, seeds) in [("old", &o), ("new", &n)] {
            let metrics: Vec<&Metrics> = seeds.iter().map(|(_, m, _)| m).collect();
            let curve = Curve::of(&metrics, |e| 100.0 * e.test_accuracy);
            series.push((format!("{} ({label})", r.title), curve));
        }
    }
    if series.is_empty() {
        return Ok(None);
    }
    let lowest = series
        .iter()
        .flat_map(|(_, c)| c.points.iter().map(|p| p.1))
        .filter(|v| v.is_finite())
        .fold(100.0f64, f64::min);
    let y_range = ((lowest / 10.0).floor() * 10.0, 100.0);
    let title = "Test Accuracy of the Changed Runs, Old and New";
    Ok(Some(plot::overlay(
        title,
        &series,
        "Test accuracy (%)",
        y_range,
    )?))
}
