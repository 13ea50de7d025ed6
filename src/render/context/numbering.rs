//! Figure numbers and anchors, handed out in the order the page shows things: a
//! figure's number is its place on the page, and an anchor is never given twice.

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::model::{Link, NumberedFigure};
use crate::analyze::FigureRef;

/// Anchors of the report's fixed parts; the templates use these names.
pub const FIXED_ANCHORS: [&str; 11] = [
    "contents",
    "explanations",
    "results",
    "claims",
    "tsne",
    "models",
    "notes",
    "references",
    "reproducibility",
    "verification",
    "warnings",
];

/// Hands out anchors and figure numbers; the fixed anchors are taken from the start.
pub(super) struct Numbering {
    site: PathBuf,
    anchors: BTreeSet<String>,
    figures: usize,
}

impl Numbering {
    /// Numbering for a site whose figure files are under `site`.
    pub(super) fn new(site: PathBuf) -> Self {
        let mut n = Numbering {
            site,
            anchors: BTreeSet::new(),
            figures: 0,
        };
        for a in FIXED_ANCHORS {
            n.anchor(a);
        }
        n
    }

    /// `want`, or `want-2`, `want-3`, … when it is taken.
    pub(super) fn anchor(&mut self, want: &str) -> String {
        let mut name = want.to_owned();
        let mut n = 1;
        while !self.anchors.insert(name.clone()) {
            n += 1;
            name = format!("{want}-{n}");
        }
        name
    }

    /// Whether both files of `f` exist.
    pub(super) fn exists(&self, f: &FigureRef) -> bool {
        self.site.join(&f.svg).is_file() && self.site.join(&f.png).is_file()
    }

    /// The next figure number for `f`, if both its files exist; else none, so a figure
    /// the analysis did not draw is never shown or counted.
    pub(super) fn figure(&mut self, f: &FigureRef, link: Option<Link>) -> Option<NumberedFigure> {
        if !self.exists(f) {
            return None;
        }
        self.figures += 1;
        Some(NumberedFigure {
            number: self.figures,
            anchor: self.anchor(&format!("fig-{}", f.id)),
            kind: f.kind,
            title: f.title.clone(),
            caption: format!("Figure {}: {}", self.figures, f.title),
            svg: f.svg.clone(),
            png: f.png.clone(),
            data: f.data.clone().filter(|d| self.site.join(d).is_file()),
            link,
        })
    }

    /// Figures numbered so far.
    pub(super) fn count(&self) -> usize {
        self.figures
    }
}
