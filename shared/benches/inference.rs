//! The report's inference (`Report::with_inference`: bootstrap intervals and permutation p-values
//! for every Table 2 score, Table 3's intervals, the comparisons, the stable regime and the
//! claims) on a 25-model sweep with the defaults (10,000 resamples and 10,000 permutations): the
//! time it adds to `native analyze`. The budget is 1 s on 2 cores. Then the pooled
//! inference of a multi-seed summary (`summarize_seeds`, the cluster bootstrap) over 5 seeds of
//! 41 models: budget 2 s.

use criterion::{criterion_group, criterion_main, Criterion};
use reps::analysis::{analyze, summarize_seeds, InferenceOptions, ModelInput};
use reps::{Activations, AnalysisInput, AnalysisOptions};

/// A reference and `count − 1` models whose activations drift further from it, with accuracies
/// that fall (slowly, then off a cliff), like a compression sweep; `seed` varies the noise.
fn sweep(count: usize, seed: u64) -> AnalysisInput {
    let (n, d, k) = (60usize, 16usize, 5usize);
    let mut s = seed;
    let mut next = move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let labels: Vec<u32> = (0..n as u32).map(|i| i % k as u32).collect();
    let base: Vec<f64> = (0..n * d)
        .map(|i| (labels[i / d] as f64 * ((i % d) % 3) as f64 + next()).max(0.0))
        .collect();
    let models = (0..count)
        .map(|m| {
            let t = m as f64 / (count - 1) as f64;
            let feat: Vec<f64> = base
                .iter()
                .map(|v| (v * (1.0 - t) + t * next()).max(0.0))
                .collect();
            let logits: Vec<f64> = (0..n * k)
                .map(|i| (labels[i / k] as usize == i % k) as u8 as f64 * (1.0 - t) + next())
                .collect();
            ModelInput {
                name: format!("m{m}"),
                method: if m == 0 {
                    "original"
                } else {
                    ["prune", "quant", "coreset"][m % 3]
                }
                .into(),
                parameter: Some(m as f64),
                parameter_name: None,
                accuracy: Some(0.9 - if t < 0.5 { 0.05 * t } else { 0.8 * t }),
                weight_similarity: Some(1.0 - t * t),
                layers: vec![
                    (
                        "feat".into(),
                        Activations::from_rows_f64(n, d, feat).unwrap(),
                    ),
                    (
                        "fc".into(),
                        Activations::from_rows_f64(n, k, logits).unwrap(),
                    ),
                ],
                logits: Some("fc".into()),
                source: format!("m{m}"),
            }
        })
        .collect();
    AnalysisInput {
        models,
        labels: Some((labels, "labels".into())),
    }
}

fn bench(c: &mut Criterion) {
    let report = analyze(&sweep(25, 1), &AnalysisOptions::default()).unwrap();
    let mut group = c.benchmark_group("inference");
    group.sample_size(10);
    group.bench_function("25 models, defaults", |b| {
        b.iter(|| report.with_inference(&InferenceOptions::default()).unwrap())
    });
    let seeds: Vec<u64> = (1..=5).collect();
    let reports: Vec<_> = seeds
        .iter()
        .map(|&s| analyze(&sweep(41, s), &AnalysisOptions::default()).unwrap())
        .collect();
    group.bench_function("pooled, 5 seeds of 41 models, defaults", |b| {
        b.iter(|| summarize_seeds(&seeds, &reports, &InferenceOptions::default()).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
