//! The resolved plan of one profile: every run with the key it must have and what the
//! store holds for it. A build surveys the store once and hands this from stage to
//! stage (train, analyze, render), as mdBook loads its book once for every renderer;
//! `report figures` and `report render` make the same survey alone.

use std::fmt;

use super::layout::Store;
use super::record::{self, Metrics, RunRecord, Verified};
use crate::fsx;
use crate::plan::spec::SeedRun;
use crate::plan::{RunKey, RunSpec};

/// A run in the store, verified: its record and its metrics.
#[derive(Debug, Clone)]
pub struct StoredRun {
    /// `run.json`.
    pub record: RunRecord,
    /// `metrics.json`.
    pub metrics: Metrics,
}

/// What the store holds for a run, compared with the key a build wants.
#[derive(Debug, Clone)]
pub enum RunState {
    /// Nothing usable.
    Missing,
    /// Complete and verified, with the wanted key.
    Cached(Box<StoredRun>),
    /// Complete, for another key (the experiment, data or version changed).
    Stale(Box<StoredRun>),
    /// Present but not trustworthy: the reason says what is wrong.
    Damaged(String),
}

impl fmt::Display for RunState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RunState::Missing => "missing",
            RunState::Cached(_) => "cached",
            RunState::Stale(_) => "stale",
            RunState::Damaged(_) => "damaged",
        })
    }
}

impl RunState {
    /// The stored run when it is the one wanted.
    pub fn cached(&self) -> Option<&StoredRun> {
        match self {
            RunState::Cached(s) => Some(s),
            _ => None,
        }
    }
}

/// One run of the plan.
#[derive(Debug, Clone)]
pub struct PlannedRun {
    /// The resolved spec.
    pub spec: RunSpec,
    /// The key a stored run must have to be reused, and the one a run trained now gets.
    pub key: RunKey,
    /// Other keys a stored run may have and still be reused: the same spec's keys on
    /// other kinds of device, when the build was told to reuse any (`--reuse-any-device`).
    pub also: Vec<RunKey>,
    /// What the store held when last looked at.
    pub state: RunState,
}

/// Every run of a profile, in report order, with what the store holds for it.
#[derive(Debug, Clone)]
pub struct Inventory {
    /// The profile.
    pub profile: String,
    /// Section names in report order (sections without runs included).
    pub sections: Vec<String>,
    /// The runs, in report order.
    pub runs: Vec<PlannedRun>,
}

impl Inventory {
    /// Looks up every `(spec, key, also)` in the store.
    pub fn survey(
        store: &Store,
        profile: &str,
        sections: Vec<String>,
        runs: Vec<(RunSpec, RunKey, Vec<RunKey>)>,
    ) -> Inventory {
        let runs = runs
            .into_iter()
            .map(|(spec, key, also)| {
                let state = look_up(store, profile, &spec.seed_run(), &key, &also);
                PlannedRun {
                    spec,
                    key,
                    also,
                    state,
                }
            })
            .collect();
        Inventory {
            profile: profile.to_owned(),
            sections,
            runs,
        }
    }

    /// Every run as missing, without looking at the store: what a report of an empty
    /// store shows (`report check` renders it to test the templates and the prose).
    pub fn blank(profile: &str, sections: Vec<String>, specs: Vec<RunSpec>) -> Inventory {
        let runs = specs
            .into_iter()
            .map(|spec| PlannedRun {
                key: RunKey(String::new()),
                also: Vec::new(),
                spec,
                state: RunState::Missing,
            })
            .collect();
        Inventory {
            profile: profile.to_owned(),
            sections,
            runs,
        }
    }

    /// Looks again at the runs in `runs` (after training them).
    pub fn refresh(&mut self, store: &Store, runs: &[SeedRun]) {
        for run in self
            .runs
            .iter_mut()
            .filter(|r| runs.contains(&r.spec.seed_run()))
        {
            let seed_run = run.spec.seed_run();
            run.state = look_up(store, &self.profile, &seed_run, &run.key, &run.also);
        }
    }

    /// The runs the store holds for their current key, in report order.
    pub fn cached(&self) -> impl Iterator<Item = (&RunSpec, &StoredRun)> {
        self.runs
            .iter()
            .filter_map(|r| r.state.cached().map(|s| (&r.spec, s)))
    }
}

/// What the store holds for `run` of `profile`, against `wanted` (or one of `also`).
fn look_up(
    store: &Store,
    profile: &str,
    run: &SeedRun,
    wanted: &RunKey,
    also: &[RunKey],
) -> RunState {
    let files = store.run(profile, run);
    let record = match record::verify(&files) {
        Verified::Absent => return RunState::Missing,
        Verified::Damaged(why) => return RunState::Damaged(why),
        Verified::Intact(record) => record,
    };
    match fsx::read_json::<Metrics>(&files.metrics_json()) {
        Err(e) => RunState::Damaged(format!("{e:#}")),
        Ok(metrics) => {
            let stored = Box::new(StoredRun {
                record: *record,
                metrics,
            });
            if &stored.record.key == wanted || also.contains(&stored.record.key) {
                RunState::Cached(stored)
            } else {
                RunState::Stale(stored)
            }
        }
    }
}
