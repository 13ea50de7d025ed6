//! `report init [DIR]`: a project to start from, on which `report build` succeeds at
//! once: `report.toml` with a quick and a full profile, a baseline experiment and one
//! that extends it, prose files, a `.gitignore` for `out/`, and the CIFAR-10 sample the
//! quick profile trains on, all compiled into the binary.

use std::path::Path;

use anyhow::{Result, bail};

use crate::fsx;

/// Every file `init` writes, by path in the new project.
const FILES: &[(&str, &[u8])] = &[
    (
        "experiments/report.toml",
        include_bytes!("../../assets/init/experiments/report.toml"),
    ),
    (
        "experiments/baseline.toml",
        include_bytes!("../../assets/init/experiments/baseline.toml"),
    ),
    (
        "experiments/wider.toml",
        include_bytes!("../../assets/init/experiments/wider.toml"),
    ),
    (
        "experiments/prose/explanations.md",
        include_bytes!("../../assets/init/experiments/prose/explanations.md"),
    ),
    (
        "experiments/prose/notes.md",
        include_bytes!("../../assets/init/experiments/prose/notes.md"),
    ),
    (".gitignore", include_bytes!("../../assets/init/gitignore")),
    (
        "data/cifar10-sample.tar.gz",
        include_bytes!("../../data/cifar10-sample.tar.gz"),
    ),
    ("data/README.md", include_bytes!("../../data/README.md")),
];

/// Writes the project into `dir`, refusing before writing anything if one of its files
/// is already there; a failed write removes what it had written.
pub fn run(dir: &Path) -> Result<()> {
    let taken: Vec<String> = FILES
        .iter()
        .map(|(rel, _)| dir.join(rel))
        .filter(|p| p.symlink_metadata().is_ok())
        .map(|p| p.display().to_string())
        .collect();
    if let Some(first) = taken.first() {
        bail!(
            "{first}: already exists; report init writes only new files and touched nothing ({} of its {} files exist: {})",
            taken.len(),
            FILES.len(),
            taken.join(", ")
        );
    }
    let mut written = Vec::new();
    for (rel, bytes) in FILES {
        let path = dir.join(rel);
        if let Err(e) = fsx::write_atomic(&path, bytes) {
            for done in &written {
                let _ = std::fs::remove_file(done);
            }
            return Err(e);
        }
        written.push(path);
    }
    let cd = if dir == Path::new(".") {
        String::new()
    } else {
        format!("cd {} && ", dir.display())
    };
    println!("wrote a new project in {}:", dir.display());
    for (rel, _) in FILES {
        println!("  {rel}");
    }
    println!(
        "next: {cd}report build   (the quick profile: the embedded sample, a few minutes on a CPU)"
    );
    Ok(())
}
