//! The pooled inference over seeds (`summarize_seeds`) on two constructed sweeps whose values are
//! known: pooled correlations and claims against values computed here, the cluster-bootstrap
//! interval against an independent resampling written here, and one seed against the sweep's
//! own report.

mod common;

use common::reports::{model, report};
use common::Rng;
use reps::analysis::{summarize_seeds, InferenceOptions, ModelReport, Report, Verdict};

/// Seed `k`'s sweep: five pruned and three quantized models. In seed 0 the representation
/// scores follow the accuracy drop closely; in seed 1 loosely (a fifth of the slope, more
/// noise). Prediction agreement is noise around 0.9 in both.
fn sweep(k: usize) -> Report {
    let mut rng = Rng(100 + k as u64);
    let levels: [(&str, f64, f64); 8] = [
        ("prune", 0.1, 0.01),
        ("prune", 0.3, 0.02 + 0.04 * k as f64),
        ("prune", 0.5, 0.30),
        ("prune", 0.7, 0.50),
        ("prune", 0.9, 0.70),
        ("quant", 8.0, 0.00),
        ("quant", 4.0, 0.03),
        ("quant", 2.0, 0.60),
    ];
    let (slope, noise) = [(1.0, 0.02), (0.2, 0.12)][k];
    report(
        levels
            .iter()
            .map(|&(method, p, drop)| {
                let sim = 1.0 - slope * drop + noise * (rng.uniform() - 0.5);
                let agree = 0.9 + 0.05 * (rng.uniform() - 0.5);
                model(&format!("{method}-{p}"), method, p, drop, sim, agree)
            })
            .collect(),
    )
}

fn options() -> InferenceOptions {
    InferenceOptions {
        bootstrap: 20_000,
        permutations: 2_000,
        ..InferenceOptions::default()
    }
}

fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    sxy / (sxx * syy).sqrt()
}

/// numpy's default percentile (linear interpolation) of sorted values.
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// The compressed models of each sweep: `(sim, agreement, drop)`.
fn values(reports: &[Report]) -> Vec<Vec<(f64, f64, f64)>> {
    reports
        .iter()
        .map(|r| {
            r.models[1..]
                .iter()
                .map(|m: &ModelReport| {
                    (
                        m.reps_equal.unwrap(),
                        m.baselines.prediction_agreement.unwrap(),
                        m.accuracy_drop.unwrap(),
                    )
                })
                .collect()
        })
        .collect()
}

/// An independent two-stage cluster bootstrap: `b` resamples, each drawing clusters with
/// replacement and then members within each; returns the 95% percentile intervals of
/// `PLCC(sim, drop)` and of `|PLCC(sim, drop)| − |PLCC(agreement, drop)|`.
fn cluster_intervals(clusters: &[Vec<(f64, f64, f64)>], b: usize) -> ([f64; 2], [f64; 2]) {
    let mut rng = Rng(7);
    let below = |rng: &mut Rng, n: usize| (rng.uniform() * n as f64) as usize;
    let (mut plcc, mut diff) = (Vec::new(), Vec::new());
    for _ in 0..b {
        let mut draw = Vec::new();
        for _ in 0..clusters.len() {
            let c = &clusters[below(&mut rng, clusters.len())];
            for _ in 0..c.len() {
                draw.push(c[below(&mut rng, c.len())]);
            }
        }
        let sim: Vec<f64> = draw.iter().map(|v| v.0).collect();
        let agree: Vec<f64> = draw.iter().map(|v| v.1).collect();
        let drop: Vec<f64> = draw.iter().map(|v| v.2).collect();
        let (r, a) = (pearson(&sim, &drop), pearson(&agree, &drop));
        if r.is_finite() && a.is_finite() {
            plcc.push(r);
            diff.push(r.abs() - a.abs());
        }
    }
    let interval = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        [percentile(&v, 0.025), percentile(&v, 0.975)]
    };
    (interval(plcc), interval(diff))
}

#[test]
fn pooled_correlations_intervals_and_claims_match_an_independent_computation() {
    let reports = [sweep(0), sweep(1)];
    let s = summarize_seeds(&[42, 43], &reports, &options()).unwrap();
    let v = values(&reports);
    let all: Vec<(f64, f64, f64)> = v.concat();
    let sim: Vec<f64> = all.iter().map(|x| x.0).collect();
    let drop: Vec<f64> = all.iter().map(|x| x.2).collect();

    // The pooled PLCC is one correlation over the 16 compressed models.
    let pooled = &s.correlations.get("reps_equal").unwrap().pooled;
    let want = pearson(&sim, &drop);
    assert!((pooled.plcc.unwrap() - want).abs() < 1e-12, "{pooled:?}");
    assert!(pooled.plcc_p.is_some());

    // Its interval and the paired difference against agreement, within Monte-Carlo error of
    // an independent cluster bootstrap.
    let (want_ci, want_diff) = cluster_intervals(&v, 40_000);
    let got_ci = pooled.plcc_ci.unwrap();
    let cmp = s
        .comparisons
        .get("reps_equal_vs_prediction_agreement")
        .unwrap();
    let got_diff = cmp.diff_ci.unwrap();
    for (got, want) in [(got_ci, want_ci), (got_diff, want_diff)] {
        for e in 0..2 {
            assert!(
                (got[e] - want[e]).abs() < 0.02,
                "got {got:?}, independent {want:?}"
            );
        }
    }
    // Resampling models alone, ignoring the seeds, gives another interval, outside that
    // tolerance: the test tells the two schemes apart.
    let flat = report(
        reports
            .iter()
            .flat_map(|r| r.models[1..].iter().cloned())
            .enumerate()
            .map(|(i, m)| ModelReport {
                name: format!("m{i}"),
                ..m
            })
            .collect(),
    )
    .with_inference(&options())
    .unwrap();
    let flat_ci = flat
        .correlations
        .get("reps_equal")
        .unwrap()
        .plcc_ci
        .unwrap();
    assert!(
        (0..2).any(|e| (flat_ci[e] - want_ci[e]).abs() > 0.05),
        "models alone {flat_ci:?}, by seed {want_ci:?}"
    );

    // Claims: REPS beats agreement exactly when the independent interval lies above 0.
    let claim = |id: &str| s.claims.iter().find(|c| c.id == id).unwrap();
    assert!(want_diff[0] > 0.05, "{want_diff:?}");
    assert_eq!(
        claim("reps_beats_prediction_agreement").verdict,
        Verdict::Holds
    );
    // Stable then cliff on the mean drop per level: prune's mean drops are 0.01, 0.04 (seed 1
    // alone: 0.06, not stable), 0.30: stable up to ratio 0.3, then a cliff.
    let prune = claim("stable_then_cliff:prune");
    assert_eq!(prune.verdict, Verdict::Holds, "{}", prune.evidence);
    assert!(
        prune
            .evidence
            .contains("ratio 0.3 (mean drop 0.040 over 2 models)")
            && prune
                .evidence
                .contains("ratio 0.5 (mean drop 0.300 over 2 models)"),
        "{}",
        prune.evidence
    );
    let one_seed = summarize_seeds(&[43], &reports[1..], &options()).unwrap();
    let alone = one_seed
        .claims
        .iter()
        .find(|c| c.id == "stable_then_cliff:prune")
        .unwrap();
    assert_eq!(alone.verdict, Verdict::Fails, "{}", alone.evidence);
}

/// With one seed, the pooled statistics are the sweep's own: the same resamples, the same
/// numbers, bit for bit.
#[test]
fn one_seed_pools_to_the_sweeps_own_report() {
    let own = sweep(1).with_inference(&options()).unwrap();
    let s = summarize_seeds(&[7], std::slice::from_ref(&own), &options()).unwrap();
    assert_eq!(s.claims_per_seed, std::slice::from_ref(&own.claims));
    for (key, c) in own.correlations.iter() {
        assert_eq!(&s.correlations.get(key).unwrap().pooled, c, "{key}");
    }
    assert_eq!(s.comparisons, own.comparisons);
    assert_eq!(s.sensitivity, own.sensitivity);
    assert_eq!(s.claims, own.claims);
    assert_eq!(
        s.correlations_stable.unwrap().correlations,
        own.correlations_stable.unwrap().correlations
    );
    assert_eq!(s.inference, Some(options()));
}

#[test]
fn reports_that_cannot_be_pooled_are_refused() {
    let a = sweep(0);
    let mut b = sweep(1);
    b.layers = vec!["layer3".into()];
    let e = summarize_seeds(&[1, 2], &[a.clone(), b], &options()).unwrap_err();
    assert!(
        e.to_string().contains("seed 2 analyses layers layer3"),
        "{e}"
    );
    let e = summarize_seeds(&[1, 1], &[a.clone(), a.clone()], &options()).unwrap_err();
    assert!(e.to_string().contains("seed 1 is given twice"), "{e}");
    // A summary written before the pooled inference existed still reads, without it.
    let mut old = serde_json::to_value(summarize_seeds(&[1], &[a], &options()).unwrap()).unwrap();
    for k in [
        "inference",
        "comparisons",
        "correlations_stable",
        "sensitivity",
        "claims",
    ] {
        old.as_object_mut().unwrap().remove(k);
    }
    let back =
        reps::analysis::SeedSummary::from_json("old.json", old.to_string().as_bytes()).unwrap();
    assert!(back.inference.is_none() && back.claims.is_empty());
}

/// `results.json` files pooled: in the order of their seeds whatever order they come in, and
/// refused, naming the file and the setting, when more than the seed differs.
#[test]
fn results_files_pool_in_seed_order_and_other_settings_are_refused() {
    let results = |seed: u64, width: u64, r: &Report| {
        serde_json::to_vec(&serde_json::json!({
            "config": { "seed": seed, "width": width, "epochs": 5 },
            "report": r,
        }))
        .unwrap()
    };
    let (a, b) = (sweep(0), sweep(1));
    let (ra, rb) = (results(43, 16, &a), results(42, 16, &b));
    let opts = InferenceOptions {
        bootstrap: 500,
        permutations: 500,
        ..InferenceOptions::default()
    };
    let pooled = reps::analysis::pool_results(&[("a.json", &ra), ("b.json", &rb)], &opts).unwrap();
    let reversed =
        reps::analysis::pool_results(&[("b.json", &rb), ("a.json", &ra)], &opts).unwrap();
    assert_eq!(pooled, reversed);
    assert_eq!(
        pooled,
        summarize_seeds(&[42, 43], &[b, a.clone()], &opts).unwrap()
    );

    let wide = results(44, 32, &a);
    let e = reps::analysis::pool_results(&[("a.json", &ra), ("w.json", &wide)], &opts)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("w.json: made with width 32, but a.json with width 16"),
        "{e}"
    );
    let again = results(43, 16, &a);
    let e = reps::analysis::pool_results(&[("a.json", &ra), ("c.json", &again)], &opts)
        .unwrap_err()
        .to_string();
    assert!(e.contains("c.json: made with seed 43, as a.json is"), "{e}");
    let e = reps::analysis::pool_results(&[("x.json", b"{\"report\": 1}")], &opts)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("x.json: not the results.json of a sweep"),
        "{e}"
    );
}
