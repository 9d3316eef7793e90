//! Sensitivity of REPS to its component weights (paper Table 3), and the best weights on the simplex.

use super::types::{BestWeights, SensitivityRow};
use crate::metrics::{PerComponent, RepsWeights, COMPONENT_COUNT};
use crate::stats::pearson;

/// The six weight configurations of the paper's Table 3, in its order.
pub const TABLE3: [(&str, PerComponent<f64>); 6] = [
    ("Weighted (proposed)", [0.15, 0.05, 0.35, 0.45]),
    ("Equal weights", [0.25, 0.25, 0.25, 0.25]),
    ("Rank-only", [1.0, 0.0, 0.0, 0.0]),
    ("Separation-heavy", [0.10, 0.10, 0.60, 0.20]),
    ("Decay-heavy", [0.10, 0.10, 0.20, 0.60]),
    ("No aliveness", [0.20, 0.00, 0.40, 0.40]),
];

/// Model-level REPS for weights `w` from each model's mean components (REPS is linear in the
/// components, so the mean over layers of `REPS^l` equals REPS of the mean components).
fn scores(components: &[PerComponent<Option<f64>>], w: &RepsWeights) -> Option<Vec<f64>> {
    components.iter().map(|c| w.combine(*c)).collect()
}

/// The name of the Table 3 row of the user's weights.
pub const USER_ROW: &str = "User weights";

/// One row of Table 3: PLCC against `drops` of model-level REPS with weights `w`.
/// `components[i]` holds model i's mean component scores (in `metrics::COMPONENTS` order).
pub fn sensitivity_row(
    name: &str,
    w: &RepsWeights,
    components: &[PerComponent<Option<f64>>],
    drops: &[f64],
) -> SensitivityRow {
    let (plcc, reason) = match scores(components, w) {
        None => (None, Some("no component left to weigh".to_string())),
        Some(s) => match pearson(&s, drops) {
            Ok(r) => (Some(r), None),
            Err(e) => (None, Some(e.to_string())),
        },
    };
    SensitivityRow {
        name: name.to_string(),
        weights: w.0,
        plcc,
        reason,
        plcc_ci: None,
    }
}

/// Table 3: [`sensitivity_row`] for each of its configurations, then for `user` (if any, as
/// [`USER_ROW`]).
pub fn sensitivity_table(
    components: &[PerComponent<Option<f64>>],
    drops: &[f64],
    user: Option<RepsWeights>,
) -> Vec<SensitivityRow> {
    TABLE3
        .iter()
        .map(|(n, w)| (*n, RepsWeights(*w)))
        .chain(user.map(|w| (USER_ROW, w)))
        .map(|(name, w)| sensitivity_row(name, &w, components, drops))
        .collect()
}

/// Every weight vector on the simplex whose entries are multiples of `1 / steps`, in
/// lexicographic order of the entries (the first component's weight varies slowest).
fn simplex_grid(steps: usize) -> Vec<PerComponent<f64>> {
    fn fill(prefix: &mut Vec<usize>, left: usize, steps: usize, out: &mut Vec<PerComponent<f64>>) {
        if prefix.len() + 1 == COMPONENT_COUNT {
            prefix.push(left);
            out.push(std::array::from_fn(|k| prefix[k] as f64 / steps as f64));
            prefix.pop();
            return;
        }
        for x in 0..=left {
            prefix.push(x);
            fill(prefix, left - x, steps, out);
            prefix.pop();
        }
    }
    let mut out = Vec::new();
    fill(
        &mut Vec::with_capacity(COMPONENT_COUNT),
        steps,
        steps,
        &mut out,
    );
    out
}

fn best_on(
    components: &[PerComponent<Option<f64>>],
    drops: &[f64],
    grid: &[PerComponent<f64>],
) -> Option<(PerComponent<f64>, f64)> {
    let mut best: Option<(PerComponent<f64>, f64)> = None;
    for w in grid {
        let Some(s) = scores(components, &RepsWeights(*w)) else {
            continue;
        };
        if let Ok(r) = pearson(&s, drops) {
            if best.is_none_or(|(_, b)| r < b) {
                best = Some((*w, r));
            }
        }
    }
    best
}

/// Searches the weight simplex (grid step 0.05: 1771 points for four components) for the weights whose REPS has the
/// most negative PLCC with accuracy drop, and estimates the result by leave-one-model-out.
/// `None` when no weights give a defined PLCC (fewer than 3 models, constant drops).
pub fn best_weights(
    components: &[PerComponent<Option<f64>>],
    drops: &[f64],
) -> Option<BestWeights> {
    let grid = simplex_grid(20);
    let (weights, plcc) = best_on(components, drops, &grid)?;
    let n = components.len();
    let loo_plcc = (n >= 4)
        .then(|| {
            let mut predicted = Vec::with_capacity(n);
            for i in 0..n {
                let comps: Vec<_> = (0..n).filter(|&j| j != i).map(|j| components[j]).collect();
                let d: Vec<f64> = (0..n).filter(|&j| j != i).map(|j| drops[j]).collect();
                let (w, _) = best_on(&comps, &d, &grid)?;
                predicted.push(RepsWeights(w).combine(components[i])?);
            }
            pearson(&predicted, drops).ok()
        })
        .flatten();
    Some(BestWeights {
        weights,
        plcc,
        loo_plcc,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The grid has C(steps + K − 1, K − 1) points, each on the simplex, in the order of nested
    /// loops over the components (ties in the search go to the first).
    #[test]
    fn simplex_grid_is_complete_and_ordered() {
        let grid = simplex_grid(20);
        assert_eq!(grid.len(), 1771); // C(23, 3)
        let mut nested = Vec::new();
        for a in 0..=20usize {
            for b in 0..=20 - a {
                for c in 0..=20 - a - b {
                    let d = 20 - a - b - c;
                    nested.push([a, b, c, d].map(|x| x as f64 / 20.0));
                }
            }
        }
        assert_eq!(grid, nested);
    }
}
