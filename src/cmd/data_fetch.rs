//! `report data fetch`: downloads, verifies and puts in place an official dataset release.

use std::fs;

use anyhow::{Context, Result};

use crate::cli::FetchArgs;
use crate::data::fetch::{self, Expected, Options, Override, parse_checksums};
use crate::project::Project;

/// Fetches the dataset and prints where it is.
pub fn run(project: &Project, args: FetchArgs) -> Result<()> {
    let release = fetch::release(&args.dataset)?;
    let expected = match (args.sha256, args.size, args.checksums) {
        (Some(sha256), Some(size), _) => Some(Override::Single(Expected::new(&sha256, size)?)),
        (_, _, Some(path)) => {
            let text = fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            Some(Override::PerFile(parse_checksums(
                &path.display().to_string(),
                &text,
            )?))
        }
        _ => None,
    };
    let opts = Options {
        urls: args.url,
        dest: args.dest.unwrap_or_else(|| project.root.join("data")),
        expected,
    };
    let folder = fetch::fetch(release, &opts)?;
    println!("{} is ready in {}", release.title, folder.display());
    Ok(())
}
