//! `report serve`: previews `out/site` on 127.0.0.1.

use anyhow::Result;

use crate::cli::ServeArgs;
use crate::project::Project;

/// Serves the site until Ctrl-C.
pub fn run(project: &Project, args: ServeArgs) -> Result<()> {
    crate::render::serve::serve(&project.store.site(), args.port)
}
