//! Human-readable tables in the layout of the paper's Tables 1–3, plus per-model and per-layer scores.

use comfy_table::{presets, CellAlignment, ContentArrangement, Table};
use reps::analysis::{scores_present, Claim, ModelReport, NamedMap, Worse, LEVEL};
use reps::metrics::COMPONENTS;
use reps::stats::{format_p_value, p_label, Correlations, Statistic};
use reps::Report;
use std::fmt::Write;

fn f(v: Option<f64>, digits: usize) -> String {
    v.map(|x| format!("{x:.digits$}"))
        .unwrap_or_else(|| "n/a".into())
}

/// Columns of names rather than numbers, left-aligned; every other column is right-aligned.
const TEXT_COLUMNS: [&str; 6] = ["Model", "Method", "Layer", "Metric", "Configuration", ""];

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
    let labels = report.label_source.describe();
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
    out += &stable_table(report);
    out += &comparisons_table(report);
    out += &table3(report);
    out += &models_table(report);
    out += &layers_table(report);
    if !report.claims.is_empty() {
        out += &claims(&report.claims);
    }
    for note in &report.notes {
        let _ = writeln!(out, "note: {note}");
    }
    out
}

/// A parameter as written (`0.05`, `4`).
fn parameter(p: Option<f64>) -> String {
    p.map(|p| format!("{p}")).unwrap_or_default()
}

/// Table 1: the reference's accuracy, then a column group per method (in the order found): each
/// model's parameter (its name when it has none) and accuracy.
fn table1(report: &Report) -> String {
    let mut out = String::from("Table 1: accuracy\n");
    let acc = |m: &ModelReport| f(m.accuracy, 4);
    if let Some(orig) = report.models.iter().find(|m| m.name == report.reference) {
        let _ = writeln!(out, "reference {}: {}", orig.name, acc(orig));
    }
    let groups = report.methods();
    let rows = groups.iter().map(|g| g.models.len()).max().unwrap_or(0);
    if rows > 0 {
        let headers: Vec<String> = groups
            .iter()
            .flat_map(|g| {
                let head = match g.parameter_name {
                    Some(p) => format!("{} ({p})", g.method),
                    None => g.method.to_string(),
                };
                [head, "Acc.".to_string()]
            })
            .collect();
        let header: Vec<&str> = headers.iter().map(String::as_str).collect();
        let mut t = table(&header);
        for (i, g) in groups.iter().enumerate() {
            // The parameter column is text when it holds model names.
            if g.models.iter().any(|m| m.parameter.is_none()) {
                if let Some(c) = t.column_mut(2 * i) {
                    c.set_cell_alignment(CellAlignment::Left);
                }
            }
        }
        for r in 0..rows {
            let mut row = Vec::new();
            for g in &groups {
                match g.models.get(r) {
                    Some(m) if m.parameter.is_some() => {
                        row.extend([parameter(m.parameter), acc(m)])
                    }
                    Some(m) => row.extend([m.name.clone(), acc(m)]),
                    None => row.extend([String::new(), String::new()]),
                }
            }
            t.add_row(row);
        }
        let _ = writeln!(out, "{t}");
    }
    out + "\n"
}

/// An interval as `[lo, hi]`.
fn interval(i: Option<[f64; 2]>, digits: usize) -> String {
    i.map(|[lo, hi]| format!("[{lo:.digits$}, {hi:.digits$}]"))
        .unwrap_or_default()
}

fn p_value(p: Option<f64>) -> String {
    p.map(p_label).unwrap_or_default()
}

/// One correlation with, below it, its interval and p-value when inferred.
fn statistic_cell(c: &Correlations, s: Statistic) -> String {
    let lines = [
        f(c.value(s), 4),
        interval(c.interval(s), 3),
        p_value(c.p_value(s)),
    ];
    let kept: Vec<&str> = lines
        .iter()
        .map(String::as_str)
        .filter(|l| !l.is_empty())
        .collect();
    kept.join("\n")
}

fn table2(report: &Report) -> String {
    let mut out = String::from(
        "Table 2: correlation with accuracy drop over the compressed models (signed; a similarity that\n\
         falls as the drop grows correlates negatively, a distance positively: \"Sign\" is the sign\n\
         that tracks damage; the paper reports similarities with the opposite sign)\n",
    );
    out += &inference_line(report);
    out + &correlation_table(report, &report.correlations)
}

/// How the intervals and p-values below a table were computed.
fn inference_line(report: &Report) -> String {
    match &report.inference {
        Some(i) if i.bootstrap > 0 || i.permutations > 0 => format!(
            "under each value: its {}% percentile bootstrap interval over models ({} resamples) and its two-sided\n\
             permutation p-value ({} permutations), seed {}\n",
            LEVEL * 100.0,
            i.bootstrap,
            i.permutations,
            i.seed
        ),
        _ => String::new(),
    }
}

/// Table 2's layout for one set of correlations, marking the strongest |PLCC|.
fn correlation_table(report: &Report, correlations: &NamedMap<Correlations>) -> String {
    let mut out = String::new();
    let best = correlations
        .iter()
        .filter_map(|(k, c)| c.plcc.map(|p| (k, p.abs())))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(k, _)| k.to_string());
    let mut t = table(&["Metric", "Sign", "PLCC", "SRCC", "KRCC", ""]);
    let mut reasons = Vec::new();
    for score in scores_present(report.user_weights.is_some()) {
        let (key, label) = (score.key, score.label);
        let Some(c) = correlations.get(key) else {
            continue;
        };
        let mark = if best.as_deref() == Some(key) {
            "◀ strongest |PLCC|"
        } else {
            ""
        };
        let sign = match score.worse {
            Worse::Lower => "−",
            Worse::Higher => "+",
        };
        let mut row = vec![label.to_string(), sign.to_string()];
        row.extend(Statistic::ALL.map(|s| statistic_cell(c, s)));
        row.push(mark.to_string());
        t.add_row(row);
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

/// Table 2 over the models in the stable regime, or why there is none.
fn stable_table(report: &Report) -> String {
    let Some(s) = &report.correlations_stable else {
        return String::new();
    };
    let mut out = format!(
        "Table 2, stable regime: the {} model(s) with an accuracy drop of at most {}\n",
        s.models.len(),
        s.max_drop
    );
    if !s.models.is_empty() {
        let _ = writeln!(out, "models: {}", s.models.join(", "));
    }
    match &s.reason {
        Some(r) => out + &format!("  n/a — {r}\n\n"),
        None => out + &correlation_table(report, &s.correlations),
    }
}

/// REPS against every other score: the paired bootstrap interval of the difference of absolute
/// PLCCs, and Steiger's test.
fn comparisons_table(report: &Report) -> String {
    if report.comparisons.0.is_empty() {
        return String::new();
    }
    let label = |k: &str| reps::analysis::score(k).map_or(k.to_string(), |s| s.label.to_string());
    let mut out = format!(
        "Is REPS really better? |PLCC| of A minus |PLCC| of B, its {}% paired bootstrap interval, and\n\
         Steiger's Z test of the two dependent correlations (two-sided p)\n",
        LEVEL * 100.0
    );
    let mut t = table(&["Metric", "Diff.", "Interval", "Z", "p"]);
    for (_, c) in report.comparisons.iter() {
        t.add_row(vec![
            format!("{} vs {}", label(&c.a), label(&c.b)),
            c.diff.map_or("n/a".into(), |d| format!("{d:+.4}")),
            interval(c.diff_ci, 3),
            c.steiger_z.map_or("n/a".into(), |z| format!("{z:.2}")),
            c.steiger_p.map_or("n/a".into(), format_p_value),
        ]);
    }
    let _ = writeln!(out, "{t}");
    out + "\n"
}

/// The paper's claims, each with its verdict and evidence.
pub fn claims(claims: &[Claim]) -> String {
    let mut out = String::from("The paper's claims on these models\n");
    for c in claims {
        let _ = writeln!(
            out,
            "  [{}] {}\n      {}",
            c.verdict.as_str(),
            c.statement,
            c.evidence
        );
    }
    out + "\n"
}

fn table3(report: &Report) -> String {
    let mut out = String::from("Table 3: sensitivity of REPS PLCC to the component weights\n");
    let weights: Vec<String> = COMPONENTS
        .iter()
        .map(|c| format!("{} ({})", c.weight, c.symbol))
        .collect();
    let mut header = vec!["Configuration"];
    header.extend(weights.iter().map(String::as_str));
    header.extend(["PLCC", "Interval"]);
    let mut t = table(&header);
    let row = |name: &str, w: &[f64], p: String, i: String| {
        let mut r = vec![name.to_string()];
        r.extend(w.iter().map(|x| format!("{x:.2}")));
        r.extend([p, i]);
        r
    };
    for s in &report.sensitivity {
        t.add_row(row(
            &s.name,
            &s.weights,
            f(s.plcc, 4),
            interval(s.plcc_ci, 3),
        ));
    }
    if let Some(b) = &report.best_weights {
        t.add_row(row(
            "Best on simplex (in-sample)",
            &b.weights,
            format!("{:.4}", b.plcc),
            String::new(),
        ));
        t.add_row(row(
            "  leave-one-model-out estimate",
            &b.weights,
            f(b.loo_plcc, 4),
            String::new(),
        ));
    }
    let _ = writeln!(out, "{t}");
    out + "\n"
}

/// Every model with every score of the registry (short headers).
fn models_table(report: &Report) -> String {
    let mut out = String::from("Per-model scores (means over the analysed layers)\n");
    if report.models.iter().any(|m| m.reps_ci.is_some()) {
        let _ = writeln!(
            out,
            "REPS w interval: {}% percentile bootstrap interval over resamples of the analysed samples",
            LEVEL * 100.0
        );
    }
    let scores: Vec<_> = scores_present(report.user_weights.is_some()).collect();
    let mut header = vec!["Model", "Method", "Param", "Acc.", "Drop"];
    header.extend(scores.iter().map(|s| s.short));
    let sampled = report.models.iter().any(|m| m.reps_ci.is_some());
    if sampled {
        header.push("REPS w interval");
    }
    let mut t = table(&header);
    for m in &report.models {
        let mut r = vec![
            m.name.clone(),
            m.method.clone(),
            parameter(m.parameter),
            f(m.accuracy, 4),
            f(m.accuracy_drop, 4),
        ];
        r.extend(scores.iter().map(|s| f((s.of_model)(m), 3)));
        if sampled {
            r.push(interval(m.reps_ci, 3));
        }
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
