//! The greedy allocation with re-measurement: from the untouched model, move one layer a ladder
//! step at a time, always the layer whose next step is estimated to cost the least score per
//! unit of budget gained; measure the whole candidate after every step, so that interactions
//! between layers count.
//!
//! The estimate of a layer's next step starts as the score it lost when moved alone (the
//! sensitivity table: `s_i(l) − s_i(l')`, `s_i(0)` the untouched model's score). Its cost is
//! `max(drop, 0) / gain`; the least cost wins, ties going to the larger gain, then to the first
//! layer. Before a move is taken it is measured on the current candidate
//! (`score(c) − score(c with layer i moved)`, which counts its interactions with the layers
//! already moved), and taken only if its measured cost is still the least (the lazy greedy of
//! Minoux 1978); otherwise the next cheapest is measured, and so on, each at most once per
//! candidate. Optionally every layer's next step is measured again every `refresh_every` steps.
//!
//! The state ([`GreedyState`]) holds everything the next step needs and serialises exactly, so
//! that a search stopped after any step continues to the same result.

use super::budget::BudgetSpace;
use serde::{Deserialize, Serialize};

/// One move of the greedy and the measurement of the candidate it made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step<M> {
    /// The layer moved (its index in the budget space).
    pub layer: usize,
    /// Its new level (1-based ladder step).
    pub level: usize,
    /// The model's budget after the move.
    pub budget: f64,
    pub measurement: M,
}

/// Where a search stops.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Target {
    /// At the first step whose budget reaches this one.
    Budget(f64),
    /// At the last step whose bound (a score, or the lower end of its interval) stays at or above
    /// this threshold.
    MinScore(f64),
}

/// Why a search ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ended {
    /// The budget was reached.
    Budget,
    /// The next step fell below the threshold; it was not kept.
    Threshold,
    /// Every layer is at its last step.
    Exhausted,
}

/// Everything a greedy search has done and needs for its next step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GreedyState<M> {
    /// The level of every layer (0: untouched).
    pub levels: Vec<usize>,
    /// The driving score of the current candidate.
    pub score: f64,
    /// The estimated score lost by each layer's next step (`None` at its end).
    pub drops: Vec<Option<f64>>,
    /// The measurements of each layer's next step from the last refresh, while the candidate has
    /// not moved since (so that the step taken reuses its measurement).
    pub fresh: Vec<Option<M>>,
    /// The steps kept, in order.
    pub steps: Vec<Step<M>>,
    /// The step that crossed the threshold and was not kept.
    pub rejected: Option<Step<M>>,
    pub since_refresh: usize,
    pub ended: Option<Ended>,
}

/// The settings and the sensitivity table of one greedy search.
pub struct Greedy<'a, M> {
    pub space: &'a BudgetSpace,
    /// The untouched model's score.
    pub untouched: f64,
    /// `sensitivity[i][k − 1]`: the score with layer `i` alone at level `k`.
    pub sensitivity: &'a [Vec<f64>],
    /// Refresh the estimates after this many steps (0: never).
    pub refresh_every: usize,
    pub target: Target,
    /// The score that drives the search (higher is better).
    pub score: &'a dyn Fn(&M) -> f64,
    /// The value compared with a [`Target::MinScore`] threshold (the score, or its lower bound).
    pub bound: &'a dyn Fn(&M) -> f64,
}

impl<M: Clone> Greedy<'_, M> {
    /// The state before the first step: every layer untouched, estimates from the table.
    pub fn start(&self) -> GreedyState<M> {
        let levels = vec![0; self.space.layers.len()];
        let drops = (0..levels.len()).map(|i| self.table_drop(i, 0)).collect();
        GreedyState {
            levels,
            score: self.untouched,
            drops,
            fresh: vec![None; self.space.layers.len()],
            steps: Vec::new(),
            rejected: None,
            since_refresh: 0,
            ended: None,
        }
    }

    /// The score at `level` of `layer` moved alone.
    fn alone(&self, layer: usize, level: usize) -> f64 {
        match level {
            0 => self.untouched,
            k => self.sensitivity[layer][k - 1],
        }
    }

    /// The table's estimate of the drop of `layer`'s next step from `level`.
    fn table_drop(&self, layer: usize, level: usize) -> Option<f64> {
        let next = self.space.next_level(layer, level)?;
        Some(self.alone(layer, level) - self.alone(layer, next))
    }

    /// The layer to move next and its new level; `None` when every layer is at its end.
    pub fn choose(&self, state: &GreedyState<M>) -> Option<(usize, usize)> {
        let mut best: Option<(f64, f64, usize, usize)> = None;
        for (i, drop) in state.drops.iter().enumerate() {
            let (Some(drop), Some(next)) = (drop, self.space.next_level(i, state.levels[i])) else {
                continue;
            };
            let gain = self.space.gain(i, state.levels[i], next);
            let cost = drop.max(0.0) / gain;
            let better = match best {
                None => true,
                Some((c, g, _, _)) => cost < c || (cost == c && gain > g),
            };
            if better {
                best = Some((cost, gain, i, next));
            }
        }
        best.map(|(_, _, i, next)| (i, next))
    }

    /// Whether the search is over before another step (the budget is reached).
    fn budget_reached(&self, state: &GreedyState<M>) -> bool {
        match self.target {
            Target::Budget(b) => self.space.reached(self.space.budget(&state.levels), b),
            Target::MinScore(_) => false,
        }
    }

    /// Takes one step: measures the cheapest move on the current candidate (`measure(levels)`),
    /// keeps it when its measured cost is still the least (else measures the next cheapest), or
    /// ends the search; then refreshes every estimate when due. Returns `false` once the search
    /// has ended (then `state.ended` says why).
    pub fn advance<E>(
        &self,
        state: &mut GreedyState<M>,
        measure: &mut dyn FnMut(&[usize]) -> Result<M, E>,
    ) -> Result<bool, E> {
        if state.ended.is_some() {
            return Ok(false);
        }
        if self.budget_reached(state) {
            state.ended = Some(Ended::Budget);
            return Ok(false);
        }
        let (layer, level, measurement) = loop {
            let Some((layer, level)) = self.choose(state) else {
                state.ended = Some(Ended::Exhausted);
                return Ok(false);
            };
            if let Some(m) = state.fresh[layer].take() {
                break (layer, level, m);
            }
            let mut levels = state.levels.clone();
            levels[layer] = level;
            let m = measure(&levels)?;
            state.drops[layer] = Some(state.score - (self.score)(&m));
            state.fresh[layer] = Some(m);
        };
        let mut levels = state.levels.clone();
        levels[layer] = level;
        let step = Step {
            layer,
            level,
            budget: self.space.budget(&levels),
            measurement,
        };
        if let Target::MinScore(t) = self.target {
            if (self.bound)(&step.measurement) < t {
                state.rejected = Some(step);
                state.ended = Some(Ended::Threshold);
                return Ok(false);
            }
        }
        state.fresh.iter_mut().for_each(|f| *f = None);
        state.score = (self.score)(&step.measurement);
        state.levels = levels;
        state.steps.push(step);
        // The moved layer's next step as the table sees it; the others keep their estimates.
        state.drops[layer] = self.table_drop(layer, level);
        state.since_refresh += 1;
        let due = self.refresh_every > 0 && state.since_refresh >= self.refresh_every;
        if due && !self.budget_reached(state) {
            self.refresh(state, measure)?;
        }
        Ok(true)
    }

    /// Measures every layer's next step on the current candidate and replaces the estimates.
    fn refresh<E>(
        &self,
        state: &mut GreedyState<M>,
        measure: &mut dyn FnMut(&[usize]) -> Result<M, E>,
    ) -> Result<(), E> {
        for i in 0..state.levels.len() {
            let Some(next) = self.space.next_level(i, state.levels[i]) else {
                state.drops[i] = None;
                continue;
            };
            let mut levels = state.levels.clone();
            levels[i] = next;
            let m = measure(&levels)?;
            state.drops[i] = Some(state.score - (self.score)(&m));
            state.fresh[i] = Some(m);
        }
        state.since_refresh = 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::budget::{Direction, LayerLadder};
    use super::*;

    /// Three layers of 100 parameters, pruned 0, 0.5, 1: a model whose score is
    /// `1 − Σ_i w_i · level_i²`, with layer weights `w`.
    fn setting(w: [f64; 3]) -> (BudgetSpace, Vec<Vec<f64>>, impl Fn(&[usize]) -> f64) {
        let layers = (0..3)
            .map(|i| LayerLadder {
                name: format!("l{i}"),
                parameters: 100,
                amounts: vec![0.0, 0.5, 1.0],
            })
            .collect();
        let space = BudgetSpace::new(layers, Direction::Increases).unwrap();
        let score = move |levels: &[usize]| {
            1.0 - levels
                .iter()
                .zip(w)
                .map(|(&l, w)| w * (l * l) as f64)
                .sum::<f64>()
        };
        let table = (0..3)
            .map(|i| {
                (1..=2)
                    .map(|k| {
                        let mut l = vec![0; 3];
                        l[i] = k;
                        score(&l)
                    })
                    .collect()
            })
            .collect();
        (space, table, score)
    }

    fn run(w: [f64; 3], target: Target, refresh_every: usize) -> (GreedyState<f64>, usize) {
        let (space, table, score) = setting(w);
        let id = |m: &f64| *m;
        let g = Greedy {
            space: &space,
            untouched: 1.0,
            sensitivity: &table,
            refresh_every,
            target,
            score: &id,
            bound: &id,
        };
        let mut state = g.start();
        let mut measured = 0;
        while g
            .advance(&mut state, &mut |l: &[usize]| {
                measured += 1;
                Ok::<f64, ()>(score(l))
            })
            .unwrap()
        {}
        (state, measured)
    }

    #[test]
    fn the_irrelevant_layer_goes_first_and_the_relevant_one_last() {
        // Layer 1 does not matter (weight 1e-6), layer 2 matters most.
        let (state, _) = run([0.01, 1e-6, 0.5], Target::Budget(1.0), 0);
        let order: Vec<usize> = state.steps.iter().map(|s| s.layer).collect();
        assert_eq!(order, vec![1, 1, 0, 0, 2, 2]);
        assert_eq!(state.ended, Some(Ended::Budget));
        // Stopped at the first step that reaches 0.5 = (100 · 1 + 100 · 0.5) / 300.
        let (state, _) = run([0.01, 1e-6, 0.5], Target::Budget(0.5), 0);
        assert_eq!(state.levels, vec![1, 2, 0]);
        assert_eq!(state.steps.last().unwrap().budget, 0.5);
    }

    #[test]
    fn a_threshold_keeps_the_last_step_above_it() {
        // Scores after each step: 1 − 1e-6, 1 − 4e-6, 0.99 − 4e-6, 0.96 − 4e-6; the next step
        // (layer 2 to level 1) falls to 0.46 − 4e-6 and is not kept.
        let (state, _) = run([0.01, 1e-6, 0.5], Target::MinScore(0.95), 0);
        assert_eq!(state.ended, Some(Ended::Threshold));
        assert_eq!(state.levels, vec![2, 2, 0]);
        assert!(state.score >= 0.95);
        let rejected = state.rejected.unwrap();
        assert_eq!((rejected.layer, rejected.level), (2, 1));
        assert!(rejected.measurement < 0.95);
    }

    #[test]
    fn refreshing_measures_each_next_step_and_reuses_the_chosen_one() {
        let (a, plain) = run([0.01, 1e-6, 0.5], Target::Budget(1.0), 0);
        let (b, refreshed) = run([0.01, 1e-6, 0.5], Target::Budget(1.0), 1);
        // The score is additive, so the estimates are exact either way: the same path.
        assert_eq!(a.levels, b.levels);
        assert_eq!(
            a.steps.iter().map(|s| s.layer).collect::<Vec<_>>(),
            b.steps.iter().map(|s| s.layer).collect::<Vec<_>>()
        );
        assert_eq!(plain, 6);
        // Refreshes after steps 1..5 measure 3, 3, 2, 2, 1, 1 (then 0) next steps; the step
        // after each takes its measurement from the refresh instead of measuring again.
        assert_eq!(refreshed, 1 + (3 + 2 + 2 + 1 + 1));
    }

    #[test]
    fn a_move_whose_measured_cost_grew_gives_way() {
        // Three one-step layers; alone they cost 0.01, 0.02, 0.03, but layers 0 and 1 together
        // cost 0.1 more. The table alone would move 0 then 1 (score 0.87); measuring before
        // moving finds the interaction and moves 2 instead (score 0.96).
        let space = BudgetSpace::new(
            (0..3)
                .map(|i| LayerLadder {
                    name: format!("l{i}"),
                    parameters: 10,
                    amounts: vec![0.0, 1.0],
                })
                .collect(),
            Direction::Increases,
        )
        .unwrap();
        let score = |l: &[usize]| {
            1.0 - 0.01 * l[0] as f64
                - 0.02 * l[1] as f64
                - 0.03 * l[2] as f64
                - if l[0] > 0 && l[1] > 0 { 0.1 } else { 0.0 }
        };
        let table = vec![vec![0.99], vec![0.98], vec![0.97]];
        let id = |m: &f64| *m;
        let g = Greedy {
            space: &space,
            untouched: 1.0,
            sensitivity: &table,
            refresh_every: 0,
            target: Target::Budget(2.0 / 3.0),
            score: &id,
            bound: &id,
        };
        let mut state = g.start();
        let mut measured = Vec::new();
        while g
            .advance(&mut state, &mut |l: &[usize]| {
                measured.push(l.to_vec());
                Ok::<f64, ()>(score(l))
            })
            .unwrap()
        {}
        assert_eq!(state.levels, vec![1, 0, 1]);
        assert!((state.score - 0.96).abs() < 1e-12);
        assert_eq!(measured, vec![vec![1, 0, 0], vec![1, 1, 0], vec![1, 0, 1]]);
    }

    #[test]
    fn the_state_survives_serialisation_mid_search() {
        let (space, table, score) = setting([0.01, 1e-6, 0.5]);
        let id = |m: &f64| *m;
        let g = Greedy {
            space: &space,
            untouched: 1.0,
            sensitivity: &table,
            refresh_every: 2,
            target: Target::Budget(1.0),
            score: &id,
            bound: &id,
        };
        let mut measure = |l: &[usize]| Ok::<f64, ()>(score(l));
        let mut state = g.start();
        for _ in 0..3 {
            g.advance(&mut state, &mut measure).unwrap();
        }
        let text = serde_json::to_string(&state).unwrap();
        let mut resumed: GreedyState<f64> = serde_json::from_str(&text).unwrap();
        assert_eq!(resumed, state);
        while g.advance(&mut state, &mut measure).unwrap() {}
        while g.advance(&mut resumed, &mut measure).unwrap() {}
        assert_eq!(resumed, state);
    }
}
