//! What every analysis decides before comparing anything: the reference, the layers, the labels
//! (given, or the reference's predictions), and the notes that explain those choices; and the
//! per-model helpers the in-memory and streamed paths share (logit baselines, error context).

use super::input::{default_layers, AnalysisInput, AnalysisOptions};
use super::types::{Baselines, LabelSource};
use crate::activations::Activations;
use crate::baselines::LogitBaselines;
use crate::error::{RepsError, Result};
use crate::model_input::ModelInput;
use crate::repeats::first_repeat;

/// The reference, the chosen layers and the labels of an analysis, as every part computes them.
pub(crate) struct Setup<'a> {
    pub(crate) ref_index: usize,
    pub(crate) layers: Vec<String>,
    pub(crate) labels: Option<Vec<u32>>,
    pub(crate) label_source: LabelSource,
    pub(crate) notes: Vec<String>,
    pub(crate) models: &'a [ModelInput],
}

pub(crate) fn setup<'a>(input: &'a AnalysisInput, options: &AnalysisOptions) -> Result<Setup<'a>> {
    input.check_consistent()?;
    if options.top_m == 0 {
        return Err(RepsError::Option {
            option: "top_m",
            reason: "the number of eigenvalues in the decay fit must be at least 1".into(),
        });
    }
    let models = &input.models;
    let ref_index = reference_index(models, options)?;
    let reference = &models[ref_index];
    let mut notes = Vec::new();
    let layers = choose_layers(models, reference, options.layers.as_deref(), &mut notes)?;
    let pseudo = reference.logits().map(Activations::row_argmax);
    let (labels, label_source) = choose_labels(&input.labels, pseudo, &mut notes);
    Ok(Setup {
        ref_index,
        layers,
        labels,
        label_source,
        notes,
        models,
    })
}

/// The reference's position among `models`: the one named in `options`, else the first.
pub(crate) fn reference_index<L>(
    models: &[ModelInput<L>],
    options: &AnalysisOptions,
) -> Result<usize> {
    match &options.reference {
        None => Ok(0),
        Some(name) => models.iter().position(|m| &m.name == name).ok_or_else(|| {
            RepsError::Invalid(format!(
                "reference model '{name}' not found; models are: {}",
                names(models)
            ))
        }),
    }
}

/// The labels of class separation: given, else the reference's predictions (`pseudo`), else
/// none (with a note saying so).
pub(crate) fn choose_labels(
    given: &Option<(Vec<u32>, String)>,
    pseudo: Option<Vec<u32>>,
    notes: &mut Vec<String>,
) -> (Option<Vec<u32>>, LabelSource) {
    match (given, pseudo) {
        (Some((l, _)), _) => (Some(l.clone()), LabelSource::Labels),
        (None, Some(p)) => (Some(p), LabelSource::Pseudo),
        (None, None) => {
            notes.push("no labels and no reference logits: class separation is left out and the other REPS weights are renormalised".into());
            (None, LabelSource::None)
        }
    }
}

/// The positive values of a descending spectrum.
pub(crate) fn positive(eigenvalues: &[f64]) -> Vec<f64> {
    eigenvalues
        .iter()
        .copied()
        .filter(|&x| x > 0.0 && x.is_finite())
        .collect()
}

pub(crate) fn names<L>(models: &[ModelInput<L>]) -> String {
    models
        .iter()
        .map(|m| m.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn in_layer<L>(m: &ModelInput<L>, layer: &str, e: RepsError) -> RepsError {
    RepsError::file(
        &m.source,
        format!("model '{}', layer '{layer}': {e}", m.name),
    )
}

/// The layers to analyse: `wanted` when every model has them all, else (`None`) the default
/// pair or the layers every model shares ([`default_layers`]). With the default, each model
/// that lacks layers of the reference gets a note naming them, since they are left out for
/// every model.
pub(crate) fn choose_layers<L>(
    models: &[ModelInput<L>],
    reference: &ModelInput<L>,
    wanted: Option<&[String]>,
    notes: &mut Vec<String>,
) -> Result<Vec<String>> {
    let shared: Vec<String> = reference
        .layers
        .iter()
        .map(|(k, _)| k.clone())
        .filter(|k| models.iter().all(|m| m.layer(k).is_some()))
        .collect();
    match wanted {
        Some(list) => {
            if list.is_empty() {
                return Err(RepsError::Option {
                    option: "layers",
                    reason: "names no layer".into(),
                });
            }
            if let Some((first, _)) = first_repeat(list) {
                return Err(RepsError::Option {
                    option: "layers",
                    reason: format!(
                        "names layer '{}' twice (it would count twice in every mean)",
                        list[first]
                    ),
                });
            }
            for l in list {
                if let Some(m) = models.iter().find(|m| m.layer(l).is_none()) {
                    return Err(RepsError::file(
                        &m.source,
                        format!(
                            "model '{}' has no layer '{l}'; layers present in every model: {}",
                            m.name,
                            shared.join(", ")
                        ),
                    ));
                }
            }
            Ok(list.to_vec())
        }
        None if shared.is_empty() => Err(RepsError::Invalid(
            "the models share no layer name; check the array keys of the files".into(),
        )),
        None => {
            for m in models {
                let missing: Vec<&str> = reference
                    .layers
                    .iter()
                    .map(|(k, _)| k.as_str())
                    .filter(|k| m.layer(k).is_none())
                    .collect();
                if !missing.is_empty() {
                    notes.push(format!(
                        "model '{}' ({}) lacks layers the reference has ({}): they are left out for every model, and only the layers all models share are analysed ({})",
                        m.name,
                        m.source,
                        missing.join(", "),
                        shared.join(", ")
                    ));
                }
            }
            Ok(default_layers(&shared))
        }
    }
}

/// The logit baselines of `m` against `reference` (all `None` when either has no logits).
pub(crate) fn logit_baselines(reference: &ModelInput, m: &ModelInput) -> Result<Baselines> {
    let (Some(rl), Some(ml)) = (reference.logits(), m.logits()) else {
        return Ok(Baselines::default());
    };
    let b = LogitBaselines::compute(rl, ml)
        .map_err(|e| RepsError::file(&m.source, format!("model '{}', logits: {e}", m.name)))?;
    Ok(Baselines {
        prediction_agreement: Some(b.prediction_agreement),
        logits_cosine: Some(b.logits_cosine),
        logits_l2: Some(b.logits_l2),
        kl_divergence: Some(b.kl_divergence),
        wasserstein: Some(b.wasserstein),
        weight_similarity: None,
    })
}
