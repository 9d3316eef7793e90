//! One reference model's statistics, computed once and kept to compare many candidates with it
//! (a compression search measures hundreds of candidates against the same original).

use super::named_map::NamedMap;
use super::report::ModelComparisons;
use super::setup::{choose_labels, in_layer, logit_baselines};
use super::types::{LabelSource, ModelReport};
use crate::activations::Activations;
use crate::error::{RepsError, Result};
use crate::metrics::{compare_layers, LayerStats};
use crate::model_input::ModelInput;

/// A reference model with the statistics of its chosen layers.
pub struct Reference {
    model: ModelInput,
    layers: Vec<String>,
    stats: Vec<LayerStats>,
    labels: Option<Vec<u32>>,
    label_source: LabelSource,
    top_m: usize,
}

impl Reference {
    /// The reference `model` on `layers` (each one of its layers, every one with the same N
    /// rows). Class separation uses `labels` (length N) when given, else the reference's
    /// predictions (argmax of its logits), else nothing; `top_m` is M of the decay fit.
    ///
    /// The result of [`Reference::compare`] is the same, bit for bit, as the model's row of a full
    /// analysis of the two models on these layers ([`super::analyze`]).
    pub fn new(
        model: ModelInput,
        layers: &[String],
        labels: Option<Vec<u32>>,
        top_m: usize,
    ) -> Result<Self> {
        if layers.is_empty() {
            return Err(RepsError::Invalid("no layer chosen to compare".into()));
        }
        if top_m == 0 {
            return Err(RepsError::Option {
                option: "top_m",
                reason: "the number of eigenvalues in the decay fit must be at least 1".into(),
            });
        }
        let rows = rows_of(&model, layers)?;
        if let Some(l) = labels.as_ref().filter(|l| l.len() != rows) {
            return Err(RepsError::Invalid(format!(
                "{} labels for {rows} rows of model '{}'",
                l.len(),
                model.name
            )));
        }
        let given = labels.map(|l| (l, String::new()));
        let pseudo = model.logits().map(Activations::row_argmax);
        let (labels, label_source) = choose_labels(&given, pseudo, &mut Vec::new());
        let stats = layers
            .iter()
            .map(|l| stats_of(&model, l, labels.as_deref(), top_m))
            .collect::<Result<Vec<_>>>()?;
        Ok(Reference {
            model,
            layers: layers.to_vec(),
            stats,
            labels,
            label_source,
            top_m,
        })
    }

    /// Where the labels of class separation came from.
    pub fn label_source(&self) -> LabelSource {
        self.label_source
    }

    /// The reference model.
    pub fn model(&self) -> &ModelInput {
        &self.model
    }

    /// `candidate` against the reference on the reference's layers: every REPS component, REPS,
    /// CKA per layer and their means, the logit baselines (when both have logits), and the
    /// accuracy drop from the two models' `accuracy`. Refused when the candidate lacks a layer
    /// or has another number of rows.
    pub fn compare(&self, candidate: &ModelInput) -> Result<ModelReport> {
        let rows = self.stats[0].samples;
        let candidate_rows = rows_of(candidate, &self.layers)?;
        if candidate_rows != rows {
            return Err(RepsError::file(
                &candidate.source,
                format!(
                    "model '{}' has {candidate_rows} rows, the reference '{}' {rows}",
                    candidate.name, self.model.name
                ),
            ));
        }
        let mut layers = NamedMap::default();
        for (name, reference) in self.layers.iter().zip(&self.stats) {
            let stats = stats_of(candidate, name, self.labels.as_deref(), self.top_m)?;
            layers.push(name.clone(), compare_layers(reference, &stats));
        }
        let mut baselines = logit_baselines(&self.model, candidate)?;
        baselines.weight_similarity = candidate.weight_similarity;
        let comparisons = ModelComparisons {
            name: candidate.name.clone(),
            method: candidate.method.clone(),
            parameter: candidate.parameter,
            parameter_name: candidate.parameter_name.clone(),
            accuracy: candidate.accuracy,
            logits: candidate.logits.clone(),
            layers,
            spectra: NamedMap::default(),
            baselines,
        };
        Ok(comparisons.model_report(&self.layers, self.model.accuracy))
    }
}

/// The common row count of `model`'s `layers`; refused when one is missing or they differ.
fn rows_of(model: &ModelInput, layers: &[String]) -> Result<usize> {
    let mut rows = None;
    for l in layers {
        let a = model.layer(l).ok_or_else(|| {
            RepsError::file(
                &model.source,
                format!("model '{}' has no layer '{l}'", model.name),
            )
        })?;
        match rows {
            None => rows = Some(a.rows()),
            Some(r) if r != a.rows() => {
                return Err(RepsError::file(
                    &model.source,
                    format!(
                        "model '{}': layer '{l}' has {} rows, the first layer {r}",
                        model.name,
                        a.rows()
                    ),
                ))
            }
            Some(_) => {}
        }
    }
    Ok(rows.unwrap_or(0))
}

fn stats_of(
    model: &ModelInput,
    layer: &str,
    labels: Option<&[u32]>,
    top_m: usize,
) -> Result<LayerStats> {
    let a = model.layer(layer).expect("checked by rows_of");
    LayerStats::compute(a, labels, top_m).map_err(|e| in_layer(model, layer, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{analyze, AnalysisInput, AnalysisOptions};

    fn model(name: &str, shift: f64) -> ModelInput {
        let (n, d, k) = (12, 5, 3);
        let values = |cols: usize, salt: f64| {
            (0..n * cols)
                .map(|i| (i as f64 * 0.37 + salt).sin() * 2.0 + shift * (i % 7) as f64)
                .collect::<Vec<f64>>()
        };
        let mut m = ModelInput::new(
            name,
            "test",
            vec![
                (
                    "hidden".into(),
                    Activations::from_rows_f64(n, d, values(d, 0.1)).unwrap(),
                ),
                (
                    "logits".into(),
                    Activations::from_rows_f64(n, k, values(k, 0.7)).unwrap(),
                ),
            ],
        );
        m.logits = Some("logits".into());
        m
    }

    #[test]
    fn the_same_as_a_full_analysis_of_the_pair() {
        let (reference, candidate) = (model("original", 0.0), model("candidate", 0.3));
        let layers = vec!["hidden".to_string(), "logits".to_string()];
        let kept = Reference::new(reference.clone(), &layers, None, 3).unwrap();
        assert_eq!(kept.label_source(), LabelSource::Pseudo);
        let ours = kept.compare(&candidate).unwrap();
        let full = analyze(
            &AnalysisInput {
                models: vec![reference, candidate],
                labels: None,
            },
            &AnalysisOptions {
                reference: None,
                layers: Some(layers),
                top_m: 3,
                user_weights: None,
            },
        )
        .unwrap();
        assert_eq!(ours, full.models[1]);
        assert!(ours.reps_weighted.unwrap() < 1.0);
    }

    #[test]
    fn a_candidate_without_the_layer_or_with_other_rows_is_refused() {
        let layers = vec!["hidden".to_string()];
        let kept = Reference::new(model("original", 0.0), &layers, None, 3).unwrap();
        let mut other = model("c", 0.0);
        other.layers.remove(0);
        let e = kept.compare(&other).unwrap_err().to_string();
        assert!(e.contains("model 'c' has no layer 'hidden'"), "{e}");
        let mut short = model("s", 0.0);
        short.layers[0].1 = short.layers[0].1.select_rows(&[0, 1, 2]);
        let e = kept.compare(&short).unwrap_err().to_string();
        assert!(e.contains("has 3 rows, the reference 'original' 12"), "{e}");
    }
}
