//! End-to-end: `report render` turns a built tiny project into the HTML page, the
//! Markdown report and report.json, with the store's numbers, escaped text, user
//! templates, deterministic output; `report serve` serves the site and nothing else.

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use crate::fixture::{self, REPORT_TOML, TinyProject};

/// The tiny project's runs, in report order.
pub(crate) const RUNS: [&str; 4] = ["base", "child/sgd", "child/adam", "other"];

/// One tiny project built once (in the target folder, replaced on each run of these
/// tests); each test gets a fresh project with a copy of its `out/`: run keys depend
/// on specs and data only, so the copies are cached runs. `schema` uses it too.
pub(crate) fn built() -> TinyProject {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let base = BUILT.get_or_init(|| {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("render-tiny-project");
        let _ = fs::remove_dir_all(&root);
        let p = TinyProject::new();
        p.ok(&["build", "--device", "cpu"]);
        copy_dir(p.root(), &root);
        root
    });
    let p = TinyProject::new();
    copy_dir(&base.join("out"), &p.path("out"));
    p
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn read(p: &TinyProject, rel: &str) -> String {
    fs::read_to_string(p.path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn metrics(p: &TinyProject, run: &str) -> serde_json::Value {
    let dir = if run.contains('/') {
        run.to_owned()
    } else {
        format!("{run}/main")
    };
    serde_json::from_str(&read(
        p,
        &format!("out/runs/test/{dir}/seed-7/metrics.json"),
    ))
    .unwrap()
}

/// Final (train, test) accuracy of a run, from its metrics.json.
fn last_accuracies(p: &TinyProject, run: &str) -> (f64, f64) {
    let m = metrics(p, run);
    let last = m["epochs"].as_array().unwrap().last().unwrap().clone();
    (
        last["train_accuracy"].as_f64().unwrap(),
        last["test_accuracy"].as_f64().unwrap(),
    )
}

/// The results-table row of the run whose anchor is `anchor`.
fn table_row<'a>(html: &'a str, anchor: &str) -> &'a str {
    let start = html
        .find(&format!("<th scope=\"row\"><a href=\"#{anchor}\">"))
        .unwrap_or_else(|| panic!("no results row for #{anchor}"));
    let end = start + html[start..].find("</tr>").unwrap();
    &html[start..end]
}

#[test]
fn the_page_has_every_section_and_the_numbers_of_the_store() {
    let p = built();
    let stdout = p.ok(&["render"]);
    let index = p.path("out/site/index.html");
    assert_eq!(
        PathBuf::from(stdout.trim().lines().last().unwrap()),
        index,
        "render prints where the page is: {stdout}"
    );
    let html = read(&p, "out/site/index.html");
    for heading in [
        "Explanations and Discussions",
        "Results",
        "t-SNE Plotting",
        "Model Drawings and Results",
        "Appendix: Reproducibility",
    ] {
        assert!(
            html.contains(&format!(">{heading}</h")),
            "no heading {heading}"
        );
    }
    for (title, anchor) in [("Base", "base"), ("Child", "child"), ("Other", "other")] {
        assert!(
            html.contains(&format!(
                "<section class=\"model\" id=\"{anchor}\">\n  <h3>{title}</h3>"
            )),
            "no section {title}"
        );
    }
    let md = read(&p, "out/report.md");
    for (run, anchor, label) in [
        ("base", "base", ""),
        ("child/sgd", "child-sgd", " with sgd"),
        ("child/adam", "child-adam", " with adam"),
        ("other", "other", ""),
    ] {
        let (train, test) = last_accuracies(&p, run);
        let row = table_row(&html, anchor);
        let train_pct = format!("{:.2} %", 100.0 * train);
        let test_pct = format!("{:.2} %", 100.0 * test);
        assert!(
            row.contains(&format!(
                "<td class=\"num train\" data-label=\"Train acc.\">{train_pct}</td>"
            )),
            "{run}: {row}"
        );
        assert!(
            row.contains(&format!(
                "<td class=\"num test\" data-label=\"Test acc.\">{test_pct}</td>"
            )),
            "{run}: {row}"
        );
        // The homework's wording, rounded, with the precise number beside it.
        let homework = format!(
            "Testing Accuracy{label}: <strong>%{}</strong> <span class=\"precise\">({test_pct})</span>",
            (100.0 * test).round()
        );
        assert!(html.contains(&homework), "{run}: no «{homework}»");
        let homework_md = format!(
            "Testing Accuracy{label}: **%{}** ({test_pct})",
            (100.0 * test).round()
        );
        assert!(
            md.contains(&homework_md),
            "{run}: no «{homework_md}» in report.md"
        );
    }
    // The change against the parent: child's variants against base's one run.
    let (_, base_test) = last_accuracies(&p, "base");
    let (_, adam_test) = last_accuracies(&p, "child/adam");
    let points = 100.0 * (adam_test - base_test);
    let delta = if points.abs() < 0.005 {
        "±0.00 pp".to_owned()
    } else if points > 0.0 {
        format!("+{points:.2} pp")
    } else {
        format!("−{:.2} pp", -points)
    };
    let row = table_row(&html, "child-adam");
    assert!(
        row.contains(&delta) && row.contains("vs <a href=\"#base\">Base</a>"),
        "{row}"
    );
    // What changed, generated from the two specs.
    assert!(html.contains("<li><code>conv1: conv k3 p1 4 → conv k3 p1 6</code></li>"));
    assert!(html.contains("<li><code>augmentation: vertical flip probability 0 → 0.5</code></li>"));
    // The appendix: the build's command, versions and each run's seed.
    assert!(
        html.contains("<dt>Command</dt><dd><code>"),
        "no command line"
    );
    // The libtorch loaded at run time, with its build tag: "2.11.0+cu130".
    let libraries = html
        .split("<dt>Libraries</dt><dd>")
        .nth(1)
        .and_then(|rest| rest.split("</dd>").next())
        .expect("no Libraries line");
    assert!(
        libraries.starts_with("torch (libtorch) 2.11.0") && libraries.ends_with(", tch 0.24.0"),
        "{libraries}"
    );
    // Figures, where the build drew them, are numbered from 1 in order.
    let manifest = p.path("out/site/figures/figures.json");
    if manifest.exists() {
        assert!(
            html.contains("Figure 1:</a>"),
            "figures.json exists but no Figure 1"
        );
        let mut n = 1;
        while html.contains(&format!(">Figure {}:</a>", n + 1)) {
            let (a, b) = (
                html.find(&format!(">Figure {n}:</a>")).unwrap(),
                html.find(&format!(">Figure {}:</a>", n + 1)).unwrap(),
            );
            assert!(a < b, "Figure {n} comes after Figure {}", n + 1);
            n += 1;
        }
        assert!(n >= 4, "only {n} figures");
    }
}

#[test]
fn the_tsne_section_shows_the_panel_and_links_the_single_plots() {
    let p = built();
    let html = read(&p, "out/site/index.html");
    let md = read(&p, "out/report.md");
    let dir = "figures/child/sgd";
    // The panel is an image of both outputs; each epoch's plot is a link, not an image.
    assert!(
        html.contains(&format!(r#"srcset="{dir}/tsne-panel.svg""#)),
        "no panel"
    );
    assert!(
        md.contains(&format!("](site/{dir}/tsne-panel.png)")),
        "{md}"
    );
    for epoch in ["000", "003"] {
        let single = format!("{dir}/tsne-epoch-{epoch}");
        assert!(
            !html.contains(&format!(r#"srcset="{single}.svg""#)),
            "{epoch} shown too"
        );
        assert!(
            html.contains(&format!(r#"<a href="{single}.svg""#)),
            "{epoch} not linked"
        );
        assert!(
            !md.contains(&format!("](site/{single}.png)")),
            "{epoch} shown in report.md"
        );
        assert!(
            md.contains(&format!("](site/{single}.svg)")),
            "{epoch} not linked in report.md"
        );
    }
}

#[test]
fn runs_not_in_the_store_show_no_numbers() {
    let p = TinyProject::new();
    p.ok(&["render"]);
    let html = read(&p, "out/site/index.html");
    assert!(
        !html.contains("Testing Accuracy"),
        "numbers for untrained runs"
    );
    assert_eq!(
        html.matches(
            "<td colspan=\"2\" class=\"status test\" data-label=\"Status\">not trained yet</td>"
        )
        .count(),
        4
    );
    assert!(html.contains("This report is incomplete"));
    let json: serde_json::Value = serde_json::from_str(&read(&p, "out/site/report.json")).unwrap();
    for s in json["sections"].as_array().unwrap() {
        for r in s["runs"].as_array().unwrap() {
            assert_eq!(r["state"], "not-trained");
            assert!(r["result"].is_null());
        }
    }
}

#[test]
fn script_in_titles_and_prose_is_escaped() {
    let p = built();
    let attack = "<script>alert(1)</script>";
    p.write(
        "experiments/report.toml",
        &(REPORT_TOML.replace("title = \"Tiny\"", &format!("title = \"Tiny {attack}\""))
            + "\n[prose]\nexplanations = \"prose/e.md\"\n"),
    );
    p.write(
        "experiments/base.toml",
        &fixture::BASE_TOML.replace("title = \"Base\"", &format!("title = \"Base {attack}\"")),
    );
    p.write(
        "experiments/prose/e.md",
        &format!("Hello {attack} and <img src=x onerror=alert(2)> and [x](javascript:alert(3)).\n"),
    );
    p.ok(&["render"]);
    let html = read(&p, "out/site/index.html");
    let lower = html.to_lowercase();
    assert!(!lower.contains("<script"), "raw <script> in index.html");
    assert!(!lower.contains("<img src=x"), "raw <img> from the prose");
    assert!(
        !lower.contains("javascript:"),
        "javascript: link from the prose"
    );
    assert!(html.contains("<title>Tiny &lt;script&gt;alert(1)&lt;/script&gt;</title>"));
    assert!(html.contains("<h3>Base &lt;script&gt;alert(1)&lt;/script&gt;</h3>"));
    assert!(html.contains("Hello &lt;script&gt;alert(1)&lt;/script&gt;"));
    // Renaming changed no run: the numbers are still there.
    assert!(html.contains("Testing Accuracy"));
}

#[test]
fn a_template_syntax_error_is_one_line_naming_the_file_and_line() {
    let p = built();
    p.write(
        "templates/partials/notes.html",
        "<section>\n  <p>fine</p>\n  {% if prose.notes %}{{ prose.notes.html | safe }\n{% endif %}\n</section>\n",
    );
    let line = p.fails(&["render"]);
    let file = p
        .path("templates/partials/notes.html")
        .display()
        .to_string();
    assert!(line.contains(&format!("{file}:3:")), "{line}");
    assert!(line.contains("template syntax error"), "{line}");
}

#[test]
fn user_templates_override_the_defaults() {
    let p = built();
    p.write(
        "templates/partials/references.html",
        "<section id=\"references\"><p>OVERRIDDEN for {{ title }}</p></section>\n",
    );
    p.write("templates/style.css", "body { color: teal; }\n");
    p.write("templates/report.md", "# {{ title }} in my own Markdown\n");
    p.ok(&["render"]);
    let html = read(&p, "out/site/index.html");
    assert!(
        html.contains("<p>OVERRIDDEN for Tiny</p>"),
        "override not used"
    );
    assert!(
        html.contains("Model Drawings and Results"),
        "other defaults still used"
    );
    assert_eq!(read(&p, "out/site/style.css"), "body { color: teal; }\n");
    assert_eq!(read(&p, "out/report.md"), "# Tiny in my own Markdown\n");
}

#[test]
fn rendering_twice_gives_identical_files_and_keeps_their_mtimes() {
    let p = built();
    p.ok(&["render"]);
    let outputs = [
        "out/site/index.html",
        "out/site/style.css",
        "out/site/report.json",
        "out/site/report.schema.json",
        "out/site/data/base/main/seed-7/metrics.json",
        "out/site/data/child/sgd/seed-7/metrics.csv",
        "out/report.md",
    ];
    let snapshot = || -> Vec<(Vec<u8>, SystemTime)> {
        outputs
            .iter()
            .map(|f| {
                let path = p.path(f);
                (
                    fs::read(&path).unwrap(),
                    fs::metadata(&path).unwrap().modified().unwrap(),
                )
            })
            .collect()
    };
    let first = snapshot();
    std::thread::sleep(Duration::from_millis(50));
    p.ok(&["render"]);
    let second = snapshot();
    for ((f, a), b) in outputs.iter().zip(&first).zip(&second) {
        assert!(
            a.0 == b.0,
            "{f} changed between two renders of the same store"
        );
        assert_eq!(a.1, b.1, "{f} was rewritten");
    }
}

#[test]
fn report_json_holds_every_run_with_its_numbers() {
    let p = built();
    p.ok(&["render"]);
    let json: serde_json::Value = serde_json::from_str(&read(&p, "out/site/report.json")).unwrap();
    assert_eq!(json["title"], "Tiny");
    assert_eq!(json["profile"]["name"], "test");
    let runs: Vec<&serde_json::Value> = json["sections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["runs"].as_array().unwrap())
        .collect();
    let ids: Vec<&str> = runs.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, RUNS);
    for r in runs {
        let id = r["id"].as_str().unwrap();
        let (train, test) = last_accuracies(&p, id);
        assert_eq!(r["state"], "complete", "{id}");
        assert_eq!(
            r["result"]["train"]["value"].as_f64().unwrap(),
            train,
            "{id}"
        );
        assert_eq!(r["result"]["test"]["value"].as_f64().unwrap(), test, "{id}");
        assert_eq!(r["epochs"], 3);
    }
}

/// `report serve`, killed when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(root: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_report"))
            .arg("--root")
            .arg(root)
            .args(["serve", "--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no URL in {line:?}"));
        assert!(
            url.starts_with("http://127.0.0.1:"),
            "{url}: not on 127.0.0.1"
        );
        let port = url
            .trim_start_matches("http://127.0.0.1:")
            .trim_end_matches('/')
            .parse()
            .unwrap();
        Server { child, port }
    }

    /// A raw request (no client-side normalisation of the path): status, content
    /// type and body.
    fn get(&self, target: &str) -> (u16, String, String) {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            s,
            "GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut bytes = Vec::new();
        s.read_to_end(&mut bytes).unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
        let ctype = head
            .lines()
            .find_map(|l| l.strip_prefix("Content-Type: "))
            .unwrap_or("")
            .to_owned();
        (status, ctype, body.to_owned())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn serve_serves_the_site_and_nothing_outside_it() {
    let p = built();
    p.ok(&["render"]);
    p.write("out/secret.json", "{\"secret\": \"SECRET\"}");
    #[cfg(unix)]
    std::os::unix::fs::symlink(p.path("out/secret.json"), p.path("out/site/leak.json")).unwrap();
    let server = Server::start(p.root());

    let (status, ctype, body) = server.get("/");
    assert_eq!((status, ctype.as_str()), (200, "text/html; charset=utf-8"));
    assert!(body.contains("Model Drawings and Results"));
    assert_eq!(server.get("/style.css").1, "text/css; charset=utf-8");
    assert_eq!(server.get("/report.json").1, "application/json");
    if p.path("out/site/figures/base/accuracy.svg").exists() {
        assert_eq!(server.get("/figures/base/accuracy.svg").1, "image/svg+xml");
        assert_eq!(server.get("/figures/base/accuracy.png").1, "image/png");
    }
    for bad in [
        "/../secret.json",
        "/figures/../../secret.json",
        "/%2e%2e/secret.json",
        "/%2E%2E/secret.json",
        "/..%2fsecret.json",
        "/leak.json",
    ] {
        let (status, _, body) = server.get(bad);
        assert!(status == 403 || status == 404, "{bad}: {status}");
        assert!(
            !body.contains("SECRET"),
            "{bad} leaked a file outside the site"
        );
    }
    assert_eq!(server.get("/nothing-here.html").0, 404);
    assert_eq!(server.get("/index.md").0, 404, "only the site's file types");
}
