//! The report's inference on constructed sweeps whose answers are known: a score carried by two
//! collapsed models, two identical scores, the stable-then-cliff claims read by hand, and
//! reproducibility from the seed.

mod common;

use common::reports::{model, report};
use reps::analysis::{InferenceOptions, ModelReport, Report, Verdict};

fn options() -> InferenceOptions {
    InferenceOptions {
        bootstrap: 2000,
        permutations: 2000,
        ..InferenceOptions::default()
    }
}

/// 22 models near the reference (drops 0 to 0.042) whose score is unrelated to the drop (PLCC
/// 0.05 by numpy), and two collapsed models with drops 0.7 and 0.8 and low scores.
fn carried_by_two() -> Report {
    let mut models: Vec<ModelReport> = (0..22)
        .map(|i| {
            let noise = ((i * 7) % 11) as f64 / 11.0;
            model(
                &format!("p{i}"),
                "prune",
                i as f64,
                0.002 * i as f64,
                0.9 + 0.01 * noise,
                0.95,
            )
        })
        .collect();
    models.push(model("c1", "coreset", 0.1, 0.7, 0.3, 0.4));
    models.push(model("c2", "coreset", 0.01, 0.8, 0.25, 0.3));
    report(models)
}

#[test]
fn a_score_carried_by_two_collapsed_models_is_not_significant_in_the_stable_regime() {
    let r = carried_by_two().with_inference(&options()).unwrap();
    let full = r.correlations.get("reps_equal").unwrap();
    // numpy: corrcoef over all 24 models = −0.99757.
    assert!((full.plcc.unwrap() + 0.9975735910899678).abs() < 1e-12);
    assert!(full.plcc_p.unwrap() < 0.01, "{full:?}");
    let stable = r.correlations_stable.as_ref().unwrap();
    assert_eq!(stable.models.len(), 22);
    assert!(!stable.models.contains(&"c1".to_string()));
    let s = stable.correlations.get("reps_equal").unwrap();
    // numpy/scipy over the 22: PLCC = SRCC = 0.0498, scipy's asymptotic p 0.83.
    assert!((s.plcc.unwrap() - 0.049844478627924356).abs() < 1e-12);
    assert!(s.plcc_p.unwrap() > 0.05, "{s:?}");
    let [lo, hi] = s.plcc_ci.unwrap();
    assert!(lo < 0.0 && hi > 0.0, "{lo} {hi}");
}

#[test]
fn identical_scores_differ_by_nothing_and_the_claim_is_undecided() {
    // Prediction agreement equal to every representation score.
    let models = carried_by_two()
        .models
        .into_iter()
        .skip(1)
        .map(|mut m| {
            m.baselines.prediction_agreement = m.reps_equal;
            m
        })
        .collect();
    let r = report(models).with_inference(&options()).unwrap();
    let c = r
        .comparisons
        .get("reps_equal_vs_prediction_agreement")
        .unwrap();
    assert_eq!(c.diff, Some(0.0));
    assert_eq!(c.diff_ci, Some([0.0, 0.0]));
    assert_eq!(c.steiger_p, None);
    assert!(c.reason.as_deref().unwrap().contains("same up to scale"));
    let claim = r
        .claims
        .iter()
        .find(|c| c.id == "reps_beats_prediction_agreement")
        .unwrap();
    assert_eq!(claim.verdict, Verdict::Undecided);
    // REPS (equal) ties with REPS (weighted), CKA and the components too: not the strongest.
    let strongest = r
        .claims
        .iter()
        .find(|c| c.id == "reps_strongest_plcc")
        .unwrap();
    assert_eq!(strongest.verdict, Verdict::Undecided);
}

#[test]
fn stable_then_cliff_read_by_hand() {
    let r = report(vec![
        // prune: stable at ratios 0.1 and 0.3, then 0.3 at 0.5: a cliff after ratio 0.3.
        model("p5", "prune", 0.5, 0.3, 0.5, 0.5),
        model("p1", "prune", 0.1, 0.0, 0.9, 0.9),
        model("p3", "prune", 0.3, 0.01, 0.85, 0.9),
        // coreset: stable at fraction 0.8, then 0.06 at 0.5: a decline, not a cliff.
        model("c8", "coreset", 0.8, 0.02, 0.9, 0.9),
        model("c5", "coreset", 0.5, 0.06, 0.8, 0.8),
        model("c1", "coreset", 0.1, 0.5, 0.4, 0.4),
        // quant: every level stable.
        model("q8", "quant", 8.0, 0.0, 0.95, 0.95),
        model("q4", "quant", 4.0, 0.04, 0.9, 0.9),
        // an unknown parameter has no order.
        {
            let mut m = model("t2", "distill", 2.0, 0.2, 0.6, 0.6);
            m.parameter_name = Some("temperature".into());
            m
        },
    ])
    .with_inference(&options())
    .unwrap();
    let verdict = |id: &str| {
        let c = r.claims.iter().find(|c| c.id == id).unwrap();
        (c.verdict, c.evidence.clone())
    };
    let (v, e) = verdict("stable_then_cliff:prune");
    assert_eq!(v, Verdict::Holds);
    assert!(
        e.contains("ratio 0.3") && e.contains("ratio 0.5 (drop 0.300)"),
        "{e}"
    );
    let (v, e) = verdict("stable_then_cliff:coreset");
    assert_eq!(v, Verdict::Fails);
    assert!(
        e.contains("fraction 0.8") && e.contains("fraction 0.5 (drop 0.060)"),
        "{e}"
    );
    assert_eq!(verdict("stable_then_cliff:quant").0, Verdict::Undecided);
    let (v, e) = verdict("stable_then_cliff:distill");
    assert_eq!(v, Verdict::Undecided);
    assert!(e.contains("temperature"), "{e}");
    // Five models have a drop of at most 0.05 (p1, p3, c8, q8, q4).
    let stable = r.correlations_stable.as_ref().unwrap();
    assert_eq!(stable.models, ["p1", "p3", "c8", "q8", "q4"]);
}

#[test]
fn too_few_stable_models_or_no_accuracy_give_reasons_not_numbers() {
    let few = report(vec![
        model("a", "prune", 0.1, 0.01, 0.9, 0.9),
        model("b", "prune", 0.5, 0.3, 0.5, 0.5),
        model("c", "prune", 0.9, 0.6, 0.2, 0.3),
        model("d", "prune", 0.95, 0.7, 0.1, 0.2),
    ])
    .with_inference(&options())
    .unwrap();
    let s = few.correlations_stable.unwrap();
    assert_eq!(s.models, ["a"]);
    assert!(s.reason.unwrap().contains("at least 4"));
    assert!(s.correlations.0.is_empty());

    let mut unknown = carried_by_two();
    for m in &mut unknown.models {
        m.accuracy = None;
        m.accuracy_drop = None;
    }
    let r = unknown.with_inference(&options()).unwrap();
    assert!(r.comparisons.0.is_empty());
    assert!(!r.claims.is_empty());
    assert!(r.claims.iter().all(|c| c.verdict == Verdict::Undecided));
}

#[test]
fn the_seed_fixes_every_number() {
    let base = carried_by_two();
    let a = base.with_inference(&options()).unwrap();
    let b = base.with_inference(&options()).unwrap();
    assert_eq!(a, b);
    let other = base
        .with_inference(&InferenceOptions {
            seed: 1,
            ..options()
        })
        .unwrap();
    let ci = |r: &Report| r.correlations.get("reps_equal").unwrap().plcc_ci;
    assert_ne!(ci(&a), ci(&other));
    // A bad stable-regime threshold is refused by name.
    let err = base
        .with_inference(&InferenceOptions {
            stable_drop: f64::NAN,
            ..options()
        })
        .unwrap_err();
    assert!(matches!(
        err,
        reps::RepsError::Option {
            option: "stable_drop",
            ..
        }
    ));
}

/// The inputs and the numbers of `tests/golden/inference-seed7.json`: the browser test
/// (web/tests/in_browser.rs) checks that WebAssembly gives these same bits from the same seed.
/// The values come from this function on a native target (their agreement with scipy is
/// checked in tests/tests/statistics.rs); `REPS_UPDATE_GOLDEN=1` rewrites the file.
#[test]
fn the_seed_gives_the_same_bits_as_the_golden_file() {
    use reps::stats::{infer_correlations, Correlations};
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/golden/inference-seed7.json"
    );
    let x: Vec<f64> = (0..20)
        .map(|i| 1.0 - 0.01 * i as f64 + 0.2 * ((i * 5 % 7) as f64 / 7.0))
        .collect();
    let y: Vec<f64> = (0..20)
        .map(|i| 0.02 * i as f64 + if i > 15 { 0.4 } else { 0.0 })
        .collect();
    let got = infer_correlations(&x, &y, 2000, 2000, 7, 0.95);
    if std::env::var_os("REPS_UPDATE_GOLDEN").is_some() {
        let v = serde_json::json!({ "x": x, "y": y, "resamples": 2000, "permutations": 2000, "seed": 7, "correlations": got });
        std::fs::write(path, serde_json::to_string_pretty(&v).unwrap() + "\n").unwrap();
    }
    let golden: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let want: Correlations = serde_json::from_value(golden["correlations"].clone()).unwrap();
    assert_eq!(got, want);
    assert!(want.plcc_ci.is_some() && want.krcc_p.is_some());
}

/// Per-model intervals over resampled samples: a model identical to the reference has REPS 1 on
/// every resample, so its interval is [1, 1]; a noisier model's interval has width and lies below
/// 1; the seed fixes the numbers; zero resamples is refused by name.
#[test]
fn sample_bootstrap_gives_a_copy_of_the_reference_the_interval_one_one() {
    use reps::analysis::{analyze, sample_bootstrap, ModelInput};
    use reps::{Activations, AnalysisInput, AnalysisOptions};
    let (n, d) = (40usize, 6usize);
    let mut s = 9u64;
    let mut next = move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let labels: Vec<u32> = (0..n as u32).map(|i| i % 4).collect();
    // Every feature varies (alive) and carries the class.
    let reference: Vec<f64> = (0..n * d)
        .map(|i| 0.2 + labels[i / d] as f64 * ((i % d) as f64 + 1.0) + next())
        .collect();
    let noisy: Vec<f64> = reference.iter().map(|v| v + 3.0 * next()).collect();
    let model = |name: &str, values: Vec<f64>| ModelInput {
        name: name.into(),
        method: "test".into(),
        parameter: None,
        parameter_name: None,
        accuracy: None,
        weight_similarity: None,
        layers: vec![(
            "feat".into(),
            Activations::from_rows_f64(n, d, values).unwrap(),
        )],
        logits: None,
        source: format!("{name}.npz"),
    };
    let input = AnalysisInput {
        models: vec![
            model("ref", reference.clone()),
            model("copy", reference),
            model("noisy", noisy),
        ],
        labels: Some((labels, "labels.npy".into())),
    };
    let mut report = analyze(&input, &AnalysisOptions::default()).unwrap();
    let mut again = report.clone();
    sample_bootstrap(&input, &mut report, 40, 3, &mut |_, _| {}).unwrap();
    sample_bootstrap(&input, &mut again, 40, 3, &mut |_, _| {}).unwrap();
    assert_eq!(report, again);
    let ci = |name: &str| {
        report
            .models
            .iter()
            .find(|m| m.name == name)
            .unwrap()
            .reps_ci
            .unwrap()
    };
    for name in ["ref", "copy"] {
        let [lo, hi] = ci(name);
        assert!(
            (lo - 1.0).abs() < 1e-12 && (hi - 1.0).abs() < 1e-12,
            "{name}: {lo} {hi}"
        );
    }
    let [lo, hi] = ci("noisy");
    assert!(lo < hi && hi < 1.0, "noisy: [{lo}, {hi}]");
    let err = sample_bootstrap(&input, &mut report, 0, 3, &mut |_, _| {}).unwrap_err();
    assert!(matches!(
        err,
        reps::RepsError::Option {
            option: "sample_bootstrap",
            ..
        }
    ));
}
