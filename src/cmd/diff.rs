//! `report diff OLD NEW`: what changed between two builds, printed as text, Markdown or
//! JSON; with `--fail-on-flip`, exit 1 when a claim or a verdict flipped.

use anyhow::{Result, bail};

use crate::cli::{DiffArgs, DiffFormat};
use crate::diff::{self, Side};
use crate::fsx;

/// Opens both sides, compares them, prints the diff and writes its figure.
pub fn run(args: DiffArgs) -> Result<()> {
    let new = Side::open(&args.new, args.profile.as_deref())?;
    // The old side is read for the new side's profile: comparing two profiles is
    // comparing two experiments, not two builds.
    let profile = new.context.profile.name.clone();
    let old = Side::open(&args.old, Some(&profile))?;
    let d = diff::compare(&old, &new, &args.only, &new.method());
    let figure = match &args.figures {
        Some(dir) => match diff::curves(&d, &old, &new)? {
            Some(drawn) => {
                let svg = dir.join("test-accuracy.svg");
                fsx::write_atomic(&svg, drawn.svg.as_bytes())?;
                fsx::write_atomic(&dir.join("test-accuracy.png"), &drawn.png)?;
                Some(svg.display().to_string())
            }
            None => {
                eprintln!("no figure: no changed run has a complete seed on both sides");
                None
            }
        },
        None => None,
    };
    match args.format {
        DiffFormat::Text => print!("{}", diff::text(&d, args.all)),
        DiffFormat::Md => print!("{}", diff::markdown(&d, args.all, figure.as_deref())),
        DiffFormat::Json => println!("{}", serde_json::to_string_pretty(&d)?),
    }
    if args.fail_on_flip && d.flipped() {
        bail!("flipped: {}", d.flips.join("; "));
    }
    Ok(())
}
