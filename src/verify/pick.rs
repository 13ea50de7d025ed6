//! Which stored runs a verification retrains: every one (`--all`), or `--sample K` of
//! each section's, picked by a seeded hash of their names so that the same
//! `--sample-seed` picks the same runs on any machine, and a new seed picks others.

use crate::plan::RunId;
use crate::store::verification::SampleInfo;
use crate::store::{Inventory, RunState};

/// Indices into `inventory.runs` of the runs to verify, in report order: stored runs
/// (cached or damaged) of `selected`, `sample.per_section` of each section at most.
pub fn pick(inventory: &Inventory, selected: &[RunId], sample: &SampleInfo) -> Vec<usize> {
    let mut picked = Vec::new();
    for section in &inventory.sections {
        let mut candidates: Vec<usize> = inventory
            .runs
            .iter()
            .enumerate()
            .filter(|(_, r)| &r.spec.id.section == section && selected.contains(&r.spec.id))
            .filter(|(_, r)| matches!(r.state, RunState::Cached(_) | RunState::Damaged(_)))
            .map(|(i, _)| i)
            .collect();
        if !sample.all {
            let order = |i: &usize| {
                let spec = &inventory.runs[*i].spec;
                crate::hash::bytes(
                    format!("{}/{}/seed-{}", sample.seed, spec.id, spec.train.seed).as_bytes(),
                )
            };
            candidates.sort_by_cached_key(order);
            candidates.truncate(sample.per_section);
            candidates.sort_unstable();
        }
        picked.extend(candidates);
    }
    picked
}
