//! The author's prose with live numbers: each prose file is a Tera template over the
//! report context, rendered before its Markdown becomes HTML, so a sentence such as
//! `Model 1 reached {{ results["model-1"].test | pct }}` says what the store holds at
//! every rebuild instead of what was true when it was typed.
//!
//! Besides the whole context (`sections`, `profile`, …) a prose file sees `results`,
//! every run by id (`model-1`, `model-9/sgd`) with its numbers as plain numbers (see
//! [`ProseResult`]), and the filter `pct` (a fraction as "46.2 %", `decimals` to
//! choose). A run without results for its current settings has `null` numbers, which
//! `pct` shows as "–", and the page already warns that it is not trained. A name the
//! context does not have is an error naming the prose file and its line.
//!
//! What a prose file may cost is bounded, since it runs at every build and at every
//! save under `serve --watch`: Tera's own `range` builds whatever it is asked for
//! (`range(end=100000000)` took 15 GB and minutes), so `range` here makes at most
//! [`MAX_RANGE`] values at once and [`RANGE_BUDGET`] in one file, and a file renders to
//! at most [`MAX_RENDERED_BYTES`] (the size a prose file itself may have).

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Result, anyhow};
use serde::Serialize;
use tera::{Context, Tera, Value};

use super::model::{ReportContext, RunEntry};
use crate::experiment::MAX_FILE_BYTES;
use crate::text;

/// The most values one `range` of a prose file makes: a loop over the runs needs dozens.
const MAX_RANGE: usize = 10_000;
/// The most values all the `range`s of one prose file make together, nested loops
/// included (an inner `range` is called again on every turn of the outer loop).
const RANGE_BUDGET: usize = 100_000;
/// The most bytes a prose file may render to.
const MAX_RENDERED_BYTES: usize = MAX_FILE_BYTES as usize;

/// What `results["<run id>"]` holds in a prose file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(super) struct ProseResult {
    /// Test accuracy after the last epoch, in [0, 1]; null unless the run is complete.
    test: Option<f64>,
    /// Training accuracy in the last epoch.
    train: Option<f64>,
    /// Best test accuracy of any epoch (also of a diverged run).
    best_test: Option<f64>,
    /// The epoch it was reached in.
    best_epoch: Option<i64>,
    /// Test loss after the last epoch.
    test_loss: Option<f64>,
    /// Training loss in the last epoch.
    train_loss: Option<f64>,
    /// Epochs completed.
    epochs: Option<i64>,
    /// Seconds of training.
    seconds: Option<f64>,
    /// Change in final test accuracy against the run the section extends, in points.
    delta: Option<f64>,
    /// Trainable parameters.
    params: i64,
    /// Values per image out of the flatten layer.
    flatten_size: i64,
    /// "complete", "diverged", "not-trained", "stale" or "damaged".
    state: String,
}

impl ProseResult {
    /// The field names, for the error that names a field a run does not have.
    const FIELDS: [&'static str; 12] = [
        "test",
        "train",
        "best_test",
        "best_epoch",
        "test_loss",
        "train_loss",
        "epochs",
        "seconds",
        "delta",
        "params",
        "flatten_size",
        "state",
    ];

    fn of(run: &RunEntry) -> ProseResult {
        let r = run.result.as_ref();
        let complete = run.state == "complete";
        let last = |v: Option<f64>| v.filter(|_| complete);
        ProseResult {
            test: last(r.map(|r| r.test.value)),
            train: last(r.map(|r| r.train.value)),
            best_test: r.map(|r| r.best_test.value),
            best_epoch: r.and_then(|r| r.best_epoch),
            test_loss: last(r.map(|r| r.test_loss)),
            train_loss: last(r.map(|r| r.train_loss)),
            epochs: r.map(|r| r.epochs_completed),
            seconds: r.map(|r| r.seconds),
            delta: run.delta.as_ref().map(|d| d.points),
            params: run.params,
            flatten_size: run.flatten_size,
            state: run.state.clone(),
        }
    }
}

/// The prose `text` (read from `file`) with its Tera expressions evaluated over `ctx`.
pub(super) fn expand(file: &Path, text: &str, ctx: &ReportContext) -> Result<String> {
    if !text.contains("{{") && !text.contains("{%") {
        return Ok(text.to_owned());
    }
    let results: BTreeMap<&str, ProseResult> = ctx
        .sections
        .iter()
        .flat_map(|s| &s.runs)
        .map(|r| (r.id.as_str(), ProseResult::of(r)))
        .collect();
    let fail = |line: Option<usize>, why: String| {
        let at = line.map_or(String::new(), |l| format!(":{l}"));
        anyhow!("{}{at}: {why}", file.display())
    };
    // Names that Tera would only call "not found": say which run or field is unknown.
    for (i, line) in text.lines().enumerate() {
        for (run, field) in result_refs(line) {
            if !results.contains_key(run) {
                let runs: Vec<&str> = results.keys().copied().collect();
                return Err(fail(
                    Some(i + 1),
                    format!(
                        "no run \"{run}\" in this report (runs: {})",
                        runs.join(", ")
                    ),
                ));
            }
            if let Some(field) = field.filter(|f| !ProseResult::FIELDS.contains(f)) {
                return Err(fail(
                    Some(i + 1),
                    format!(
                        "results[\"{run}\"] has no field \"{field}\" (fields: {})",
                        ProseResult::FIELDS.join(", ")
                    ),
                ));
            }
        }
    }
    let mut context = Context::from_serialize(ctx)?;
    context.insert("results", &results);
    match render_bounded(text, &context) {
        Ok(out) => Ok(out),
        Err(e) => {
            // Tera gives no line numbers: the first line that fails on its own is it
            // (rendered under the same bounds, so finding it costs no more).
            let line = text.lines().position(|l| {
                (l.contains("{{") || l.contains("{%")) && render_bounded(l, &context).is_err()
            });
            Err(fail(line.map(|l| l + 1), innermost(&e)))
        }
    }
}

/// `text` rendered as a template over `context` with the prose's filters and its
/// bounded `range`, into at most [`MAX_RENDERED_BYTES`].
fn render_bounded(text: &str, context: &Context) -> tera::Result<String> {
    let mut tera = Tera::default();
    tera.autoescape_on(vec![]);
    tera.register_filter("pct", pct);
    tera.register_function("range", bounded_range(Arc::default()));
    let name = "prose";
    tera.add_raw_template(name, text)?;
    let mut out = Bounded(Vec::new());
    tera.render_to(name, context, &mut out)?;
    String::from_utf8(out.0).map_err(|e| tera::Error::msg(e.to_string()))
}

/// A buffer that refuses to grow past [`MAX_RENDERED_BYTES`]: Tera writes as it renders,
/// so a runaway loop stops at the limit instead of filling memory.
struct Bounded(Vec<u8>);

impl Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.0.len() + buf.len() > MAX_RENDERED_BYTES {
            return Err(io::Error::other(format!(
                "renders to more than {} MiB, the most a prose file may",
                MAX_RENDERED_BYTES >> 20
            )));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Tera's `range` (`end`, optional `start` and `step_by`), refusing more than
/// [`MAX_RANGE`] values at once, or more than [`RANGE_BUDGET`] with those that the
/// file's other calls (`spent`) made.
fn bounded_range(spent: Arc<AtomicUsize>) -> impl tera::Function {
    move |args: &HashMap<String, Value>| -> tera::Result<Value> {
        let arg = |name: &str, default: Option<usize>| -> tera::Result<usize> {
            match (args.get(name), default) {
                (None, Some(d)) => Ok(d),
                (None, None) => Err(tera::Error::msg(format!("range needs `{name}`"))),
                (Some(v), _) => v.as_u64().map(|v| v as usize).ok_or_else(|| {
                    tera::Error::msg(format!("range: `{name}` must be a whole number, not {v}"))
                }),
            }
        };
        let (start, end, step) = (
            arg("start", Some(0))?,
            arg("end", None)?,
            arg("step_by", Some(1))?,
        );
        if step == 0 || start > end {
            return Err(tera::Error::msg(format!(
                "range: no values from start={start} to end={end} by step_by={step}"
            )));
        }
        let len = (end - start).div_ceil(step);
        if len > MAX_RANGE {
            return Err(tera::Error::msg(format!(
                "range(start={start}, end={end}) makes {} values; a prose file's range makes at most {}",
                text::thousands(len as i64),
                text::thousands(MAX_RANGE as i64)
            )));
        }
        if spent.fetch_add(len, Ordering::Relaxed) + len > RANGE_BUDGET {
            return Err(tera::Error::msg(format!(
                "the ranges of this prose file make more than {} values together",
                text::thousands(RANGE_BUDGET as i64)
            )));
        }
        Ok(Value::Array(
            (start..end).step_by(step).map(Value::from).collect(),
        ))
    }
}

/// Every `results["run"]` in `line`, with the field after it (`.test`), if any.
fn result_refs(line: &str) -> Vec<(&str, Option<&str>)> {
    let mut refs = Vec::new();
    for quote in ['"', '\''] {
        let open = format!("results[{quote}");
        let mut rest = line;
        while let Some(at) = rest.find(&open) {
            rest = &rest[at + open.len()..];
            let Some(end) = rest.find(quote) else { break };
            let run = &rest[..end];
            rest = &rest[end + 1..];
            let field = rest.strip_prefix("].").map(|after| {
                let n = after
                    .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                &after[..n]
            });
            refs.push((run, field));
        }
    }
    refs
}

/// Tera's own words for what went wrong, without the "Failed to render" around them.
fn innermost(e: &tera::Error) -> String {
    let mut why = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        why = s.to_string();
        source = s.source();
    }
    why.replace(" while rendering 'prose'", "")
        .replace(" in context", "")
}

/// `pct`: a fraction in [0, 1] as a percentage ("46.2 %"; `decimals`, default 1);
/// null (a run without that number) as "–".
fn pct(value: &Value, args: &HashMap<String, Value>) -> tera::Result<Value> {
    let decimals = match args.get("decimals") {
        None => 1,
        Some(d) => d
            .as_u64()
            .filter(|d| *d <= 6)
            .ok_or("pct: decimals must be a whole number from 0 to 6")? as usize,
    };
    match value {
        Value::Null => Ok(Value::String("–".into())),
        v => match v.as_f64() {
            Some(f) => Ok(Value::String(text::percent(f, decimals))),
            None => Err(format!("pct: {v} is not a number").into()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::testutil::*;

    fn context() -> (tempfile::TempDir, ReportContext) {
        let (d, p) = stored();
        let ctx =
            crate::render::context::assemble(&p, &p.survey_stored("p", None).unwrap()).unwrap();
        (d, ctx)
    }

    fn expand_ok(text: &str, ctx: &ReportContext) -> String {
        expand(Path::new("prose/notes.md"), text, ctx).unwrap()
    }

    fn check(text: &str, ctx: &ReportContext) -> Result<String> {
        expand(Path::new("p.md"), text, ctx)
    }

    #[test]
    fn numbers_come_from_the_store_as_the_tables_print_them() {
        let (_d, ctx) = context();
        let sgd = ctx
            .sections
            .iter()
            .flat_map(|s| &s.runs)
            .find(|r| r.id == "child/sgd")
            .unwrap();
        let r = sgd.result.as_ref().unwrap();
        let out = expand_ok(
            "Child with SGD: {{ results[\"child/sgd\"].test | pct }} test, \
             {{ results['child/sgd'].train | pct(decimals=2) }} train, {{ results[\"child/sgd\"].epochs }} epochs.",
            &ctx,
        );
        assert_eq!(
            out,
            format!(
                "Child with SGD: {} test, {} train, {} epochs.",
                text::percent(r.test.value, 1),
                r.train.percent,
                r.epochs_completed
            )
        );
        // The rest of the context is there too.
        assert_eq!(expand_ok("{{ profile.name }}", &ctx), "p");
        // Text without expressions is returned as it is, braces of Markdown included.
        assert_eq!(expand_ok("a {b} c", &ctx), "a {b} c");
    }

    #[test]
    fn a_run_without_results_shows_a_dash_not_a_number() {
        let (_d, ctx) = context();
        let adam = ctx
            .sections
            .iter()
            .flat_map(|s| &s.runs)
            .find(|r| r.id == "grand/adam")
            .unwrap();
        assert_eq!(adam.state, "not-trained");
        assert_eq!(
            expand_ok("{{ results[\"grand/adam\"].test | pct }}", &ctx),
            "–"
        );
        // A diverged run has its best epoch but no final accuracy.
        let out = expand_ok(
            "{{ results[\"results\"].test | pct }} / {{ results[\"results\"].best_test | pct }}",
            &ctx,
        );
        assert!(out.starts_with("– / ") && out.ends_with(" %"), "{out}");
    }

    #[test]
    fn unknown_runs_fields_and_syntax_name_the_file_and_line() {
        let (_d, ctx) = context();
        let text = "Line one.\n\nModel {{ results[\"nope\"].test | pct }}.\n";
        let e = expand(Path::new("prose/notes.md"), text, &ctx)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("prose/notes.md:3: no run \"nope\" in this report (runs: base, child/adam, child/sgd"), "{e}");
        let e = check("a\n{{ results[\"base\"].tset | pct }}", &ctx)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("p.md:2: results[\"base\"] has no field \"tset\" (fields: test, train,"),
            "{e}"
        );
        let e = check("a\nb\n{{ sections[0].nothing }}", &ctx)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("p.md:3: ") && e.contains("sections[0].nothing"),
            "{e}"
        );
        assert!(!e.contains('\n'), "one line: {e}");
        let e = check("{{ results[\"base\"].test | pct(decimals=9) }}", &ctx)
            .unwrap_err()
            .to_string();
        assert!(e.contains("decimals must be"), "{e}");
        let e = check("ok\n{{ unclosed", &ctx).unwrap_err().to_string();
        assert!(e.starts_with("p.md:2: "), "{e}");
    }

    #[test]
    fn a_prose_file_cannot_loop_or_write_without_bound() {
        let (_d, ctx) = context();
        // Tera's own range would build 100 million values here.
        let e = check("a\n{% for i in range(end=100000000) %}x{% endfor %}", &ctx)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "p.md:2: range(start=0, end=100000000) makes 100,000,000 values; \
             a prose file's range makes at most 10,000"
        );
        // Nested: every call is small, all of them together are not.
        let e = check(
            "{% for i in range(end=10000) %}{% for j in range(end=10000) %}{% endfor %}{% endfor %}",
            &ctx,
        )
        .unwrap_err()
        .to_string();
        assert!(e.ends_with("make more than 100,000 values together"), "{e}");
        // What fits the bounds still works, as Tera's range does.
        assert_eq!(
            expand_ok(
                "{% for i in range(start=2, end=9, step_by=3) %}{{ i }};{% endfor %}",
                &ctx
            ),
            "2;5;8;"
        );
        assert_eq!(expand_ok("{{ range(end=10000) | length }}", &ctx), "10000");
        // Output: 9,000 turns of 200 bytes is 1.8 MB, over the 1 MiB a prose file may be.
        let long = "y".repeat(200);
        let e = check(
            &format!("{{% for i in range(end=9000) %}}{long}{{% endfor %}}"),
            &ctx,
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "p.md:1: renders to more than 1 MiB, the most a prose file may"
        );
        let fits = expand_ok(
            &format!("{{% for i in range(end=5000) %}}{long}{{% endfor %}}"),
            &ctx,
        );
        assert_eq!(fits.len(), 1_000_000);
    }
}
