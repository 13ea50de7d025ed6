//! The model drawing: one block per layer group, top to bottom, with output shapes and
//! parameter counts, and what changed since the section it extends.
//!
//! A convolution or linear layer and the batchnorm, ReLU and dropout layers directly
//! after it are one block (they change no shape, and the homework talks about them as
//! one "layer"); max-pooling, flatten and any layer outside such a run get blocks of
//! their own. Every model uses the same columns, row heights and colours, so two
//! consecutive sections compare by eye.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::canvas::{Chart, Drawn, draw};
use super::shapes::{arrow, outline, pill};
use super::style::{self, ACCENT, INK, MUTED, Scale};
use crate::plan::RunSpec;
use crate::plan::diff::LayerChanges;
use crate::plan::layer::{LayerOp, Notation};
use crate::plan::shape::Shape;
use crate::text::thousands;

/// Draws `spec`'s model from its inferred shapes, highlighting the layers that differ
/// from those of `parent`, the section it extends, and marking where removed ones were.
/// Without a parent nothing counts as changed.
pub fn architecture(spec: &RunSpec, parent: Option<&RunSpec>) -> Result<Drawn> {
    draw(&Diagram::new(spec, parent))
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Input,
    Conv,
    Linear,
    Pool,
    Flatten,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Status {
    Same,
    New,
    Changed,
}

/// One drawn row: a block, or the mark of removed layers.
#[derive(Debug)]
enum Row {
    Block {
        kind: Kind,
        label: String,
        /// Folded-in layers, shown as a suffix: "+ BN + ReLU".
        extras: Vec<String>,
        ids: Vec<String>,
        output: Shape,
        params: i64,
        status: Status,
    },
    Removed(Vec<String>),
}

impl Row {
    fn height(&self) -> f64 {
        match self {
            Row::Block { kind, .. } => match kind {
                Kind::Conv | Kind::Linear => 40.0,
                Kind::Input | Kind::Pool => 34.0,
                Kind::Flatten | Kind::Other => 30.0,
            },
            Row::Removed(lines) => 22.0 * lines.len() as f64,
        }
    }
}

struct Diagram {
    /// How the layers differ from the parent's, for colouring the id column one id at
    /// a time.
    changes: LayerChanges,
    title: String,
    subtitle: String,
    rows: Vec<Row>,
    footer: String,
}

const WIDTH: f64 = 800.0;
/// Right edge of the id column.
const IDS: f64 = 150.0;
/// The block column.
const BLOCK_LEFT: f64 = 166.0;
const BLOCK_RIGHT: f64 = 486.0;
/// Centre of the output-shape column.
const OUTPUT: f64 = 616.0;
/// Right edge of the parameter column.
const PARAMS: f64 = 782.0;
/// Vertical room between rows, where the arrows go.
const GAP: f64 = 16.0;
const HEADER: f64 = 26.0;
/// How far a changed block's accent outline stands off the block.
const HALO: f64 = 4.5;
const FOOTER: f64 = 52.0;

/// An output shape as the column shows it: images as C×H×W, vectors with thousands
/// separators like the parameter counts beside them.
fn shape_label(shape: &Shape) -> String {
    match shape {
        Shape::Image(_) => shape.to_string(),
        Shape::Flat(n) => thousands(*n),
    }
}

impl Diagram {
    fn new(spec: &RunSpec, parent: Option<&RunSpec>) -> Diagram {
        let changes = parent.map_or_else(LayerChanges::default, |p| {
            LayerChanges::between(&p.train.layers, &spec.train.layers)
        });
        let mut rows = vec![Row::Block {
            kind: Kind::Input,
            label: "input image".to_owned(),
            extras: Vec::new(),
            ids: Vec::new(),
            output: Shape::Image(spec.input),
            params: 0,
            status: Status::Same,
        }];
        let removed_after = |rows: &mut Vec<Row>, after: Option<&str>| {
            let lines: Vec<String> = changes
                .removed()
                .filter(|r| r.after.as_deref() == after)
                .map(|r| r.line(Notation::Diagram))
                .collect();
            if !lines.is_empty() {
                rows.push(Row::Removed(lines));
            }
        };
        removed_after(&mut rows, None);
        let mut grouped = false;
        for layer in &spec.shapes {
            let status = if changes.is_added(&layer.id) {
                Status::New
            } else if changes.is_modified(&layer.id) {
                Status::Changed
            } else {
                Status::Same
            };
            let folds = layer.op == LayerOp::Batchnorm || layer.op.is_elementwise();
            match rows.last_mut() {
                Some(Row::Block {
                    extras,
                    ids,
                    output,
                    params,
                    status: block_status,
                    ..
                }) if folds && grouped => {
                    extras.push(layer.op.label(Notation::Folded));
                    ids.push(layer.id.clone());
                    *output = layer.output;
                    *params += layer.params;
                    *block_status = merge(*block_status, status);
                }
                _ => {
                    let kind = match layer.op {
                        LayerOp::Conv { .. } => Kind::Conv,
                        LayerOp::Linear { .. } => Kind::Linear,
                        LayerOp::Maxpool { .. }
                        | LayerOp::Avgpool { .. }
                        | LayerOp::GlobalAvgpool => Kind::Pool,
                        LayerOp::Flatten => Kind::Flatten,
                        _ => Kind::Other,
                    };
                    grouped = matches!(kind, Kind::Conv | Kind::Linear);
                    rows.push(Row::Block {
                        kind,
                        label: layer.op.label(Notation::Diagram),
                        extras: Vec::new(),
                        ids: vec![layer.id.clone()],
                        output: layer.output,
                        params: layer.params,
                        status,
                    });
                }
            }
            // A removed layer's mark goes after the block that holds its predecessor,
            // which ends a group: the mark must not be folded into.
            if changes
                .removed()
                .any(|r| r.after.as_deref() == Some(&layer.id))
            {
                removed_after(&mut rows, Some(&layer.id));
                grouped = false;
            }
        }
        let subtitle = match parent {
            None => "The base model".to_owned(),
            Some(p) if changes.same_layers() => format!("Same layers as {}", p.section_title),
            Some(p) => format!("Changes from {} highlighted", p.section_title),
        };
        let footer = format!(
            "{} trainable parameters · latent (flatten) vector of {} values",
            thousands(spec.param_count()),
            thousands(spec.flatten_size())
        );
        Diagram {
            changes,
            title: format!("{}: architecture", spec.section_title),
            subtitle,
            rows,
            footer,
        }
    }

    fn top(&self) -> f64 {
        style::heading_height(WIDTH, &self.title, Some(&self.subtitle)) + HEADER
    }

    /// Top of every row, in nominal pixels.
    fn row_tops(&self) -> Vec<f64> {
        let mut y = self.top();
        self.rows
            .iter()
            .map(|r| {
                let top = y;
                y += r.height() + GAP;
                top
            })
            .collect()
    }
}

/// A block is new only if everything in it is; any other mix is a change.
fn merge(a: Status, b: Status) -> Status {
    match (a, b) {
        (Status::Same, x) | (x, Status::Same) => x,
        (Status::New, Status::New) => Status::New,
        _ => Status::Changed,
    }
}

/// Fill and outline of each kind: convolutions blue, linear layers green, pooling
/// purple, flatten yellow; the same hues as the rest of the report's palette.
fn colors(kind: Kind) -> (RGBColor, RGBColor) {
    match kind {
        Kind::Input => (RGBColor(0xEE, 0xEE, 0xEE), RGBColor(0x88, 0x88, 0x88)),
        Kind::Conv => (RGBColor(0xDC, 0xE9, 0xF6), RGBColor(0x1F, 0x77, 0xB4)),
        Kind::Linear => (RGBColor(0xDD, 0xF0, 0xDA), RGBColor(0x2C, 0xA0, 0x2C)),
        Kind::Pool => (RGBColor(0xEB, 0xE2, 0xF4), RGBColor(0x94, 0x67, 0xBD)),
        Kind::Flatten => (RGBColor(0xFF, 0xF4, 0xCC), RGBColor(0xB8, 0x9B, 0x00)),
        Kind::Other => (RGBColor(0xF4, 0xF4, 0xF4), RGBColor(0x99, 0x99, 0x99)),
    }
}

impl Chart for Diagram {
    fn size(&self) -> (u32, u32) {
        let rows: f64 = self.rows.iter().map(|r| r.height() + GAP).sum();
        (WIDTH as u32, (self.top() + rows - GAP + FOOTER) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Scale) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        style::heading(root, s, WIDTH, &self.title, Some(&self.subtitle))?;
        let top = self.top();
        let head = s.font(style::SMALL, true, MUTED);
        let center = (BLOCK_LEFT + BLOCK_RIGHT) / 2.0;
        for (x, label, h) in [
            (IDS, "id", HPos::Right),
            (center, "layer", HPos::Center),
            (OUTPUT, "output", HPos::Center),
            (PARAMS, "parameters", HPos::Right),
        ] {
            style::text(root, s, label, (x, top - 8.0), &head, h, VPos::Bottom)?;
        }
        let tops = self.row_tops();
        for (i, (row, &y)) in self.rows.iter().zip(&tops).enumerate() {
            if let Some(next) = self.rows.get(i + 1) {
                // Stop at a highlighted block's halo rather than run through it.
                let halo = matches!(next, Row::Block { status, .. } if *status != Status::Same);
                let end = tops[i + 1] - if halo { HALO } else { 0.0 };
                arrow(root, s, center, y + row.height(), end)?;
            }
            match row {
                Row::Removed(lines) => draw_removed(root, s, lines, y)?,
                Row::Block {
                    kind,
                    label,
                    extras,
                    ids,
                    output,
                    params,
                    status,
                } => {
                    let h = row.height();
                    draw_block(root, s, *kind, y, h, *status)?;
                    let mid = y + h / 2.0;
                    let mut text = label.clone();
                    for e in extras {
                        text.push_str(" + ");
                        text.push_str(e);
                    }
                    // Smaller type for long labels (a conv with stride, padding and
                    // three folded layers) so they stay inside the block, never below
                    // the smallest size the page is laid out for.
                    let room = BLOCK_RIGHT - BLOCK_LEFT - 16.0;
                    let first = if matches!(kind, Kind::Conv | Kind::Linear) {
                        style::LABEL
                    } else {
                        style::TICK
                    };
                    let size = [first, style::TICK, style::SMALL]
                        .into_iter()
                        .find(|&z| z <= first && style::text_width(&text, z, false) <= room)
                        .unwrap_or(style::SMALL);
                    style::text(
                        root,
                        s,
                        &text,
                        (center, mid),
                        &s.font(size, false, INK),
                        HPos::Center,
                        VPos::Center,
                    )?;
                    draw_ids(root, s, ids, changes_of(ids, &self.changes), mid)?;
                    if *status != Status::Same {
                        let tag = if *status == Status::New {
                            "new"
                        } else {
                            "changed"
                        };
                        pill(root, s, tag, (BLOCK_RIGHT + 10.0, mid))?;
                    }
                    style::text(
                        root,
                        s,
                        &shape_label(output),
                        (OUTPUT, mid),
                        &s.font(style::TICK, false, INK),
                        HPos::Center,
                        VPos::Center,
                    )?;
                    let p = if *params > 0 {
                        thousands(*params)
                    } else {
                        "–".to_owned()
                    };
                    let color = if *params > 0 { INK } else { MUTED };
                    style::text(
                        root,
                        s,
                        &p,
                        (PARAMS, mid),
                        &s.font(style::TICK, false, color),
                        HPos::Right,
                        VPos::Center,
                    )?;
                }
            }
        }
        let (_, h) = self.size();
        let rule_y = f64::from(h) - FOOTER + 12.0;
        root.draw(&PathElement::new(
            vec![s.pt(IDS - 60.0, rule_y), s.pt(PARAMS, rule_y)],
            style::GRID.stroke_width(s.stroke(1.0)),
        ))?;
        style::text(
            root,
            s,
            &self.footer,
            (WIDTH / 2.0, rule_y + 20.0),
            &s.font(style::TICK, true, INK),
            HPos::Center,
            VPos::Center,
        )
    }
}

/// Which of `ids` are new or changed.
fn changes_of(ids: &[String], changes: &LayerChanges) -> Vec<bool> {
    ids.iter().map(|id| changes.contains(id)).collect()
}

/// The ids of a block, right-aligned on the id column, each changed one in bold accent
/// so a block of "conv2 bn2 relu2" shows which of the three is new.
fn draw_ids<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    s: &Scale,
    ids: &[String],
    changed: Vec<bool>,
    y: f64,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let space = style::text_width(" ", style::SMALL, false);
    let mut right = IDS;
    for (id, &hot) in ids.iter().zip(&changed).rev() {
        let color = if hot { ACCENT } else { MUTED };
        style::text(
            root,
            s,
            id,
            (right, y),
            &s.font(style::SMALL, hot, color),
            HPos::Right,
            VPos::Center,
        )?;
        right -= style::text_width(id, style::SMALL, hot) + space;
    }
    Ok(())
}

/// The block outline of `kind`: pooling as a funnel narrowing downward (it shrinks the
/// image), everything else as a box, narrower for shape-only layers.
fn draw_block<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    s: &Scale,
    kind: Kind,
    y: f64,
    h: f64,
    status: Status,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let (fill, line) = colors(kind);
    let (l, r) = match kind {
        Kind::Conv | Kind::Linear | Kind::Flatten => (BLOCK_LEFT, BLOCK_RIGHT),
        _ => (BLOCK_LEFT + 30.0, BLOCK_RIGHT - 30.0),
    };
    let corners: Vec<(f64, f64)> = match kind {
        Kind::Pool => vec![(l, y), (r, y), (r - 30.0, y + h), (l + 30.0, y + h)],
        _ => vec![(l, y), (r, y), (r, y + h), (l, y + h)],
    };
    if status != Status::Same {
        // A halo outside the outline, so the block's own colour still says its kind.
        // (A path, not a Rectangle: plotters' SVG drops a rectangle's stroke width.)
        let (l, r, t, b) = (l - HALO, r + HALO, y - HALO, y + h + HALO);
        outline(
            root,
            s,
            &[(l, t), (r, t), (r, b), (l, b)],
            ACCENT.stroke_width(s.stroke(2.5)),
        )?;
    }
    let pts: Vec<(i32, i32)> = corners.iter().map(|&(x, y)| s.pt(x, y)).collect();
    root.draw(&Polygon::new(pts, fill.filled()))?;
    outline(root, s, &corners, line.stroke_width(s.stroke(1.5)))
}

/// Where removed layers were: a dashed accent rule with one line of text per layer.
fn draw_removed<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    s: &Scale,
    lines: &[String],
    y: f64,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let center = (BLOCK_LEFT + BLOCK_RIGHT) / 2.0;
    let h = 22.0 * lines.len() as f64;
    let mut x = BLOCK_LEFT + 30.0;
    while x < BLOCK_RIGHT - 30.0 {
        for edge in [y, y + h] {
            root.draw(&PathElement::new(
                vec![s.pt(x, edge), s.pt((x + 6.0).min(BLOCK_RIGHT - 30.0), edge)],
                ACCENT.stroke_width(s.stroke(1.5)),
            ))?;
        }
        x += 10.0;
    }
    for (i, line) in lines.iter().enumerate() {
        let mid = y + 22.0 * (i as f64 + 0.5);
        let w = style::text_width(line, style::SMALL, false) + 12.0;
        root.draw(&Rectangle::new(
            [
                s.pt(center - w / 2.0, mid - 9.0),
                s.pt(center + w / 2.0, mid + 9.0),
            ],
            WHITE.filled(),
        ))?;
        style::text(
            root,
            s,
            line,
            (center, mid),
            &s.font(style::SMALL, false, ACCENT),
            HPos::Center,
            VPos::Center,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{parse, png_size, svg_texts};
    use super::*;
    use crate::plan::layer::Layer;
    use crate::plan::shape::infer;

    fn conv(out: i64, kernel: i64, padding: i64) -> LayerOp {
        LayerOp::Conv {
            out,
            kernel,
            stride: 1,
            padding,
        }
    }

    const POOL: LayerOp = LayerOp::Maxpool {
        kernel: 2,
        stride: 2,
    };

    fn spec(title: &str, layers: &[(&str, LayerOp)]) -> RunSpec {
        let layers: Vec<Layer> = layers
            .iter()
            .map(|(id, op)| Layer {
                id: (*id).to_owned(),
                op: op.clone(),
            })
            .collect();
        let mut spec = RunSpec::example(title, layers);
        spec.shapes = infer(&spec.train.layers, Shape::Image([3, 32, 32])).unwrap();
        spec
    }

    fn model_1() -> RunSpec {
        spec(
            "Model 1",
            &[
                ("conv1", conv(16, 5, 2)),
                ("relu1", LayerOp::Relu),
                ("pool1", POOL),
                ("conv2", conv(32, 5, 2)),
                ("relu2", LayerOp::Relu),
                ("pool2", POOL),
                ("flatten1", LayerOp::Flatten),
                ("fc1", LayerOp::Linear { out: 128 }),
                ("relu3", LayerOp::Relu),
                ("fc2", LayerOp::Linear { out: 10 }),
            ],
        )
    }

    /// Model 1 with pool1 removed, conv2's kernel changed and a batchnorm added.
    fn model_2() -> RunSpec {
        spec(
            "Model 2",
            &[
                ("conv1", conv(16, 5, 2)),
                ("relu1", LayerOp::Relu),
                ("conv2", conv(32, 3, 1)),
                ("bn1", LayerOp::Batchnorm),
                ("relu2", LayerOp::Relu),
                ("pool2", POOL),
                ("flatten1", LayerOp::Flatten),
                ("fc1", LayerOp::Linear { out: 128 }),
                ("relu3", LayerOp::Relu),
                ("fc2", LayerOp::Linear { out: 10 }),
            ],
        )
    }

    #[test]
    fn the_subtitle_says_whether_anything_changed() {
        let (parent, child) = (model_1(), model_2());
        let unchanged = |d: &Diagram| {
            d.rows
                .iter()
                .all(|r| matches!(r, Row::Block { status, .. } if *status == Status::Same))
        };
        let base = Diagram::new(&child, None);
        assert_eq!(base.subtitle, "The base model");
        assert!(unchanged(&base));
        let same = Diagram::new(&parent, Some(&parent));
        assert_eq!(same.subtitle, "Same layers as Model 1");
        assert!(unchanged(&same));
        let changed = Diagram::new(&child, Some(&parent));
        assert_eq!(changed.subtitle, "Changes from Model 1 highlighted");
    }

    #[test]
    fn blocks_group_layers_and_carry_shapes_params_and_changes() {
        let (parent, child) = (model_1(), model_2());
        let d = Diagram::new(&child, Some(&parent));
        let blocks: Vec<(&str, String, i64, Status)> = d
            .rows
            .iter()
            .filter_map(|r| match r {
                Row::Block {
                    ids,
                    output,
                    params,
                    status,
                    ..
                } => Some((
                    ids.first().map_or("input", |s| s.as_str()),
                    output.to_string(),
                    *params,
                    *status,
                )),
                Row::Removed(_) => None,
            })
            .collect();
        assert_eq!(
            blocks,
            [
                ("input", "3×32×32".to_owned(), 0, Status::Same),
                ("conv1", "16×32×32".to_owned(), 1216, Status::Same),
                // conv2 (3×3, 16 → 32) + bn1: changed and new together read as changed.
                ("conv2", "32×32×32".to_owned(), 4640 + 64, Status::Changed),
                ("pool2", "32×16×16".to_owned(), 0, Status::Same),
                ("flatten1", "8192".to_owned(), 0, Status::Same),
                ("fc1", "128".to_owned(), 8192 * 128 + 128, Status::Same),
                ("fc2", "10".to_owned(), 1290, Status::Same),
            ]
        );
        // The removed pool1 is marked right after the block that held relu1.
        let removed_at = d
            .rows
            .iter()
            .position(|r| matches!(r, Row::Removed(_)))
            .unwrap();
        assert!(
            matches!(&d.rows[removed_at - 1], Row::Block { ids, .. } if ids.contains(&"relu1".to_owned()))
        );

        let drawn = architecture(&child, Some(&parent)).unwrap();
        let texts: Vec<String> = svg_texts(&drawn.svg).into_iter().map(|t| t.2).collect();
        for want in [
            "Model 2: architecture",
            "Changes from Model 1 highlighted",
            "conv 5×5, 16 · pad 2 + ReLU",
            "conv 3×3, 32 · pad 1 + BN + ReLU",
            "maxpool 2×2",
            "linear 128 + ReLU",
            "32×32×32",
            "1,048,704",
            "changed",
            "removed pool1 (maxpool 2×2)",
        ] {
            assert!(
                texts.iter().any(|t| t == want),
                "missing {want:?} in {texts:?}"
            );
        }
        // In the id column only the new and changed ids are in the accent colour.
        let accent = format!("#{:02X}{:02X}{:02X}", ACCENT.0, ACCENT.1, ACCENT.2);
        let ids = parse(&drawn.svg)
            .into_iter()
            .filter(|e| e.name == "text" && e.num("x") <= IDS);
        let hot: Vec<String> = ids
            .filter(|e| e.attrs["fill"] == accent)
            .map(|e| e.text)
            .collect();
        assert_eq!(hot, ["bn1", "conv2"]);
        let total = thousands(child.param_count());
        assert!(
            texts
                .iter()
                .any(|t| t.starts_with(&total) && t.contains("8,192"))
        );
        let (w, h) = d.size();
        assert_eq!(png_size(&drawn.png), (2 * w, 2 * h));
    }
}
