//! CSV output: one row per (model, layer), plus one row per model with layer `all`.

use anyhow::Result;
use reps::Report;

const HEADER: [&str; 26] = [
    "model",
    "kind",
    "parameter",
    "accuracy",
    "accuracy_drop",
    "layer",
    "reps_weighted",
    "reps_equal",
    "reps_user",
    "effective_rank",
    "alive",
    "separation",
    "decay",
    "cka",
    "cka_debiased",
    "raw_effective_rank",
    "dead_fraction",
    "raw_separation",
    "decay_slope",
    "decay_r2",
    "prediction_agreement",
    "logits_cosine",
    "logits_l2",
    "kl_divergence",
    "wasserstein",
    "weight_similarity",
];

fn num(v: Option<f64>) -> String {
    v.map(|x| format!("{x}")).unwrap_or_default()
}

/// Renders the report as CSV.
pub fn render(report: &Report) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(HEADER)?;
    for m in &report.models {
        let b = &m.baselines;
        let head = [
            m.name.clone(),
            m.kind.as_str().to_string(),
            num(m.parameter),
            num(m.accuracy),
            num(m.accuracy_drop),
        ];
        let tail = [
            num(b.prediction_agreement),
            num(b.logits_cosine),
            num(b.logits_l2),
            num(b.kl_divergence),
            num(b.wasserstein),
            num(b.weight_similarity),
        ];
        let model_row = [
            "all".to_string(),
            num(m.reps_weighted),
            num(m.reps_equal),
            num(m.reps_user),
            num(Some(m.effective_rank)),
            num(Some(m.alive)),
            num(m.separation),
            num(Some(m.decay)),
            num(Some(m.cka)),
            num(m.cka_debiased),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ];
        w.write_record(head.iter().chain(&model_row).chain(&tail))?;
        for (layer, c) in m.layers.iter() {
            let user = report
                .user_weights
                .and_then(|uw| c.reps(&reps::metrics::RepsWeights(uw)));
            let row = [
                layer.to_string(),
                num(c.reps_weighted),
                num(c.reps_equal),
                num(user),
                num(Some(c.effective_rank)),
                num(Some(c.alive)),
                num(c.separation),
                num(Some(c.decay)),
                num(Some(c.cka)),
                num(c.cka_debiased),
                num(Some(c.raw.effective_rank)),
                num(Some(c.raw.dead_fraction)),
                num(c.raw.separation),
                num(Some(c.raw.decay_slope)),
                num(c.raw.decay_r2),
            ];
            w.write_record(head.iter().chain(&row).chain(&tail))?;
        }
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}
