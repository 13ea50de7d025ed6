//! End-to-end: `report.json` of a real build follows `report.schema.json` (checked by
//! the `jsonschema` crate, draft 2020-12), the schema refuses the mistakes it is there
//! to catch, and the site carries the schema and each run's metrics files, whose
//! numbers `report.json` repeats exactly.

use std::fs;
use std::path::Path;

use serde_json::{Value, json};

use crate::fixture::{CLASSES, TinyProject};
use crate::render::{RUNS, built};

/// A change that makes a part of `report.json` wrong.
type Spoil = fn(&mut Value);

/// The schema as the repository holds it (the binary embeds the same file).
fn schema() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("report.schema.json");
    serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap()
}

/// Where and why `instance` breaks the schema's definition `def` (`VerifyFile` for
/// `out/verify.json`), one line each.
pub(crate) fn errors_against(instance: &Value, def: &str) -> Vec<String> {
    let mut schema = schema();
    let defs = schema["$defs"].take();
    let one = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": format!("#/$defs/{def}"),
        "$defs": defs,
    });
    let validator = jsonschema::draft202012::new(&one).unwrap();
    validator
        .iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// Where and why `instance` breaks the schema, one line each.
fn errors(instance: &Value) -> Vec<String> {
    let validator = jsonschema::draft202012::new(&schema()).unwrap();
    validator
        .iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

fn read_json(p: &TinyProject, rel: &str) -> Value {
    let text = fs::read_to_string(p.path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The runs of `report.json`, in report order.
fn runs(report: &Value) -> Vec<&Value> {
    report["sections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["runs"].as_array().unwrap())
        .collect()
}

/// Every subschema of `schema` with its JSON pointer.
fn subschemas<'a>(at: String, schema: &'a Value, out: &mut Vec<(String, &'a Value)>) {
    match schema {
        Value::Object(map) => {
            out.push((at.clone(), schema));
            for (k, v) in map {
                if !matches!(k.as_str(), "const" | "enum" | "required") {
                    subschemas(format!("{at}/{k}"), v, out);
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                subschemas(format!("{at}/{i}"), v, out);
            }
        }
        _ => {}
    }
}

#[test]
fn the_schema_is_draft_2020_12_and_closes_every_object() {
    let schema = schema();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    if let Err(e) = jsonschema::draft202012::meta::validate(&schema) {
        panic!("not a valid draft 2020-12 schema: {e}");
    }
    let mut all = Vec::new();
    subschemas(String::new(), &schema, &mut all);
    let mut objects = 0;
    for (at, s) in all {
        // `properties` of a schema are names, not subschemas with properties.
        if at.ends_with("/properties") {
            continue;
        }
        if let Some(props) = s.get("properties").and_then(Value::as_object) {
            objects += 1;
            assert_eq!(s["additionalProperties"], false, "{at}: open to any field");
            let mut required: Vec<&str> = s["required"]
                .as_array()
                .unwrap_or_else(|| panic!("{at}: no required"))
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            let mut names: Vec<&str> = props.keys().map(String::as_str).collect();
            required.sort_unstable();
            names.sort_unstable();
            // Every field is always written (null where absent), so every one is required.
            assert_eq!(required, names, "{at}: not every field is required");
        }
        // A `$ref` target leaves `type` to its users (see the schema's `$comment`).
        if s.get("$ref").is_some() {
            assert!(s.get("type").is_some(), "{at}: a $ref without its type");
        }
    }
    // The document and each of its `$defs`: every one an object, or a `oneOf` of
    // objects (verify.json's rules, told apart by their `kind`).
    let defs: usize = schema["$defs"]
        .as_object()
        .unwrap()
        .values()
        .map(|d| d.get("oneOf").and_then(Value::as_array).map_or(1, Vec::len))
        .sum();
    assert_eq!(
        objects,
        defs + 1,
        "an object schema is missing its properties"
    );
}

#[test]
fn report_json_of_a_build_follows_the_schema_published_beside_it() {
    let p = built();
    p.ok(&["render"]);
    let report = read_json(&p, "out/site/report.json");
    let errors = errors(&report);
    assert!(
        errors.is_empty(),
        "report.json breaks its schema: {errors:#?}"
    );
    assert_eq!(report["$schema"], "report.schema.json");
    assert_eq!(
        fs::read_to_string(p.path("out/site/report.schema.json")).unwrap(),
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("report.schema.json"))
            .unwrap(),
        "the site's schema is not the repository's"
    );
    // Before any training too: every run without numbers, no build.json.
    let empty = TinyProject::new();
    empty.ok(&["render"]);
    let errors = self::errors(&read_json(&empty, "out/site/report.json"));
    assert!(errors.is_empty(), "untrained: {errors:#?}");
}

#[test]
fn numbers_are_numbers_and_only_fields_named_text_hold_them_printed() {
    // What pandas (json_normalize) and jq users meet: a number stored as a string would
    // come back as an object column. Every string that reads as a number must sit in a
    // field that says it is display text.
    let p = built();
    p.ok(&["render"]);
    let report = read_json(&p, "out/site/report.json");
    fn walk(v: &serde_json::Value, path: &str, bad: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    let text = k == "text" || k == "short" || k.ends_with("_text");
                    if let (false, Some(s)) = (text, v.as_str()) {
                        let t = s.trim_end_matches(" %").replace(',', "");
                        if t.parse::<f64>().is_ok() {
                            bad.push(format!("{path}/{k} = {s:?}"));
                        }
                    }
                    walk(v, &format!("{path}/{k}"), bad);
                }
            }
            serde_json::Value::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    walk(v, &format!("{path}/{i}"), bad);
                }
            }
            _ => {}
        }
    }
    let mut bad = Vec::new();
    walk(&report, "", &mut bad);
    // The accuracy objects print as "percent" and "rounded", beside their "value".
    bad.retain(|b| !b.contains("/percent =") && !b.contains("/rounded ="));
    assert!(bad.is_empty(), "numbers as strings: {bad:#?}");
}

#[test]
fn the_schema_refuses_a_missing_field_a_number_as_a_string_and_a_stray_field() {
    let p = built();
    p.ok(&["render"]);
    let report = read_json(&p, "out/site/report.json");
    let run = "/sections/0/runs/0";
    let mistakes: [(String, Spoil); 7] = [
        ("/format".into(), |v| *v = json!("1")),
        (format!("{run}/result/train_loss"), |v| {
            *v = json!(v.as_f64().unwrap().to_string())
        }),
        (
            format!("{run}/seed_runs/0/metrics/epochs/0/test_accuracy"),
            |v| *v = json!(format!("{}", v.as_f64().unwrap())),
        ),
        (
            format!("{run}/seed_runs/0/metrics/confusion/counts/0/0"),
            |v| *v = json!(v.to_string()),
        ),
        (format!("{run}/seed_runs/0/metrics/epochs/1"), |v| {
            v.as_object_mut().unwrap().remove("images_per_second");
        }),
        (format!("{run}/seed_runs/0/metrics"), |v| {
            v.as_object_mut().unwrap().remove("confusion");
        }),
        (format!("{run}/result"), |v| {
            v.as_object_mut()
                .unwrap()
                .insert("train_loss_percent".into(), json!("1.0"));
        }),
    ];
    for (at, spoil) in mistakes {
        let mut bad = report.clone();
        spoil(
            bad.pointer_mut(&at)
                .unwrap_or_else(|| panic!("no {at} in report.json")),
        );
        let errors = errors(&bad);
        assert!(
            !errors.is_empty() && errors.iter().all(|e| e.starts_with(&format!("{at}: "))),
            "{at}: {errors:#?}"
        );
    }
    // A field gone from the top.
    let mut bad = report.clone();
    bad.as_object_mut().unwrap().remove("sections");
    assert!(
        errors(&bad)
            .iter()
            .any(|e| e.contains("\"sections\" is a required")),
        "{:?}",
        errors(&bad)
    );
}

#[test]
fn report_json_repeats_every_epoch_and_the_confusion_matrix_and_the_site_links_the_files() {
    let p = built();
    p.ok(&["render"]);
    let report = read_json(&p, "out/site/report.json");
    let html = fs::read_to_string(p.path("out/site/index.html")).unwrap();
    let md = fs::read_to_string(p.path("out/report.md")).unwrap();
    let ids: Vec<&str> = runs(&report)
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, RUNS);
    for r in runs(&report) {
        let (section, variant) = (
            r["section"].as_str().unwrap(),
            r["variant"].as_str().unwrap(),
        );
        let store = format!("out/runs/test/{section}/{variant}/seed-7");
        let stored = read_json(&p, &format!("{store}/metrics.json"));
        let m = &r["seed_runs"][0]["metrics"];
        assert_eq!(m["epochs"], stored["epochs"], "{section}/{variant}");
        assert_eq!(m["epochs"].as_array().unwrap().len(), 3);
        assert_eq!(m["confusion"]["classes"], stored["classes"]);
        assert_eq!(m["confusion"]["classes"], json!(CLASSES));
        assert_eq!(m["confusion"]["counts"], stored["confusion"]);
        let last = stored["epochs"].as_array().unwrap().last().unwrap();
        for loss in ["train_loss", "test_loss"] {
            assert_eq!(r["result"][loss], last[loss], "{loss}");
            assert_eq!(
                r["result"][format!("{loss}_text")].as_str().unwrap(),
                format!("{:.4}", last[loss].as_f64().unwrap())
            );
        }
        // The site's copies, byte for byte, linked from the page and the Markdown.
        for file in ["metrics.json", "metrics.csv"] {
            let rel = m[file.trim_start_matches("metrics.")].as_str().unwrap();
            assert_eq!(rel, format!("data/{section}/{variant}/seed-7/{file}"));
            assert_eq!(
                fs::read(p.path(&format!("out/site/{rel}"))).unwrap(),
                fs::read(p.path(&format!("{store}/{file}"))).unwrap(),
                "{rel}"
            );
            assert!(
                html.contains(&format!("<a href=\"{rel}\">{file}</a>")),
                "{rel}"
            );
            assert!(md.contains(&format!("[{file}](site/{rel})")), "{rel}");
        }
    }
}
