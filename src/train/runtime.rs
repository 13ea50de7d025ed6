//! The libtorch this process has loaded, read at run time rather than the version the
//! binary was built against: `LD_LIBRARY_PATH` or another torch wheel can put a
//! different library under the same binary, and a run's record must say which one
//! computed it. Linux names every mapped file in `/proc/self/maps`; a PyPI wheel keeps
//! its version in `torch/version.py` above `torch/lib/`, a libtorch archive in
//! `libtorch/build-version`.

use std::path::{Path, PathBuf};

/// The library whose location gives the version away.
const LIBRARY: &str = "libtorch_cpu.so";

/// The loaded libtorch's version, `2.11.0+cu130`; `None` where it cannot be told (not
/// Linux, or a library outside a wheel or a libtorch archive).
pub fn libtorch_version() -> Option<String> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    version_beside(&loaded_library(&maps)?)
}

/// The path of the mapped `libtorch_cpu.so` in a `/proc/self/maps` text.
fn loaded_library(maps: &str) -> Option<PathBuf> {
    maps.lines()
        // The path is the sixth column and may hold spaces: take all from the first '/'.
        .filter_map(|line| line.find('/').map(|at| &line[at..]))
        .find(|path| path.ends_with(&format!("/{LIBRARY}")))
        .map(PathBuf::from)
}

/// The version a wheel's `version.py` or an archive's `build-version` states for the
/// library at `lib`.
fn version_beside(lib: &Path) -> Option<String> {
    let root = lib.parent()?.parent()?;
    if let Ok(py) = std::fs::read_to_string(root.join("version.py")) {
        return python_version(&py);
    }
    let text = std::fs::read_to_string(root.join("build-version")).ok()?;
    let v = text.trim();
    (!v.is_empty()).then(|| v.to_owned())
}

/// `__version__ = '2.11.0+cu130'` → `2.11.0+cu130`.
fn python_version(py: &str) -> Option<String> {
    py.lines().find_map(|line| {
        let value = line.strip_prefix("__version__")?.trim_start();
        let value = value.strip_prefix('=')?.trim();
        let v = value.trim_matches(|c| c == '\'' || c == '"');
        (!v.is_empty() && v.len() + 2 == value.len()).then(|| v.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_library_in_the_maps_even_under_a_path_with_spaces() {
        let maps = "\
7f00-7f01 r-xp 00000000 08:01 12 /usr/lib/x86_64-linux-gnu/libc.so.6
7f02-7f03 r-xp 00000000 08:01 13 /home/a b/torch/lib/libtorch_cpu.so
7f04-7f05 r--p 00000000 08:01 14 /home/a b/torch/lib/libtorch_cpu.so.bak";
        assert_eq!(
            loaded_library(maps),
            Some(PathBuf::from("/home/a b/torch/lib/libtorch_cpu.so"))
        );
        assert_eq!(loaded_library("7f00-7f01 r-xp 0 0 0 [vdso]"), None);
    }

    #[test]
    fn reads_a_wheels_version_and_an_archives_build_version() {
        assert_eq!(
            python_version("from x import y\n__version__ = '2.11.0+cu130'\ndebug = False\n"),
            Some("2.11.0+cu130".into())
        );
        assert_eq!(
            python_version("__version__ = \"2.11.0\""),
            Some("2.11.0".into())
        );
        assert_eq!(python_version("__version__ = ''\n"), None);
        assert_eq!(python_version("version = '2.11.0'\n"), None);

        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("lib")).unwrap();
        let lib = dir.path().join("lib").join(LIBRARY);
        assert_eq!(version_beside(&lib), None);
        std::fs::write(dir.path().join("build-version"), "2.11.0+cpu\n").unwrap();
        assert_eq!(version_beside(&lib), Some("2.11.0+cpu".into()));
    }

    #[test]
    fn this_process_names_the_libtorch_it_runs_on() {
        // The tests link the same libtorch the binary does (torch 2.11.0, pinned).
        let v = libtorch_version().expect("a libtorch_cpu.so in this process's maps");
        assert!(v.starts_with("2.11.0"), "{v}");
    }
}
