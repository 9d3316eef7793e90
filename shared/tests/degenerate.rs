//! Degenerate but valid inputs give the documented values (docs/DESIGN.md §2), never NaN.

#![allow(clippy::needless_range_loop)] // matrix code reads best with indices

mod common;
use common::*;
use reps::metrics::{compare_layers, LayerStats};
use reps::{Activations, Values};

fn all_finite(s: &LayerStats) -> bool {
    s.effective_rank.is_finite()
        && s.alive_fraction.is_finite()
        && s.separation_ratio.is_none_or(f64::is_finite)
        && s.decay.slope.is_finite()
        && s.eigenvalues.iter().all(|x| x.is_finite())
}

#[test]
fn all_zero_layer() {
    let a = Activations::from_rows_f64(10, 6, vec![0.0; 60]).unwrap();
    let labels: Vec<u32> = (0..10).map(|i| i % 2).collect();
    let s = LayerStats::compute(&a, Some(&labels), 10).unwrap();
    assert_eq!(s.effective_rank, 0.0);
    assert_eq!(s.alive_fraction, 0.0, "v̄ = 0: every neuron dead");
    assert_eq!(s.separation_ratio, Some(0.0));
    assert_eq!((s.decay.slope, s.decay.r2), (0.0, None));
    // Compared with a healthy reference: ranks and separation 0, CKA 0.
    let mut rng = Rng(9);
    let healthy = Dense::random(&mut rng, 10, 6).activations();
    let r = LayerStats::compute(&healthy, Some(&labels), 10).unwrap();
    let c = compare_layers(&r, &s);
    assert_eq!(c.effective_rank, 0.0);
    assert_eq!(c.alive, 0.0);
    assert_eq!(c.separation, Some(0.0));
    assert_eq!(c.cka, 0.0);
    assert_eq!(c.cka_debiased, Some(0.0));
    // Both dead: similarity 1 where the definition says so.
    let c = compare_layers(&s, &s);
    assert_eq!(
        (c.effective_rank, c.separation, c.cka, c.decay),
        (1.0, Some(1.0), 1.0, 1.0)
    );
}

#[test]
fn constant_columns_are_dead_exactly() {
    // f32 values that do not sum exactly in binary: the shift by the first row makes them 0.
    let mut v = Vec::new();
    for i in 0..7 {
        v.extend([0.1f32, 0.3, i as f32, (i * i) as f32 * 0.37, 0.7]);
    }
    let a = Activations::new(7, vec![5], Values::F32(v.into())).unwrap();
    let s = LayerStats::compute(&a, None, 10).unwrap();
    assert_eq!(s.alive_fraction, 2.0 / 5.0);
    // Two non-constant columns: rank at most 2, so at most 2 non-zero eigenvalues.
    assert!(s.eigenvalues.iter().filter(|&&l| l > 0.0).count() <= 2);
    assert!(all_finite(&s));
    // A fully constant layer has v̄ = 0.
    let c = Activations::new(4, vec![3], Values::F32(vec![0.1; 12].into())).unwrap();
    let s = LayerStats::compute(&c, None, 10).unwrap();
    assert_eq!((s.alive_fraction, s.effective_rank), (0.0, 0.0));
}

#[test]
fn one_class_gives_separation_zero_and_score_one() {
    let mut rng = Rng(5);
    let x = Dense::random(&mut rng, 12, 4).activations();
    let y = Dense::random(&mut rng, 12, 4).activations();
    let labels = vec![3u32; 12];
    let sx = LayerStats::compute(&x, Some(&labels), 10).unwrap();
    let sy = LayerStats::compute(&y, Some(&labels), 10).unwrap();
    assert_eq!(sx.separation_ratio, Some(0.0));
    assert_eq!(compare_layers(&sx, &sy).separation, Some(1.0));
}

#[test]
fn fewer_samples_than_features_and_one_sample() {
    let mut rng = Rng(6);
    // N < D: rank at most N − 1 after centring.
    let x = Dense::random(&mut rng, 5, 50);
    let s = LayerStats::compute(&x.activations(), Some(&[0, 1, 0, 1, 2]), 10).unwrap();
    assert_eq!(s.eigenvalues.len(), 5);
    assert_eq!(s.eigenvalues.iter().filter(|&&l| l > 0.0).count(), 4);
    assert!(all_finite(&s));
    assert_eq!(s.decay.points, 4);
    // N = 1: the centred matrix is zero.
    let one = Dense::random(&mut rng, 1, 8).activations();
    let s = LayerStats::compute(&one, Some(&[0]), 10).unwrap();
    assert_eq!((s.effective_rank, s.alive_fraction), (0.0, 0.0));
    assert_eq!(s.separation_ratio, Some(0.0));
    let c = compare_layers(&s, &s);
    assert_eq!(c.cka_debiased, None, "fewer than 4 samples");
    assert_eq!(c.cka, 1.0);
}

#[test]
fn non_finite_values_are_rejected_with_their_position() {
    let err = Activations::from_rows_f64(2, 2, vec![1.0, 2.0, f64::NAN, 0.0]).unwrap_err();
    assert!(err.to_string().contains("sample 1, feature 0"), "{err}");
    let err =
        Activations::new(1, vec![2], Values::F32(vec![1.0, f32::INFINITY].into())).unwrap_err();
    assert!(err.to_string().contains("non-finite"), "{err}");
}
