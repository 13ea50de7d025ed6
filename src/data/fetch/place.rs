//! Placing a release of plain files: the verified downloads, kept byte for byte, and the
//! release's small text files, written into a staging folder moved into place whole.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::common::{Text, remove};
use crate::fsx;

/// Fills `target` with the verified `.part` files (each under its release name) and
/// `texts`; returns how many files it holds. The parts are linked (or, where the file
/// system cannot link, copied) into the staging folder, never moved, so that a failure or
/// a crash before the folder is in place still leaves them for the next run; they are
/// deleted only once it is.
pub(super) fn place(parts: &[(&str, PathBuf)], texts: &[Text], target: &Path) -> Result<usize> {
    let staging = fsx::temp_sibling(target);
    let result = fill(parts, texts, &staging).and_then(|count| {
        if target.exists() {
            eprintln!("{}: replacing the folder that was there", target.display());
        }
        fsx::replace_dir(&staging, target)?;
        Ok(count)
    });
    if result.is_err() {
        let _ = fs::remove_dir_all(&staging);
    }
    let count = result?;
    for (_, part) in parts {
        remove(part)?;
    }
    Ok(count)
}

fn fill(parts: &[(&str, PathBuf)], texts: &[Text], staging: &Path) -> Result<usize> {
    let cannot = |p: &Path| format!("cannot write {}", p.display());
    fs::create_dir(staging).with_context(|| cannot(staging))?;
    for (name, part) in parts {
        let to = staging.join(name);
        if fs::hard_link(part, &to).is_err() {
            fs::copy(part, &to).with_context(|| cannot(&to))?;
            File::open(&to)
                .and_then(|f| f.sync_all())
                .with_context(|| cannot(&to))?;
        }
    }
    for text in texts {
        let to = staging.join(text.name);
        let write = || -> io::Result<()> {
            let mut f = File::create_new(&to)?;
            for line in text.lines {
                writeln!(f, "{line}")?;
            }
            f.sync_all()
        };
        write().with_context(|| cannot(&to))?;
    }
    Ok(parts.len() + texts.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLASSES: Text = Text {
        name: "classes.txt",
        lines: &["zero", "one"],
    };

    #[test]
    fn the_parts_and_texts_land_together_and_the_parts_go() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (
            dir.path().join(".x-a.gz.part"),
            dir.path().join(".x-b.gz.part"),
        );
        fs::write(&a, b"\x1f\x8b a").unwrap();
        fs::write(&b, b"\x1f\x8b b").unwrap();
        let target = dir.path().join("x");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("stale.txt"), b"old").unwrap();

        let parts = [("a.gz", a.clone()), ("b.gz", b.clone())];
        assert_eq!(place(&parts, &[CLASSES], &target).unwrap(), 3);
        assert_eq!(fs::read(target.join("a.gz")).unwrap(), b"\x1f\x8b a");
        assert_eq!(fs::read(target.join("b.gz")).unwrap(), b"\x1f\x8b b");
        assert_eq!(
            fs::read_to_string(target.join("classes.txt")).unwrap(),
            "zero\none\n"
        );
        assert!(
            !target.join("stale.txt").exists(),
            "the old folder is replaced"
        );
        let left: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no parts, no staging: only x/");
    }

    #[test]
    fn a_failure_keeps_every_part_and_leaves_no_staging() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join(".x-a.gz.part");
        fs::write(&a, b"a").unwrap();
        let missing = dir.path().join(".x-b.gz.part");
        let target = dir.path().join("x");
        let parts = [("a.gz", a.clone()), ("b.gz", missing)];
        let err = place(&parts, &[CLASSES], &target).unwrap_err();
        assert!(format!("{err:#}").contains("cannot write"), "{err:#}");
        assert_eq!(fs::read(&a).unwrap(), b"a");
        assert!(!target.exists());
        let left: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "only the part that was there");
    }
}
