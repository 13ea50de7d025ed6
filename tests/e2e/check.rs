//! `report check` on the shipped experiments: the homework's models as specified in
//! shared/homework/models.md.

use std::path::Path;

use crate::fixture;

#[test]
fn shipped_experiments_have_the_homeworks_flatten_sizes_and_parameter_counts() {
    let out = fixture::report(Path::new(env!("CARGO_MANIFEST_DIR")), &["check"]);
    fixture::assert_success(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<(String, i64, i64)> = stdout
        .lines()
        .skip(1)
        .filter(|l| l.starts_with("model-"))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (
                f[0].to_owned(),
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
            )
        })
        .collect();
    let names: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "model-1",
            "model-2",
            "model-3",
            "model-4",
            "model-5",
            "model-6",
            "model-7",
            "model-8",
            "model-9/sgd",
            "model-9/adam",
            "model-9/rmsprop"
        ]
    );
    let flatten: Vec<i64> = rows.iter().map(|r| r.2).collect();
    assert_eq!(
        flatten,
        [256, 64, 64, 64, 576, 576, 576, 1936, 2704, 2704, 2704]
    );
    // Parameter counts as torchinfo reports them for the PyTorch models of models.md.
    assert_eq!(rows[0].1, 52_858);
    assert_eq!(rows[8].1, 1_459_194);
    assert!(stdout.contains("ok: 9 sections"), "{stdout}");
}

#[test]
fn verbose_check_prints_a_layer_table() {
    let out = fixture::report(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &["check", "--verbose"],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let fc0: Vec<&str> = stdout
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|f| f.first() == Some(&"fc0"))
        .unwrap_or_else(|| panic!("no fc0 row in:\n{stdout}"));
    assert_eq!(fc0, ["fc0", "linear", "512", "512", "1384960"]);
    assert!(
        stdout.contains("total params 1459194, flatten size 2704"),
        "{stdout}"
    );
}
