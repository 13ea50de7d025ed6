//! Reading figures back in tests: a minimal SVG reader and hand-made inputs.

use std::collections::BTreeMap;

use crate::store::Metrics;
use crate::store::record::EpochMetrics;
use crate::testutil::CIFAR10_CLASSES;

/// One SVG element: its name, attributes and (for `<text>`) its trimmed content.
#[derive(Debug)]
pub(super) struct Element {
    pub name: String,
    pub attrs: BTreeMap<String, String>,
    pub text: String,
}

impl Element {
    /// A numeric attribute.
    pub(super) fn num(&self, key: &str) -> f64 {
        self.attrs[key].parse().unwrap()
    }
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// Parses `svg` into its elements in document order, panicking on anything that is not
/// well-formed (unbalanced tags, unquoted attributes, stray `<` or `&`): a browser
/// refuses such a file outright.
pub(super) fn parse(svg: &str) -> Vec<Element> {
    let mut out: Vec<Element> = Vec::new();
    let mut open: Vec<(String, usize)> = Vec::new();
    let mut rest = svg;
    while let Some(lt) = rest.find('<') {
        let between = &rest[..lt];
        assert!(
            !between.contains('>'),
            "stray '>' before {:?}",
            &rest[lt..lt + 20]
        );
        check_entities(between);
        if let Some((_, idx)) = open.last() {
            out[*idx].text.push_str(between);
        }
        let gt = rest[lt..].find('>').expect("unclosed tag") + lt;
        let tag = &rest[lt + 1..gt];
        rest = &rest[gt + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            let (top, _) = open.pop().expect("closing tag without opening");
            assert_eq!(top, name.trim(), "mismatched closing tag");
            continue;
        }
        let self_closing = tag.ends_with('/');
        let tag = tag.trim_end_matches('/');
        let (name, mut attrs_src) = tag.split_once(' ').unwrap_or((tag, ""));
        let mut attrs = BTreeMap::new();
        loop {
            attrs_src = attrs_src.trim_start();
            if attrs_src.is_empty() {
                break;
            }
            let (key, after) = attrs_src.split_once("=\"").expect("attribute without =\"");
            let end = after.find('"').expect("unterminated attribute");
            check_entities(&after[..end]);
            assert!(!after[..end].contains('<'), "'<' inside an attribute");
            let dup = attrs.insert(key.trim().to_owned(), unescape(&after[..end]));
            assert!(dup.is_none(), "duplicate attribute {key}");
            attrs_src = &after[end + 1..];
        }
        out.push(Element {
            name: name.to_owned(),
            attrs,
            text: String::new(),
        });
        if !self_closing {
            open.push((name.to_owned(), out.len() - 1));
        }
    }
    assert!(rest.trim().is_empty(), "text after the root element");
    assert!(open.is_empty(), "unclosed elements: {open:?}");
    for e in &mut out {
        e.text = unescape(e.text.trim());
    }
    assert_eq!(out.first().map(|e| e.name.as_str()), Some("svg"));
    out
}

fn check_entities(s: &str) {
    for (i, _) in s.match_indices('&') {
        let ent = &s[i..s[i..].find(';').map_or(s.len(), |e| i + e + 1)];
        assert!(
            ["&lt;", "&gt;", "&amp;", "&quot;", "&apos;"].contains(&ent),
            "bad entity {ent:?}"
        );
    }
}

/// Every `<text>` as (x, y, content).
pub(super) fn svg_texts(svg: &str) -> Vec<(f64, f64, String)> {
    parse(svg)
        .into_iter()
        .filter(|e| e.name == "text")
        .map(|e| (e.num("x"), e.num("y"), e.text))
        .collect()
}

/// The points of every `<polyline>` stroked in `stroke` (as `#RRGGBB`).
pub(super) fn polylines(svg: &str, stroke: &str) -> Vec<Vec<(f64, f64)>> {
    points_of(svg, "polyline", "stroke", stroke)
}

/// The points of every `<polygon>` filled with `fill` (as `#RRGGBB`).
pub(super) fn polygons(svg: &str, fill: &str) -> Vec<Vec<(f64, f64)>> {
    points_of(svg, "polygon", "fill", fill)
}

/// The `points` of every `name` element whose `attr` is `value`.
fn points_of(svg: &str, name: &str, attr: &str, value: &str) -> Vec<Vec<(f64, f64)>> {
    parse(svg)
        .into_iter()
        .filter(|e| e.name == name && e.attrs.get(attr).map(String::as_str) == Some(value))
        .map(|e| {
            e.attrs["points"]
                .split_whitespace()
                .map(|p| {
                    let (x, y) = p.split_once(',').unwrap();
                    (x.parse().unwrap(), y.parse().unwrap())
                })
                .collect()
        })
        .collect()
}

/// Decodes a PNG and returns its dimensions.
pub(super) fn png_size(png: &[u8]) -> (u32, u32) {
    let img = image::load_from_memory_with_format(png, image::ImageFormat::Png).unwrap();
    (img.width(), img.height())
}

/// CIFAR-10's class names.
pub(super) fn classes() -> Vec<String> {
    CIFAR10_CLASSES.map(String::from).to_vec()
}

/// Metrics with the given test accuracies; the other numbers follow from them in
/// distinct, plausible ways so a series mixed up with another is noticed.
pub(super) fn metrics(test_accuracy: &[f64]) -> Metrics {
    let epochs = test_accuracy
        .iter()
        .enumerate()
        .map(|(i, &acc)| EpochMetrics {
            epoch: i as i64 + 1,
            train_loss: 2.2 - 0.15 * i as f64,
            train_accuracy: (acc + 0.02 + 0.01 * i as f64).min(1.0),
            test_loss: 2.0 - 1.6 * acc + 0.01 * (i % 3) as f64,
            test_accuracy: acc,
            seconds: 10.0,
            images_per_second: 500.0,
            lr: None,
        })
        .collect();
    let confusion = (0..10)
        .map(|t| {
            (0..10)
                .map(|p| if t == p { 50 + t } else { (t * 3 + p) % 7 })
                .collect()
        })
        .collect();
    Metrics {
        classes: classes(),
        epochs,
        confusion,
    }
}
