//! `report check`: every profile resolved and validated against its data's shape and
//! classes, every model built and run forward once on a zero batch, without training
//! or writing runs. A profile whose data is not there yet is named and skipped: its
//! shapes depend on the data. When the store holds a build of the default profile (a
//! pilot), the seeds each claim and comparison would need are printed from its spread.

use anyhow::{Result, bail};
use tch::{Device, Kind, Tensor, nn};

use crate::cli::CheckArgs;
use crate::plan::RunSpec;
use crate::plan::shape::Shape;
use crate::project::Project;
use crate::store::Inventory;
use crate::store::record::BuildInfo;
use crate::text;
use crate::train::model::Net;

/// Validates the project and prints each run's parameter count and flatten size.
pub fn run(project: &Project, args: CheckArgs) -> Result<()> {
    let verbose = args.verbose;
    let profiles: Vec<String> = project
        .experiments
        .report
        .profiles
        .keys()
        .cloned()
        .collect();
    let mut all = Vec::new();
    let mut checked = Vec::new();
    for p in &profiles {
        let data = match project.data(p, None) {
            Ok(data) => data,
            Err(e) if !project.data_source_exists(p) => {
                println!("{p}: not checked, {e:#}");
                continue;
            }
            Err(e) => return Err(e),
        };
        all.push(project.runs(p, &[], &data.description)?);
        checked.push(p.clone());
    }
    let profiles = checked;
    if profiles.is_empty() {
        bail!(
            "no profile's data is there to check the models against; fetch or point at it with --data"
        );
    }
    // Without a default among several profiles, the first checked is shown.
    let default = project.default_profile().ok();
    let shown_at = profiles
        .iter()
        .position(|p| Some(p) == default.as_ref())
        .unwrap_or(0);
    let shown = &all[shown_at];
    println!("{:<20} {:>10} {:>8}  layers", "run", "params", "flatten");
    // One line per run: its seeds share the model.
    for spec in shown.iter().filter(|s| s.is_first_seed()) {
        dry_forward(spec)?;
        let layers: Vec<String> = spec.shapes.iter().map(|s| s.op.to_string()).collect();
        println!(
            "{:<20} {:>10} {:>8}  {}",
            spec.id.to_string(),
            spec.param_count(),
            spec.flatten_size(),
            layers.join(" → ")
        );
        if verbose {
            print!("{}", layer_table(spec));
        }
    }
    // What a build reads besides the experiments: the templates (user overrides
    // included) and the prose, rendered once in memory as an empty store's report.
    let blank = Inventory::blank(
        &profiles[shown_at],
        crate::plan::section_order(&project.experiments),
        shown.clone(),
    );
    crate::render::preflight(project, &blank)?;
    let runs: Vec<String> = profiles
        .iter()
        .zip(&all)
        .map(|(p, r)| {
            let runs = r.iter().filter(|s| s.is_first_seed()).count();
            if runs == r.len() {
                format!("{p}: {runs} runs")
            } else {
                format!("{p}: {runs} runs × seeds = {} trainings", r.len())
            }
        })
        .collect();
    println!(
        "ok: {} sections, profiles {}",
        project.experiments.sections.len(),
        runs.join(", ")
    );
    seeds_needed(project, &profiles[shown_at])
}

/// When the store holds a build of `profile` (a pilot), the seeds per side each claim
/// and each change of the results table would need for 80 % power, from the spread its
/// seeds showed: how many seeds the real build should run.
fn seeds_needed(project: &Project, profile: &str) -> Result<()> {
    if BuildInfo::last(&project.store, profile)?.is_none() {
        return Ok(());
    }
    let inventory = project.survey_stored(profile, None)?;
    if !inventory.runs.iter().any(|r| r.state.cached().is_some()) {
        return Ok(());
    }
    let ctx = crate::render::context::assemble(project, &inventory)?;
    println!(
        "seeds needed for {} power, from the spread of the stored runs of {profile} (the difference observed taken as the true one):",
        text::percent(crate::stats::TARGET_POWER, 0)
    );
    for c in &ctx.claims {
        let margin = c
            .measured
            .margin_text
            .as_ref()
            .map_or(String::new(), |m| format!(", margin ±{m}"));
        println!(
            "  claim  {:<16} {} {}{margin}: {} observed, {}",
            c.run.title,
            c.expect.word(),
            c.measured.against.title,
            c.measured.difference_text,
            c.measured.seeds_needed_text
        );
    }
    for run in ctx.sections.iter().flat_map(|s| &s.runs) {
        if let Some(cmp) = &run.comparison {
            println!(
                "  Δ test {:<16} vs {}: {} observed, {}",
                run.title, cmp.against.title, cmp.difference_text, cmp.seeds_needed_text
            );
        }
    }
    Ok(())
}

/// A torchinfo-style table: layer, output shape, parameters.
pub fn layer_table(spec: &RunSpec) -> String {
    let mut s = format!(
        "  {:<10} {:<22} {:<14} {:>10}\n",
        "layer", "type", "output", "params"
    );
    for l in &spec.shapes {
        s.push_str(&format!(
            "  {:<10} {:<22} {:<14} {:>10}\n",
            l.id,
            l.op.to_string(),
            l.output.to_string(),
            l.params
        ));
    }
    s.push_str(&format!(
        "  total params {}, flatten size {}\n",
        spec.param_count(),
        spec.flatten_size()
    ));
    s
}

/// Builds the network and runs a zero batch through it, checking that libtorch agrees
/// with the planner's shape arithmetic and parameter count.
fn dry_forward(spec: &RunSpec) -> Result<()> {
    let vs = nn::VarStore::new(Device::Cpu);
    let net = Net::new(
        &vs.root(),
        &spec.shapes,
        Shape::Image(spec.input),
        spec.train.memory_format,
        spec.train.precision,
    );
    let [c, h, w] = spec.input;
    let (logits, latent) = tch::no_grad(|| {
        net.forward_latent(
            &Tensor::zeros([2, c, h, w], (Kind::Float, Device::Cpu)),
            false,
        )
    });
    let params: i64 = vs
        .trainable_variables()
        .iter()
        .map(|t| t.numel() as i64)
        .sum();
    let out = spec.shapes.last().map_or(0, |s| s.output.numel());
    if latent.size() != [2, spec.flatten_size()]
        || logits.size() != [2, out]
        || params != spec.param_count()
    {
        bail!(
            "{}: {}: libtorch disagrees with shape inference (latent {:?}, logits {:?}, {params} params)",
            spec.source.display(),
            spec.id,
            latent.size(),
            logits.size()
        );
    }
    Ok(())
}
