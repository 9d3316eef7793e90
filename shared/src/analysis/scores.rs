//! The registry of model-level scores: one descriptor per score, in the order of the paper's
//! Table 2 (baselines, CKA, REPS components, REPS).
//!
//! Table 2 (the correlations), the JSON and CSV outputs, the terminal tables and the browser's
//! tables all iterate [`SCORES`]; none lists scores by hand. Adding a score means computing it
//! (a field of [`super::Baselines`], of [`crate::metrics::LayerComparison`] or of
//! [`ModelReport`]) and adding its descriptor here; see "Adding a score" in docs/CONTRIBUTING.md.

use super::types::ModelReport;
use crate::metrics::{LayerComparison, PerComponent, RepsWeights, COMPONENTS, EQUAL, WEIGHTED};

/// The family a score belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScoreGroup {
    /// The paper's baselines: weight similarity and the logit-based scores.
    Baseline,
    /// Representation similarity indices that are not REPS (linear CKA).
    Representation,
    /// One REPS component (`metrics::COMPONENTS`), averaged over layers.
    Component,
    /// REPS itself, for one choice of weights.
    Reps,
}

/// Which way a score moves when a model's representations are damaged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Worse {
    /// A similarity: 1 (or its maximum) for the reference itself, lower is worse. It correlates
    /// negatively with accuracy drop when it tracks the damage.
    Lower,
    /// A distance or divergence: 0 for the reference itself, higher is worse. It correlates
    /// positively with accuracy drop when it tracks the damage.
    Higher,
}

impl Worse {
    /// The sign (−1 or +1) of a correlation with accuracy drop that says the score tracks damage.
    pub fn expected_sign(self) -> f64 {
        match self {
            Worse::Lower => -1.0,
            Worse::Higher => 1.0,
        }
    }
}

/// Reads a per-layer value; the second argument holds the user's REPS weights, when given.
pub type LayerScoreOf = fn(&LayerComparison, Option<&RepsWeights>) -> Option<f64>;

/// One model-level score.
#[derive(Clone, Copy, Debug)]
pub struct Score {
    /// Key in JSON (`correlations.<key>`) and CSV.
    pub key: &'static str,
    /// Display name in tables (`Linear CKA`).
    pub label: &'static str,
    /// Column header where space is short (`CKA`).
    pub short: &'static str,
    pub group: ScoreGroup,
    pub worse: Worse,
    /// The model-level value: the mean over the analysed layers, or the model's baseline.
    pub of_model: fn(&ModelReport) -> Option<f64>,
    /// The value on one layer, for scores defined per layer; `None` for model-level baselines.
    pub of_layer: Option<LayerScoreOf>,
    /// Exists only when the user gave REPS weights.
    pub needs_user_weights: bool,
}

const fn baseline(
    key: &'static str,
    label: &'static str,
    short: &'static str,
    worse: Worse,
    of_model: fn(&ModelReport) -> Option<f64>,
) -> Score {
    Score {
        key,
        label,
        short,
        group: ScoreGroup::Baseline,
        worse,
        of_model,
        of_layer: None,
        needs_user_weights: false,
    }
}

const fn per_layer(
    key: &'static str,
    label: &'static str,
    short: &'static str,
    group: ScoreGroup,
    of_model: fn(&ModelReport) -> Option<f64>,
    of_layer: LayerScoreOf,
) -> Score {
    Score {
        key,
        label,
        short,
        group,
        worse: Worse::Lower,
        of_model,
        of_layer: Some(of_layer),
        needs_user_weights: false,
    }
}

/// Every model-level score, in Table 2's order.
pub const SCORES: &[Score] = &[
    baseline(
        "weight_similarity",
        "Weight Similarity",
        "W-sim",
        Worse::Lower,
        |m| m.baselines.weight_similarity,
    ),
    baseline(
        "prediction_agreement",
        "Prediction Agreement",
        "Agree",
        Worse::Lower,
        |m| m.baselines.prediction_agreement,
    ),
    baseline("logits_cosine", "Logits Cosine", "Cos", Worse::Lower, |m| {
        m.baselines.logits_cosine
    }),
    baseline("logits_l2", "Logits L2", "L2", Worse::Higher, |m| {
        m.baselines.logits_l2
    }),
    baseline("kl_divergence", "KL Divergence", "KL", Worse::Higher, |m| {
        m.baselines.kl_divergence
    }),
    baseline(
        "wasserstein",
        "Wasserstein Distance",
        "W1",
        Worse::Higher,
        |m| m.baselines.wasserstein,
    ),
    per_layer(
        "cka",
        "Linear CKA",
        "CKA",
        ScoreGroup::Representation,
        |m| Some(m.cka),
        |c, _| Some(c.cka),
    ),
    per_layer(
        "cka_debiased",
        "Linear CKA (debiased)",
        "CKA-u",
        ScoreGroup::Representation,
        |m| m.cka_debiased,
        |c, _| c.cka_debiased,
    ),
    per_layer(
        "effective_rank",
        "Effective Rank",
        "s_e",
        ScoreGroup::Component,
        |m| Some(m.effective_rank),
        |c, _| Some(c.effective_rank),
    ),
    per_layer(
        "alive",
        "Alive Neurons",
        "s_alive",
        ScoreGroup::Component,
        |m| Some(m.alive),
        |c, _| Some(c.alive),
    ),
    per_layer(
        "separation",
        "Class Separation",
        "s_s",
        ScoreGroup::Component,
        |m| m.separation,
        |c, _| c.separation,
    ),
    per_layer(
        "decay",
        "Eigenvalue Decay Similarity",
        "s_d",
        ScoreGroup::Component,
        |m| Some(m.decay),
        |c, _| Some(c.decay),
    ),
    per_layer(
        "reps_weighted",
        "REPS (weighted)",
        "REPS w",
        ScoreGroup::Reps,
        |m| m.reps_weighted,
        |c, _| c.reps(&WEIGHTED),
    ),
    per_layer(
        "reps_equal",
        "REPS (equal weights)",
        "REPS eq",
        ScoreGroup::Reps,
        |m| m.reps_equal,
        |c, _| c.reps(&EQUAL),
    ),
    Score {
        needs_user_weights: true,
        ..per_layer(
            "reps_user",
            "REPS (your weights)",
            "REPS you",
            ScoreGroup::Reps,
            |m| m.reps_user,
            |c, w| w.and_then(|w| c.reps(w)),
        )
    },
];

/// The descriptor of the score `key`.
pub fn score(key: &str) -> Option<&'static Score> {
    SCORES.iter().find(|s| s.key == key)
}

/// The scores a report holds: all of [`SCORES`], less `reps_user` without user weights.
pub fn scores_present(user_weights: bool) -> impl Iterator<Item = &'static Score> {
    SCORES
        .iter()
        .filter(move |s| user_weights || !s.needs_user_weights)
}

impl Score {
    /// The value on one layer of `model`: the per-layer value where the score has one, else the
    /// model-level value (a baseline is the same on every layer).
    pub fn on_layer(
        &self,
        model: &ModelReport,
        layer: &LayerComparison,
        user_weights: Option<&RepsWeights>,
    ) -> Option<f64> {
        match self.of_layer {
            Some(f) => f(layer, user_weights),
            None => (self.of_model)(model),
        }
    }
}

impl ModelReport {
    /// The model-level component scores in `metrics::COMPONENTS` order (their model-level
    /// scores in the registry).
    pub fn components(&self) -> PerComponent<Option<f64>> {
        std::array::from_fn(|k| score(COMPONENTS[k].key).and_then(|s| (s.of_model)(self)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::COMPONENTS;

    #[test]
    fn keys_are_unique_and_every_component_is_a_score() {
        for (i, s) in SCORES.iter().enumerate() {
            assert!(
                SCORES[..i].iter().all(|t| t.key != s.key),
                "{} twice",
                s.key
            );
        }
        let components: Vec<&str> = SCORES
            .iter()
            .filter(|s| s.group == ScoreGroup::Component)
            .map(|s| s.key)
            .collect();
        let registry: Vec<&str> = COMPONENTS.iter().map(|c| c.key).collect();
        assert_eq!(components, registry);
        for c in COMPONENTS {
            assert_eq!(score(c.key).unwrap().label, c.label);
        }
    }
}
