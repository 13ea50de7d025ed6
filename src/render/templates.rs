//! The templates: the defaults embedded in the binary (this repository's `templates/`
//! folder, read at compile time), each overridable by a file of the same name under
//! `<project root>/templates/`.
//!
//! One Tera instance renders every output: templates whose name ends in `.html` are
//! autoescaped, the Markdown (`.md`) and Typst (`.typ`) ones are not: they escape with
//! filters (`md`; `typ`, `typstr`, `typ_md`). The only HTML marked `safe` is what
//! [`super::markdown`] made, with any raw HTML of the prose already escaped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use serde::Serialize;
use tera::Tera;

/// The default templates, by name.
pub const DEFAULTS: [(&str, &str); 19] = [
    ("base.html", include_str!("../../templates/base.html")),
    ("report.html", include_str!("../../templates/report.html")),
    (
        "partials/contents.html",
        include_str!("../../templates/partials/contents.html"),
    ),
    (
        "partials/warnings.html",
        include_str!("../../templates/partials/warnings.html"),
    ),
    (
        "partials/explanations.html",
        include_str!("../../templates/partials/explanations.html"),
    ),
    (
        "partials/results.html",
        include_str!("../../templates/partials/results.html"),
    ),
    (
        "partials/claims.html",
        include_str!("../../templates/partials/claims.html"),
    ),
    (
        "partials/tsne.html",
        include_str!("../../templates/partials/tsne.html"),
    ),
    (
        "partials/models.html",
        include_str!("../../templates/partials/models.html"),
    ),
    (
        "partials/model.html",
        include_str!("../../templates/partials/model.html"),
    ),
    (
        "partials/run.html",
        include_str!("../../templates/partials/run.html"),
    ),
    (
        "partials/figure.html",
        include_str!("../../templates/partials/figure.html"),
    ),
    (
        "partials/notes.html",
        include_str!("../../templates/partials/notes.html"),
    ),
    (
        "partials/references.html",
        include_str!("../../templates/partials/references.html"),
    ),
    (
        "partials/appendix.html",
        include_str!("../../templates/partials/appendix.html"),
    ),
    (
        "partials/verification.html",
        include_str!("../../templates/partials/verification.html"),
    ),
    ("report.md", include_str!("../../templates/report.md")),
    ("report.typ", include_str!("../../templates/report.typ")),
    (
        "partials/figure.md",
        include_str!("../../templates/partials/figure.md"),
    ),
];

/// The default stylesheet; `<root>/templates/style.css` replaces it.
pub const DEFAULT_STYLE: &str = include_str!("../../templates/style.css");

/// The stylesheet's name, in `templates/` and in the site.
pub const STYLE: &str = "style.css";

/// The loaded templates and where each came from.
pub struct Templates {
    tera: Tera,
    /// Template name → where it came from, for error messages.
    origin: BTreeMap<String, String>,
    /// The stylesheet's text.
    pub style: String,
}

impl Templates {
    /// The defaults, with every `.html` or `.md` file under `<root>/templates/` added
    /// or replacing the default of the same name, and `style.css` likewise.
    pub fn load(root: &Path) -> Result<Templates> {
        let mut texts: BTreeMap<String, String> = BTreeMap::new();
        let mut origin: BTreeMap<String, String> = BTreeMap::new();
        for (name, text) in DEFAULTS {
            texts.insert(name.to_owned(), text.to_owned());
            origin.insert(name.to_owned(), format!("templates/{name} (built in)"));
        }
        let dir = root.join("templates");
        let mut style = DEFAULT_STYLE.to_owned();
        if dir.is_dir() {
            for path in files_under(&dir)? {
                let name = path
                    .strip_prefix(&dir)
                    .unwrap_or(&path)
                    .to_string_lossy()
                    .replace('\\', "/");
                let is_template =
                    name.ends_with(".html") || name.ends_with(".md") || name.ends_with(".typ");
                if !is_template && name != STYLE {
                    continue;
                }
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("{}: cannot read", path.display()))?;
                if name == STYLE {
                    style = text;
                } else {
                    texts.insert(name.clone(), text);
                    origin.insert(name, path.display().to_string());
                }
            }
        }
        let mut tera = Tera::default();
        tera.autoescape_on(vec![".html"]);
        tera.set_escape_fn(escape_html);
        tera.register_filter("md", text_filter(md_escape));
        // Typst: text as a literal shown as it is, a string literal, Markdown as markup.
        tera.register_filter("typ", text_filter(super::typst_markup::text));
        tera.register_filter("typstr", text_filter(super::typst_markup::string));
        tera.register_filter("typ_md", text_filter(super::typst_markup::markdown));
        tera.add_raw_templates(texts.iter().map(|(n, t)| (n.as_str(), t.as_str())))
            .map_err(|e| anyhow!(describe(&e, &origin)))?;
        Ok(Templates {
            tera,
            origin,
            style,
        })
    }

    /// Where template `name` came from: its file, or "templates/<name> (built in)".
    pub fn origin(&self, name: &str) -> String {
        origin_of(&self.origin, name)
    }

    /// Renders template `name` with `context`. The error is one line naming the
    /// template (its file) and, for syntax errors, the line and column.
    pub fn render<T: Serialize>(&self, name: &str, context: &T) -> Result<String> {
        let ctx = tera::Context::from_serialize(context).context("the report context")?;
        self.tera
            .render(name, &ctx)
            .map_err(|e| anyhow!(describe(&e, &self.origin)))
    }
}

/// The file template `name` came from, as `origin` records it.
fn origin_of(origin: &BTreeMap<String, String>, name: &str) -> String {
    origin
        .get(name)
        .cloned()
        .unwrap_or_else(|| format!("templates/{name}"))
}

/// Files under `dir`, recursively, in name order.
fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d)
            .with_context(|| format!("{}: cannot read folder", d.display()))?;
        for entry in entries {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Tera's error chain as one line: "<file>:<line>:<column>: template syntax error:
/// expected …" for parse errors, "<file>: <what went wrong>" for render errors.
fn describe(err: &tera::Error, origin: &BTreeMap<String, String>) -> String {
    let mut chain = vec![err.to_string()];
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        chain.push(s.to_string());
        source = s.source();
    }
    let file_of = |name: &str| origin_of(origin, name);
    let quoted = |text: &str, prefix: &str| -> Option<String> {
        let rest = text.strip_prefix(prefix)?.trim();
        let rest = rest.trim_matches(|c| c == '\'' || c == '"');
        Some(rest.to_owned())
    };
    let rest = chain[1..].join("\n");
    if let Some(name) = quoted(&chain[0], "Failed to parse") {
        let file = file_of(&name);
        return match pest_position(&rest) {
            Some((line, col, msg)) => {
                format!("{file}:{line}:{col}: template syntax error: {msg}")
            }
            None => format!("{file}: template error: {}", one_line(&rest)),
        };
    }
    if let Some(name) = quoted(&chain[0], "Failed to render") {
        return format!("{}: cannot render: {}", file_of(&name), one_line(&rest));
    }
    format!("templates: {}", one_line(&chain.join(": ")))
}

/// The line, column and message of a pest error rendered as text
/// (" --> 12:5 … = expected …").
fn pest_position(text: &str) -> Option<(usize, usize, String)> {
    let at = text.lines().find_map(|l| l.trim().strip_prefix("-->"))?;
    let (line, col) = at.trim().split_once(':')?;
    let line = line.trim().parse().ok()?;
    let col = col.trim().parse().ok()?;
    let msg = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("= "))
        .map_or_else(|| one_line(text), one_line);
    Some((line, col, msg))
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Escapes what HTML text and quoted attributes need: `& < > " '`. (Tera's default
/// also escapes `/`, which only makes paths in `src` and `href` hard to read.)
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

/// `md` filter: backslash-escapes what Markdown would read as markup, so a title or a
/// table cell shows as written (and a `|` does not split a table cell).
/// A Tera filter applying `f` to a value's text (null is empty).
fn text_filter(f: fn(&str) -> String) -> impl tera::Filter {
    move |value: &tera::Value, _: &std::collections::HashMap<String, tera::Value>| {
        let text = match value {
            tera::Value::String(s) => s.clone(),
            tera::Value::Null => String::new(),
            other => other.to_string(),
        };
        Ok(tera::Value::String(f(&text)))
    }
}

/// Backslash-escapes Markdown's inline markup characters.
pub fn md_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\`*_[]<>|&#".contains(c) {
            out.push('\\');
        }
        out.push(if c == '\n' { ' ' } else { c });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse_and_user_files_override_them() {
        let dir = tempfile::tempdir().unwrap();
        Templates::load(dir.path()).unwrap();
        std::fs::create_dir_all(dir.path().join("templates/partials")).unwrap();
        std::fs::write(
            dir.path().join("templates/partials/notes.html"),
            "<p>{{ title }} NOTES</p>",
        )
        .unwrap();
        std::fs::write(dir.path().join("templates/style.css"), "body{}").unwrap();
        let t = Templates::load(dir.path()).unwrap();
        assert_eq!(t.style, "body{}");
        assert!(t.origin["partials/notes.html"].ends_with("templates/partials/notes.html"));
        assert!(t.origin["report.html"].contains("built in"));
    }

    #[test]
    fn syntax_errors_name_file_line_and_column_on_one_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("templates")).unwrap();
        std::fs::write(
            dir.path().join("templates/report.html"),
            "<h1>\n\n{{ title }</h1>\n",
        )
        .unwrap();
        let err = Templates::load(dir.path()).err().unwrap().to_string();
        assert!(!err.contains('\n'), "{err}");
        let file = dir
            .path()
            .join("templates/report.html")
            .display()
            .to_string();
        assert!(err.starts_with(&format!("{file}:3:")), "{err}");
        assert!(err.contains("template syntax error"), "{err}");
    }

    #[test]
    fn html_is_escaped_and_markdown_is_not() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("templates")).unwrap();
        std::fs::write(dir.path().join("templates/t.html"), "{{ x }}").unwrap();
        std::fs::write(dir.path().join("templates/t.md"), "{{ x }} {{ x | md }}").unwrap();
        let t = Templates::load(dir.path()).unwrap();
        let ctx = serde_json::json!({ "x": "<b>a|b</b>" });
        assert_eq!(t.render("t.html", &ctx).unwrap(), "&lt;b&gt;a|b&lt;/b&gt;");
        assert_eq!(
            t.render("t.md", &ctx).unwrap(),
            r"<b>a|b</b> \<b\>a\|b\</b\>"
        );
    }

    #[test]
    fn render_errors_name_the_template() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("templates")).unwrap();
        std::fs::write(dir.path().join("templates/t.html"), "{{ missing.x }}").unwrap();
        let t = Templates::load(dir.path()).unwrap();
        let err = t
            .render("t.html", &serde_json::json!({}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("templates/t.html: cannot render:"), "{err}");
        assert!(err.contains("missing"), "{err}");
        assert!(!err.contains('\n'), "{err}");
    }
}
