//! One file of a release from the first of its mirrors that serves it, verified.

use std::path::Path;

use anyhow::{Result, anyhow};

use super::checksum::Expected;
use super::download::{Failure, download, verify};

/// Brings `part` to the verified file from the first of `urls` that serves it; returns
/// that URL. A mirror is left for the next one only when nothing of it was stored (see
/// [`Failure`]); a cut download stops here, for the next run to resume. When every mirror
/// fails, the error names each with its failure.
pub(super) fn fetch_file(urls: &[String], part: &Path, expected: &Expected) -> Result<String> {
    let mut failures: Vec<String> = Vec::new();
    for (i, url) in urls.iter().enumerate() {
        match download(url, part, expected) {
            Ok(()) => {
                verify(url, part, expected)?;
                return Ok(url.clone());
            }
            Err(Failure::Stop(e)) => return Err(e),
            Err(Failure::NextMirror(e)) => {
                if i + 1 < urls.len() {
                    eprintln!("{e:#}; trying the next mirror");
                }
                failures.push(format!("{e:#}"));
            }
        }
    }
    Err(match &failures[..] {
        [] => anyhow!("{}: no URL to download it from", part.display()),
        [one] => anyhow!("{one}"),
        all => anyhow!("every mirror failed: {}", all.join("; ")),
    })
}
