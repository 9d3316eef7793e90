//! CSV output: one row per (model, layer), plus one row per model with layer `all`. The score
//! columns follow the score registry (`reps::analysis::SCORES`).

use anyhow::Result;
use reps::analysis::SCORES;
use reps::formats::spreadsheet_text;
use reps::metrics::RepsWeights;
use reps::Report;

/// Columns before the scores.
const HEAD: [&str; 8] = [
    "model",
    "kind",
    "method",
    "parameter",
    "parameter_name",
    "accuracy",
    "accuracy_drop",
    "layer",
];

/// Raw per-layer values after the scores (empty on the `all` rows).
const RAW: [&str; 5] = [
    "raw_effective_rank",
    "dead_fraction",
    "raw_separation",
    "decay_slope",
    "decay_r2",
];

fn num(v: Option<f64>) -> String {
    v.map(|x| format!("{x}")).unwrap_or_default()
}

/// Renders the report as CSV.
pub fn render(report: &Report) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let header: Vec<&str> = HEAD
        .iter()
        .copied()
        .chain(SCORES.iter().map(|s| s.key))
        .chain(RAW)
        .collect();
    w.write_record(&header)?;
    let user = report.user_weights.map(RepsWeights);
    for m in &report.models {
        let head = |layer: &str| {
            vec![
                spreadsheet_text(&m.name),
                spreadsheet_text(&m.kind),
                spreadsheet_text(&m.method),
                num(m.parameter),
                spreadsheet_text(m.parameter_name.as_deref().unwrap_or_default()),
                num(m.accuracy),
                num(m.accuracy_drop),
                spreadsheet_text(layer),
            ]
        };
        let mut row = head("all");
        row.extend(SCORES.iter().map(|s| num((s.of_model)(m))));
        row.extend(RAW.map(|_| String::new()));
        w.write_record(&row)?;
        for (layer, c) in m.layers.iter() {
            let mut row = head(layer);
            row.extend(SCORES.iter().map(|s| num(s.on_layer(m, c, user.as_ref()))));
            row.extend([
                num(Some(c.raw.effective_rank)),
                num(Some(c.raw.dead_fraction)),
                num(c.raw.separation),
                num(Some(c.raw.decay_slope)),
                num(c.raw.decay_r2),
            ]);
            w.write_record(&row)?;
        }
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}
