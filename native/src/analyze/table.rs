//! Human-readable tables in the layout of the paper's Tables 1–3, plus per-model and per-layer scores.

use comfy_table::{presets, CellAlignment, ContentArrangement, Table};
use reps::analysis::{LabelSource, ModelReport, SCORE_LABELS};
use reps::formats::snapshot::ModelKind;
use reps::Report;
use std::fmt::Write;

fn f(v: Option<f64>, digits: usize) -> String {
    v.map(|x| format!("{x:.digits$}"))
        .unwrap_or_else(|| "n/a".into())
}

/// Columns of names rather than numbers, left-aligned; every other column is right-aligned.
const TEXT_COLUMNS: [&str; 6] = ["Model", "Kind", "Layer", "Metric", "Configuration", ""];

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header.to_vec());
    for (i, h) in header.iter().enumerate() {
        if !TEXT_COLUMNS.contains(h) {
            if let Some(c) = t.column_mut(i) {
                c.set_cell_alignment(CellAlignment::Right);
            }
        }
    }
    t
}

/// Renders every table of the report.
pub fn render(report: &Report, description: &str) -> String {
    let mut out = String::new();
    let labels = match report.label_source {
        LabelSource::Labels => "true labels",
        LabelSource::Pseudo => "pseudo-labels (the reference's predictions)",
        LabelSource::None => "none (class separation left out)",
    };
    let _ = writeln!(out, "REPS analysis of {description}");
    let _ = writeln!(
        out,
        "reference: {} · layers: {} · labels: {labels} · decay fit: top {} eigenvalues\n",
        report.reference,
        report.layers.join(", "),
        report.top_m
    );
    out += &table1(report);
    out += &table2(report);
    out += &table3(report);
    out += &models_table(report);
    out += &layers_table(report);
    for note in &report.notes {
        let _ = writeln!(out, "note: {note}");
    }
    out
}

fn table1(report: &Report) -> String {
    let mut out = String::from("Table 1: accuracy\n");
    let acc = |m: &ModelReport| f(m.accuracy, 4);
    let groups: Vec<(&str, ModelKind)> = vec![
        ("Fraction", ModelKind::Coreset),
        ("Ratio", ModelKind::Prune),
        ("Bits", ModelKind::Quant),
    ];
    let columns: Vec<Vec<&ModelReport>> = groups
        .iter()
        .map(|(_, k)| report.models.iter().filter(|m| m.kind == *k).collect())
        .collect();
    if let Some(orig) = report.models.iter().find(|m| m.name == report.reference) {
        let _ = writeln!(out, "reference {}: {}", orig.name, acc(orig));
    }
    let rows = columns.iter().map(Vec::len).max().unwrap_or(0);
    if rows > 0 {
        let mut t = table(&["Coreset", "Acc.", "Pruning", "Acc.", "Quantization", "Acc."]);
        for r in 0..rows {
            let mut row = Vec::new();
            for (g, col) in columns.iter().enumerate() {
                match col.get(r) {
                    Some(m) => {
                        let p = m.parameter.map_or("?".into(), |p| {
                            if g == 2 {
                                format!("{p:.0}")
                            } else {
                                format!("{p:.2}")
                            }
                        });
                        row.push(p);
                        row.push(acc(m));
                    }
                    None => {
                        row.push(String::new());
                        row.push(String::new());
                    }
                }
            }
            t.add_row(row);
        }
        let _ = writeln!(out, "{t}");
    }
    let others: Vec<&ModelReport> = report
        .models
        .iter()
        .filter(|m| matches!(m.kind, ModelKind::External))
        .collect();
    if !others.is_empty() {
        let mut t = table(&["Model", "Acc.", "Drop"]);
        for m in others {
            t.add_row(vec![m.name.clone(), acc(m), f(m.accuracy_drop, 4)]);
        }
        let _ = writeln!(out, "{t}");
    }
    out + "\n"
}

fn table2(report: &Report) -> String {
    let mut out = String::from(
        "Table 2: correlation with accuracy drop over the compressed models (signed; a similarity that\n\
         falls as the drop grows correlates negatively; the paper reports the opposite sign)\n",
    );
    let best = report
        .correlations
        .iter()
        .filter_map(|(k, c)| c.plcc.map(|p| (k, p.abs())))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(k, _)| k.to_string());
    let mut t = table(&["Metric", "PLCC", "SRCC", "KRCC", ""]);
    let mut reasons = Vec::new();
    for (key, label) in SCORE_LABELS {
        let Some(c) = report.correlations.get(key) else {
            continue;
        };
        let mark = if best.as_deref() == Some(key) {
            "◀ strongest |PLCC|"
        } else {
            ""
        };
        t.add_row(vec![
            label.to_string(),
            f(c.plcc, 4),
            f(c.srcc, 4),
            f(c.krcc, 4),
            mark.to_string(),
        ]);
        if let Some(r) = &c.reason {
            reasons.push(format!("{label}: {r}"));
        }
    }
    let _ = writeln!(out, "{t}");
    for r in reasons {
        let _ = writeln!(out, "  n/a — {r}");
    }
    out + "\n"
}

fn table3(report: &Report) -> String {
    let mut out = String::from("Table 3: sensitivity of REPS PLCC to the component weights\n");
    let mut t = table(&[
        "Configuration",
        "α (s_e)",
        "β (s_alive)",
        "γ (s_s)",
        "δ (s_d)",
        "PLCC",
    ]);
    let row = |name: &str, w: &[f64; 4], p: String| {
        let mut r = vec![name.to_string()];
        r.extend(w.iter().map(|x| format!("{x:.2}")));
        r.push(p);
        r
    };
    for s in &report.sensitivity {
        t.add_row(row(&s.name, &s.weights, f(s.plcc, 4)));
    }
    if let Some(b) = &report.best_weights {
        t.add_row(row(
            "Best on simplex (in-sample)",
            &b.weights,
            format!("{:.4}", b.plcc),
        ));
        t.add_row(row(
            "  leave-one-model-out estimate",
            &b.weights,
            f(b.loo_plcc, 4),
        ));
    }
    let _ = writeln!(out, "{t}");
    out + "\n"
}

fn models_table(report: &Report) -> String {
    let mut out = String::from("Per-model scores (means over the analysed layers)\n");
    let mut header = vec![
        "Model", "Kind", "Param", "Acc.", "Drop", "REPS w", "REPS eq",
    ];
    if report.user_weights.is_some() {
        header.push("REPS you");
    }
    header.extend([
        "s_e", "s_alive", "s_s", "s_d", "CKA", "Agree", "KL", "W-sim",
    ]);
    let mut t = table(&header);
    for m in &report.models {
        let mut r = vec![
            m.name.clone(),
            m.kind.as_str().to_string(),
            m.parameter.map(|p| format!("{p}")).unwrap_or_default(),
            f(m.accuracy, 4),
            f(m.accuracy_drop, 4),
            f(m.reps_weighted, 4),
            f(m.reps_equal, 4),
        ];
        if report.user_weights.is_some() {
            r.push(f(m.reps_user, 4));
        }
        r.extend([
            f(Some(m.effective_rank), 3),
            f(Some(m.alive), 3),
            f(m.separation, 3),
            f(Some(m.decay), 3),
            f(Some(m.cka), 3),
            f(m.baselines.prediction_agreement, 3),
            f(m.baselines.kl_divergence, 3),
            f(m.baselines.weight_similarity, 3),
        ]);
        t.add_row(r);
    }
    let _ = writeln!(out, "{t}");
    out + "\n"
}

fn layers_table(report: &Report) -> String {
    let mut out = String::from(
        "Per-layer raw values (r_e: effective rank, r_s: separation ratio, δ: decay slope)\n",
    );
    let mut t = table(&[
        "Model", "Layer", "r_e", "dead %", "r_s", "δ", "R²", "CKA", "REPS w",
    ]);
    for m in &report.models {
        for (layer, c) in m.layers.iter() {
            t.add_row(vec![
                m.name.clone(),
                layer.to_string(),
                format!("{:.2}", c.raw.effective_rank),
                format!("{:.1}", 100.0 * c.raw.dead_fraction),
                f(c.raw.separation, 3),
                format!("{:.3}", c.raw.decay_slope),
                f(c.raw.decay_r2, 3),
                format!("{:.3}", c.cka),
                f(c.reps_weighted, 4),
            ]);
        }
    }
    let _ = writeln!(out, "{t}");
    out + "\n"
}
