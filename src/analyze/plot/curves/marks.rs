//! What is drawn on the curves beside the lines: the dashed drop from a called-out
//! point to the axis and its label, placed where it hides the least data.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::super::style::{self, INK, Scale};

/// A dashed line between two backend points.
pub(super) fn dashed<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    s: &Scale,
    from: (i32, i32),
    to: (i32, i32),
    color: RGBAColor,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let (dx, dy) = (f64::from(to.0 - from.0), f64::from(to.1 - from.1));
    let len = dx.hypot(dy);
    let (dash, gap) = (f64::from(s.px(5.0)), f64::from(s.px(4.0)));
    let mut t = f64::from(s.px(9.0)); // start outside the ring
    while t < len {
        let end = (t + dash).min(len);
        let at = |u: f64| {
            (
                from.0 + (dx * u / len).round() as i32,
                from.1 + (dy * u / len).round() as i32,
            )
        };
        root.draw(&PathElement::new(
            vec![at(t), at(end)],
            color.stroke_width(s.stroke(1.0)),
        ))?;
        t = end + gap;
    }
    Ok(())
}

/// Puts `text` in a white box beside the backend point `p`: of the four corners around
/// it, the first inside the plot `rect` that covers the fewest plotted points (lines
/// sampled along their segments), so the label hides as little data as possible.
pub(super) fn label_near<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    s: &Scale,
    text: &str,
    p: (i32, i32),
    rect: (i32, i32, i32, i32),
    lines: &[Vec<(i32, i32)>],
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let size = style::TICK;
    let w = s.px(style::text_width(text, size, true) + 12.0);
    let h = s.px(size + 8.0);
    let gap = s.px(11.0);
    let candidates = [
        (p.0 - gap - w, p.1 - gap - h),
        (p.0 + gap, p.1 - gap - h),
        (p.0 - gap - w, p.1 + gap),
        (p.0 + gap, p.1 + gap),
    ];
    let samples: Vec<(i32, i32)> = lines
        .iter()
        .flat_map(|l| {
            l.windows(2).flat_map(|seg| {
                (0..=16).map(move |i| {
                    (
                        seg[0].0 + (seg[1].0 - seg[0].0) * i / 16,
                        seg[0].1 + (seg[1].1 - seg[0].1) * i / 16,
                    )
                })
            })
        })
        .chain(lines.iter().flatten().copied())
        .collect();
    let cost = |&(x, y): &(i32, i32)| {
        let outside = x < rect.0 || y < rect.1 || x + w > rect.2 || y + h > rect.3;
        let covered = samples
            .iter()
            .filter(|q| q.0 >= x && q.0 <= x + w && q.1 >= y && q.1 <= y + h)
            .count();
        (outside, covered)
    };
    // min_by_key keeps the first of equals, so ties go to the order above.
    let (x, y) = candidates
        .iter()
        .copied()
        .min_by_key(cost)
        .unwrap_or(candidates[0]);
    root.draw(&Rectangle::new(
        [(x, y), (x + w, y + h)],
        WHITE.mix(0.88).filled(),
    ))?;
    root.draw(&Rectangle::new(
        [(x, y), (x + w, y + h)],
        style::GRID.stroke_width(s.stroke(1.0)),
    ))?;
    style::text(
        root,
        s,
        text,
        (s.nominal(x + w / 2), s.nominal(y + h / 2)),
        &s.font(size, true, INK),
        HPos::Center,
        VPos::Center,
    )
}
