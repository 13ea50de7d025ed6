//! One t-SNE run of `report::analyze::tsne` for `bench/tsne/run.sh`:
//! `tsne_bench POINTS.npy LABELS.npy OUT.npy [--perplexity 30] [--iterations 1000] [--seed 0]
//! [--method barnes-hut|exact]` (exact runs on CUDA when there is one).
//! Writes the N × 2 embedding to OUT.npy and one JSON line to stdout: wall seconds of
//! `embed`, its KL divergence, 10-NN accuracies and a digest of the coordinates' bits.

use std::{env, fs, time::Instant};

use anyhow::{Context, Result, bail};
use report::{
    analyze::tsne::{Method, embed, knn_accuracy},
    store::npy::{MatrixF32, decode_f32, decode_u8, encode_f32},
};

fn main() -> Result<()> {
    let args: Vec<String> = env::args().skip(1).collect();
    let mut positional = Vec::new();
    let (mut perplexity, mut iterations, mut seed) = (30.0, 1000, 0);
    let mut method = Method::BarnesHut;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().context("a value after the flag");
        match arg.as_str() {
            "--perplexity" => perplexity = value()?.parse()?,
            "--iterations" => iterations = value()?.parse()?,
            "--seed" => seed = value()?.parse()?,
            "--method" => {
                method = match value()?.as_str() {
                    "barnes-hut" => Method::BarnesHut,
                    "exact" => Method::Exact(tch::Device::cuda_if_available()),
                    other => bail!("unknown method {other}: barnes-hut or exact"),
                }
            }
            _ if arg.starts_with("--") => bail!("unknown flag {arg}"),
            _ => positional.push(arg.clone()),
        }
    }
    let [points, labels, out] = &positional[..] else {
        bail!(
            "usage: tsne_bench POINTS.npy LABELS.npy OUT.npy [--perplexity P] [--iterations N] [--seed S] [--method barnes-hut|exact]"
        );
    };
    let points = decode_f32(&fs::read(points).with_context(|| format!("reading {points}"))?)?;
    let labels = decode_u8(&fs::read(labels).with_context(|| format!("reading {labels}"))?)?;

    let e = embed(&points, perplexity, iterations, seed, method)?;
    let flat = MatrixF32 {
        rows: e.coords.len(),
        cols: 2,
        data: e.coords.iter().flatten().copied().collect(),
    };
    fs::write(out, encode_f32(&flat)).with_context(|| format!("writing {out}"))?;

    let start = Instant::now();
    let knn_embedding = knn_accuracy(&flat, &labels, 10);
    let knn_seconds_2d = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let knn_input = knn_accuracy(&points, &labels, 10);
    let knn_seconds_input = start.elapsed().as_secs_f64();
    let bits: Vec<u8> = flat.data.iter().flat_map(|v| v.to_le_bytes()).collect();
    println!(
        "{{\"seconds\": {:.3}, \"kl_divergence\": {:.6}, \"knn10_embedding\": {knn_embedding:.6}, \
         \"knn10_input\": {knn_input:.6}, \"knn_seconds_2d\": {knn_seconds_2d:.3}, \
         \"knn_seconds_input\": {knn_seconds_input:.3}, \"threads\": {}, \"coords_blake3\": \"{}\"}}",
        e.seconds,
        e.kl_divergence,
        rayon::current_num_threads(),
        blake3::hash(&bits).to_hex()
    );
    Ok(())
}
