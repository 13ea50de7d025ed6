//! The PDF report: Typst source (rendered from `templates/report.typ` over the report
//! context) typeset in this process by the Typst compiler and exported as PDF.
//!
//! Everything the compiler reads is fixed by the project: the source, the site's
//! figures (read from `out/site/`, the same files the page shows) and fonts compiled
//! into this binary (Typst's own set for the text, the DejaVu Sans the figures are
//! drawn with). The PDF's date is the build's, not the clock's, so the bytes of two
//! renders of one store are the same.

use std::path::Path;

use anyhow::{Result, anyhow};
use chrono::{DateTime, Datelike, Timelike, Utc};
use typst::diag::{Severity, SourceDiagnostic};
use typst::foundations::{Datetime, Smart};
use typst::{World, WorldExt};
use typst_as_lib::TypstEngine;
use typst_layout::PagedDocument;
use typst_pdf::{PdfOptions, Timestamp};

use crate::fsx;
use crate::store::Store;

/// The fonts the PDF is typeset with: `templates/report.typ`'s text (Libertinus Serif)
/// and code (DejaVu Sans Mono), and the figures' DejaVu Sans, so SVG text typesets as
/// it was measured. Only these: all of Typst's own fonts (typst-assets) would add
/// 9.6 MB to the binary, New Computer Modern and its math fonts unused.
static FONTS: [&[u8]; 8] = [
    include_bytes!("../../assets/fonts/LibertinusSerif-Regular.otf"),
    include_bytes!("../../assets/fonts/LibertinusSerif-Bold.otf"),
    include_bytes!("../../assets/fonts/LibertinusSerif-Italic.otf"),
    include_bytes!("../../assets/fonts/LibertinusSerif-BoldItalic.otf"),
    include_bytes!("../../assets/fonts/DejaVuSansMono.ttf"),
    include_bytes!("../../assets/fonts/DejaVuSansMono-Bold.ttf"),
    include_bytes!("../../assets/fonts/DejaVuSans.ttf"),
    include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf"),
];

/// Typesets `source` with the files under `site` (the figures it embeds) and returns
/// the PDF's bytes, dated `date`. Errors name `source_name`, where the source is
/// written, with the line and column, and `template`, the file it was rendered from.
pub fn typeset(
    source: &str,
    source_name: &Path,
    template: &str,
    site: &Path,
    date: Option<DateTime<Utc>>,
) -> Result<Vec<u8>> {
    let engine = TypstEngine::builder()
        .main_file(source.to_owned())
        .fonts(FONTS)
        .with_file_system_resolver(site)
        .build();
    let document = engine
        .with_world(|world| {
            let compiled = typst::compile::<PagedDocument>(world);
            compiled
                .output
                .map_err(|errors| describe(world, source_name, template, &errors[..]))
        })
        .map_err(|e| anyhow!("{}: {e}", source_name.display()))??;
    let options = PdfOptions {
        ident: Smart::Custom("report".to_owned()),
        creator: Smart::Custom(Some(format!("report {}", env!("CARGO_PKG_VERSION")))),
        timestamp: date.and_then(timestamp),
        ..PdfOptions::default()
    };
    typst_pdf::pdf(&document, &options).map_err(|errors| {
        anyhow!(
            "{}: cannot write the PDF: {}",
            source_name.display(),
            errors.first().map_or("", |e| e.message.as_str())
        )
    })
}

/// The digest of everything a PDF is typeset from: its source, the figures, its date
/// and this program. Typesetting costs 0.3–0.5 s, so a PDF made from the same inputs
/// is not made again.
pub fn inputs_key(store: &Store, source: &str, date: Option<DateTime<Utc>>) -> Result<String> {
    let figures = store.figures();
    let figures = if figures.is_dir() {
        crate::hash::path(&figures)?
    } else {
        String::new()
    };
    Ok(crate::hash::value(&(
        env!("CARGO_PKG_VERSION"),
        source,
        figures,
        date,
    )))
}

/// Whether `out/report.pdf` is the one typeset from inputs with digest `key`, as
/// [`write`] recorded it (and not changed since).
pub fn is_current(store: &Store, key: &str) -> bool {
    let Ok(recorded) = std::fs::read_to_string(store.pdf_key()) else {
        return false;
    };
    let Ok(pdf) = crate::hash::file(&store.pdf()) else {
        return false;
    };
    recorded == format!("{key} {pdf}\n")
}

/// Writes the PDF typeset from inputs with digest `key`, then the record of both.
pub fn write(store: &Store, pdf: &[u8], key: &str) -> Result<()> {
    fsx::write_if_changed(&store.pdf(), pdf)?;
    let record = format!("{key} {}\n", crate::hash::bytes(pdf));
    fsx::write_if_changed(&store.pdf_key(), record.as_bytes())?;
    Ok(())
}

/// The first error as one line: `<file>:<line>:<column>: <message> (…)`.
fn describe(
    world: &dyn World,
    file: &Path,
    template: &str,
    errors: &[SourceDiagnostic],
) -> anyhow::Error {
    let Some(error) = errors
        .iter()
        .find(|e| e.severity == Severity::Error)
        .or(errors.first())
    else {
        return anyhow!("{}: typesetting failed", file.display());
    };
    let at = error.span.id().and_then(|id| {
        let source = world.source(id).ok()?;
        let range = world.range(error.span)?;
        let (line, column) = source.lines().byte_to_line_column(range.start)?;
        Some(format!(":{}:{}", line + 1, column + 1))
    });
    let hint = error
        .hints
        .first()
        .map_or(String::new(), |h| format!(" (hint: {})", h.v));
    anyhow!(
        "{}{}: {}{hint} (the Typst source rendered from {template})",
        file.display(),
        at.unwrap_or_default(),
        error.message
    )
}

/// `t` as the PDF's creation date.
fn timestamp(t: DateTime<Utc>) -> Option<Timestamp> {
    let d = Datetime::from_ymd_hms(
        t.year(),
        t.month() as u8,
        t.day() as u8,
        t.hour() as u8,
        t.minute() as u8,
        t.second() as u8,
    )?;
    Some(Timestamp::new_utc(d))
}
