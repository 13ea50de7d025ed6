//! End-to-end: `out/report.pdf`, typeset in-process with Typst from the report context,
//! read back with poppler's `pdftotext` and `pdfinfo` (Debian's `poppler-utils`).
//!
//! Without poppler the tests say SKIPPED and pass, unless `REPORT_REQUIRE_POPPLER` is
//! set (`.ci/run` installs poppler and sets it).

use std::fs;
use std::process::Command;

use crate::fixture::{self, TinyProject};

/// True when poppler's tools are here; otherwise says SKIPPED, or fails when required.
fn can_run(test: &str) -> bool {
    let here = Command::new("pdftotext").arg("-v").output().is_ok();
    fixture::available(
        "REPORT_REQUIRE_POPPLER",
        test,
        (!here).then(|| "pdftotext is not installed (apt-get install poppler-utils)".into()),
    )
}

/// What `pdftotext` reads from the PDF: lines as the page sets them, pages ended by a
/// form feed.
fn pdftotext(p: &TinyProject) -> String {
    let out = Command::new("pdftotext")
        .arg(p.path("out/report.pdf"))
        .arg("-")
        .output()
        .unwrap();
    fixture::assert_success(&out);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The PDF's text, whitespace collapsed.
fn text_of(p: &TinyProject) -> String {
    collapse(&pdftotext(p))
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `pdfinfo`'s value of `key`.
fn info(p: &TinyProject, key: &str) -> String {
    let out = Command::new("pdfinfo")
        .arg(p.path("out/report.pdf"))
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| {
            l.strip_prefix(&format!("{key}:"))
                .map(|v| v.trim().to_owned())
        })
        .unwrap_or_else(|| panic!("no {key} in pdfinfo"))
}

/// Every figure caption of the context (`report.json`).
fn captions(report: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut walk = vec![report];
    while let Some(v) = walk.pop() {
        match v {
            serde_json::Value::Object(m) => {
                if let (Some(c), Some(_)) = (m.get("caption"), m.get("svg")) {
                    out.push(c.as_str().unwrap().to_owned());
                }
                walk.extend(m.values());
            }
            serde_json::Value::Array(a) => walk.extend(a),
            _ => {}
        }
    }
    out
}

#[test]
fn the_pdf_holds_every_number_and_caption_and_renders_to_the_same_bytes() {
    if !can_run("the_pdf_holds_every_number_and_caption_and_renders_to_the_same_bytes") {
        return;
    }
    let p = TinyProject::new();
    p.ok(&["build", "--device", "cpu"]);
    let pdf = fs::read(p.path("out/report.pdf")).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let pages: usize = info(&p, "Pages").parse().unwrap();
    assert!((6..=30).contains(&pages), "{pages} pages");
    assert!(info(&p, "Page size").contains("(A4)"));
    assert_eq!(info(&p, "Title"), "Tiny");

    let report: serde_json::Value =
        serde_json::from_slice(&fs::read(p.path("out/site/report.json")).unwrap()).unwrap();
    let text = text_of(&p);
    for section in report["sections"].as_array().unwrap() {
        for run in section["runs"].as_array().unwrap() {
            // The final accuracies as the results table prints them.
            for key in ["train", "test"] {
                let shown = run["spread"][key]["short"].as_str().unwrap();
                assert!(
                    text.contains(shown),
                    "{}: {shown} not in the PDF",
                    run["id"]
                );
            }
        }
    }
    let captions = captions(&report);
    assert!(captions.len() >= 10, "{captions:?}");
    for c in &captions {
        assert!(text.contains(&collapse(c)), "caption {c:?} not in the PDF");
    }

    // Text inside every figure is at least 7 pt on the page: the template sets each
    // figure across the text width of A4 with 2.2 cm margins.
    let text_width = 595.276 - 2.0 * 2.2 / 2.54 * 72.0;
    let source = fs::read_to_string(p.path("out/report.typ")).unwrap();
    let figures: Vec<&str> = source
        .split("#report-figure(\"")
        .skip(1)
        .map(|r| &r[..r.find('"').unwrap()])
        .collect();
    assert_eq!(figures.len(), captions.len() - count_unshown(&report));
    for f in figures {
        let svg =
            fs::read_to_string(p.path(&format!("out/site/{}", f.replace(".png", ".svg")))).unwrap();
        let width: f64 = attr(&svg, "<svg", "width").parse().unwrap();
        let smallest = svg
            .split("font-size=\"")
            .skip(1)
            .map(|r| {
                r[..r.find('"').unwrap()]
                    .trim_end_matches("px")
                    .parse::<f64>()
                    .unwrap()
            })
            .fold(f64::INFINITY, f64::min);
        let pt = smallest * text_width / width;
        assert!(pt >= 7.0, "{f}: smallest text {pt:.2} pt");
    }

    // A second render of the same store gives the same bytes and leaves the file alone.
    let modified = fs::metadata(p.path("out/report.pdf"))
        .unwrap()
        .modified()
        .unwrap();
    p.ok(&["render"]);
    assert_eq!(fs::read(p.path("out/report.pdf")).unwrap(), pdf);
    assert_eq!(
        fs::metadata(p.path("out/report.pdf"))
            .unwrap()
            .modified()
            .unwrap(),
        modified
    );
    // That render typeset nothing (its inputs were the same); a PDF deleted or changed
    // by hand is typeset again, to the same bytes.
    fs::remove_file(p.path("out/report.pdf")).unwrap();
    p.ok(&["render"]);
    assert_eq!(fs::read(p.path("out/report.pdf")).unwrap(), pdf);
    fs::write(p.path("out/report.pdf"), b"%PDF-edited").unwrap();
    p.ok(&["render"]);
    assert_eq!(fs::read(p.path("out/report.pdf")).unwrap(), pdf);

    // `--only` re-renders it: a new title shows without retraining anything.
    p.write(
        "experiments/other.toml",
        &fixture::OTHER_TOML.replace("\"Other\"", "\"Renamed Section\""),
    );
    let table = p.ok(&["build", "--device", "cpu", "--only", "other"]);
    assert!(!table.contains("trained"), "{table}");
    assert!(text_of(&p).contains("Renamed Section"));
}

/// Figures of the context that the PDF does not show: t-SNE single plots beside a panel.
fn count_unshown(report: &serde_json::Value) -> usize {
    report["tsne"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| !t["panel"].is_null())
        .flat_map(|t| t["figures"].as_array().unwrap().clone())
        .filter(|e| !e["figure"].is_null())
        .count()
}

/// The value of `name` in the first tag starting with `tag`.
fn attr<'a>(text: &'a str, tag: &str, name: &str) -> &'a str {
    let start = text.find(tag).unwrap();
    let rest = &text[start..];
    let at = rest.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
    let v = &rest[at..];
    &v[..v.find('"').unwrap()]
}

#[test]
fn a_broken_template_is_one_line_with_its_place_and_the_pdf_can_be_switched() {
    if !can_run("a_broken_template_is_one_line_with_its_place_and_the_pdf_can_be_switched") {
        return;
    }
    let p = TinyProject::new();
    p.ok(&["build", "--device", "cpu", "--only", "base"]);
    let before = fs::read(p.path("out/report.pdf")).unwrap();
    // A Typst mistake on line 3 of the user's template: named where the rendered source
    // is, with the line, and the template it came from.
    p.write("templates/report.typ", "= Title\n\n#let x = (1, 2\nText.\n");
    let err = p.fails(&["render"]);
    assert!(err.contains("out/report.typ:3:"), "{err}");
    assert!(err.contains("templates/report.typ"), "{err}");
    assert_eq!(
        fs::read(p.path("out/report.pdf")).unwrap(),
        before,
        "nothing written"
    );
    // A Tera mistake: the template file, line and column.
    p.write("templates/report.typ", "= Title\n{% if %}\n");
    let err = p.fails(&["render"]);
    assert!(err.contains("templates/report.typ:2:"), "{err}");
    fs::remove_file(p.path("templates/report.typ")).unwrap();

    // Letter paper, then no PDF at all.
    let report = fixture::REPORT_TOML.replace(
        "\n[profiles.test]",
        "\n[pdf]\npaper = \"us-letter\"\n\n[profiles.test]",
    );
    p.write("experiments/report.toml", &report);
    p.ok(&["render"]);
    assert!(
        info(&p, "Page size").contains("(letter)"),
        "{}",
        info(&p, "Page size")
    );
    p.write(
        "experiments/report.toml",
        &report.replace("paper = \"us-letter\"", "enabled = false"),
    );
    fs::remove_file(p.path("out/report.pdf")).unwrap();
    p.ok(&["render"]);
    assert!(!p.path("out/report.pdf").exists());
}

/// The PDF's pages, each as its lines with whitespace collapsed, the page number left
/// out.
fn pages_of(p: &TinyProject) -> Vec<Vec<String>> {
    pdftotext(p)
        .split('\u{c}')
        .map(|page| {
            let mut lines: Vec<String> = page
                .lines()
                .map(collapse)
                .filter(|l| !l.is_empty())
                .collect();
            if lines.last().is_some_and(|l| l.parse::<u32>().is_ok()) {
                lines.pop();
            }
            lines
        })
        .filter(|lines| !lines.is_empty())
        .collect()
}

/// The text of every heading of the Typst source, as the page prints it.
fn headings_of(p: &TinyProject) -> Vec<String> {
    let source = fs::read_to_string(p.path("out/report.typ")).unwrap();
    source
        .lines()
        .filter_map(|l| {
            l.trim_start_matches('=')
                .strip_prefix(' ')
                .filter(|_| l.starts_with('='))
        })
        .map(|h| {
            // `== t-SNE of #link(<anchor>)[Child with SGD] <label>` → its words.
            let h = h.rsplit_once(" <").map_or(h, |(text, _)| text);
            let mut words = String::new();
            let mut rest = h;
            while let Some(at) = rest.find("#link(<") {
                words.push_str(&rest[..at]);
                let after = &rest[at..];
                let open = after.find(")[").unwrap() + 2;
                rest = &after[open..];
                let close = rest.find(']').unwrap();
                words.push_str(&rest[..close]);
                rest = &rest[close + 1..];
            }
            words.push_str(rest);
            collapse(&words.replace('\\', ""))
        })
        .collect()
}

/// Where a heading is parted from what it introduces: a page whose last line is a
/// heading, or a section's or t-SNE run's heading on another page than its first figure
/// (its short introduction left alone at the foot of a page).
fn parted_headings(p: &TinyProject) -> Vec<String> {
    let pages = pages_of(p);
    let headings = headings_of(p);
    let mut found = Vec::new();
    for (i, page) in pages.iter().enumerate() {
        let last = page.last().unwrap();
        if headings.contains(last) {
            found.push(format!("page {} ends with the heading {last:?}", i + 1));
        }
    }
    let report: serde_json::Value =
        serde_json::from_slice(&fs::read(p.path("out/site/report.json")).unwrap()).unwrap();
    let mut introduced = Vec::new();
    for t in report["tsne"].as_array().unwrap() {
        let figure = if t["panel"].is_null() {
            &t["figures"][0]["figure"]
        } else {
            &t["panel"]
        };
        let title = t["run"]["title"].as_str().unwrap();
        introduced.push((format!("t-SNE of {title}"), figure["caption"].clone()));
    }
    for s in report["sections"].as_array().unwrap() {
        introduced.push((
            s["title"].as_str().unwrap().to_owned(),
            s["architecture"]["caption"].clone(),
        ));
    }
    // Headings in the order the report sets them, each found after the one before.
    let mut from = (0, 0);
    for (heading, caption) in introduced {
        let caption = collapse(caption.as_str().unwrap());
        let at = pages.iter().enumerate().find_map(|(i, page)| {
            let start = if i == from.0 { from.1 } else { 0 };
            (i >= from.0)
                .then(|| page.iter().skip(start).position(|l| *l == heading))
                .flatten()
                .map(|j| (i, start + j + 1))
        });
        let Some((page, line)) = at else {
            panic!("heading {heading:?} is not in the PDF: {pages:?}");
        };
        from = (page, line);
        if !pages[page].join(" ").contains(&caption) {
            found.push(format!(
                "page {}: {heading:?} is apart from its figure ({caption})",
                page + 1
            ));
        }
    }
    found
}

#[test]
fn headings_stay_with_what_they_introduce_wherever_the_page_breaks() {
    if !can_run("headings_stay_with_what_they_introduce_wherever_the_page_breaks") {
        return;
    }
    // Sections with a summary and a parent line between heading and diagram, as the
    // homework's; explanations of 0 to 39 short paragraphs move every heading through
    // the foot of a page.
    let p = TinyProject::new();
    let summary = "\nsummary = \"One convolution with batch norm, then a linear layer.\"\n";
    p.write(
        "experiments/base.toml",
        &format!("{summary}{}", fixture::BASE_TOML),
    );
    p.write(
        "experiments/other.toml",
        &format!("{summary}{}", fixture::OTHER_TOML),
    );
    p.write(
        "experiments/report.toml",
        &fixture::REPORT_TOML.replace(
            "default_profile = \"test\"\n",
            "default_profile = \"test\"\n[prose]\nexplanations = \"prose/e.md\"\n",
        ),
    );
    p.write("experiments/prose/e.md", "Start.\n");
    p.ok(&["build", "--device", "cpu"]);
    let mut parted = Vec::new();
    for paragraphs in (0..40).step_by(3) {
        let prose: String = (1..=paragraphs)
            .map(|i| format!("Paragraph {i} of the explanations.\n\n"))
            .collect();
        p.write("experiments/prose/e.md", &format!("Start.\n\n{prose}"));
        p.ok(&["render"]);
        parted.extend(
            parted_headings(&p)
                .into_iter()
                .map(|x| format!("{paragraphs} paragraphs: {x}")),
        );
    }
    assert!(parted.is_empty(), "{}", parted.join("\n"));
}
