//! What drives a search: the registry of strategies. A strategy is a per-model score of the
//! analysis ([`crate::analysis::SCORES`]) measured against the untouched model on unlabelled
//! calibration images, the calibration accuracy (which needs labels), or one level for every
//! layer.

use crate::analysis::{score, scores_present, ModelReport, Score, Worse};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How a strategy allocates.
#[derive(Clone, Copy, Debug)]
pub enum Drive {
    /// The greedy search, driven by this score (oriented so that higher is better).
    Score(&'static Score),
    /// The greedy search, driven by accuracy on the labelled calibration images.
    Accuracy,
    /// One ladder step for every layer.
    Uniform,
    /// The method's own rule over all layers at once (a global magnitude threshold), at the
    /// budget exactly.
    Global,
}

/// One strategy.
#[derive(Clone, Copy, Debug)]
pub struct Strategy {
    /// Its name in `--strategies`, file names and tables.
    pub name: &'static str,
    pub drive: Drive,
}

/// The named strategies; any other key of [`crate::analysis::SCORES`] names a strategy too.
pub const NAMED: &[(&str, NamedDrive)] = &[
    ("reps", NamedDrive::Score("reps_weighted")),
    ("agreement", NamedDrive::Score("prediction_agreement")),
    ("cka", NamedDrive::Score("cka")),
    ("uniform", NamedDrive::Uniform),
    ("labels", NamedDrive::Accuracy),
    ("global", NamedDrive::Global),
];

/// A [`Drive`] by score key, for the const table.
#[derive(Clone, Copy, Debug)]
pub enum NamedDrive {
    Score(&'static str),
    Accuracy,
    Uniform,
    Global,
}

/// The strategies run by default (and `global` where the method has a global rule), in the order of the tables.
pub const DEFAULT_STRATEGIES: [&str; 5] = ["reps", "agreement", "cka", "uniform", "labels"];

/// The strategy named `name`: one of [`NAMED`], or a score key of the registry. `None` for an
/// unknown name.
pub fn strategy(name: &str) -> Option<Strategy> {
    if let Some((n, d)) = NAMED.iter().find(|(n, _)| *n == name) {
        let drive = match d {
            NamedDrive::Score(key) => Drive::Score(score(key)?),
            NamedDrive::Accuracy => Drive::Accuracy,
            NamedDrive::Uniform => Drive::Uniform,
            NamedDrive::Global => Drive::Global,
        };
        return Some(Strategy { name: n, drive });
    }
    let s = score(name).filter(|s| !s.needs_user_weights)?;
    Some(Strategy {
        name: s.key,
        drive: Drive::Score(s),
    })
}

/// Every name [`strategy`] accepts, for messages.
pub fn strategy_names() -> Vec<&'static str> {
    NAMED
        .iter()
        .map(|(n, _)| *n)
        .chain(
            crate::analysis::SCORES
                .iter()
                .filter(|s| !s.needs_user_weights)
                .map(|s| s.key),
        )
        .collect()
}

/// A candidate measured against the untouched model on the calibration images.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// Accuracy on the calibration images, from their true labels.
    pub accuracy: Option<f64>,
    /// Every model-level score of the registry the report holds, by key.
    pub scores: BTreeMap<String, f64>,
    /// The lower end of weighted REPS's sample-bootstrap interval, when asked for.
    pub reps_lower: Option<f64>,
}

impl Measurement {
    /// The measurement of a candidate's report row (against the untouched model).
    pub fn of(report: &ModelReport, reps_lower: Option<f64>) -> Self {
        Measurement {
            accuracy: report.accuracy,
            scores: scores_present(false)
                .filter_map(|s| Some((s.key.to_string(), (s.of_model)(report)?)))
                .collect(),
            reps_lower,
        }
    }

    /// The weighted REPS.
    pub fn reps(&self) -> Option<f64> {
        self.scores.get("reps_weighted").copied()
    }
}

impl Drive {
    /// The value the greedy search maximises for a candidate: its score (negated for a distance,
    /// where higher is worse), or its calibration accuracy. `None` when the measurement lacks it
    /// or the drive allocates without measuring ([`Drive::Uniform`], [`Drive::Global`]).
    pub fn value(&self, m: &Measurement) -> Option<f64> {
        match self {
            Drive::Score(s) => m.scores.get(s.key).map(|&v| match s.worse {
                Worse::Lower => v,
                Worse::Higher => -v,
            }),
            Drive::Accuracy => m.accuracy,
            Drive::Uniform | Drive::Global => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_and_registry_strategies() {
        let s = strategy("reps").unwrap();
        assert!(matches!(s.drive, Drive::Score(sc) if sc.key == "reps_weighted"));
        assert!(matches!(strategy("labels").unwrap().drive, Drive::Accuracy));
        let kl = strategy("kl_divergence").unwrap();
        assert_eq!(kl.name, "kl_divergence");
        assert!(strategy("nonsense").is_none());
        assert!(strategy_names().contains(&"logits_cosine"));
        for name in DEFAULT_STRATEGIES {
            assert!(strategy(name).is_some(), "{name}");
        }
    }
}
