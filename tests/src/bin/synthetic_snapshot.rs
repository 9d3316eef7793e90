//! Writes a synthetic 25-model snapshot with the layer shapes of a CIFAR ResNet-18 sweep, for the
//! viewer's responsiveness test and its drop-to-drawn benchmark (the work depends on the shapes,
//! not on how the activations were made).
//!
//! Usage: `synthetic_snapshot OUT.reps [--n 200] [--width 64] [--conv-dim 8192] [--seed 1]`
//! (`--help` explains each flag).
//!
//! The reference's features are class means plus noise (ReLU'd); each compressed model mixes in
//! noise and silences units in proportion to a severity that grows along the paper's grid, and
//! its logits (hence its accuracy) degrade with it.

use reps::formats::snapshot::{encode, Reduction, Snapshot, SnapshotLayer, SnapshotModel};
use reps::histogram::WeightHistogram;
use std::process::ExitCode;

struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform().max(1e-300), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// Writes a synthetic 25-model snapshot with the layer shapes of a CIFAR ResNet-18 sweep.
#[derive(clap::Parser)]
struct Args {
    /// Where to write the snapshot (.reps).
    out: String,
    /// N: samples per model (10 classes, balanced).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(10..))]
    n: u64,
    /// Network width: stage outputs have width, 2·width, 4·width and 8·width features.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..))]
    width: u64,
    /// Features of `layer4.1.conv2` (8192 at paper scale).
    #[arg(long, default_value_t = 8192, value_parser = clap::value_parser!(u64).range(1..))]
    conv_dim: u64,
    /// Seed of the generator.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn main() -> ExitCode {
    let args = <Args as clap::Parser>::parse();
    let (n, k, w) = (args.n as usize, 10usize, args.width as usize);
    let mut rng = Rng(args.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let labels: Vec<u32> = (0..n).map(|i| (i % k) as u32).collect();
    let shapes: Vec<(&str, Vec<u32>)> = vec![
        ("conv1", vec![w as u32]),
        ("layer1", vec![w as u32]),
        ("layer2", vec![2 * w as u32]),
        ("layer3", vec![4 * w as u32]),
        ("layer4", vec![8 * w as u32]),
        ("layer4.1.conv2", vec![args.conv_dim as u32]),
        ("avgpool", vec![8 * w as u32]),
    ];
    // The reference: class means plus noise, per layer; logits favour the true class.
    let reference: Vec<Vec<f32>> = shapes
        .iter()
        .map(|(_, s)| {
            let d = s.iter().product::<u32>() as usize;
            let means: Vec<f64> = (0..k * d).map(|_| rng.normal()).collect();
            (0..n * d)
                .map(|i| {
                    let (row, col) = (i / d, i % d);
                    let c = labels[row] as usize;
                    (means[c * d + col] + 0.7 * rng.normal()).max(0.0) as f32
                })
                .collect()
        })
        .collect();
    let ref_logits: Vec<f64> = (0..n * k)
        .map(|i| 3.0 * f64::from(labels[i / k] as usize == i % k) + rng.normal())
        .collect();
    // (name, method, (parameter name, value), damage)
    type Planned<'a> = (String, &'a str, Option<(&'a str, f64)>, f64);
    let mut plan: Vec<Planned> = vec![("original".into(), "original", None, 0.0)];
    for f in [0.8, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05, 0.01] {
        plan.push((
            format!("coreset-{f}"),
            "coreset",
            Some(("fraction", f)),
            1.0 - f64::sqrt(f),
        ));
    }
    for r in [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 0.9] {
        plan.push((format!("prune-{r}"), "prune", Some(("ratio", r)), r * r));
    }
    for b in [8u32, 7, 6, 5, 4, 3, 2, 1] {
        let s = 2f64.powi(-(b as i32) + 1).min(1.0);
        plan.push((format!("quant-{b}"), "quant", Some(("bits", b as f64)), s));
    }
    let models = plan
        .into_iter()
        .map(|(name, method, parameter, s)| {
            let layers = shapes
                .iter()
                .zip(&reference)
                .map(|((lname, shape), r)| {
                    let d = r.len() / n;
                    let silenced: Vec<bool> = (0..d).map(|_| rng.uniform() < 0.5 * s).collect();
                    let values = r
                        .iter()
                        .enumerate()
                        .map(|(i, &x)| {
                            if silenced[i % d] {
                                0.0
                            } else {
                                ((1.0 - s) * x as f64 + s * rng.normal().abs()) as f32
                            }
                        })
                        .collect();
                    SnapshotLayer {
                        name: lname.to_string(),
                        original_shape: shape.clone(),
                        reduction: Reduction::AsIs,
                        sample_shape: shape.clone(),
                        values,
                    }
                })
                .collect::<Vec<_>>();
            let logits: Vec<f32> = ref_logits
                .iter()
                .map(|&x| ((1.0 - s) * x + 2.0 * s * rng.normal()) as f32)
                .collect();
            let hits = (0..n)
                .filter(|&i| {
                    let row = &logits[i * k..(i + 1) * k];
                    let best = (0..k).fold(0, |b, j| if row[j] > row[b] { j } else { b });
                    best == labels[i] as usize
                })
                .count();
            let mut layers = layers;
            let fc = SnapshotLayer {
                name: "fc".into(),
                original_shape: vec![k as u32],
                reduction: Reduction::AsIs,
                sample_shape: vec![k as u32],
                values: logits,
            };
            layers.push(fc);
            let counts = (0..50)
                .map(|b| {
                    let z = (b as f64 - 24.5) / (6.0 + 10.0 * s);
                    (1e5 * (-0.5 * z * z).exp()) as u64
                })
                .collect();
            SnapshotModel {
                name,
                method: method.into(),
                parameter: parameter.map(|p| p.1),
                parameter_name: parameter.map(|p| p.0.to_string()),
                accuracy: Some(hits as f64 / n as f64),
                weight_similarity: Some(1.0 - 0.5 * s),
                histogram: Some(WeightHistogram {
                    low: -0.5,
                    high: 0.5,
                    counts,
                }),
                layers,
                logits: Some("fc".into()),
            }
        })
        .collect();
    let snapshot = Snapshot {
        producer: "reps-e2e synthetic_snapshot".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        dataset: "synthetic classes".into(),
        architecture: "resnet18".into(),
        width: Some(w as u32),
        seed: Some(args.seed),
        preset: "synthetic".into(),
        sample_indices: (0..n as u32).collect(),
        labels: Some(labels),
        class_names: (0..k).map(|c| format!("class {c}")).collect(),
        models,
    };
    let result = encode(&snapshot)
        .map_err(|e| e.to_string())
        .and_then(|b| std::fs::write(&args.out, b).map_err(|e| format!("{}: {e}", args.out)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("synthetic_snapshot: {e}");
            ExitCode::FAILURE
        }
    }
}
