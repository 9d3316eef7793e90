//! CSV output: one row per (model, layer), plus one row per model with layer `all`. The score
//! columns follow the score registry (`reps::analysis::SCORES`).

use anyhow::Result;
use reps::analysis::SCORES;
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

/// A text cell as spreadsheet tools expect it to be made safe: control characters (an ANSI
/// escape, a tab, a newline) written as `\u{1b}`-style escapes, and a cell that would start a
/// formula (`=`, `+`, `-`, `@`) prefixed with `'`, which spreadsheets show as text. Numbers are
/// written as they are.
pub fn text_cell(s: &str) -> String {
    let escaped: String = s
        .chars()
        .map(|c| {
            if c.is_control() {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect();
    if escaped.starts_with(['=', '+', '-', '@']) {
        format!("'{escaped}")
    } else {
        escaped
    }
}

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
                text_cell(&m.name),
                text_cell(&m.kind),
                text_cell(&m.method),
                num(m.parameter),
                text_cell(m.parameter_name.as_deref().unwrap_or_default()),
                num(m.accuracy),
                num(m.accuracy_drop),
                text_cell(layer),
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

#[cfg(test)]
mod tests {
    use super::text_cell;

    #[test]
    fn formulas_and_control_characters_are_defused() {
        assert_eq!(text_cell("layer4.1.conv2"), "layer4.1.conv2");
        assert_eq!(text_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(text_cell("+1"), "'+1");
        assert_eq!(text_cell("-x"), "'-x");
        assert_eq!(text_cell("@sum"), "'@sum");
        assert_eq!(text_cell("a\u{1b}[31mred"), "a\\u{1b}[31mred");
        assert_eq!(text_cell("two\nlines"), "two\\u{a}lines");
    }
}
