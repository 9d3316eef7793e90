//! The budget of a layer-wise compression: each layer has a ladder of levels, each level an
//! amount per parameter (the share of weights zeroed, the bits per weight, the share of
//! parameters kept), and the model's budget is their mean weighted by parameter count.

use crate::error::{RepsError, Result};
use serde::{Deserialize, Serialize};

/// Which way the budget moves as layers are compressed more.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// It grows (sparsity): a target is reached at or above it.
    Increases,
    /// It shrinks (average bits, kept share): a target is reached at or below it.
    Decreases,
}

/// One layer's ladder: `amounts[0]` is the layer untouched, `amounts[k]` at ladder step `k`
/// (1-based, the `k`-th value of the ladder).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerLadder {
    pub name: String,
    /// Its number of parameters, the weight of its amount in the budget.
    pub parameters: usize,
    pub amounts: Vec<f64>,
}

/// The layers of one search and the direction of their budget.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BudgetSpace {
    pub layers: Vec<LayerLadder>,
    pub direction: Direction,
}

/// How far two budgets may differ by rounding alone and still count as equal.
const BUDGET_TOLERANCE: f64 = 1e-9;

impl BudgetSpace {
    /// A space of `layers`, each with the same number (at least 2: untouched and one step) of
    /// finite amounts and at least one parameter.
    pub fn new(layers: Vec<LayerLadder>, direction: Direction) -> Result<Self> {
        let steps = layers.first().map_or(0, |l| l.amounts.len());
        if layers.is_empty() || steps < 2 {
            return Err(RepsError::Invalid(
                "a search needs at least one layer and one ladder step".into(),
            ));
        }
        if let Some(l) = layers.iter().find(|l| {
            l.amounts.len() != steps
                || l.parameters == 0
                || l.amounts.iter().any(|a| !a.is_finite())
        }) {
            return Err(RepsError::Invalid(format!(
                "layer '{}': {} amounts for a ladder of {} (or no parameters, or an amount that is not finite)",
                l.name,
                l.amounts.len(),
                steps - 1
            )));
        }
        Ok(BudgetSpace { layers, direction })
    }

    /// The number of ladder steps (levels `1..=steps`; level 0 is the layer untouched).
    pub fn steps(&self) -> usize {
        self.layers[0].amounts.len() - 1
    }

    /// `B = Σ_i n_i a_i(l_i) / Σ_i n_i` for the levels `l_i` of the layers (`n_i` parameters,
    /// `a_i(l)` their amount at level `l`).
    pub fn budget(&self, levels: &[usize]) -> f64 {
        let amounts: Vec<f64> = self
            .layers
            .iter()
            .zip(levels)
            .map(|(l, &k)| l.amounts[k])
            .collect();
        self.budget_of(&amounts)
    }

    /// The budget of the layers at any `amounts` (one per layer, on the ladder or not):
    /// `Σ_i n_i a_i / Σ_i n_i`.
    pub fn budget_of(&self, amounts: &[f64]) -> f64 {
        let total: f64 = self.layers.iter().map(|l| l.parameters as f64).sum();
        let sum: f64 = self
            .layers
            .iter()
            .zip(amounts)
            .map(|(l, a)| l.parameters as f64 * a)
            .sum();
        sum / total
    }

    /// How much more compressed `b` is than `a`, in budget units (positive when more compressed).
    pub fn progress(&self, a: f64, b: f64) -> f64 {
        match self.direction {
            Direction::Increases => b - a,
            Direction::Decreases => a - b,
        }
    }

    /// Whether `budget` reaches `target` (up to rounding, [`BUDGET_TOLERANCE`]).
    pub fn reached(&self, budget: f64, target: f64) -> bool {
        self.progress(target, budget) >= -BUDGET_TOLERANCE
    }

    /// The next level of `layer` above `level` that compresses it more (ladder steps that change
    /// nothing, such as two keep fractions that round to the same rank, are passed over);
    /// `None` at its end.
    pub fn next_level(&self, layer: usize, level: usize) -> Option<usize> {
        let a = &self.layers[layer].amounts;
        (level + 1..a.len()).find(|&k| self.progress(a[level], a[k]) > 0.0)
    }

    /// The budget gained by moving `layer` from `from` to `to`, in budget units.
    pub fn gain(&self, layer: usize, from: usize, to: usize) -> f64 {
        let l = &self.layers[layer];
        let total: f64 = self.layers.iter().map(|l| l.parameters as f64).sum();
        self.progress(l.amounts[from], l.amounts[to]) * l.parameters as f64 / total
    }

    /// Why `target` cannot be searched for, if it cannot: already reached by the untouched
    /// model, or beyond what every layer at its last step reaches.
    pub fn check_target(&self, target: f64) -> std::result::Result<(), String> {
        let untouched = self.budget(&vec![0; self.layers.len()]);
        let furthest = self.budget(&vec![self.steps(); self.layers.len()]);
        if !target.is_finite() || self.progress(untouched, target) <= 0.0 {
            return Err(format!(
                "{target} asks for no compression: the untouched model is at {untouched}"
            ));
        }
        if !self.reached(furthest, target) {
            return Err(format!(
                "{target} cannot be reached with this ladder: every layer at its last step gives {furthest:.4}"
            ));
        }
        Ok(())
    }

    /// The first ladder step that, given to every layer, reaches `target` (the uniform
    /// allocation); `None` when none does.
    pub fn uniform_level(&self, target: f64) -> Option<usize> {
        (1..=self.steps()).find(|&k| self.reached(self.budget(&vec![k; self.layers.len()]), target))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space(direction: Direction, a: Vec<f64>, b: Vec<f64>) -> BudgetSpace {
        BudgetSpace::new(
            vec![
                LayerLadder {
                    name: "a".into(),
                    parameters: 100,
                    amounts: a,
                },
                LayerLadder {
                    name: "b".into(),
                    parameters: 300,
                    amounts: b,
                },
            ],
            direction,
        )
        .unwrap()
    }

    #[test]
    fn the_budget_is_the_parameter_weighted_mean() {
        let s = space(
            Direction::Increases,
            vec![0.0, 0.5, 0.9],
            vec![0.0, 0.5, 0.9],
        );
        // (100 · 0.9 + 300 · 0.5) / 400 = 240 / 400.
        assert_eq!(s.budget(&[2, 1]), 0.6);
        assert!(s.reached(0.6, 0.6) && !s.reached(0.59, 0.6));
        assert_eq!(s.gain(1, 0, 1), 0.5 * 300.0 / 400.0);
        assert_eq!(s.uniform_level(0.6), Some(2));
        assert!(s.check_target(0.95).unwrap_err().contains("0.9000"));
        assert!(s.check_target(0.0).unwrap_err().contains("no compression"));
        // Bits shrink as layers are compressed.
        let q = space(
            Direction::Decreases,
            vec![32.0, 8.0, 8.0, 2.0],
            vec![32.0, 8.0, 4.0, 2.0],
        );
        assert_eq!(q.budget(&[3, 2]), (2.0 * 100.0 + 4.0 * 300.0) / 400.0);
        assert!(q.reached(3.5, 3.5) && q.reached(3.0, 3.5) && !q.reached(4.0, 3.5));
        // The flat step 8 → 8 of layer a is passed over.
        assert_eq!(q.next_level(0, 1), Some(3));
        assert_eq!(q.next_level(0, 3), None);
    }

    #[test]
    fn ladders_of_different_lengths_are_refused() {
        let e = BudgetSpace::new(
            vec![
                LayerLadder {
                    name: "a".into(),
                    parameters: 1,
                    amounts: vec![0.0, 1.0],
                },
                LayerLadder {
                    name: "b".into(),
                    parameters: 1,
                    amounts: vec![0.0],
                },
            ],
            Direction::Increases,
        )
        .unwrap_err();
        assert!(e.to_string().contains("layer 'b'"), "{e}");
    }
}
