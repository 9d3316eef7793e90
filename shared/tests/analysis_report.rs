//! The full analysis: label sources, the reference row, accuracy fallbacks, correlations, and
//! inconsistent inputs.

#![allow(clippy::needless_range_loop)] // matrix code reads best with indices

mod common;
use common::*;
use reps::analysis::{analyze, AnalysisInput, AnalysisOptions, LabelSource, ModelInput};
use reps::metrics::{compare_layers, LayerStats, RepsWeights, EQUAL};
use reps::Activations;

fn model(name: &str, feat: &Dense, logits: &Dense, acc: Option<f64>) -> ModelInput {
    let layers = vec![
        ("feat".into(), feat.activations()),
        ("logits".into(), logits.activations()),
    ];
    ModelInput {
        accuracy: acc,
        logits: Some("logits".into()),
        ..ModelInput::new(name, format!("{name}.npz"), layers)
    }
}

/// A reference and four increasingly noisy copies.
fn family(labels: bool) -> AnalysisInput {
    let mut rng = Rng(11);
    let (n, d, k) = (40, 12, 4);
    let y: Vec<u32> = (0..n).map(|i| (i % k) as u32).collect();
    let mut feat = Dense::random(&mut rng, n, d);
    let mut logits = Dense::random(&mut rng, n, k).scale(0.3);
    for i in 0..n {
        feat.v[i * d + y[i] as usize] += 4.0;
        logits.v[i * k + y[i] as usize] += 2.0;
    }
    let mut models = vec![model("ref", &feat, &logits, Some(0.95))];
    for (j, s) in [0.2, 0.6, 1.2, 2.5].iter().enumerate() {
        let noisy = |m: &Dense, rng: &mut Rng| Dense {
            rows: m.rows,
            cols: m.cols,
            v: m.v.iter().map(|x| x + s * rng.normal()).collect(),
        };
        let (f, l) = (noisy(&feat, &mut rng), noisy(&logits, &mut rng));
        models.push(model(
            &format!("m{j}"),
            &f,
            &l,
            Some(0.95 - 0.1 * (j as f64 + 1.0)),
        ));
    }
    AnalysisInput {
        models,
        labels: labels.then(|| (y, "labels.npy".into())),
    }
}

#[test]
fn report_matches_layer_level_computation_and_reference_row_is_one() {
    let input = family(true);
    let report = analyze(&input, &AnalysisOptions::default()).unwrap();
    assert_eq!(report.label_source, LabelSource::Labels);
    assert_eq!(report.layers, vec!["feat", "logits"]);
    let r = &report.models[0];
    assert_eq!(
        (
            r.accuracy_drop,
            r.effective_rank,
            r.separation,
            r.decay,
            r.cka
        ),
        (Some(0.0), 1.0, Some(1.0), 1.0, 1.0)
    );
    assert_eq!(r.baselines.prediction_agreement, Some(1.0));
    assert_eq!(r.baselines.kl_divergence, Some(0.0));
    assert_eq!(r.baselines.wasserstein, Some(0.0));
    // Model m2 recomputed by hand from the layer-level functions.
    let labels = &input.labels.as_ref().unwrap().0;
    let mut reps_eq = 0.0;
    for layer in ["feat", "logits"] {
        let s0 =
            LayerStats::compute(input.models[0].layer(layer).unwrap(), Some(labels), 10).unwrap();
        let s =
            LayerStats::compute(input.models[3].layer(layer).unwrap(), Some(labels), 10).unwrap();
        let c = compare_layers(&s0, &s);
        assert_eq!(report.models[3].layers.get(layer).unwrap(), &c);
        reps_eq += c.reps(&EQUAL).unwrap() / 2.0;
    }
    assert!((report.models[3].reps_equal.unwrap() - reps_eq).abs() < 1e-15);
    // More noise, less similarity, larger drop: REPS correlates negatively with drop.
    let c = report.correlations.get("reps_equal").unwrap();
    assert!(c.plcc.unwrap() < -0.8, "{c:?}");
    assert_eq!(report.sensitivity.len(), 6);
    assert!(report.best_weights.is_some());
}

#[test]
fn label_sources_in_order() {
    let with = analyze(&family(true), &AnalysisOptions::default()).unwrap();
    let pseudo = analyze(&family(false), &AnalysisOptions::default()).unwrap();
    assert_eq!(pseudo.label_source, LabelSource::Pseudo);
    // Pseudo-labels are the reference's argmax: recompute separation with them.
    let input = family(false);
    let pl = input.models[0].logits().unwrap().row_argmax();
    let s0 = LayerStats::compute(input.models[0].layer("feat").unwrap(), Some(&pl), 10).unwrap();
    let s1 = LayerStats::compute(input.models[1].layer("feat").unwrap(), Some(&pl), 10).unwrap();
    assert_eq!(
        pseudo.models[1].layers.get("feat").unwrap().separation,
        compare_layers(&s0, &s1).separation
    );
    assert_ne!(with.models[1].separation, None);
    // No labels, no logits: separation is left out and weights renormalised.
    let mut none = family(false);
    for m in &mut none.models {
        m.logits = None;
        m.layers.truncate(1);
    }
    let r = analyze(&none, &AnalysisOptions::default()).unwrap();
    assert_eq!(r.label_source, LabelSource::None);
    let m = &r.models[2];
    let c = m.layers.get("feat").unwrap();
    assert_eq!(c.separation, None);
    let w = RepsWeights([0.15, 0.05, 0.35, 0.45])
        .effective([true, true, false, true])
        .unwrap();
    let expected = w[0] * c.effective_rank + w[1] * c.alive + w[3] * c.decay;
    assert!((m.reps_weighted.unwrap() - expected).abs() < 1e-15);
    assert_eq!(m.baselines.prediction_agreement, None);
    assert!(r
        .notes
        .iter()
        .any(|n| n.contains("class separation is left out")));
}

#[test]
fn accuracy_from_labels_and_logits_when_not_given() {
    let mut input = family(true);
    for m in &mut input.models {
        m.accuracy = None;
    }
    let r = analyze(&input, &AnalysisOptions::default()).unwrap();
    let labels = &input.labels.as_ref().unwrap().0;
    for (m, rep) in input.models.iter().zip(&r.models) {
        let pred = m.logits().unwrap().row_argmax();
        let hits = pred.iter().zip(labels).filter(|(p, y)| p == y).count();
        assert_eq!(rep.accuracy, Some(hits as f64 / labels.len() as f64));
    }
    assert!(r
        .notes
        .iter()
        .any(|n| n.contains("measured on the 40 analysed samples")));
    // Without labels nor accuracies, correlations are undefined with the reason.
    let mut input = family(false);
    input.models.iter_mut().for_each(|m| m.accuracy = None);
    let r = analyze(&input, &AnalysisOptions::default()).unwrap();
    let c = r.correlations.get("reps_weighted").unwrap();
    assert_eq!(c.plcc, None);
    assert_eq!(
        c.reason.as_deref(),
        Some("accuracy is not known for every model")
    );
}

#[test]
fn options_and_inconsistent_inputs() {
    let input = family(true);
    let opts = AnalysisOptions {
        reference: Some("m1".into()),
        layers: Some(vec!["feat".into()]),
        ..Default::default()
    };
    let r = analyze(&input, &opts).unwrap();
    assert_eq!(
        (r.reference.as_str(), r.layers.clone()),
        ("m1", vec!["feat".to_string()])
    );
    assert_eq!(r.models[2].accuracy_drop, Some(0.0));
    let e = analyze(
        &input,
        &AnalysisOptions {
            reference: Some("nope".into()),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("reference model 'nope' not found; models are: ref, m0"),
        "{e}"
    );
    let e = analyze(
        &input,
        &AnalysisOptions {
            layers: Some(vec!["layer9".into()]),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("ref.npz: model 'ref' has no layer 'layer9'"),
        "{e}"
    );
    // N differs.
    let mut bad = family(true);
    bad.models[2].layers[0].1 = Activations::from_rows_f64(39, 12, vec![0.0; 39 * 12]).unwrap();
    let e = bad.check_consistent().unwrap_err().to_string();
    assert!(
        e.contains("m1.npz: the number of samples of 'feat' is 39, but ref.npz has 40"),
        "{e}"
    );
    // D differs.
    let mut bad = family(true);
    bad.models[3].layers[0].1 =
        Activations::new(40, vec![2, 5], reps::Values::F64(vec![0.0; 400].into())).unwrap();
    let e = bad.check_consistent().unwrap_err().to_string();
    assert!(
        e.contains("m2.npz: the shape of layer 'feat' is (40, 2, 5), but ref.npz has (40, 12)"),
        "{e}"
    );
    // Labels of the wrong length.
    let mut bad = family(true);
    bad.labels.as_mut().unwrap().0.pop();
    assert!(bad
        .check_consistent()
        .unwrap_err()
        .to_string()
        .contains("labels.npy: the number of labels is 39"));
}

/// The viewer compares every layer once and then reports on any subset: that must equal a fresh
/// analysis of the subset, and a two-layer report must average the one-layer reports.
#[test]
fn comparisons_report_any_layer_subset_like_a_fresh_analysis() {
    use reps::analysis::compare_models;
    let input = family(true);
    let all = AnalysisOptions {
        layers: Some(vec!["feat".into(), "logits".into()]),
        ..Default::default()
    };
    let comparisons = compare_models(&input, &all, &mut |_| {}).unwrap();
    let user = RepsWeights::new([0.4, 0.0, 0.3, 0.3]).unwrap();
    for subset in [vec!["logits"], vec!["feat"], vec!["logits", "feat"]] {
        let subset: Vec<String> = subset.into_iter().map(String::from).collect();
        for weights in [None, Some(user)] {
            let fresh = analyze(
                &input,
                &AnalysisOptions {
                    layers: Some(subset.clone()),
                    user_weights: weights,
                    ..Default::default()
                },
            )
            .unwrap();
            assert_eq!(comparisons.report(&subset, weights).unwrap(), fresh);
        }
    }
    let one = |l: &str| comparisons.report(&[l.to_string()], None).unwrap();
    let (feat, logits) = (one("feat"), one("logits"));
    let both = comparisons
        .report(&["feat".into(), "logits".into()], None)
        .unwrap();
    for i in 0..both.models.len() {
        let (a, b, m) = (&feat.models[i], &logits.models[i], &both.models[i]);
        assert!((m.cka - (a.cka + b.cka) / 2.0).abs() < 1e-15);
        assert!((m.decay - (a.decay + b.decay) / 2.0).abs() < 1e-15);
        let reps = (a.reps_weighted.unwrap() + b.reps_weighted.unwrap()) / 2.0;
        assert!((m.reps_weighted.unwrap() - reps).abs() < 1e-15);
    }
    let err = comparisons.report(&[], None).unwrap_err().to_string();
    assert!(err.contains("no layer"), "{err}");
    let err = comparisons
        .report(&["layer9".into()], None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("layer9") && err.contains("feat, logits"),
        "{err}"
    );
}

/// Reports and comparisons travel between the viewer's worker and page as postcard, and reports
/// are read back from `native analyze --format json`: both must round-trip exactly.
#[test]
fn reports_and_comparisons_round_trip_through_postcard_and_json() {
    use reps::analysis::{compare_models, Comparisons, Report};
    for labels in [true, false] {
        let input = family(labels);
        let options = AnalysisOptions {
            user_weights: Some(RepsWeights::new([0.1, 0.2, 0.3, 0.4]).unwrap()),
            // Not in alphabetical order, so that a map that sorts its keys would fail below.
            layers: Some(vec!["logits".into(), "feat".into()]),
            ..Default::default()
        };
        let report = analyze(&input, &options).unwrap();
        let bytes = postcard::to_allocvec(&report).unwrap();
        assert_eq!(postcard::from_bytes::<Report>(&bytes).unwrap(), report);
        let json = serde_json::to_string(&report).unwrap();
        assert_eq!(serde_json::from_str::<Report>(&json).unwrap(), report);
        let comparisons = compare_models(&input, &options, &mut |_| {}).unwrap();
        let bytes = postcard::to_allocvec(&comparisons).unwrap();
        assert_eq!(
            postcard::from_bytes::<Comparisons>(&bytes).unwrap(),
            comparisons
        );
        let back: Report = serde_json::from_str(&json).unwrap();
        assert_eq!(
            back.models[1]
                .layers
                .iter()
                .map(|(k, _)| k)
                .collect::<Vec<_>>(),
            ["logits", "feat"]
        );
    }
}

/// The user's weights are a cheap addition to a report: removing them gives the report without
/// them, and their numbers are the per-layer REPS averaged and correlated here by hand.
#[test]
fn user_weights_added_to_a_report_and_removed() {
    let input = family(true);
    let plain = analyze(&input, &AnalysisOptions::default()).unwrap();
    let w = RepsWeights::new([0.4, 0.1, 0.3, 0.2]).unwrap();
    let with = plain.with_user_weights(Some(w));
    let direct = analyze(
        &input,
        &AnalysisOptions {
            user_weights: Some(w),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(with, direct);
    assert_eq!(with.with_user_weights(None), plain);
    let mut reps = Vec::new();
    let mut drops = Vec::new();
    for m in with.models.iter().skip(1) {
        let per_layer: Vec<f64> = m.layers.iter().map(|(_, c)| c.reps(&w).unwrap()).collect();
        let mean = per_layer.iter().sum::<f64>() / per_layer.len() as f64;
        assert!((m.reps_user.unwrap() - mean).abs() < 1e-15);
        reps.push(mean);
        drops.push(m.accuracy_drop.unwrap());
    }
    let r = reps::stats::pearson(&reps, &drops).unwrap();
    let row = with.sensitivity.last().unwrap();
    assert_eq!(row.name, "User weights");
    assert!((row.plcc.unwrap() - r).abs() < 1e-12);
    assert!((with.correlations.get("reps_user").unwrap().plcc.unwrap() - r).abs() < 1e-12);
    assert_eq!(with.best_weights, plain.best_weights);
}

/// Every model's activations and logits (and the reference's) scaled by one factor: the
/// scale-invariant scores stay the same at every factor from 1e-30 to 1e30 (f64 to 1e-12,
/// f32 to 1e-5: its storage rounds the scaled values), the logit distances scale with the factor,
/// and nothing is NaN or infinite. Before the scaled forms, CKA was 0 from about 1e77 (f64) and
/// cosine NaN for logits of 1e300.
#[test]
fn scale_ladder_leaves_invariant_scores_unchanged() {
    use reps::Values;
    let base = family(true);
    let scaled = |c: f64, f32_storage: bool| AnalysisInput {
        models: base
            .models
            .iter()
            .map(|m| ModelInput {
                layers: m
                    .layers
                    .iter()
                    .map(|(k, a)| {
                        let v: Vec<f64> = (0..a.values().len())
                            .map(|i| a.values().get(i) * c)
                            .collect();
                        let values = if f32_storage {
                            Values::F32(v.iter().map(|&x| x as f32).collect::<Vec<_>>().into())
                        } else {
                            Values::F64(v.into())
                        };
                        (
                            k.clone(),
                            Activations::new(a.rows(), a.sample_shape().to_vec(), values).unwrap(),
                        )
                    })
                    .collect(),
                ..m.clone()
            })
            .collect(),
        labels: base.labels.clone(),
    };
    let report = |input: &AnalysisInput| analyze(input, &AnalysisOptions::default()).unwrap();
    let close = |a: f64, b: f64, tol: f64| (a - b).abs() <= tol * a.abs().max(b.abs()).max(1e-300);
    for (f32_storage, tol, exponents) in [
        (false, 1e-12, vec![-30, -20, -10, 10, 20, 30, 77, 150, -100]),
        (true, 1e-5, vec![-30, -20, -10, 10, 20, 30]),
    ] {
        let unit = report(&scaled(1.0, f32_storage));
        for e in exponents {
            let c = 10f64.powi(e);
            let r = report(&scaled(c, f32_storage));
            for (a, b) in unit.models.iter().zip(&r.models) {
                let at = format!("{} at 1e{e} (f32: {f32_storage})", a.name);
                let invariant = [
                    (a.reps_weighted, b.reps_weighted),
                    (a.reps_equal, b.reps_equal),
                    (Some(a.cka), Some(b.cka)),
                    (a.cka_debiased, b.cka_debiased),
                    (Some(a.effective_rank), Some(b.effective_rank)),
                    (Some(a.alive), Some(b.alive)),
                    (a.separation, b.separation),
                    (Some(a.decay), Some(b.decay)),
                    (a.baselines.logits_cosine, b.baselines.logits_cosine),
                    (
                        a.baselines.prediction_agreement,
                        b.baselines.prediction_agreement,
                    ),
                ];
                for (i, (x, y)) in invariant.iter().enumerate() {
                    let (x, y) = (x.unwrap(), y.unwrap());
                    assert!(
                        y.is_finite() && close(x, y, tol),
                        "{at}, score {i}: {x} vs {y}"
                    );
                }
                for (x, y) in [
                    (a.baselines.logits_l2, b.baselines.logits_l2),
                    (a.baselines.wasserstein, b.baselines.wasserstein),
                ] {
                    let (x, y) = (x.unwrap(), y.unwrap());
                    assert!(close(x * c, y, tol.max(1e-12)), "{at}: {x}·c vs {y}");
                }
                let kl = b.baselines.kl_divergence.unwrap();
                assert!(kl.is_finite() && kl > -1e-12, "{at}: KL {kl}");
            }
        }
    }
}

#[test]
fn a_model_lacking_layers_is_named_in_a_note() {
    // m2 has only its logits: by default the analysis falls back to the one layer every model
    // shares, and a note says which model left which layers out.
    let mut input = family(true);
    input.models[3].layers.retain(|(k, _)| k == "logits");
    let r = analyze(&input, &AnalysisOptions::default()).unwrap();
    assert_eq!(r.layers, ["logits"]);
    let said: Vec<&String> = r
        .notes
        .iter()
        .filter(|n| n.contains("lacks layers"))
        .collect();
    assert_eq!(said.len(), 1, "{:?}", r.notes);
    assert!(said[0].starts_with("model 'm2' (m2.npz) lacks layers the reference has (feat)"));
    // Complete inputs, or layers chosen explicitly, say nothing of the kind.
    let full = analyze(&family(true), &AnalysisOptions::default()).unwrap();
    assert!(!full.notes.iter().any(|n| n.contains("lacks layers")));
    let chosen = AnalysisOptions {
        layers: Some(vec!["logits".into()]),
        ..AnalysisOptions::default()
    };
    let r = analyze(&input, &chosen).unwrap();
    assert!(!r.notes.iter().any(|n| n.contains("lacks layers")));
}
