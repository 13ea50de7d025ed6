//! The one place that writes files: atomically, so a reader never sees half a file.
//!
//! Every writer goes to a temporary sibling, is flushed to disk, then renamed over the
//! target. A crash leaves either the old file or the new one, plus at worst a stray
//! `.tmp-*` sibling that the next `report build` removes under the store lock.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A temporary path beside `target`, unique within this process and across processes.
pub fn temp_sibling(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    target.with_file_name(format!(".tmp-{}-{}-{name}", std::process::id(), n))
}

/// Writes `bytes` to `path` atomically, creating parent folders.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |tmp| {
        let mut f = File::create(tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })
}

/// Atomically produces `path` with a writer that needs a file path (the data cache).
pub fn write_atomic_with(path: &Path, write: impl FnOnce(&Path) -> io::Result<()>) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent)
            .with_context(|| format!("cannot create folder {}", parent.display()))?;
    }
    let tmp = temp_sibling(path);
    let result = write(&tmp).and_then(|()| File::open(&tmp)?.sync_all());
    if let Err(e) = result.and_then(|()| fs::rename(&tmp, path)) {
        let _ = fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("cannot write {}", path.display()));
    }
    Ok(())
}

/// Writes `bytes` atomically unless `path` already holds exactly them, so regenerated
/// outputs that did not change keep their modification time. Returns whether it wrote.
pub fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<bool> {
    if fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(false);
    }
    write_atomic(path, bytes)?;
    Ok(true)
}

/// Serialises `value` as pretty JSON and writes it atomically.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value)?;
    bytes.push(b'\n');
    write_atomic(path, &bytes)
}

/// Reads and parses a JSON file, naming the file in the error.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let bytes = fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("{}: invalid JSON", path.display()))
}

/// Replaces the folder `target` by the fully written folder `staged` in two renames.
///
/// A crash between the renames leaves no `target`, which readers treat as "not built":
/// never a mix of old and new files.
pub fn replace_dir(staged: &Path, target: &Path) -> Result<()> {
    if let Some(parent) = target.parent() {
        fs::create_dir_all(parent)
            .with_context(|| format!("cannot create folder {}", parent.display()))?;
    }
    if target.exists() {
        let trash = temp_sibling(target);
        fs::rename(target, &trash)
            .with_context(|| format!("cannot move old {} aside", target.display()))?;
        fs::rename(staged, target)
            .with_context(|| format!("cannot move {} into place", target.display()))?;
        let _ = fs::remove_dir_all(&trash);
    } else {
        fs::rename(staged, target)
            .with_context(|| format!("cannot move {} into place", target.display()))?;
    }
    Ok(())
}

/// Makes `to` a copy of the file or folder `from` made of hard links (a copy where the
/// filesystem has none): a view of stored files that costs no space. Every writer here
/// writes a new file and renames it, so nothing written through `to` reaches `from`.
pub fn link_tree(from: &Path, to: &Path) -> Result<()> {
    if from.is_dir() {
        fs::create_dir_all(to).with_context(|| format!("cannot create folder {}", to.display()))?;
        for entry in
            fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))?
        {
            let entry = entry?;
            link_tree(&entry.path(), &to.join(entry.file_name()))?;
        }
        return Ok(());
    }
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent)
            .with_context(|| format!("cannot create folder {}", parent.display()))?;
    }
    if fs::hard_link(from, to).is_err() {
        fs::copy(from, to)
            .with_context(|| format!("cannot copy {} to {}", from.display(), to.display()))?;
    }
    Ok(())
}

/// Removes the `.tmp-*` files and folders a killed writer left anywhere under `dir`.
/// Only safe while no other process writes there (the build holds the store lock).
pub fn remove_stale_temps(dir: &Path) -> Result<()> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        let is_dir = entry.file_type()?.is_dir();
        if entry.file_name().to_string_lossy().starts_with(".tmp-") {
            if is_dir {
                fs::remove_dir_all(&path)?;
            } else {
                fs::remove_file(&path)?;
            }
        } else if is_dir {
            remove_stale_temps(&path)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_numbers_read_back_as_the_same_bits() {
        // A KL divergence that serde_json's fast float parser read back one bit off,
        // so a report drawn from the t-SNE cache differed from one drawn afresh.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.json");
        let values = [
            1.573_765_351_934_333_3_f64,
            0.1 + 0.2,
            1e-300,
            2.0f64.sqrt(),
        ];
        write_json(&path, &values).unwrap();
        let back: Vec<f64> = read_json(&path).unwrap();
        for (a, b) in values.iter().zip(&back) {
            assert_eq!(a.to_bits(), b.to_bits(), "{a} came back as {b}");
        }
    }

    #[test]
    fn write_atomic_replaces_content_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/file.txt");
        write_atomic(&path, b"first").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
        let names: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("file.txt")]);
    }

    #[test]
    fn failed_writer_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("file.txt");
        write_atomic(&path, b"old").unwrap();
        let err = write_atomic_with(&path, |tmp| {
            fs::write(tmp, b"half")?;
            Err(io::Error::other("disk full"))
        })
        .unwrap_err();
        assert!(format!("{err:#}").contains("file.txt"), "{err:#}");
        assert_eq!(fs::read(&path).unwrap(), b"old");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn write_if_changed_keeps_identical_files_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        assert!(write_if_changed(&path, b"a").unwrap());
        let t0 = fs::metadata(&path).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(!write_if_changed(&path, b"a").unwrap());
        assert_eq!(fs::metadata(&path).unwrap().modified().unwrap(), t0);
        assert!(write_if_changed(&path, b"b").unwrap());
        assert_eq!(fs::read(&path).unwrap(), b"b");
    }

    #[test]
    fn stale_temps_are_removed_at_any_depth_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("a/.tmp-1-0-run/x")).unwrap();
        fs::write(dir.path().join("a/.tmp-1-1-f"), b"half").unwrap();
        fs::write(dir.path().join("a/keep"), b"k").unwrap();
        remove_stale_temps(dir.path()).unwrap();
        let names: Vec<_> = fs::read_dir(dir.path().join("a"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("keep")]);
    }

    #[test]
    fn replace_dir_swaps_whole_folders() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("run");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("old.txt"), b"x").unwrap();
        let staged = dir.path().join("staged");
        fs::create_dir(&staged).unwrap();
        fs::write(staged.join("new.txt"), b"y").unwrap();
        replace_dir(&staged, &target).unwrap();
        assert!(target.join("new.txt").exists());
        assert!(!target.join("old.txt").exists());
        assert!(!staged.exists());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
