//! A read-only file tree that hides whether files live in a folder or in an archive, so
//! each layout reader is written once.
//!
//! Paths are relative, `/`-separated and listed in byte order, which is what makes
//! class order and image order deterministic. Names starting with `.` (`.DS_Store`,
//! macOS `._*` resource forks, `.git`) are skipped: they are never dataset content.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::error::DataError;

/// Where a file's bytes are.
enum Content {
    /// Read on demand, so a large folder is not held in memory.
    OnDisk(PathBuf),
    /// An archive member: a compressed stream cannot be revisited, so it is read once.
    InMemory(Vec<u8>),
}

/// Files and folders of a source, keyed by relative path.
pub(super) struct Tree {
    origin: PathBuf,
    in_archive: bool,
    files: BTreeMap<String, Content>,
    dirs: BTreeSet<String>,
}

impl Tree {
    /// An empty tree whose files will be archive members of `origin`.
    pub(super) fn for_archive(origin: &Path) -> Tree {
        Tree {
            origin: origin.to_path_buf(),
            in_archive: true,
            files: BTreeMap::new(),
            dirs: BTreeSet::new(),
        }
    }

    /// The files and folders under the folder `root`, read lazily.
    pub(super) fn from_dir(root: &Path) -> Result<Tree> {
        let mut tree = Tree {
            origin: root.to_path_buf(),
            in_archive: false,
            files: BTreeMap::new(),
            dirs: BTreeSet::new(),
        };
        tree.walk(root, "")?;
        Ok(tree)
    }

    fn walk(&mut self, dir: &Path, rel: &str) -> Result<()> {
        let entries =
            fs::read_dir(dir).with_context(|| format!("cannot read folder {}", dir.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("cannot read folder {}", dir.display()))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let child = join(rel, &name);
            let path = entry.path();
            let kind = entry
                .file_type()
                .with_context(|| format!("cannot read {}", path.display()))?;
            // Same rule as `hash::path`: only real folders are descended into.
            if kind.is_dir() {
                self.dirs.insert(child.clone());
                self.walk(&path, &child)?;
            } else {
                self.files.insert(child, Content::OnDisk(path));
            }
        }
        Ok(())
    }

    /// Adds a folder; `path` must already be normalised (see [`normalise`]).
    pub(super) fn add_dir(&mut self, path: String) {
        self.add_parents(&path);
        self.dirs.insert(path);
    }

    /// Adds a file; a later file of the same name wins, as when a tar is extracted.
    pub(super) fn add_file(&mut self, path: String, bytes: Vec<u8>) {
        self.add_parents(&path);
        self.files.insert(path, Content::InMemory(bytes));
    }

    // Archives may list files without their folders.
    fn add_parents(&mut self, path: &str) {
        let mut end = 0;
        while let Some(i) = path[end..].find('/') {
            end += i;
            self.dirs.insert(path[..end].to_string());
            end += 1;
        }
    }

    /// True if `path` is a file of the tree.
    pub(super) fn is_file(&self, path: &str) -> bool {
        self.files.contains_key(path)
    }

    /// True if `path` is a folder of the tree.
    pub(super) fn is_dir(&self, path: &str) -> bool {
        self.dirs.contains(path)
    }

    /// Top-level folder names, sorted.
    pub(super) fn top_dirs(&self) -> impl Iterator<Item = &str> {
        self.dirs
            .iter()
            .map(String::as_str)
            .filter(|d| !d.contains('/'))
    }

    /// The files and folders directly inside folder `dir` (`""` for the root), sorted
    /// by path, as `(path, is_dir)`.
    pub(super) fn children(&self, dir: &str) -> Vec<(&str, bool)> {
        let prefix = join(dir, "");
        let direct = |p: &&String| p.starts_with(&prefix) && !p[prefix.len()..].contains('/');
        let dirs = self.dirs.range(prefix.clone()..);
        let dirs = dirs.take_while(|d| d.starts_with(&prefix)).filter(direct);
        let files = self.files.range(prefix.clone()..).map(|(f, _)| f);
        let files = files.take_while(|f| f.starts_with(&prefix)).filter(direct);
        let mut all: Vec<_> = dirs.map(|d| (d.as_str(), true)).collect();
        all.extend(files.map(|f| (f.as_str(), false)));
        all.sort_unstable();
        all
    }

    /// A file's bytes.
    pub(super) fn read(&self, path: &str) -> Result<Cow<'_, [u8]>> {
        match self.files.get(path) {
            Some(Content::InMemory(bytes)) => Ok(Cow::Borrowed(bytes)),
            Some(Content::OnDisk(p)) => fs::read(p)
                .map(Cow::Owned)
                .with_context(|| format!("cannot read {}", p.display())),
            None => Err(DataError::Missing(self.display(path)).into()),
        }
    }

    /// How errors name `path`: a real path, or `archive:member` inside an archive.
    pub(super) fn display(&self, path: &str) -> String {
        match (path.is_empty(), self.in_archive) {
            (true, _) => self.origin.display().to_string(),
            (false, true) => format!("{}:{path}", self.origin.display()),
            (false, false) => self.origin.join(path).display().to_string(),
        }
    }
}

/// `rel/name`, or `name` at the root; `join(dir, "")` is the prefix of `dir`'s content.
pub(super) fn join(rel: &str, name: &str) -> String {
    if rel.is_empty() {
        name.to_string()
    } else {
        format!("{rel}/{name}")
    }
}

/// Normalises an archive member name (`./a//b/` → `a/b`); `None` for names that are not
/// dataset content: the root itself, hidden names, `..` and absolute paths.
pub(super) fn normalise(name: &str) -> Option<String> {
    if name.starts_with('/') {
        return None;
    }
    let mut parts = Vec::new();
    for part in name.split('/') {
        match part {
            "" | "." => continue,
            p if p.starts_with('.') => return None,
            p => parts.push(p),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalise_strips_dots_and_rejects_hidden_or_escaping_names() {
        assert_eq!(normalise("./a//b/").as_deref(), Some("a/b"));
        assert_eq!(normalise("a/b.png").as_deref(), Some("a/b.png"));
        assert_eq!(normalise("./"), None);
        assert_eq!(normalise("a/._b.png"), None);
        assert_eq!(normalise("../a"), None);
        assert_eq!(normalise("/etc/passwd"), None);
    }

    #[test]
    fn children_lists_direct_files_and_implied_folders_in_order() {
        let mut tree = Tree::for_archive(Path::new("x.tar"));
        tree.add_file("r/train/b/2.png".into(), vec![]);
        tree.add_file("r/train/b/1.png".into(), vec![]);
        tree.add_dir("r/train/a".into());
        tree.add_file("r/trainx".into(), vec![]);
        assert_eq!(
            tree.children("r/train"),
            [("r/train/a", true), ("r/train/b", true)]
        );
        assert_eq!(
            tree.children("r/train/b"),
            [("r/train/b/1.png", false), ("r/train/b/2.png", false)]
        );
        assert_eq!(tree.children(""), [("r", true)]);
        assert_eq!(tree.top_dirs().collect::<Vec<_>>(), ["r"]);
        assert_eq!(tree.display("r/trainx"), "x.tar:r/trainx");
    }
}
