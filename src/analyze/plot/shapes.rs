//! Shapes that more than one kind of figure can draw: outlines, arrows, tags.
//!
//! Coordinates are nominal (SVG) pixels and go through the [`Scale`], like everything
//! else a figure draws.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::style::{self, ACCENT, Scale};

/// A closed outline through `points` (nominal), begun halfway along the first edge so
/// the seam where the stroke starts and ends falls on a straight stretch, not a corner.
pub(super) fn outline<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    s: &Scale,
    points: &[(f64, f64)],
    style: ShapeStyle,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let (a, b) = (points[0], points[1 % points.len()]);
    let start = ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0);
    let path: Vec<(i32, i32)> = std::iter::once(start)
        .chain(points[1..].iter().copied())
        .chain([a, start])
        .map(|(x, y)| s.pt(x, y))
        .collect();
    root.draw(&PathElement::new(path, style))?;
    Ok(())
}

/// A grey downward arrow at `x` from `from` to `to`, its head ending at `to`.
pub(super) fn arrow<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    s: &Scale,
    x: f64,
    from: f64,
    to: f64,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let color = RGBColor(0x99, 0x99, 0x99);
    root.draw(&PathElement::new(
        vec![s.pt(x, from + 1.0), s.pt(x, to - 5.0)],
        color.stroke_width(s.stroke(1.5)),
    ))?;
    root.draw(&Polygon::new(
        vec![
            s.pt(x - 4.5, to - 6.0),
            s.pt(x + 4.5, to - 6.0),
            s.pt(x, to - 0.5),
        ],
        color.filled(),
    ))?;
    Ok(())
}

/// A tag in white bold text on the accent colour, its left edge at `x` and centred on
/// `y`.
pub(super) fn pill<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    s: &Scale,
    tag: &str,
    (x, y): (f64, f64),
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let w = style::text_width(tag, style::SMALL, true) + 12.0;
    root.draw(&Rectangle::new(
        [s.pt(x, y - 10.0), s.pt(x + w, y + 10.0)],
        ACCENT.filled(),
    ))?;
    style::text(
        root,
        s,
        tag,
        (x + w / 2.0, y),
        &s.font(style::SMALL, true, WHITE),
        HPos::Center,
        VPos::Center,
    )
}

#[cfg(test)]
mod tests {
    use super::super::testutil::polylines;
    use super::*;

    #[test]
    fn an_outline_closes_halfway_along_its_first_edge() {
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (100, 100)).into_drawing_area();
            let square = [(10.0, 10.0), (50.0, 10.0), (50.0, 40.0), (10.0, 40.0)];
            outline(&root, &Scale::SVG, &square, BLACK.stroke_width(1)).unwrap();
            root.present().unwrap();
        }
        assert_eq!(
            polylines(&svg, "#000000"),
            [vec![
                (30.0, 10.0),
                (50.0, 10.0),
                (50.0, 40.0),
                (10.0, 40.0),
                (10.0, 10.0),
                (30.0, 10.0)
            ]]
        );
    }
}
