//! The pieces every part of the report holds: prose, numbered figures and links.

use serde::{Deserialize, Serialize};

use crate::analyze::FigureKind;
use crate::render::markdown;

/// Markdown and the safe HTML made from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prose {
    /// The Markdown as written.
    pub markdown: String,
    /// HTML with any raw HTML of the Markdown escaped: safe to insert as is.
    pub html: String,
}
impl Prose {
    pub(in crate::render::context) fn block(markdown: &str) -> Prose {
        Prose {
            markdown: markdown.trim_end().to_owned(),
            html: markdown::block(markdown),
        }
    }

    pub(in crate::render::context) fn inline(markdown: &str) -> Prose {
        Prose {
            markdown: markdown.trim().to_owned(),
            html: markdown::inline(markdown),
        }
    }
}
/// The author's prose files.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProseSet {
    /// "Explanations and Discussions".
    pub explanations: Option<Prose>,
    /// The text of the t-SNE section.
    pub tsne: Option<Prose>,
    /// "Additional Notes".
    pub notes: Option<Prose>,
}
/// A numbered figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumberedFigure {
    /// 1, 2, … in order of appearance.
    pub number: usize,
    /// Its anchor in the page.
    pub anchor: String,
    /// What it shows.
    pub kind: FigureKind,
    /// The title without the number: "Model 3 Accuracy".
    pub title: String,
    /// "Figure 12: Model 3 Accuracy".
    pub caption: String,
    /// SVG, relative to `out/site/`.
    pub svg: String,
    /// PNG, relative to `out/site/`.
    pub png: String,
    /// The plotted data (CSV), relative to `out/site/`, where there is one.
    pub data: Option<String>,
    /// The anchor of the run or section it belongs to, for a link back.
    pub link: Option<Link>,
}
/// A place in the report to link to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Link {
    /// Its title: "Model 5", "Model 9 (Adam)".
    pub title: String,
    /// Its anchor.
    pub anchor: String,
}
