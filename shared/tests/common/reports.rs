//! Reports built from model-level values, for the tests of the inference on them.

use reps::analysis::{sensitivity_table, Baselines, LabelSource, ModelReport, NamedMap, Report};
use reps::metrics::PerComponent;

/// A model whose every representation score (REPS, CKA, the components) is `sim` and whose
/// prediction agreement is `agree`.
pub fn model(
    name: &str,
    method: &str,
    parameter: f64,
    drop: f64,
    sim: f64,
    agree: f64,
) -> ModelReport {
    ModelReport {
        name: name.into(),
        kind: method.into(),
        method: method.into(),
        parameter: Some(parameter),
        parameter_name: reps::formats::snapshot::paper_parameter_name(method).map(Into::into),
        accuracy: Some(0.9 - drop),
        accuracy_drop: Some(drop),
        reps_weighted: Some(sim),
        reps_equal: Some(sim),
        reps_user: None,
        reps_ci: None,
        effective_rank: sim,
        alive: sim,
        separation: Some(sim),
        decay: sim,
        cka: sim,
        cka_debiased: Some(sim),
        layers: NamedMap::default(),
        baselines: Baselines {
            prediction_agreement: Some(agree),
            ..Baselines::default()
        },
    }
}

/// The report of `models` with the reference `original` first.
pub fn report(models: Vec<ModelReport>) -> Report {
    let mut all = vec![model("original", "original", 0.0, 0.0, 1.0, 1.0)];
    all.extend(models);
    let compressed = &all[1..];
    let components: Vec<PerComponent<Option<f64>>> =
        compressed.iter().map(|m| m.components()).collect();
    let drops: Vec<f64> = compressed
        .iter()
        .map(|m| m.accuracy_drop.unwrap())
        .collect();
    Report {
        reference: "original".into(),
        label_source: LabelSource::Labels,
        layers: vec!["fc".into()],
        top_m: 10,
        user_weights: None,
        sensitivity: sensitivity_table(&components, &drops, None),
        models: all,
        correlations: NamedMap::default(),
        best_weights: None,
        inference: None,
        correlations_stable: None,
        comparisons: NamedMap::default(),
        claims: Vec::new(),
        notes: Vec::new(),
    }
}
