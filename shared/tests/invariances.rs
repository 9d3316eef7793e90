//! Property tests: what orthogonal transforms, uniform scaling and permutations must leave unchanged,
//! and CKA against an independent implementation (explicit Gram matrices, Kornblith-style centring).

#![allow(clippy::needless_range_loop)] // matrix code reads best with indices

mod common;
use common::*;
use proptest::prelude::*;
use reps::metrics::{linear_cka, linear_cka_debiased, LayerStats};

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
}

fn stats(x: &Dense, labels: &[u32]) -> LayerStats {
    LayerStats::compute(&x.activations(), Some(labels), 10).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Effective rank, separation ratio, decay slope and CKA are invariant under X → c·X·Q
    /// (Q orthogonal, c > 0); the alive fraction under uniform scaling.
    #[test]
    fn rotation_and_scaling_invariance(seed in 0u64..10_000, n in 5usize..40, d in 2usize..24, c in 0.01f64..100.0) {
        let mut rng = Rng(seed);
        let x = Dense::random(&mut rng, n, d);
        let q = random_orthogonal(&mut rng, d);
        let y = x.matmul(&q).scale(c);
        let labels: Vec<u32> = (0..n).map(|i| (i % 3) as u32).collect();
        let (sx, sy) = (stats(&x, &labels), stats(&y, &labels));
        // Gram-based spectra resolve singular values only down to ~sqrt(ε)·s₁, so invariance holds
        // to ~1e-7 rather than to the last digit.
        prop_assert!(close(sx.effective_rank, sy.effective_rank, 1e-7), "{} vs {}", sx.effective_rank, sy.effective_rank);
        prop_assert!(close(sx.separation_ratio.unwrap(), sy.separation_ratio.unwrap(), 1e-9));
        prop_assert!(close(sx.decay.slope, sy.decay.slope, 1e-7));
        let z = x.scale(c);
        prop_assert_eq!(stats(&z, &labels).alive_fraction, sx.alive_fraction);
        // CKA(X, Y) with Y a rotated, scaled X is 1, and CKA is symmetric and invariant.
        let other = Dense::random(&mut rng, n, d);
        let base = linear_cka(&x.activations(), &other.activations()).unwrap();
        let moved = linear_cka(&y.activations(), &other.activations()).unwrap();
        prop_assert!(close(base, moved, 1e-9), "{base} vs {moved}");
        prop_assert!(close(linear_cka(&x.activations(), &y.activations()).unwrap(), 1.0, 1e-9));
        let sym = linear_cka(&other.activations(), &x.activations()).unwrap();
        prop_assert!(close(base, sym, 1e-12));
    }

    /// A signed permutation of the features is orthogonal and keeps every column's variance:
    /// the alive fraction is invariant under it (a general rotation mixes neurons, and may not be).
    #[test]
    fn alive_fraction_invariant_under_signed_permutation(seed in 0u64..10_000, n in 3usize..30, d in 2usize..20) {
        let mut rng = Rng(seed);
        let mut x = Dense::random(&mut rng, n, d);
        // Live neurons vary clearly (a 0-1-2 pattern plus noise), every third one is dead.
        for j in 0..d {
            for i in 0..n {
                let v = if j % 3 == 0 { 0.7 } else { (i % 3) as f64 + 0.05 * x.at(i, j) };
                x.set(i, j, v);
            }
        }
        let perm: Vec<usize> = (0..d).map(|j| (j * 5 + 1) % d).collect();
        let mut y = Dense::zeros(n, d);
        let bijective = { let mut p = perm.clone(); p.sort(); p.dedup(); p.len() == d };
        prop_assume!(bijective);
        for i in 0..n {
            for j in 0..d {
                let sign = if j % 2 == 0 { -1.0 } else { 1.0 };
                y.set(i, perm[j], sign * x.at(i, j));
            }
        }
        let labels = vec![0u32; n];
        prop_assert_eq!(stats(&x, &labels).alive_fraction, stats(&y, &labels).alive_fraction);
        let dead = (0..d).step_by(3).count();
        prop_assert!(close(stats(&x, &labels).alive_fraction, 1.0 - dead as f64 / d as f64, 1e-12));
    }

    /// Biased and debiased linear CKA equal an independent implementation: explicit N × N Gram
    /// matrices of the *uncentred* data, centred with H = I − 11ᵀ/n (biased), or with the unbiased
    /// estimator of Song et al. written out in full (debiased).
    #[test]
    fn cka_matches_independent_gram_implementation(seed in 0u64..10_000, n in 4usize..30, dx in 1usize..20, dy in 1usize..20) {
        let mut rng = Rng(seed);
        let x = Dense::random(&mut rng, n, dx);
        let mut y = Dense::random(&mut rng, n, dy);
        // Make y partly depend on x so that CKA is not near 0.
        for i in 0..n { y.v[i * dy] += 2.0 * x.at(i, 0) + 3.0; }
        let (biased, debiased) = reference_cka(&x, &y);
        let ours = linear_cka(&x.activations(), &y.activations()).unwrap();
        prop_assert!(close(ours, biased, 1e-9), "biased {ours} vs {biased}");
        let ours_d = linear_cka_debiased(&x.activations(), &y.activations()).unwrap();
        match (ours_d, debiased) {
            (Some(a), Some(b)) => prop_assert!(close(a, b, 1e-7), "debiased {a} vs {b}"),
            (a, b) => prop_assert_eq!(a.is_some(), b.is_some(), "{:?} vs {:?}", a, b),
        }
    }
}

fn gram(x: &Dense) -> Vec<Vec<f64>> {
    (0..x.rows)
        .map(|i| {
            (0..x.rows)
                .map(|j| (0..x.cols).map(|k| x.at(i, k) * x.at(j, k)).sum())
                .collect()
        })
        .collect()
}

/// Biased CKA = HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L)) with HSIC = tr(KHLH);
/// debiased with HSIC_1 = [tr(K̃L̃) + 1ᵀK̃1 1ᵀL̃1 / ((n−1)(n−2)) − 2/(n−2) 1ᵀK̃L̃1] / (n(n−3)),
/// K̃ = K with zero diagonal (Song et al. 2012), on the raw (uncentred) Gram matrices.
fn reference_cka(x: &Dense, y: &Dense) -> (f64, Option<f64>) {
    let n = x.rows;
    let (k, l) = (gram(x), gram(y));
    let center = |m: &Vec<Vec<f64>>| -> Vec<Vec<f64>> {
        let rm: Vec<f64> = m.iter().map(|r| r.iter().sum::<f64>() / n as f64).collect();
        let all = rm.iter().sum::<f64>() / n as f64;
        (0..n)
            .map(|i| (0..n).map(|j| m[i][j] - rm[i] - rm[j] + all).collect())
            .collect()
    };
    let tr = |a: &Vec<Vec<f64>>, b: &Vec<Vec<f64>>| -> f64 {
        (0..n)
            .map(|i| (0..n).map(|j| a[i][j] * b[j][i]).sum::<f64>())
            .sum()
    };
    let (kc, lc) = (center(&k), center(&l));
    let biased = tr(&kc, &lc) / (tr(&kc, &kc) * tr(&lc, &lc)).sqrt();
    let hsic1 = |a: &Vec<Vec<f64>>, b: &Vec<Vec<f64>>| -> f64 {
        let nf = n as f64;
        let mut at = a.clone();
        let mut bt = b.clone();
        for i in 0..n {
            at[i][i] = 0.0;
            bt[i][i] = 0.0;
        }
        let sa: f64 = at.iter().flatten().sum();
        let sb: f64 = bt.iter().flatten().sum();
        let a1: Vec<f64> = at.iter().map(|r| r.iter().sum()).collect();
        let b1: Vec<f64> = bt.iter().map(|r| r.iter().sum()).collect();
        let cross: f64 = a1.iter().zip(&b1).map(|(p, q)| p * q).sum();
        (tr(&at, &bt) + sa * sb / ((nf - 1.0) * (nf - 2.0)) - 2.0 / (nf - 2.0) * cross)
            / (nf * (nf - 3.0))
    };
    let (hxy, hxx, hyy) = (hsic1(&k, &l), hsic1(&k, &k), hsic1(&l, &l));
    let debiased = (hxx > 0.0 && hyy > 0.0).then(|| hxy / (hxx * hyy).sqrt());
    (biased, debiased)
}
