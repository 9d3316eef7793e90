//! What a search found, as `search.json` holds it: the settings, the budget space, the
//! sensitivity table, every strategy's allocation (the greedy ones step by step), the final
//! models evaluated on the test set, the claims and where the time went. `native search` writes
//! it; the viewer's Search view reads it.

use super::budget::BudgetSpace;
use super::greedy::GreedyState;
use super::paired::PairedDifference;
use super::strategy::Measurement;
use crate::analysis::Claim;
use crate::error::{RepsError, Result};
use serde::{Deserialize, Serialize};

/// The sensitivity pass: every layer moved alone to every ladder step.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Sensitivity {
    /// The untouched model measured against itself.
    pub untouched: Option<Measurement>,
    /// `rows[i][k − 1]`: layer `i` alone at level `k`; one row per finished layer.
    pub rows: Vec<Vec<Measurement>>,
}

/// One strategy's allocation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Allocation {
    pub strategy: String,
    /// The greedy search's state (its steps), for the greedy strategies.
    pub greedy: Option<GreedyState<Measurement>>,
    /// The final per-layer values (`None`: untouched).
    pub values: Vec<Option<f64>>,
    /// The final budget.
    pub budget: f64,
    /// The final candidate measured on the calibration images.
    pub measurement: Measurement,
}

/// One strategy's final model, evaluated.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FinalModel {
    pub strategy: String,
    pub budget: f64,
    /// Each weight tensor's value, in the order of the budget space's layers (`None`: untouched).
    pub levels: Vec<Option<f64>>,
    /// On the full test set.
    pub accuracy: f64,
    /// On the sweep's analysed test images, as an analysis of the search's snapshot gives them.
    pub reps: Option<f64>,
    pub reps_equal: Option<f64>,
    pub cka: f64,
    pub prediction_agreement: Option<f64>,
    /// The last candidate on the calibration images.
    pub calibration: Measurement,
    /// `accuracy − uniform's accuracy` on the test images, with its paired bootstrap interval.
    pub vs_uniform: Option<PairedDifference>,
}

/// Where the time of a search goes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    /// Candidates measured.
    pub candidates: usize,
    /// Compressing layers (each layer and level once).
    pub compress_s: f64,
    /// Forward passes on the calibration images.
    pub forward_s: f64,
    /// The analysis of their activations (REPS, CKA, baselines; the bootstrap with a confidence).
    pub analysis_s: f64,
    /// Segments of the network (a ResNet's blocks, a ViT's blocks, stem and head) run on the
    /// calibration images, and those whose output was taken from an earlier candidate's pass
    /// because the candidate differs only in later layers (0 in files of older versions).
    #[serde(default)]
    pub segments_run: usize,
    #[serde(default)]
    pub segments_reused: usize,
}

/// The settings of a search (its flags), which its output directory is pinned to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchSettings {
    /// The sweep directory, as given.
    pub from: String,
    /// SHA-256 of the sweep's settings.
    pub sweep_settings_sha256: String,
    pub method: String,
    pub budget: Option<f64>,
    pub min_reps: Option<f64>,
    pub confidence: Option<f64>,
    pub ladder: Vec<f64>,
    pub calibration: usize,
    pub strategies: Vec<String>,
    pub refresh: usize,
    pub resamples: usize,
}

/// Everything `search.json` holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchResult {
    pub settings: SearchSettings,
    /// What the budget measures.
    pub budget_name: String,
    /// The searched layers with their parameter counts and ladder amounts.
    pub space: BudgetSpace,
    pub original_accuracy: f64,
    pub sensitivity: Sensitivity,
    /// Every strategy's allocation (the greedy ones with all their steps).
    pub allocations: Vec<Allocation>,
    pub models: Vec<FinalModel>,
    pub claims: Vec<Claim>,
    pub timing: Timing,
    /// Seconds of this run (a resumed search counts only its last run).
    pub seconds: f64,
}

impl SearchResult {
    /// Reads `search.json` (`name` for messages).
    /// Refused unless it is consistent: a valid budget space, one level per layer in every
    /// model and allocation, and steps that name existing layers and levels.
    pub fn from_json(name: &str, bytes: &[u8]) -> Result<Self> {
        let r: SearchResult = serde_json::from_slice(bytes)
            .map_err(|e| RepsError::file(name, format!("not a search's search.json: {e}")))?;
        r.check().map_err(|why| RepsError::file(name, why))?;
        Ok(r)
    }

    /// The setting `key` as text: a string as it is, a number or list as JSON, "–" when absent.
    pub fn setting(&self, key: &str) -> String {
        let all = serde_json::to_value(&self.settings).unwrap_or_default();
        match &all[key] {
            serde_json::Value::Null => "–".to_string(),
            serde_json::Value::String(s) => s.clone(),
            v => v.to_string(),
        }
    }

    /// Why the result is inconsistent, if it is.
    fn check(&self) -> std::result::Result<(), String> {
        let space = BudgetSpace::new(self.space.layers.clone(), self.space.direction)
            .map_err(|e| format!("space: {e}"))?;
        let (layers, steps) = (space.layers.len(), space.steps());
        for m in &self.models {
            if m.levels.len() != layers {
                return Err(format!(
                    "model '{}' has {} levels for {layers} layers",
                    m.strategy,
                    m.levels.len()
                ));
            }
        }
        for a in &self.allocations {
            if a.values.len() != layers {
                return Err(format!(
                    "allocation '{}' has {} values for {layers} layers",
                    a.strategy,
                    a.values.len()
                ));
            }
            let bad = a
                .greedy
                .iter()
                .flat_map(|g| &g.steps)
                .find(|s| s.layer >= layers || s.level == 0 || s.level > steps);
            if let Some(s) = bad {
                return Err(format!(
                    "allocation '{}': a step moves layer {} to level {}, beyond the {layers} layers and {steps} levels",
                    a.strategy, s.layer, s.level
                ));
            }
        }
        Ok(())
    }

    /// Whether `bytes` look like a `search.json` (a JSON object with `allocations` and
    /// `space`), to tell it from the other JSON files a user may open.
    pub fn is_search(bytes: &[u8]) -> bool {
        serde_json::from_slice::<serde_json::Value>(bytes)
            .is_ok_and(|v| v.get("allocations").is_some() && v.get("space").is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_inconsistent_search_json_is_refused_with_the_file_name() {
        let text = r#"{"settings": {"from": "runs/quick", "sweep_settings_sha256": "00",
            "method": "prune", "budget": 0.5, "min_reps": null, "confidence": null, "ladder": [0.5],
            "calibration": 16, "strategies": ["reps"], "refresh": 0, "resamples": 10},
            "budget_name": "sparsity",
            "space": {"layers": [{"name": "w", "parameters": 4, "amounts": [0.0, 0.5]}], "direction": "increases"},
            "original_accuracy": 0.9, "sensitivity": {"untouched": null, "rows": []},
            "allocations": [], "models": [{"strategy": "reps", "budget": 0.5, "levels": [],
                "accuracy": 0.8, "reps": null, "reps_equal": null, "cka": 1.0, "prediction_agreement": null,
                "calibration": {"accuracy": null, "scores": {}, "reps_lower": null}, "vs_uniform": null}],
            "claims": [], "timing": {"candidates": 0, "compress_s": 0, "forward_s": 0, "analysis_s": 0},
            "seconds": 0}"#;
        assert!(SearchResult::is_search(text.as_bytes()));
        let e = SearchResult::from_json("s.json", text.as_bytes()).unwrap_err();
        assert!(
            e.to_string().contains("s.json")
                && e.to_string()
                    .contains("model 'reps' has 0 levels for 1 layers"),
            "{e}"
        );
        let fixed = text.replace(r#""levels": []"#, r#""levels": [0.5]"#);
        let r = SearchResult::from_json("s.json", fixed.as_bytes()).unwrap();
        assert_eq!(
            (
                r.setting("from"),
                r.setting("budget"),
                r.setting("min_reps")
            ),
            ("runs/quick".into(), "0.5".into(), "–".into())
        );
        assert!(!SearchResult::is_search(b"{\"seeds\": []}"));
    }
}
