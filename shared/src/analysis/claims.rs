//! The paper's claims, checked on the data at hand: each gets a verdict from the intervals of the
//! inference ([`super::inference`]) and the evidence behind it.

use super::distributions::{is_stable, sensitivity_key, Distributions, LEVEL};
use super::scores::score;
use super::types::{Claim, InferenceOptions, Report, Verdict};
use crate::metrics::COMPONENTS;
use crate::stats::{p_label, Statistic};
use std::fmt::Write;

/// A claim that `a` beats each `b`: holds when every interval of `a − b` lies above 0, fails when
/// one lies below 0, else undecided (also when an interval is missing).
fn beats_all(intervals: &[Option<[f64; 2]>]) -> Verdict {
    if intervals.iter().flatten().any(|[_, hi]| *hi < 0.0) {
        Verdict::Fails
    } else if !intervals.is_empty() && intervals.iter().all(|i| i.is_some_and(|[lo, _]| lo > 0.0)) {
        Verdict::Holds
    } else {
        Verdict::Undecided
    }
}

fn ci(i: Option<[f64; 2]>) -> String {
    match i {
        Some([lo, hi]) => format!("[{lo:.3}, {hi:.3}]"),
        None => "[no interval]".into(),
    }
}

fn label(key: &str) -> &str {
    score(key).map_or(key, |s| s.label)
}

/// The magnitude every Table 3 configuration's PLCC is claimed to reach.
pub const ROBUST_PLCC: f64 = 0.96;

/// How the parameter of a method moves as compression gets stronger: `true` when a larger value
/// compresses more. Parameters not listed give no order, and no stable-then-cliff verdict.
pub const PARAMETER_DIRECTIONS: &[(&str, bool)] = &[
    ("fraction", false), // coreset: the fraction of the training data kept
    ("ratio", true),     // pruning: the fraction of weights removed
    ("bits", false),     // quantization: the bit width
    ("sparsity", true),
    ("rank", false), // low-rank factorisation: the rank kept
    ("keep", false), // low-rank (train-sweep's lowrank): the fraction of each matrix's rank kept
];

/// Every claim, in the paper's order, evaluated on `r` (after its inference) with the bootstrap
/// distributions `dist` (none without accuracies).
pub(crate) fn claims(
    r: &Report,
    dist: Option<&Distributions>,
    options: &InferenceOptions,
) -> Vec<Claim> {
    let mut out = vec![
        strongest_plcc(r),
        beats_agreement(r),
        separation_srcc(r, dist),
        robust_to_weights(r, dist),
    ];
    out.extend(stable_then_cliff(r, options.stable_drop));
    out
}

/// `claim`, undecided because there is nothing to resample without accuracies.
fn without_accuracy(claim: Claim) -> Claim {
    Claim {
        verdict: Verdict::Undecided,
        evidence: "accuracy is not known for every model".into(),
        ..claim
    }
}

/// REPS (equal weights) has the strongest PLCC of all scores.
fn strongest_plcc(r: &Report) -> Claim {
    let key = "reps_equal";
    let mut intervals = Vec::new();
    let mut evidence = match r.correlations.get(key).and_then(|c| c.plcc) {
        Some(p) => format!("|PLCC| of {} {:.3}", label(key), p.abs()),
        None => format!("{} has no PLCC", label(key)),
    };
    let mut worst: Option<(&str, f64, Option<[f64; 2]>)> = None;
    for (_, c) in r.comparisons.iter() {
        let other = if c.a == key {
            c.b.as_str()
        } else if c.b == key {
            c.a.as_str()
        } else {
            continue;
        };
        if other == "reps_user" {
            continue;
        }
        // Oriented as REPS (equal) minus the other score.
        let flip = c.b == key;
        let d = c.diff.map(|d| if flip { -d } else { d });
        let i = c
            .diff_ci
            .map(|[lo, hi]| if flip { [-hi, -lo] } else { [lo, hi] });
        intervals.push(i);
        if let Some(d) = d {
            if worst.is_none_or(|(_, w, _)| d < w) {
                worst = Some((other, d, i));
            }
        }
    }
    if let Some((other, d, i)) = worst {
        let _ = write!(
            evidence,
            "; closest: {} (difference {d:+.3}, {}% CI {})",
            label(other),
            LEVEL * 100.0,
            ci(i)
        );
    }
    Claim {
        id: "reps_strongest_plcc".into(),
        statement: "REPS (equal weights) has the strongest PLCC with accuracy drop of all scores"
            .into(),
        verdict: beats_all(&intervals),
        evidence,
    }
}

/// REPS (equal weights) beats prediction agreement.
fn beats_agreement(r: &Report) -> Claim {
    let c = r.comparisons.get("reps_equal_vs_prediction_agreement");
    let evidence = match c {
        None => "no comparison: prediction agreement needs logits".into(),
        Some(c) => format!(
            "|PLCC| difference {} ({}% CI {}); Steiger's Z {}, {}",
            c.diff.map_or("none".into(), |d| format!("{d:+.3}")),
            LEVEL * 100.0,
            ci(c.diff_ci),
            c.steiger_z
                .map_or("undefined".into(), |z| format!("{z:.2}")),
            c.steiger_p.map_or("p undefined".into(), p_label),
        ),
    };
    Claim {
        id: "reps_beats_prediction_agreement".into(),
        statement: "REPS (equal weights) correlates more strongly with accuracy drop than prediction agreement".into(),
        verdict: beats_all(&[c.and_then(|c| c.diff_ci)]),
        evidence,
    }
}

/// Class separation has the strongest SRCC of the four components.
fn separation_srcc(r: &Report, dist: Option<&Distributions>) -> Claim {
    let key = "separation";
    let mut claim = Claim {
        id: "separation_strongest_component_srcc".into(),
        statement:
            "Class separation has the strongest SRCC with accuracy drop of the four REPS components"
                .into(),
        verdict: Verdict::Undecided,
        evidence: String::new(),
    };
    let Some(dist) = dist else {
        return without_accuracy(claim);
    };
    let srcc = |k: &str| r.correlations.get(k).and_then(|c| c.srcc);
    let Some(own) = srcc(key) else {
        claim.evidence = "class separation has no SRCC (no labels or logits)".into();
        return claim;
    };
    let mut intervals = Vec::new();
    let mut parts = vec![format!("|SRCC| {} {:.3}", label(key), own.abs())];
    for c in COMPONENTS.iter().filter(|c| c.key != key) {
        let i = dist.diff_interval(key, c.key, Statistic::Srcc);
        intervals.push(i);
        parts.push(format!(
            "{} {} (difference CI {})",
            c.label,
            srcc(c.key).map_or("none".into(), |s| format!("{:.3}", s.abs())),
            ci(i)
        ));
    }
    claim.verdict = beats_all(&intervals);
    claim.evidence = parts.join("; ");
    claim
}

/// REPS's PLCC stays at least [`ROBUST_PLCC`] in magnitude across Table 3's configurations.
fn robust_to_weights(r: &Report, dist: Option<&Distributions>) -> Claim {
    let mut claim = Claim {
        id: "reps_robust_to_weights".into(),
        statement: format!(
            "REPS's PLCC with accuracy drop is at least {ROBUST_PLCC} in magnitude for every weight configuration of Table 3"
        ),
        verdict: Verdict::Undecided,
        evidence: String::new(),
    };
    let Some(dist) = dist else {
        return without_accuracy(claim);
    };
    let mut verdicts = Vec::new();
    let mut parts = Vec::new();
    for row in r
        .sensitivity
        .iter()
        .filter(|row| row.name != super::USER_ROW)
    {
        // The interval of |PLCC| (not of PLCC: a sign change counts as weak).
        let abs = dist.abs_interval(&sensitivity_key(&row.name), Statistic::Plcc);
        verdicts.push(match abs {
            Some([lo, _]) if lo >= ROBUST_PLCC => Verdict::Holds,
            Some([_, hi]) if hi < ROBUST_PLCC => Verdict::Fails,
            _ => Verdict::Undecided,
        });
        parts.push(format!(
            "{} {} (|PLCC| CI {})",
            row.name,
            row.plcc
                .map_or("none".into(), |p| format!("{:.3}", p.abs())),
            ci(abs)
        ));
    }
    claim.verdict = if verdicts.contains(&Verdict::Fails) {
        Verdict::Fails
    } else if !verdicts.is_empty() && verdicts.iter().all(|v| *v == Verdict::Holds) {
        Verdict::Holds
    } else {
        Verdict::Undecided
    };
    claim.evidence = parts.join("; ");
    claim
}

/// Per method: accuracy is stable (drop at most `stable_drop`) up to some compression level and
/// falls off a cliff (drop above twice `stable_drop`) at the next one.
///
/// Levels are ordered from least to most compressed by [`PARAMETER_DIRECTIONS`]. The claim holds
/// when the first level is stable and the level after the last stable one (in the run of stable
/// levels from the start) drops by more than `2 · stable_drop`; it fails when the first level
/// is not stable, or when that next level drops by at most `2 · stable_drop` (a gradual decline);
/// it is undecided when every level is stable, the order is unknown, or accuracies are missing.
/// Where several models share a level (the seeds of a pooled sweep), the level's drop is their
/// mean. There is no interval: the verdict reads the drops as measured.
fn stable_then_cliff(r: &Report, stable_drop: f64) -> Vec<Claim> {
    let cliff = 2.0 * stable_drop;
    r.methods()
        .into_iter()
        .filter(|g| g.method != "original")
        .map(|g| {
            let param = g.parameter_name.unwrap_or("parameter");
            let mut claim = Claim {
                id: format!("stable_then_cliff:{}", g.method),
                statement: format!(
                    "{}: accuracy stays within {stable_drop} of the reference up to a level of {param}, then drops by more than {cliff} at the next level",
                    g.method
                ),
                verdict: Verdict::Undecided,
                evidence: String::new(),
            };
            let Some(&(_, larger_compresses)) =
                PARAMETER_DIRECTIONS.iter().find(|(p, _)| *p == param)
            else {
                claim.evidence = format!("the direction of compression of '{param}' is not known");
                return claim;
            };
            let levels: Option<Vec<(f64, f64)>> = g
                .models
                .iter()
                .map(|m| Some((m.parameter?, m.accuracy_drop?)))
                .collect();
            let Some(mut levels) = levels else {
                claim.evidence = "a model lacks its parameter or accuracy".into();
                return claim;
            };
            levels.sort_by(|a, b| {
                let o = a.0.total_cmp(&b.0);
                if larger_compresses { o } else { o.reverse() }
            });
            let levels = mean_per_level(&levels);
            let level = |(p, d, k): (f64, f64, usize)| match k {
                1 => format!("{param} {p} (drop {d:.3})"),
                k => format!("{param} {p} (mean drop {d:.3} over {k} models)"),
            };
            let stable = levels
                .iter()
                .take_while(|(_, d, _)| is_stable(*d, stable_drop))
                .count();
            (claim.verdict, claim.evidence) = match (stable, levels.get(stable)) {
                (0, Some(&first)) => (
                    Verdict::Fails,
                    format!("the least compressed level is not stable: {}", level(first)),
                ),
                (_, None) => (
                    Verdict::Undecided,
                    format!("every level is stable, up to {}", level(levels[levels.len() - 1])),
                ),
                (k, Some(&next)) => (
                    if !is_stable(next.1, cliff) { Verdict::Holds } else { Verdict::Fails },
                    format!("stable up to {}; next: {}", level(levels[k - 1]), level(next)),
                ),
            };
            claim
        })
        .collect()
}

/// `(level, drop)` pairs sorted by level, merged into `(level, mean drop, models)` per distinct
/// level. A level with one model keeps its drop exactly.
fn mean_per_level(sorted: &[(f64, f64)]) -> Vec<(f64, f64, usize)> {
    let mut out: Vec<(f64, f64, usize)> = Vec::new();
    for run in sorted.chunk_by(|a, b| a.0 == b.0) {
        let sum: f64 = run.iter().map(|(_, d)| d).sum();
        out.push((run[0].0, sum / run.len() as f64, run.len()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beats_all_needs_every_interval_above_zero() {
        assert_eq!(
            beats_all(&[Some([0.1, 0.2]), Some([0.01, 0.3])]),
            Verdict::Holds
        );
        assert_eq!(
            beats_all(&[Some([0.1, 0.2]), Some([-0.01, 0.3])]),
            Verdict::Undecided
        );
        assert_eq!(beats_all(&[Some([0.1, 0.2]), None]), Verdict::Undecided);
        assert_eq!(
            beats_all(&[Some([0.1, 0.2]), Some([-0.3, -0.1])]),
            Verdict::Fails
        );
        assert_eq!(beats_all(&[Some([0.0, 0.0])]), Verdict::Undecided);
        assert_eq!(beats_all(&[]), Verdict::Undecided);
    }

    #[test]
    fn levels_shared_by_several_models_take_their_mean_drop() {
        let got = mean_per_level(&[(0.1, 0.01), (0.1, 0.03), (0.5, 0.2), (0.9, 0.7), (0.9, 0.5)]);
        assert_eq!(got.len(), 3);
        assert_eq!((got[0].0, got[0].2), (0.1, 2));
        assert!((got[0].1 - 0.02).abs() < 1e-15);
        assert_eq!(got[1], (0.5, 0.2, 1));
        assert!((got[2].1 - 0.6).abs() < 1e-15 && got[2].2 == 2);
    }
}
