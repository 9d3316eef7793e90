//! The full per-layer report (all four REPS components and both CKA estimates, for a reference and a
//! compressed layer) on the sizes of docs/DESIGN.md §6. `bench/compare_numpy.py` times numpy on the same
//! computation and prints the ratio.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use reps::metrics::{compare_layers, LayerStats};
use reps::{Activations, Values};

/// Deterministic ReLU-like activations with class structure.
fn activations(n: usize, d: usize, seed: u64) -> (Activations, Vec<u32>) {
    let mut s = seed;
    let mut next = move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    let labels: Vec<u32> = (0..n as u32).map(|i| i % 10).collect();
    let v: Vec<f32> = (0..n * d)
        .map(|i| (next() + 0.05 * labels[i / d] as f32 * ((i % d) % 7) as f32).max(0.0))
        .collect();
    (
        Activations::new(n, vec![d], Values::F32(v.into())).unwrap(),
        labels,
    )
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("layer_report");
    group.sample_size(10);
    for (n, d) in [(200usize, 8192usize), (200, 10), (2000, 2048)] {
        let (x, labels) = activations(n, d, 1);
        let (y, _) = activations(n, d, 2);
        group.bench_with_input(
            BenchmarkId::from_parameter(format!("{n}x{d}")),
            &(x, y),
            |b, (x, y)| {
                b.iter(|| {
                    let sx = LayerStats::compute(x, Some(&labels), 10).unwrap();
                    let sy = LayerStats::compute(y, Some(&labels), 10).unwrap();
                    compare_layers(&sx, &sy)
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
