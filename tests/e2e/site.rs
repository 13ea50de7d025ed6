//! The rendered site in a real browser: headless Chromium (Debian's `chromium`) driven
//! by `tests/browser/check-site.mjs` (playwright-core) checks that every image loads,
//! nothing logs an error, no in-page or relative link is broken, nothing is loaded from
//! outside the site, the page fits a phone, a phone shows every run's test accuracy,
//! figure text is at least 11 CSS px on a desktop and 9 px on a phone as displayed, only
//! the first figure loads with the page and the first screen fetches under 200 KB and at
//! most half of the page with every figure, every table fits its container at 1024, 1280
//! and 1366 px, and the Claims table shows each claim with its verdict (on a phone too);
//! it saves `target/site-screenshot.png`.
//!
//! Without Chromium, Node or `tests/browser/node_modules` the tests say SKIPPED and
//! pass, unless `REPORT_REQUIRE_BROWSER` is set (`.ci/run` installs all three and sets it).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::fixture::{self, TinyProject};

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// Why the browser check cannot run here, if it cannot.
fn missing_tool() -> Option<String> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).is_file() {
        return Some("chromium not installed (apt-get install chromium)".into());
    }
    if Command::new("node").arg("--version").output().is_err() {
        return Some("node not installed (apt-get install nodejs npm)".into());
    }
    if !browser_dir().join("node_modules/playwright-core").is_dir() {
        return Some("tests/browser/node_modules missing (cd tests/browser && npm ci)".into());
    }
    None
}

/// True when the test should go on; otherwise says SKIPPED, or fails when required.
fn can_run(test: &str) -> bool {
    fixture::available("REPORT_REQUIRE_BROWSER", test, missing_tool())
}

/// Runs the checker on `site`; returns its exit code and its JSON report.
fn check(site: &Path, screenshot: &Path) -> (i32, serde_json::Value) {
    let out = Command::new("node")
        .arg(browser_dir().join("check-site.mjs"))
        .arg(site)
        .arg(screenshot)
        .current_dir(browser_dir())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "checker printed no JSON ({e}):\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), json)
}

fn list(v: &serde_json::Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key} in {v}"))
        .iter()
        .map(|x| x.as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn the_rendered_site_works_in_a_browser() {
    if !can_run("the_rendered_site_works_in_a_browser") {
        return;
    }
    let p = TinyProject::new();
    p.write(
        "experiments/prose/notes.md",
        "See [the results](#results), [Child](#child) and [the data](report.json).\n",
    );
    p.write(
        "experiments/report.toml",
        &(fixture::REPORT_TOML.replacen(
            "default_profile",
            "references = [\"R, <https://example.org>.\"]\ndefault_profile",
            1,
        ) + "\n[prose]\nnotes = \"prose/notes.md\"\n"),
    );
    // Two seeds, so that claims have intervals and verdicts; one claim per kind.
    p.write(
        "experiments/report.toml",
        &std::fs::read_to_string(p.path("experiments/report.toml"))
            .unwrap()
            .replace(
                "tsne_epochs = [0, 3]\n",
                "tsne_epochs = [0, 3]\nseeds = 2\n",
            ),
    );
    p.write(
        "experiments/base.toml",
        &fixture::BASE_TOML.replace("seed = 7\n", ""),
    );
    p.write(
        "experiments/other.toml",
        &format!(
            "claim = [\"worse\", {{ expect = \"same\", metric = \"train_loss\", margin = 0.05, text = \"No change.\" }}]\n{}",
            fixture::OTHER_TOML
        ),
    );
    p.ok(&["build", "--device", "cpu"]);
    p.ok(&["render"]);
    let site = p.path("out/site");
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap();
    let screenshot = target.join("site-screenshot.png");
    let (code, report) = check(&site, &screenshot);
    assert_eq!(code, 0, "the site has problems: {report:#}");
    assert_eq!(report["ok"], true);
    if site.join("figures/figures.json").exists() {
        let images = report["images"].as_u64().unwrap();
        assert!(images >= 10, "only {images} images on the page: {report}");
        // Figure text measured in the browser, at the size each screen shows it.
        let smallest = |screen: &str| {
            report["textSizes"][screen]["smallest"]["px"]
                .as_f64()
                .unwrap_or_else(|| panic!("no {screen} text size: {report}"))
        };
        assert!(smallest("desktop") >= 11.0, "{report}");
        assert!(smallest("phone") >= 9.0, "{report}");
        // The first screen loads the figures on or near it (Chromium fetches lazy
        // images some thousands of pixels ahead, more on a slow machine: 2 to 6 of the
        // tiny page's 18 here), not all of them.
        let first = report["weight"]["firstViewImages"].as_u64().unwrap();
        assert!((1..images / 2).contains(&first), "{report}");
        // In bytes: at most half of what the page weighs with every figure loaded.
        let bytes = |key: &str| {
            report["weight"][key]
                .as_u64()
                .unwrap_or_else(|| panic!("no weight.{key}: {report}"))
        };
        assert!(2 * bytes("firstView") <= bytes("all"), "{report}");
    }
    // The first screen (the page, its stylesheet and the figures on or near it) fetches
    // under 200 KB, as README.md states.
    let first_view = report["weight"]["firstView"].as_u64().unwrap();
    assert!((1..=200_000).contains(&first_view), "{report}");
    // Every table fits its container on common laptop and desktop screens: results,
    // claims and the appendix's runs at least, with no sideways scroll.
    assert!(list(&report, "wideTables").is_empty(), "{report}");
    for width in ["1024", "1280", "1366"] {
        let fit = &report["tableFit"][width];
        assert!(
            fit["tables"].as_u64().unwrap_or(0) >= 3,
            "{width} px: {report}"
        );
        let tightest = &fit["tightest"];
        let (needs, room) = (
            tightest["needs"].as_u64().unwrap(),
            tightest["room"].as_u64().unwrap(),
        );
        assert!(needs <= room + 1, "{width} px: {tightest}");
    }
    assert!(report["checkedFiles"].as_u64().unwrap() >= 2, "{report}");
    // The Claims table is on the page with both claims, each with a verdict.
    let claims = &report["claims"];
    assert_eq!(claims["visible"], true, "{report}");
    let rows = claims["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{claims}");
    for row in rows {
        assert_eq!(row["run"], "Other", "{claims}");
        let verdict = row["verdict"].as_str().unwrap();
        assert!(
            ["confirmed", "contradicted", "inconclusive"].contains(&verdict),
            "{claims}"
        );
        // Beside the word, the test that decided it and its p-value after Holm.
        let reason = row["reason"].as_str().unwrap();
        assert!(
            reason.contains("interval") && reason.contains("after Holm's correction"),
            "{claims}"
        );
    }
    assert!(screenshot.is_file(), "no screenshot");
    let _ = writeln!(
        std::io::stderr(),
        "site check: {report}\nscreenshot: {}",
        screenshot.display()
    );
}

#[test]
fn the_checker_finds_what_is_broken() {
    if !can_run("the_checker_finds_what_is_broken") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(site.join("ok.css"), "body { margin: 0 }").unwrap();
    std::fs::write(
        site.join("tiny.svg"),
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="800" height="100"><text x="10" y="50" font-size="6">small</text></svg>"#,
    )
    .unwrap();
    std::fs::write(
        site.join("index.html"),
        r##"<!DOCTYPE html><html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="ok.css">
<link rel="stylesheet" href="http://127.0.0.1:9/remote.css">
</head><body>
<p id="a">one</p><p id="a">two</p>
<a href="#a">fine</a> <a href="#nowhere">broken anchor</a>
<a href="gone.html">missing file</a> <a href="/abs.html">absolute</a>
<a href="https://example.org/">a link to the web is fine</a>
<img src="missing.png" alt="missing">
<img src="tiny.svg" alt="a figure with 6-unit text on an 800-unit canvas">
<img src="tiny.svg" alt="the same figure, lazy but on the first screen" loading="lazy">
<div class="table-wrap" style="overflow-x: auto; width: 300px"><table class="results" style="width: 900px">
<tr><th>Model 1</th><td style="width: 800px">train</td><td class="test">47.7 %</td></tr></table></div>
<div style="width: 2000px">too wide for a phone</div>
<script>console.error("boom");</script>
</body></html>"##,
    )
    .unwrap();
    let (code, report) = check(&site, &dir.path().join("shot.png"));
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["ok"], false);
    assert_eq!(list(&report, "brokenAnchors"), ["#nowhere"]);
    assert_eq!(list(&report, "duplicateIds"), ["a"]);
    assert_eq!(list(&report, "missingFiles"), ["gone.html", "missing.png"]);
    let outside = list(&report, "notSelfContained");
    assert!(
        outside.iter().any(|x| x.contains("/abs.html")),
        "{outside:?}"
    );
    assert!(
        outside.iter().any(|x| x.contains("127.0.0.1:9")),
        "{outside:?}"
    );
    assert!(
        !outside.iter().any(|x| x.contains("example.org")),
        "{outside:?}"
    );
    assert!(
        list(&report, "brokenImages")
            .iter()
            .any(|x| x.ends_with("missing.png")),
        "{report}"
    );
    assert!(
        list(&report, "consoleErrors")
            .iter()
            .any(|x| x.contains("boom")),
        "{report}"
    );
    assert!(report["phoneOverflow"].is_string(), "{report}");
    let small = list(&report, "smallText");
    assert!(
        small
            .iter()
            .any(|x| x.starts_with("desktop: tiny.svg shows 6.0 px")),
        "{small:?}"
    );
    assert!(
        small.iter().any(|x| x.starts_with("phone: tiny.svg")),
        "{small:?}"
    );
    let hidden = list(&report, "phoneHiddenCells");
    assert!(
        hidden.len() == 1 && hidden[0].starts_with("Model 1: 47.7 %"),
        "{hidden:?}"
    );
    // The only lazy figure loads with the page: the first screen fetches everything.
    assert!(
        report["firstViewWeight"]
            .as_str()
            .is_some_and(|x| x.starts_with("the first screen fetches ")),
        "{report}"
    );
    // The 900 px table in its 300 px wrapper, and the 2000 px page, at every width.
    let wide = list(&report, "wideTables");
    for width in [1024, 1280, 1366] {
        assert!(
            wide.iter().any(|x| x.starts_with(&format!(
                "{width} px: table.results in #page (table 1) is 900 px wide in 300 px"
            ))),
            "{wide:?}"
        );
        assert!(
            wide.iter()
                .any(|x| x.starts_with(&format!("{width} px: the page is 2000 px wide"))),
            "{wide:?}"
        );
    }
}

#[test]
fn serve_watch_rebuilds_and_the_open_page_follows() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    if !can_run("serve_watch_rebuilds_and_the_open_page_follows") {
        return;
    }
    let p = TinyProject::new();
    p.write(
        "experiments/report.toml",
        &format!("{}\n[prose]\nnotes = \"notes.md\"\n", fixture::REPORT_TOML),
    );
    p.write("experiments/notes.md", "My first words.\n");
    let mut serve = Command::new(env!("CARGO_BIN_EXE_report"))
        .arg("--root")
        .arg(p.root())
        .args(["serve", "--watch", "--port", "0", "--device", "cpu"])
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // It builds first (the runs train), then prints the URL.
    let mut lines = BufReader::new(serve.stdout.take().unwrap()).lines();
    let url = loop {
        let Some(Ok(line)) = lines.next() else {
            let _ = serve.kill();
            let out = serve.wait_with_output().unwrap();
            panic!("serve ended: {}", String::from_utf8_lossy(&out.stderr));
        };
        if let Some(at) = line.find("http://") {
            break line[at..].split_whitespace().next().unwrap().to_owned();
        }
    };
    let stdout = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>());
    let out = Command::new("node")
        .arg(browser_dir().join("watch.mjs"))
        .arg(&url)
        .arg(p.root())
        .current_dir(browser_dir())
        .output()
        .unwrap();
    let _ = Command::new("kill")
        .args(["-INT", &serve.id().to_string()])
        .status();
    let status = serve.wait().unwrap();
    let printed = stdout.join().unwrap().join("\n");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}\n{}\nserve printed:\n{printed}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_str(report.trim()).unwrap();
    assert_eq!(json["steps"].as_array().unwrap().len(), 3, "{json}");
    // The page moved on by itself: the script reloaded it after the rebuild.
    assert!(json["steps"][0]["reloads"].as_i64().unwrap() >= 1, "{json}");
    // Every rebuild is said on the terminal; the edit of the prose retrained nothing.
    assert_eq!(printed.matches("rebuilt: ").count(), 2, "{printed}");
    assert!(!printed.contains(" trained "), "{printed}");
    assert!(status.code() == Some(0), "serve exited with {status}");
    // The published site has no trace of the script.
    let html = std::fs::read_to_string(p.path("out/site/index.html")).unwrap();
    assert!(!html.contains("__report/events"));
}
