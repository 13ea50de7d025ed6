//! `report data fetch`: downloads, verifies and unpacks an official dataset release.

use anyhow::Result;

use crate::cli::FetchArgs;
use crate::data::fetch::{self, Expected, Options};
use crate::project::Project;

/// Fetches the dataset and prints where it is.
pub fn run(project: &Project, args: FetchArgs) -> Result<()> {
    let release = fetch::release(&args.dataset)?;
    let expected = match (args.sha256, args.size) {
        (Some(sha256), Some(size)) => Some(Expected::new(&sha256, size)?),
        _ => None,
    };
    let opts = Options {
        url: args.url,
        dest: args.dest.unwrap_or_else(|| project.root.join("data")),
        expected,
    };
    let folder = fetch::fetch(release, &opts)?;
    println!("{} is ready in {}", release.title, folder.display());
    Ok(())
}
