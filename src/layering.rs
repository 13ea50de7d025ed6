//! The import rule of ARCHITECTURE.md, checked on the sources: every module imports only
//! modules of a lower layer, and no two files import each other.
//!
//! It reads `src/` as text: `use crate::…`, `use super::…`, inline `crate::a::b::` paths
//! and `pub use` of child modules are imports; `mod x;` declarations are not. A path is
//! resolved to the deepest file that exists (`crate::store::Metrics` is `store/mod.rs`,
//! which re-exports it). Test modules are left out: a test may reach anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, lowest first; a module may import only modules before it in this list.
const LAYERS: &[&[&str]] = &[
    &["fsx", "hash", "text", "interrupt", "progress", "stats"],
    &["experiment"],
    &["data"],
    &["plan"],
    &["store"],
    &["project"],
    &["train"],
    &["analyze"],
    &["render"],
    &["build"],
    &["verify", "diff"],
    &["cli"],
    &["cmd"],
];

/// Every `.rs` file under `dir`, as a module path (`["store", "layout"]`).
fn modules(dir: &Path, prefix: &[String], out: &mut BTreeMap<Vec<String>, PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let mut module = prefix.to_vec();
        if path.is_dir() {
            module.push(name);
            modules(&path, &module, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            // Test-only modules, the binary and this checker are not part of the rule.
            if name == "main" || name == "testutil" || name == "layering" {
                continue;
            }
            if name != "mod" && !(prefix.is_empty() && name == "lib") {
                module.push(name);
            }
            out.insert(module, path);
        }
    }
}

/// The code of a file without its unit tests.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

/// `a::{b, c::{d, e}}` → `a::b`, `a::c::d`, `a::c::e`.
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        return vec![tree.trim_end_matches("::self").to_owned()];
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let (mut depth, mut start, mut out) = (0, 0, Vec::new());
    for (i, c) in inner.char_indices().chain([(inner.len(), ',')]) {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                let part = inner[start..i].trim();
                if !part.is_empty() {
                    out.extend(expand(&format!("{prefix}{part}")));
                }
                start = i + 1;
            }
            _ => {}
        }
    }
    out
}

/// The module paths a file's code names, absolute (`crate::` and `super::` resolved).
fn named_paths(module: &[String], code: &str) -> Vec<Vec<String>> {
    let code: String = code
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    // `super` of `a/b.rs` and of `a/b/mod.rs` alike is `a`.
    let parent = module[..module.len().saturating_sub(1)].to_vec();
    let children: BTreeSet<String> = code
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            let rest = l
                .strip_prefix("pub mod ")
                .or_else(|| l.strip_prefix("mod "))?;
            Some(rest.trim_end_matches(';').to_owned())
        })
        .collect();
    let mut named: Vec<String> = Vec::new();
    for statement in code.split(';') {
        let s = statement.trim_start();
        let s = s.strip_prefix("pub ").unwrap_or(s);
        if let Some(tree) = s.strip_prefix("use ") {
            named.extend(expand(&tree.replace(char::is_whitespace, "")));
        }
    }
    named.extend(
        code.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .filter(|w| w.starts_with("crate::") || w.starts_with("super::"))
            .map(str::to_owned),
    );
    let mut out = Vec::new();
    for path in named {
        let parts: Vec<String> = path
            .split("::")
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect();
        let Some(first) = parts.first() else { continue };
        let absolute = match first.as_str() {
            "crate" => parts[1..].to_vec(),
            "super" => {
                let mut base = parent.clone();
                let mut rest = &parts[1..];
                while rest.first().is_some_and(|p| p == "super") {
                    base.pop();
                    rest = &rest[1..];
                }
                base.extend(rest.iter().cloned());
                base
            }
            // `use child::Item` in the file that declares `mod child`.
            name if children.contains(name) => {
                let mut base = module.to_vec();
                base.extend(parts.iter().cloned());
                base
            }
            _ => continue,
        };
        out.push(absolute);
    }
    out
}

/// The deepest existing file a path names.
fn resolve<'a>(
    path: &[String],
    files: &'a BTreeMap<Vec<String>, PathBuf>,
) -> Option<&'a Vec<String>> {
    (0..=path.len())
        .rev()
        .find_map(|n| files.get_key_value(&path[..n]).map(|(k, _)| k))
}

/// Every import edge between two files of `src/`.
fn edges() -> BTreeSet<(Vec<String>, Vec<String>)> {
    let mut files = BTreeMap::new();
    modules(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &[],
        &mut files,
    );
    let mut edges = BTreeSet::new();
    for (module, path) in &files {
        for named in named_paths(module, &code(path)) {
            if let Some(target) = resolve(&named, &files)
                && target != module
                && !target.is_empty()
            {
                edges.insert((module.clone(), target.clone()));
            }
        }
    }
    edges
}

fn layer(module: &[String]) -> Option<usize> {
    let top = module.first()?;
    LAYERS.iter().position(|l| l.contains(&top.as_str()))
}

#[test]
fn no_two_files_import_each_other() {
    let edges = edges();
    let both: Vec<String> = edges
        .iter()
        .filter(|(a, b)| a < b && edges.contains(&(b.clone(), a.clone())))
        .map(|(a, b)| format!("{} <-> {}", a.join("::"), b.join("::")))
        .collect();
    assert!(both.is_empty(), "files that import each other: {both:#?}");
}

#[test]
fn every_module_imports_only_lower_layers() {
    let mut wrong = Vec::new();
    for (from, to) in edges() {
        if from.first() == to.first() {
            continue;
        }
        match (layer(&from), layer(&to)) {
            (Some(a), Some(b)) if b < a => {}
            (a, b) => wrong.push(format!(
                "{} (layer {a:?}) imports {} (layer {b:?})",
                from.join("::"),
                to.join("::")
            )),
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that run up or sideways: {wrong:#?}"
    );
}

#[test]
fn the_checker_sees_imports() {
    // A checker that finds no edges passes every rule: make sure it reads real ones.
    let edges = edges();
    let has = |a: &str, b: &str| {
        edges
            .iter()
            .any(|(x, y)| x.join("::") == a && y.join("::") == b)
    };
    assert!(has("build", "store::lock"), "use crate::store::lock::…");
    assert!(
        has("store::inventory", "store::layout"),
        "use super::layout::…"
    );
    assert!(
        has("render::context", "render::context::runs"),
        "use runs::…"
    );
}
