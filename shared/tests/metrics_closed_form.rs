//! REPS components against values known in closed form or derived by hand.

#![allow(clippy::needless_range_loop)] // matrix code reads best with indices

mod common;
use common::*;
use reps::metrics::{
    alive_fraction, compare_layers, decay_fit, decay_score, effective_rank, effective_rank_score,
    separation_ratio, separation_score, LayerStats,
};

fn stats(x: &Dense, labels: Option<&[u32]>) -> LayerStats {
    LayerStats::compute(&x.activations(), labels, 10).unwrap()
}

#[test]
fn k_equal_singular_values_give_effective_rank_k() {
    let mut rng = Rng(1);
    for (n, d, k) in [(40, 12, 5), (12, 40, 7), (30, 30, 1), (50, 200, 20)] {
        let x = with_singular_values(&mut rng, n, d, &vec![3.0; k]);
        let s = stats(&x, None);
        assert!(
            (s.effective_rank - k as f64).abs() < 1e-9 * k as f64,
            "N={n} D={d} k={k}: effective rank {}",
            s.effective_rank
        );
        // Exactly k non-zero eigenvalues, each 9.
        let nonzero: Vec<f64> = s.eigenvalues.iter().copied().filter(|&l| l > 0.0).collect();
        assert_eq!(
            nonzero.len(),
            k,
            "eigenvalues {:?}",
            &s.eigenvalues[..k.min(8)]
        );
        assert!(nonzero.iter().all(|l| (l - 9.0).abs() < 1e-9));
    }
}

#[test]
fn effective_rank_by_hand() {
    // s = (3, 1): p = (3/4, 1/4); H = −(3/4 ln 3/4 + 1/4 ln 1/4); r = exp(H).
    let h: f64 = -(0.75f64 * 0.75f64.ln() + 0.25 * 0.25f64.ln());
    assert!((effective_rank(&[9.0, 1.0]) - h.exp()).abs() < 1e-14);
    // Negative eigenvalues (rounding) count as 0; an all-zero spectrum has rank 0.
    assert!((effective_rank(&[4.0, -1e-20]) - 1.0).abs() < 1e-14);
    assert_eq!(effective_rank(&[0.0, 0.0]), 0.0);
    assert_eq!(effective_rank(&[]), 0.0);
    assert_eq!(effective_rank_score(2.0, 4.0), 0.5);
    assert_eq!(effective_rank_score(5.0, 4.0), 1.0);
    assert_eq!(effective_rank_score(3.0, 0.0), 1.0);
}

#[test]
fn exact_power_law_spectrum_gives_its_decay_slope() {
    let mut rng = Rng(2);
    for alpha in [0.5, 1.0, 2.3] {
        // λ_i = i^(−α), so s_i = i^(−α/2).
        let s: Vec<f64> = (1..=12).map(|i| (i as f64).powf(-alpha / 2.0)).collect();
        let x = with_singular_values(&mut rng, 40, 30, &s);
        let st = stats(&x, None);
        assert!(
            (st.decay.slope - alpha).abs() < 1e-9,
            "α={alpha}: δ={}",
            st.decay.slope
        );
        assert!((st.decay.r2.unwrap() - 1.0).abs() < 1e-12);
        assert_eq!(st.decay.points, 10);
    }
    // Fewer than two usable eigenvalues: δ = 0 and no R².
    let f = decay_fit(&[5.0, 1e-14, 0.0], 10);
    assert_eq!((f.slope, f.r2, f.points), (0.0, None, 1));
    // top_m = 3 on λ = (8, 4, 2, 1): ln λ falls by ln 2 per step of ln i... by hand:
    // x = ln(1..3) = (0, .6931, 1.0986), y = ln(8,4,2); slope = Sxy/Sxx.
    let xs = [0.0f64, 2f64.ln(), 3f64.ln()];
    let ys = [8f64.ln(), 4f64.ln(), 2f64.ln()];
    let mx = xs.iter().sum::<f64>() / 3.0;
    let my = ys.iter().sum::<f64>() / 3.0;
    let sxy: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    let f = decay_fit(&[8.0, 4.0, 2.0, 1.0], 3);
    assert!((f.slope + sxy / sxx).abs() < 1e-12);
    assert_eq!(decay_score(1.5, 1.0), 1.0 / 1.5);
    assert_eq!(decay_score(1.0, 1.0), 1.0);
}

#[test]
fn alive_fraction_by_hand() {
    // v̄ = (1 + 1 + 0.005 + 2) / 4 = 1.00125; threshold 0.0100125: one dead column of four.
    assert_eq!(alive_fraction(&[1.0, 1.0, 0.005, 2.0]), 0.75);
    // Exactly at the threshold is alive (strict <).
    assert_eq!(alive_fraction(&[0.01, 0.99]), 1.0 - 0.0);
    assert_eq!(alive_fraction(&[0.0, 0.0]), 0.0);
    assert_eq!(alive_fraction(&[]), 0.0);
}

#[test]
fn separation_by_hand() {
    // Two classes on a line: class 0 at {0, 2}, class 1 at {10, 12}.
    // Centroids 1 and 11: d_inter = 10; each sample is 1 from its centroid: d_intra = 1.
    let x = Dense {
        rows: 4,
        cols: 1,
        v: vec![0.0, 2.0, 10.0, 12.0],
    };
    // ε = 1e-12 · max|x| = 1.2e-11 here; the same points centred (max 6) give ε = 6e-12, and
    // the same points scaled by 1e-20 the same ratio (an absolute ε would give 10 / 1.01).
    let ratio =
        |v: &[f64]| separation_ratio(faer::MatRef::from_row_major_slice(v, 4, 1), &[0, 0, 1, 1]);
    assert!((ratio(&x.v) - 10.0 / (1.0 + 1.2e-11)).abs() < 1e-14);
    assert!((ratio(&[-6.0, -4.0, 4.0, 6.0]) - 10.0 / (1.0 + 6e-12)).abs() < 1e-14);
    let tiny: Vec<f64> = x.v.iter().map(|v| v * 1e-20).collect();
    assert!(
        (ratio(&tiny) - ratio(&x.v)).abs() < 1e-14,
        "{}",
        ratio(&tiny)
    );
    // Every sample on its centroid: d_intra = 0, r = d_inter / ε = 10 / 1.1e-11.
    assert!((ratio(&[1.0, 1.0, 11.0, 11.0]) / (10.0 / 1.1e-11) - 1.0).abs() < 1e-12);
    // All samples equal: d_inter = 0 gives 0, not 0 / 0.
    assert_eq!(ratio(&[3.0; 4]), 0.0);
    // Three classes in 2-D at the corners of a 3-4-5 triangle, two samples each at ±(0.5, 0).
    let pts = [(0.0, 0.0), (3.0, 0.0), (0.0, 4.0)];
    let mut v = Vec::new();
    let mut labels = Vec::new();
    for (k, (px, py)) in pts.iter().enumerate() {
        for dx in [-0.5, 0.5] {
            v.extend([px + dx, *py]);
            labels.push(k as u32);
        }
    }
    let x = Dense {
        rows: 6,
        cols: 2,
        v,
    };
    let r = separation_ratio(faer::MatRef::from_row_major_slice(&x.v, 6, 2), &labels);
    // d_inter = (3 + 4 + 5) / 3 = 4, d_intra = 0.5.
    assert!((r - 8.0).abs() < 1e-9, "{r}");
    assert_eq!(separation_score(4.0, 8.0), 0.5);
    assert_eq!(separation_score(9.0, 8.0), 1.0);
    assert_eq!(separation_score(1.0, 0.0), 1.0);
}

#[test]
fn well_separated_clusters_give_a_large_separation_ratio() {
    let mut rng = Rng(3);
    let (n, d, classes) = (100, 16, 5);
    let centers = Dense::random(&mut rng, classes, d).scale(100.0);
    let mut x = Dense::random(&mut rng, n, d);
    let labels: Vec<u32> = (0..n).map(|i| (i % classes) as u32).collect();
    for i in 0..n {
        for j in 0..d {
            x.v[i * d + j] += centers.at(labels[i] as usize, j);
        }
    }
    let sep = stats(&x, Some(&labels)).separation_ratio.unwrap();
    // Centres ~100·sqrt(2·16) ≈ 566 apart, noise radius ~sqrt(16) = 4: ratio above 50.
    assert!(sep > 50.0, "separation ratio {sep}");
    // Shuffled labels destroy the structure.
    // Groups by i / 5 (mod 5): every group holds one sample of each true class.
    let shuffled: Vec<u32> = (0..n).map(|i| ((i / classes) % classes) as u32).collect();
    let mixed = stats(&x, Some(&shuffled)).separation_ratio.unwrap();
    assert!(mixed < 1.0, "shuffled separation ratio {mixed}");
}

#[test]
fn a_model_compared_with_itself_scores_exactly_one() {
    let mut rng = Rng(4);
    for (n, d) in [(30, 8), (8, 30), (20, 20)] {
        let x = Dense::random(&mut rng, n, d);
        let labels: Vec<u32> = (0..n).map(|i| (i % 3) as u32).collect();
        let s = stats(&x, Some(&labels));
        let c = compare_layers(&s, &s);
        assert_eq!(c.effective_rank, 1.0);
        assert_eq!(c.separation, Some(1.0));
        assert_eq!(c.decay, 1.0);
        assert_eq!(c.cka, 1.0, "N={n} D={d}");
        assert_eq!(c.cka_debiased, Some(1.0), "N={n} D={d}");
        // A separately computed copy of the same data gives the same.
        let s2 = stats(&x.clone(), Some(&labels));
        let c2 = compare_layers(&s, &s2);
        assert_eq!(c2.cka, 1.0);
        assert_eq!(c2.reps_equal, c.reps_equal);
    }
}

#[test]
fn separation_ratio_equals_a_direct_row_by_row_computation() {
    // Labels out of order, with gaps and classes of different sizes (one of a single sample):
    // the one-pass column walk must give what the definition computed sample by sample gives.
    let mut rng = Rng(11);
    let (n, d) = (37, 45);
    let x = Dense::random(&mut rng, n, d);
    let labels: Vec<u32> = (0..n)
        .map(|i| [7, 2, 9, 2, 40][(i * 7 + i / 3) % 5])
        .collect();
    let mut labels = labels;
    labels[5] = 13;
    let mut classes = labels.clone();
    classes.sort_unstable();
    classes.dedup();
    let centroid = |c: u32| -> Vec<f64> {
        let rows: Vec<usize> = (0..n).filter(|&i| labels[i] == c).collect();
        (0..d)
            .map(|j| rows.iter().map(|&i| x.at(i, j)).sum::<f64>() / rows.len() as f64)
            .collect()
    };
    let dist = |a: &[f64], b: &[f64]| -> f64 {
        a.iter()
            .zip(b)
            .map(|(p, q)| (p - q) * (p - q))
            .sum::<f64>()
            .sqrt()
    };
    let cents: Vec<Vec<f64>> = classes.iter().map(|&c| centroid(c)).collect();
    let d_intra = classes
        .iter()
        .zip(&cents)
        .map(|(&c, cent)| {
            let rows: Vec<usize> = (0..n).filter(|&i| labels[i] == c).collect();
            rows.iter()
                .map(|&i| dist(&(0..d).map(|j| x.at(i, j)).collect::<Vec<_>>(), cent))
                .sum::<f64>()
                / rows.len() as f64
        })
        .sum::<f64>()
        / classes.len() as f64;
    let mut inter = Vec::new();
    for p in 0..cents.len() {
        for q in p + 1..cents.len() {
            inter.push(dist(&cents[p], &cents[q]));
        }
    }
    let d_inter = inter.iter().sum::<f64>() / inter.len() as f64;
    let max_abs = x.v.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let want = d_inter / (d_intra + 1e-12 * max_abs);
    let got = separation_ratio(faer::MatRef::from_row_major_slice(&x.v, n, d), &labels);
    assert!((got - want).abs() <= 1e-12 * want, "{got} vs {want}");
}
