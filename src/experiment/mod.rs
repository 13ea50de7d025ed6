//! Stage 1, the experiments: reads `experiments/*.toml` into typed files.
//!
//! Parsing is strict (unknown keys and wrong types are errors) and every error names
//! the file, and the line and column where the parser knows them. Nothing here resolves
//! `extends` or checks values; that is the planner's job.

pub mod dataset;
pub mod executor;
pub mod file;
pub mod layer;
pub mod report_file;
pub mod statistics;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::de::DeserializeOwned;

pub use file::ExperimentFile;
pub use report_file::ReportFile;

/// The report-wide file's name inside `experiments/`.
pub const REPORT_FILE: &str = "report.toml";

/// The most bytes an experiment, report or prose file may hold: far above any real one
/// (the homework's largest is 2 KB), low enough that a mistaken file (a dataset saved
/// as `.toml`, a log pasted as prose) is refused before it is read, not rendered into a
/// page the size of the file.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// The most characters a title (the report's, a section's, a variant's) may have.
pub const MAX_TITLE_CHARS: usize = 200;

/// Every experiment file of a project, parsed.
#[derive(Debug, Clone)]
pub struct Experiments {
    /// The `experiments/` folder.
    pub dir: PathBuf,
    /// `report.toml`.
    pub report: ReportFile,
    /// Experiment files by section name (the file stem).
    pub sections: BTreeMap<String, Source<ExperimentFile>>,
}

/// A parsed file and where it came from.
#[derive(Debug, Clone)]
pub struct Source<T> {
    /// The file's path, as shown in messages.
    pub path: PathBuf,
    /// Its parsed content.
    pub value: T,
}

impl Experiments {
    /// Reads `dir/report.toml` and every other `dir/*.toml`.
    pub fn load(dir: &Path) -> Result<Self> {
        let report_path = dir.join(REPORT_FILE);
        if !report_path.is_file() {
            bail!(
                "{}: not found (every project needs one)",
                report_path.display()
            );
        }
        let report: ReportFile = parse_file(&report_path)?;
        check_title(&report_path, "title", Some(&report.title))?;
        if report.profiles.is_empty() {
            bail!(
                "{}: no profiles: add one, e.g. [profiles.quick] with data and epochs",
                report_path.display()
            );
        }
        if let Some(name) = &report.default_profile
            && !report.profiles.contains_key(name)
        {
            let have: Vec<&str> = report.profiles.keys().map(String::as_str).collect();
            bail!(
                "{}: default_profile = \"{name}\" names no profile (profiles: {})",
                report_path.display(),
                have.join(", ")
            );
        }
        let mut sections = BTreeMap::new();
        let entries =
            fs::read_dir(dir).with_context(|| format!("{}: cannot read folder", dir.display()))?;
        // An entry that cannot be read is an error, not a section silently left out.
        let entries = entries
            .map(|e| e.map(|e| e.path()))
            .collect::<std::io::Result<Vec<PathBuf>>>()
            .with_context(|| format!("{}: cannot read an entry of the folder", dir.display()))?;
        let mut paths: Vec<PathBuf> = entries
            .into_iter()
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .filter(|p| p.file_name().is_some_and(|n| n != REPORT_FILE))
            .collect();
        paths.sort();
        for path in paths {
            let name = path
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            check_name(&name).with_context(|| format!("{}", path.display()))?;
            let value: ExperimentFile = parse_file(&path)?;
            check_title(&path, "title", value.title.as_ref())?;
            for (variant, v) in &value.variants {
                check_title(
                    &path,
                    &format!("[variants.{variant}] title"),
                    v.title.as_ref(),
                )?;
            }
            sections.insert(name, Source { path, value });
        }
        if sections.is_empty() {
            bail!(
                "{}: no experiment files (*.toml besides {REPORT_FILE})",
                dir.display()
            );
        }
        Ok(Experiments {
            dir: dir.to_path_buf(),
            report,
            sections,
        })
    }
}

/// Section, variant and profile names become folder names: keep them to a safe alphabet
/// so that none can escape `out/` or collide on a case-insensitive file system.
pub fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !ok {
        bail!(
            "invalid name {name:?}: use lowercase letters, digits, '-' and '_', starting with a letter or digit"
        );
    }
    Ok(())
}

/// A title longer than [`MAX_TITLE_CHARS`] is an error naming the file and the key.
fn check_title(path: &Path, key: &str, title: Option<&String>) -> Result<()> {
    let n = title.map_or(0, |t| t.chars().count());
    if n > MAX_TITLE_CHARS {
        bail!(
            "{}: {key} has {n} characters; titles are limited to {MAX_TITLE_CHARS}",
            path.display()
        );
    }
    Ok(())
}

/// Reads a text file of the project (`what` says which, for the message): one clear
/// line for a missing file, a folder, a file over [`MAX_FILE_BYTES`] or bytes that are
/// not UTF-8.
pub fn read_text(path: &Path, what: &str) -> Result<String> {
    let meta =
        fs::metadata(path).with_context(|| format!("{}: cannot read {what}", path.display()))?;
    if meta.is_dir() {
        bail!("{}: is a folder, not {what}", path.display());
    }
    if meta.len() > MAX_FILE_BYTES {
        bail!(
            "{}: {} bytes; {what} is limited to {} MiB",
            path.display(),
            meta.len(),
            MAX_FILE_BYTES >> 20
        );
    }
    let bytes =
        fs::read(path).with_context(|| format!("{}: cannot read {what}", path.display()))?;
    String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "{}: {what} is not UTF-8 text (invalid byte at offset {})",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })
}

/// Parses a TOML file into `T`, with `path:line:column: message` errors on one line.
pub fn parse_file<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let text = read_text(path, "an experiment file")?;
    parse_str(&text, path)
}

/// Parses TOML text that came from `path`.
pub fn parse_str<T: DeserializeOwned>(text: &str, path: &Path) -> Result<T> {
    toml::from_str(text).map_err(|e| {
        let place = match e.span() {
            Some(span) => {
                let (line, col) = line_col(text, span.start);
                format!("{}:{line}:{col}", path.display())
            }
            None => path.display().to_string(),
        };
        let message = e.message().trim().replace('\n', " ");
        anyhow::anyhow!("{place}: {message}")
    })
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_name_file_line_and_column_on_one_line() {
        let err =
            parse_str::<ExperimentFile>("title = \"x\"\nextends = = 3\n", Path::new("e/m.toml"))
                .unwrap_err()
                .to_string();
        assert!(err.starts_with("e/m.toml:2:"), "{err}");
        assert!(!err.contains('\n'), "{err}");
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_errors() {
        let err = parse_str::<ExperimentFile>("[training]\nepoch = 3\n", Path::new("m.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("m.toml:2:1:") && err.contains("epoch"),
            "{err}"
        );
        let err =
            parse_str::<ExperimentFile>("[training]\nepochs = \"many\"\n", Path::new("m.toml"))
                .unwrap_err()
                .to_string();
        assert!(err.starts_with("m.toml:2:10:"), "{err}");
    }

    #[test]
    fn names_that_could_escape_out_are_rejected() {
        for bad in ["../x", "/abs", "a/b", "", "Model-1", ".hidden", "a b"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        for good in ["model-1", "m_2", "9"] {
            check_name(good).unwrap();
        }
    }
}
