//! The statistics of a report: Table 2 in the stable regime, REPS against every other score, and
//! the paper's claims with their verdicts. All computed in the worker
//! (`Report::with_inference`, as `native analyze` does); drawn here, and for a multi-seed
//! summary on its pooled models.

use super::tables::{correlations_table, interval};
use reps::analysis::{score, Claim, NamedMap, Report, ScoreComparison, StableCorrelations};
use reps::stats::format_p_value;
use yew::prelude::*;

fn label(key: &str) -> &str {
    score(key).map_or(key, |s| s.label)
}

/// Table 2 over the stable regime's models (of a report, or pooled over seeds).
pub fn stable(stable: Option<&StableCorrelations>, user_weights: bool) -> Html {
    let Some(s) = stable else {
        return html! {};
    };
    html! {
        <section id="stable">
            <h2>{ format!("Table 2 in the stable regime: accuracy drop at most {}", s.max_drop) }</h2>
            <p class="note" id="stable-models">{ format!("{} model(s): {}", s.models.len(), s.models.join(", ")) }</p>
            if let Some(reason) = &s.reason {
                <p class="note" id="stable-reason">{ reason }</p>
            } else {
                { correlations_table(user_weights, &s.correlations, "stable:") }
            }
        </section>
    }
}

/// REPS against every other score.
pub fn comparisons(comparisons: &NamedMap<ScoreComparison>) -> Html {
    if comparisons.0.is_empty() {
        return html! {};
    }
    html! {
        <section id="comparisons">
            <h2>{ "Is REPS really better?" }</h2>
            <p class="note">{ "|PLCC| of A minus |PLCC| of B over the compressed models, its 95% paired bootstrap interval (the same resamples for both), and Steiger's Z test of the two dependent correlations (two-sided p)." }</p>
            <table>
                <thead><tr><th>{ "A vs B" }</th><th>{ "Difference" }</th><th>{ "95% interval" }</th><th>{ "Steiger Z" }</th><th>{ "p" }</th></tr></thead>
                <tbody>
                { for comparisons.iter().map(|(key, c)| html! {
                    <tr title={c.reason.clone().unwrap_or_default()}>
                        <td>{ format!("{} vs {}", label(&c.a), label(&c.b)) }</td>
                        <td class="num" data-key={format!("diff:{key}")} data-value={c.diff.map(|d| d.to_string())}>{ c.diff.map_or("n/a".into(), |d| format!("{d:+.4}")) }</td>
                        <td class="num">{ interval(format!("diff_ci:{key}"), c.diff_ci) }</td>
                        <td class="num">{ c.steiger_z.map_or("n/a".into(), |z| format!("{z:.2}")) }</td>
                        <td class="num" data-key={format!("steiger_p:{key}")} data-value={c.steiger_p.map(|p| p.to_string())}>{ c.steiger_p.map_or("n/a".into(), format_p_value) }</td>
                    </tr>
                }) }
                </tbody>
            </table>
        </section>
    }
}

/// The paper's claims with their verdicts and evidence.
pub fn claims(claims: &[Claim]) -> Html {
    if claims.is_empty() {
        return html! {};
    }
    html! {
        <section id="claims">
            <h2>{ "The paper's claims on these models" }</h2>
            <p class="note">{ "holds: every interval the claim rests on lies on its side; fails: one lies on the other side; undecided: the intervals straddle the line, or are missing." }</p>
            <ul class="claims">
            { for claims.iter().map(|c| {
                let class = c.verdict.as_str();
                html! {
                    <li class={classes!("claim", class)} data-claim={c.id.clone()} data-verdict={class}>
                        <span class="verdict">{ c.verdict.as_str() }</span>{ " " }<strong>{ &c.statement }</strong>
                        <br/><span class="evidence">{ &c.evidence }</span>
                    </li>
                }
            }) }
            </ul>
        </section>
    }
}

/// The statistics sections of `r` (empty until the worker has filled them in).
pub fn all(r: &Report) -> Html {
    html! {
        <>
            { stable(r.correlations_stable.as_ref(), r.user_weights.is_some()) }
            { comparisons(&r.comparisons) }
            { claims(&r.claims) }
        </>
    }
}
