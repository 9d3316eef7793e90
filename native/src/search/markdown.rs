//! `search.md`: the tables of a search for people.

use reps::search::SearchResult;
use std::fmt::Write;

fn opt(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{v:.4}"))
}

/// The search's tables: the final models, the claims, each strategy's level per layer, and where
/// the time went.
pub fn render(r: &SearchResult) -> String {
    let mut s = String::new();
    let setting = |k: &str| r.setting(k);
    let _ = writeln!(
        s,
        "# Compression search: {} from {}\n",
        setting("method"),
        setting("from")
    );
    let _ = writeln!(
        s,
        "Budget: {} (target {}, REPS threshold {}); {} calibration images; original test accuracy {:.4}.\n",
        r.budget_name,
        setting("budget"),
        setting("min_reps"),
        setting("calibration"),
        r.original_accuracy
    );
    s.push_str("## Final models\n\nTest accuracy on the full test set; REPS, CKA and prediction agreement on the sweep's analysed test images (`native analyze search.reps`); the difference with uniform is paired over the test images, with its 95% bootstrap interval.\n\n");
    s.push_str("| Strategy | Budget | Test accuracy | − uniform [95% CI] | REPS | CKA | Agreement | Calib. REPS | Calib. accuracy | Steps |\n|---|---|---|---|---|---|---|---|---|---|\n");
    for (m, a) in r.models.iter().zip(&r.allocations) {
        let diff = m
            .vs_uniform
            .as_ref()
            .map_or("–".into(), |d| match d.interval {
                Some([lo, hi]) => format!("{:+.4} [{lo:+.4}, {hi:+.4}]", d.difference),
                None => format!("{:+.4}", d.difference),
            });
        let steps = a
            .greedy
            .as_ref()
            .map_or("–".into(), |g| g.steps.len().to_string());
        let _ = writeln!(
            s,
            "| {} | {:.4} | {:.4} | {diff} | {} | {:.4} | {} | {} | {} | {steps} |",
            m.strategy,
            m.budget,
            m.accuracy,
            opt(m.reps),
            m.cka,
            opt(m.prediction_agreement),
            opt(m.calibration.reps()),
            opt(m.calibration.accuracy),
        );
    }
    if !r.claims.is_empty() {
        s.push_str("\n## Claims\n\n| Claim | Verdict | Evidence |\n|---|---|---|\n");
        for c in &r.claims {
            let _ = writeln!(
                s,
                "| {} | **{}** | {} |",
                c.statement,
                c.verdict.as_str(),
                c.evidence
            );
        }
    }
    s.push_str("\n## Levels per layer\n\n| Layer | Parameters |");
    for m in &r.models {
        let _ = write!(s, " {} |", m.strategy);
    }
    s.push_str("\n|---|---|");
    s.push_str(&"---|".repeat(r.models.len()));
    s.push('\n');
    for (i, l) in r.space.layers.iter().enumerate() {
        let _ = write!(s, "| {} | {} |", l.name, l.parameters);
        for m in &r.models {
            let v = m.levels[i].map_or("–".into(), |v| format!("{v}"));
            let _ = write!(s, " {v} |");
        }
        s.push('\n');
    }
    let t = &r.timing;
    let _ = writeln!(
        s,
        "\n## Time\n\n{} candidates measured: forward passes {:.1} s, analysis {:.1} s, compression {:.1} s; {:.1} s in all.",
        t.candidates, t.forward_s, t.analysis_s, t.compress_s, r.seconds
    );
    s
}
