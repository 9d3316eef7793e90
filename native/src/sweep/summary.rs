//! The summary of several seeds' sweeps as written to `summary.json` and `summary.md`, by
//! `train-sweep --seeds` and by `analyze --pool` alike.

use anyhow::Result;
use reps::analysis::{score, MeanSd, SeedSummary, LEVEL};
use reps::stats::{p_label, Correlations, Statistic};
use std::fmt::Write;

/// `summary.json`: the summary as pretty JSON with a final newline.
pub fn json(s: &SeedSummary) -> Result<String> {
    Ok(serde_json::to_string_pretty(s)? + "\n")
}

/// `mean ± sd` with 4 decimals (`n/a` without a value; no `±` for one seed).
fn shown(m: &MeanSd) -> String {
    match (m.mean, m.sd) {
        (Some(mean), Some(sd)) => format!("{mean:.4} ± {sd:.4}"),
        (Some(mean), None) => format!("{mean:.4}"),
        _ => "n/a".into(),
    }
}

fn corr(c: &Correlations) -> String {
    let f = |v: Option<f64>| v.map_or("n/a".to_string(), |x| format!("{x:.3}"));
    format!("{} / {} / {}", f(c.plcc), f(c.srcc), f(c.krcc))
}

fn interval(i: Option<[f64; 2]>) -> String {
    i.map_or("no interval".into(), |[lo, hi]| {
        format!("[{lo:.3}, {hi:.3}]")
    })
}

/// One pooled statistic: its value, interval and p-value in one cell.
fn inferred(c: &Correlations, s: Statistic) -> String {
    match c.value(s) {
        None => "n/a".into(),
        Some(v) => {
            let mut cell = format!("{v:.3} {}", interval(c.interval(s)));
            if let Some(p) = c.p_value(s) {
                let _ = write!(cell, ", {}", p_label(p));
            }
            cell
        }
    }
}

fn label(key: &str) -> &str {
    score(key).map_or(key, |sc| sc.label)
}

/// The summary as Markdown: Table 1's accuracies and REPS over seeds, Table 2 per seed and
/// pooled, then the pooled inference (when the summary has it): Table 2 with intervals and
/// p-values, REPS against every other score, Table 3 and the paper's claims.
pub fn render(s: &SeedSummary) -> String {
    let seeds: Vec<String> = s.seeds.iter().map(|x| x.to_string()).collect();
    let mut md = format!(
        "# train-sweep summary over seeds {}\n\nMean ± sample standard deviation over the seeds; each seed's accuracy drop is against its own {}.\n\n",
        seeds.join(", "),
        s.reference
    );
    md += "| model | seeds | accuracy | accuracy drop | REPS (weighted) | REPS (equal) | CKA |\n|---|---|---|---|---|---|---|\n";
    for m in &s.models {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} |",
            m.name,
            m.accuracy.n,
            shown(&m.accuracy),
            shown(&m.accuracy_drop),
            shown(&m.reps_weighted),
            shown(&m.reps_equal),
            shown(&m.cka)
        );
    }
    md += "\n## Table 2: each score against accuracy drop (PLCC / SRCC / KRCC)\n\n| score |";
    for x in &seeds {
        let _ = write!(md, " seed {x} |");
    }
    md += " pooled |\n|---|";
    md += &"---|".repeat(seeds.len() + 1);
    md += "\n";
    for (key, c) in s.correlations.iter() {
        let _ = write!(md, "| {} |", label(key));
        for p in &c.per_seed {
            let _ = write!(md, " {} |", corr(p));
        }
        let _ = writeln!(md, " {} |", corr(&c.pooled));
    }
    if let Some(i) = &s.inference {
        md += &pooled_inference(s, i);
    }
    md
}

/// The pooled inference's sections.
fn pooled_inference(s: &SeedSummary, i: &reps::analysis::InferenceOptions) -> String {
    let level = LEVEL * 100.0;
    let mut md = format!(
        "\n## Pooled over the seeds, with intervals\n\nThe compressed models of all {} seeds as one set. Intervals: {level}% percentile cluster bootstrap ({} resamples, each drawing seeds with replacement, then models within each drawn seed); p-values: two-sided, from {} permutations of the accuracy drops within each seed; seed {}.\n\n",
        s.seeds.len(),
        i.bootstrap,
        i.permutations,
        i.seed
    );
    md += "| score | PLCC | SRCC | KRCC |\n|---|---|---|---|\n";
    for (key, c) in s.correlations.iter() {
        let cells = Statistic::ALL.map(|st| inferred(&c.pooled, st));
        let _ = writeln!(md, "| {} | {} |", label(key), cells.join(" | "));
    }
    if !s.comparisons.0.is_empty() {
        let _ = write!(
            md,
            "\n### Is REPS really better? |PLCC| of A minus |PLCC| of B\n\nSteiger's test counts every model as independent; the cluster-bootstrap interval does not.\n\n| A vs B | difference | {level}% interval | Steiger's Z | p |\n|---|---|---|---|---|\n"
        );
        for (_, c) in s.comparisons.iter() {
            let _ = writeln!(
                md,
                "| {} vs {} | {} | {} | {} | {} |",
                label(&c.a),
                label(&c.b),
                c.diff.map_or("n/a".into(), |d| format!("{d:+.3}")),
                interval(c.diff_ci),
                c.steiger_z.map_or("n/a".into(), |z| format!("{z:.2}")),
                c.steiger_p.map_or("n/a".into(), p_label)
            );
        }
    }
    if !s.sensitivity.is_empty() {
        let _ = write!(
            md,
            "\n### Table 3: REPS's PLCC for each weight configuration\n\n| configuration | weights | PLCC | {level}% interval |\n|---|---|---|---|\n"
        );
        for r in &s.sensitivity {
            let w: Vec<String> = r.weights.iter().map(|x| format!("{x:.2}")).collect();
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} |",
                r.name,
                w.join(", "),
                r.plcc.map_or("n/a".into(), |p| format!("{p:.3}")),
                interval(r.plcc_ci)
            );
        }
    }
    if let Some(st) = &s.correlations_stable {
        let _ = write!(
            md,
            "\n### Stable regime: {} pooled model(s) with an accuracy drop of at most {}\n\n",
            st.models.len(),
            st.max_drop
        );
        match &st.reason {
            Some(r) => {
                let _ = writeln!(md, "n/a: {r}");
            }
            None => {
                md += "| score | PLCC | SRCC | KRCC |\n|---|---|---|---|\n";
                for (key, c) in st.correlations.iter() {
                    let cells = Statistic::ALL.map(|x| inferred(c, x));
                    let _ = writeln!(md, "| {} | {} |", label(key), cells.join(" | "));
                }
            }
        }
    }
    if !s.claims.is_empty() {
        md += &verdicts_table(s);
        md += "\n### The paper's claims on the pooled models\n\n";
        for c in &s.claims {
            let _ = writeln!(
                md,
                "- **{}**: {}  \n  {}",
                c.verdict.as_str(),
                c.statement,
                c.evidence
            );
        }
    }
    md
}

/// Each claim's verdict per seed and pooled, one row per claim of the pooled models.
fn verdicts_table(s: &SeedSummary) -> String {
    let mut md = String::from("\n### Verdicts per seed and pooled\n\n| claim |");
    for x in &s.seeds {
        let _ = write!(md, " seed {x} |");
    }
    md += " pooled |\n|---|";
    md += &"---|".repeat(s.seeds.len() + 1);
    md += "\n";
    for c in &s.claims {
        let _ = write!(md, "| `{}` |", c.id);
        for seed in 0..s.seeds.len() {
            let v = s
                .claims_per_seed
                .get(seed)
                .and_then(|cs| cs.iter().find(|x| x.id == c.id))
                .map_or("–", |x| x.verdict.as_str());
            let _ = write!(md, " {v} |");
        }
        let _ = writeln!(md, " **{}** |", c.verdict.as_str());
    }
    md
}
