//! The analysis of layers read in row chunks (files larger than memory, language-model token
//! activations): the same [`Comparisons`] as [`compare_models`](super::compare_models), without
//! holding an N × D matrix when N > D.
//!
//! The path is chosen per layer by its shape:
//! - **N ≤ D**: each model's layer is read whole (N × D ≤ D × D values) and goes through the
//!   in-memory Gram path, one model at a time beside the reference: the numbers are bit for bit
//!   those of `compare_models`.
//! - **N > D**: two passes over the rows of the reference and each model (`linalg::moments`):
//!   column means and scale first, then `ÃᵀÃ`, `B̃ᵀB̃` and `ÃᵀB̃` (D × D each) accumulated in f64
//!   over chunks of rows. Every component, CKA and the spectra agree with the in-memory path to
//!   rounding (about 1e-13 relative); memory is three D × D matrices and two chunks.
//!
//! The logits are read in chunks too: their argmax (pseudo-labels, accuracies) and largest value
//! in one pass, then prediction agreement, cosine, L2 and KL over paired chunks (bit for bit the
//! in-memory values). The Wasserstein distance sorts all N × K values, so it is computed only up
//! to [`WASSERSTEIN_MAX_VALUES`] values and left out, with a note, above.

use super::input::{check_models, AnalysisOptions};
use super::named_map::NamedMap;
use super::report::{assemble, Assembly, Comparisons};
use super::setup::{choose_labels, choose_layers, in_layer, positive, reference_index};
use super::types::{Baselines, Progress};
use crate::activations::{argmax, read_all_rows, Activations, RowSource};
use crate::baselines::{wasserstein_logits, LogitSums, StreamedLogitBaselines};
use crate::error::{RepsError, Result};
use crate::linalg::moments::{add_cross, Centering, ColumnPass, MomentPass};
use crate::linalg::{lower_inner_product, second_moment_eigenvalues};
use crate::metrics::{
    compare_layers, compare_layers_with_cross, LayerComparison, LayerStats, ScaledMoments,
};
use crate::model_input::{ModelInput, StreamedModel};
use faer::Mat;

impl ModelInput<Activations> {
    /// The same model with its in-memory layers as row sources (borrowed, not copied), so that
    /// [`compare_models_streamed`] reads them in chunks like files: the streamed path on data
    /// whose in-memory analysis ([`compare_models`](super::compare_models)) is at hand.
    pub fn as_row_sources(&self) -> StreamedModel<'_> {
        self.with_layers(
            self.layers
                .iter()
                .map(|(k, a)| (k.clone(), Box::new(a) as Box<dyn RowSource + '_>))
                .collect(),
        )
    }
}

/// Rows per chunk for D features: about 8 MiB of f64 per chunk, at least 64 rows.
pub fn chunk_rows_for(d: usize) -> usize {
    ((8usize << 20) / (8 * d.max(1))).max(64)
}

/// [`compare_models`](super::compare_models) over layers read in row chunks (see the module
/// documentation for the two paths). `labels` are the true labels, when given. `chunk_rows`
/// overrides the chunk size (tests use 1 and 7).
pub fn compare_models_streamed(
    models: &[StreamedModel<'_>],
    labels: Option<(Vec<u32>, String)>,
    options: &AnalysisOptions,
    chunk_rows: Option<usize>,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Comparisons> {
    let limits = Limits {
        chunk_rows,
        wasserstein_max_values: WASSERSTEIN_MAX_VALUES,
    };
    compare_streamed(models, labels, options, limits, progress)
}

/// What [`compare_streamed`] may hold at once.
struct Limits {
    /// Rows per chunk (`None`: [`chunk_rows_for`] each layer's width).
    chunk_rows: Option<usize>,
    /// The most logit values whose Wasserstein distance is computed.
    wasserstein_max_values: usize,
}

/// [`compare_models_streamed`] within `limits` (the unit tests lower them).
fn compare_streamed(
    models: &[StreamedModel<'_>],
    labels: Option<(Vec<u32>, String)>,
    options: &AnalysisOptions,
    limits: Limits,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Comparisons> {
    let Limits {
        chunk_rows,
        wasserstein_max_values,
    } = limits;
    let Some(first) = models.first() else {
        return Err(RepsError::Invalid("no models to analyse".into()));
    };
    if options.top_m == 0 {
        return Err(RepsError::Option {
            option: "top_m",
            reason: "the number of eigenvalues in the decay fit must be at least 1".into(),
        });
    }
    check_models(models, &labels, |l| l.as_ref())?;
    let n = first.layers.first().map_or(0, |(_, l)| l.rows());
    let ref_index = reference_index(models, options)?;
    let reference = &models[ref_index];
    let mut notes = Vec::new();
    let layers = choose_layers(models, reference, options.layers.as_deref(), &mut notes)?;
    let logit_pass = |m: &StreamedModel<'_>| -> Result<Option<LogitPass>> {
        m.logits()
            .map(|l| logit_pass(l.as_ref()).map_err(|e| in_layer(m, "logits", e)))
            .transpose()
    };
    let reference_logits = logit_pass(reference)?;
    let pseudo = reference_logits.as_ref().map(|p| p.argmax.clone());
    let (class_labels, label_source) = choose_labels(&labels, pseudo, &mut notes);

    let total = layers.len() * models.len();
    let mut done = 0;
    let mut per_model: Vec<NamedMap<LayerComparison>> = vec![NamedMap::default(); models.len()];
    let mut spectra: Vec<NamedMap<Vec<f64>>> = vec![NamedMap::default(); models.len()];
    for layer in &layers {
        let source = |i: usize| -> &dyn RowSource {
            models[i]
                .layer(layer)
                .expect("chosen layers exist")
                .as_ref()
        };
        let d = source(ref_index).cols();
        let mut report = |i: usize, cmp: LayerComparison, eig: &[f64]| {
            per_model[i].push(layer.clone(), cmp);
            spectra[i].push(layer.clone(), positive(eig));
            done += 1;
            progress(Progress {
                done,
                total,
                model: &models[i].name,
                layer,
            });
        };
        if n <= d {
            let ref_stats =
                in_memory_stats(source(ref_index), class_labels.as_deref(), options.top_m)
                    .map_err(|e| in_layer(reference, layer, e))?;
            for (i, m) in models.iter().enumerate() {
                if i == ref_index {
                    report(
                        i,
                        compare_layers(&ref_stats, &ref_stats),
                        &ref_stats.eigenvalues,
                    );
                    continue;
                }
                let stats = in_memory_stats(source(i), class_labels.as_deref(), options.top_m)
                    .map_err(|e| in_layer(m, layer, e))?;
                report(i, compare_layers(&ref_stats, &stats), &stats.eigenvalues);
            }
            continue;
        }
        let chunk = chunk_rows.unwrap_or_else(|| chunk_rows_for(d)).max(1);
        let labels = class_labels.as_deref();
        let ref_centering = column_pass(source(ref_index), labels, chunk)
            .map_err(|e| in_layer(reference, layer, e))?;
        let mut ref_stats: Option<LayerStats> = None;
        for (i, m) in models.iter().enumerate() {
            if i == ref_index {
                continue;
            }
            let centering =
                column_pass(source(i), labels, chunk).map_err(|e| in_layer(m, layer, e))?;
            let pair = moment_pass(
                source(ref_index),
                &ref_centering,
                ref_stats.is_none(),
                Some((source(i), &centering)),
                labels,
                chunk,
            )
            .map_err(|e| in_layer(m, layer, e))?;
            if let Some(moments) = pair.reference {
                ref_stats = Some(
                    streamed_stats(&ref_centering, moments, labels, options.top_m)
                        .map_err(|e| in_layer(reference, layer, e))?,
                );
            }
            let rs = ref_stats.as_ref().expect("the first pair computes it");
            let (model_moments, cross) = pair.model.expect("asked for");
            let stats = streamed_stats(&centering, model_moments, labels, options.top_m)
                .map_err(|e| in_layer(m, layer, e))?;
            let cross = crate::linalg::frobenius_squared(cross.as_ref());
            report(
                i,
                compare_layers_with_cross(rs, &stats, cross),
                &stats.eigenvalues,
            );
        }
        let rs = match ref_stats {
            Some(rs) => rs,
            // The reference is the only model.
            None => {
                let pass =
                    moment_pass(source(ref_index), &ref_centering, true, None, labels, chunk)
                        .map_err(|e| in_layer(reference, layer, e))?;
                streamed_stats(
                    &ref_centering,
                    pass.reference.expect("asked for"),
                    labels,
                    options.top_m,
                )
                .map_err(|e| in_layer(reference, layer, e))?
            }
        };
        let rs = &rs;
        report(
            ref_index,
            compare_layers_with_cross(rs, rs, rs.self_inner),
            &rs.eigenvalues,
        );
    }
    // Logits: the baselines but Wasserstein accumulate over paired chunks; Wasserstein sorts
    // every value, so it is computed (in memory) only up to `wasserstein_max_values`.
    let mut predictions = Vec::with_capacity(models.len());
    let mut baselines = Vec::with_capacity(models.len());
    let mut wasserstein_skipped = false;
    let mut reference_values: Option<Activations> = None;
    for (i, m) in models.iter().enumerate() {
        let pass = if i == ref_index {
            reference_logits.clone()
        } else {
            logit_pass(m)?
        };
        predictions.push(match (&labels, m.accuracy, &pass) {
            (Some(_), None, Some(p)) => Some(p.argmax.clone()),
            _ => None,
        });
        let (Some(rp), Some(mp), Some(rl), Some(ml)) =
            (&reference_logits, &pass, reference.logits(), m.logits())
        else {
            baselines.push(Default::default());
            continue;
        };
        let in_logits =
            |e: RepsError| RepsError::file(&m.source, format!("model '{}', logits: {e}", m.name));
        let sums = logit_sums(
            rl.as_ref(),
            ml.as_ref(),
            rp.max_abs.max(mp.max_abs),
            chunk_rows,
        )
        .map_err(in_logits)?;
        let values = rl.rows().saturating_mul(rl.cols());
        let wasserstein = if values <= wasserstein_max_values {
            // The reference's values are read once, for every model.
            if reference_values.is_none() {
                reference_values = Some(read_all_rows(rl.as_ref())?);
            }
            let rv = reference_values.as_ref().expect("read above");
            Some(wasserstein_logits(rv, &read_all_rows(ml.as_ref())?).map_err(in_logits)?)
        } else {
            wasserstein_skipped = true;
            None
        };
        baselines.push(Baselines {
            prediction_agreement: Some(sums.prediction_agreement),
            logits_cosine: Some(sums.logits_cosine),
            logits_l2: Some(sums.logits_l2),
            kl_divergence: Some(sums.kl_divergence),
            wasserstein,
            weight_similarity: None,
        });
    }
    if wasserstein_skipped {
        notes.push(format!(
            "the Wasserstein distance between logits is left out: it sorts all N × K logit values, more than the {wasserstein_max_values} computed in memory"
        ));
    }
    Ok(assemble(
        models,
        Assembly {
            ref_index,
            label_source,
            labels: labels.as_ref().map(|(l, _)| l.as_slice()),
            top_m: options.top_m,
            layers,
            per_model,
            spectra,
            predictions,
            baselines,
            notes,
        },
    ))
}

/// The most logit values (N × K) whose Wasserstein distance is computed: 2²⁵, two 256 MiB f64
/// copies.
pub const WASSERSTEIN_MAX_VALUES: usize = 1 << 25;

/// One read of a model's logits: each row's argmax and the largest magnitude.
#[derive(Clone, Debug)]
struct LogitPass {
    argmax: Vec<u32>,
    max_abs: f64,
}

fn logit_pass(source: &dyn RowSource) -> Result<LogitPass> {
    let k = source.cols().max(1);
    let mut reader = source.open()?;
    let mut rows = Vec::new();
    let mut pass = LogitPass {
        argmax: Vec::with_capacity(source.rows()),
        max_abs: 0.0,
    };
    while reader.next_rows(chunk_rows_for(k), &mut rows)? > 0 {
        pass.argmax.extend(rows.chunks_exact(k).map(argmax));
        pass.max_abs = rows.iter().fold(pass.max_abs, |m, x| m.max(x.abs()));
    }
    Ok(pass)
}

/// The streamed logit baselines of `model` against `reference`.
fn logit_sums(
    reference: &dyn RowSource,
    model: &dyn RowSource,
    max_abs: f64,
    chunk_rows: Option<usize>,
) -> Result<StreamedLogitBaselines> {
    let k = reference.cols();
    if model.cols() != k || model.rows() != reference.rows() {
        return Err(RepsError::Invalid(format!(
            "logits of shape {} × {} and {} × {} cannot be compared",
            reference.rows(),
            k,
            model.rows(),
            model.cols()
        )));
    }
    let chunk = chunk_rows.unwrap_or_else(|| chunk_rows_for(k)).max(1);
    let mut sums = LogitSums::new(max_abs);
    let (mut ra, mut rb) = (reference.open()?, model.open()?);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    loop {
        let got = ra.next_rows(chunk, &mut a)?;
        if got == 0 || rb.next_rows(got, &mut b)? != got {
            break;
        }
        sums.add(&a, &b, k);
    }
    sums.finish()
}

fn in_memory_stats(
    source: &dyn RowSource,
    labels: Option<&[u32]>,
    top_m: usize,
) -> Result<LayerStats> {
    LayerStats::compute(&read_all_rows(source)?, labels, top_m)
}

/// The first pass over a layer's rows.
fn column_pass(source: &dyn RowSource, labels: Option<&[u32]>, chunk: usize) -> Result<Centering> {
    let mut pass = ColumnPass::new(source.cols(), labels);
    let mut reader = source.open()?;
    let mut rows = Vec::new();
    while reader.next_rows(chunk, &mut rows)? > 0 {
        pass.add_rows(&rows, labels);
    }
    if pass.rows() != source.rows() {
        return Err(RepsError::Invalid(format!(
            "{}: {} rows read, {} expected",
            source.describe(),
            pass.rows(),
            source.rows()
        )));
    }
    Ok(pass.finish())
}

/// What the second pass gives: the reference's moments (when asked for), and the model's
/// moments with the cross product `ÃᵀB̃`.
struct PairMoments {
    reference: Option<MomentPass>,
    model: Option<(MomentPass, Mat<f64>)>,
}

/// The second pass over the reference's rows and, in step, a model's.
fn moment_pass(
    reference: &dyn RowSource,
    ref_centering: &Centering,
    want_reference: bool,
    model: Option<(&dyn RowSource, &Centering)>,
    labels: Option<&[u32]>,
    chunk: usize,
) -> Result<PairMoments> {
    let dr = reference.cols();
    let mut ref_pass = want_reference.then(|| MomentPass::new(dr));
    let mut model_pass =
        model.map(|(m, _)| (MomentPass::new(m.cols()), Mat::<f64>::zeros(dr, m.cols())));
    let mut ref_reader = reference.open()?;
    let mut model_reader = model.map(|(m, _)| m.open()).transpose()?;
    let (mut ref_rows, mut model_rows) = (Vec::new(), Vec::new());
    let mut first = 0;
    loop {
        let got = ref_reader.next_rows(chunk, &mut ref_rows)?;
        if got == 0 {
            break;
        }
        let z_ref = ref_centering.apply(&ref_rows);
        if let Some(p) = &mut ref_pass {
            p.add(&z_ref, first, labels, ref_centering);
        }
        if let (Some(reader), Some((pass, cross)), Some((m, centering))) =
            (&mut model_reader, &mut model_pass, model)
        {
            let got_model = reader.next_rows(got, &mut model_rows)?;
            if got_model != got {
                return Err(RepsError::Invalid(format!(
                    "{}: ends at row {}, before the reference's",
                    m.describe(),
                    first + got_model
                )));
            }
            let z = centering.apply(&model_rows);
            pass.add(&z, first, labels, centering);
            add_cross(cross, &z_ref, &z);
        }
        first += got;
    }
    Ok(PairMoments {
        reference: ref_pass,
        model: model_pass,
    })
}

/// A layer's statistics from its streamed moments.
fn streamed_stats(
    centering: &Centering,
    moments: MomentPass,
    labels: Option<&[u32]>,
    top_m: usize,
) -> Result<LayerStats> {
    let (n, d) = (centering.n, centering.d);
    let inv_n = 1.0 / n as f64;
    let scaled_eigenvalues = second_moment_eigenvalues(moments.covariance.as_ref(), n, d)?;
    let self_inner = lower_inner_product(moments.covariance.as_ref(), moments.covariance.as_ref());
    let separation = match (labels, &centering.centroids) {
        (Some(labels), Some(c)) => {
            let class_of: Vec<usize> = labels
                .iter()
                .map(|y| c.classes.binary_search(y).expect("label listed"))
                .collect();
            Some(crate::metrics::separation_from_parts(
                &c.values,
                d,
                &c.counts,
                &class_of,
                &moments.centroid_squared_distances,
                centering.max_abs_scaled,
            ))
        }
        _ => None,
    };
    Ok(LayerStats::from_parts(
        ScaledMoments {
            samples: n,
            features: d,
            scale_exponent: centering.scale_exponent,
            scaled_eigenvalues,
            column_variances: moments.column_squares.iter().map(|s| s * inv_n).collect(),
            row_squared_norms: moments.row_squared_norms,
            self_inner,
        },
        separation,
        top_m,
        None,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{compare_models, AnalysisInput};

    fn model(name: &str, shift: f64) -> ModelInput {
        let values = |rows: usize, cols: usize, salt: f64| -> Activations {
            let v: Vec<f64> = (0..rows * cols)
                .map(|i| (i as f64 * 0.37 + salt).sin() * 3.0 + shift * (i % 5) as f64)
                .collect();
            Activations::from_rows_f64(rows, cols, v).expect("finite")
        };
        let layers = vec![
            ("h".into(), values(6, 4, 1.0)),
            ("logits".into(), values(6, 3, 2.0)),
        ];
        ModelInput {
            logits: Some("logits".into()),
            ..ModelInput::new(name, format!("{name}.npz"), layers)
        }
    }

    #[test]
    fn wasserstein_is_left_out_with_a_note_above_its_limit_and_kept_at_it() {
        let models = vec![model("r", 0.0), model("a", 0.3), model("b", 0.9)];
        let whole = compare_models(
            &AnalysisInput {
                models: models.clone(),
                labels: None,
            },
            &AnalysisOptions::default(),
            &mut |_| {},
        )
        .unwrap();
        let boxed: Vec<StreamedModel<'_>> = models.iter().map(ModelInput::as_row_sources).collect();
        let run = |max: usize| {
            let limits = Limits {
                chunk_rows: Some(4),
                wasserstein_max_values: max,
            };
            compare_streamed(
                &boxed,
                None,
                &AnalysisOptions::default(),
                limits,
                &mut |_| {},
            )
            .unwrap()
        };
        // 6 × 3 = 18 logit values: computed at a limit of 18, as in memory.
        let at = run(18);
        for (s, w) in at.models.iter().zip(&whole.models) {
            assert_eq!(
                s.baselines.wasserstein, w.baselines.wasserstein,
                "{}",
                s.name
            );
            assert!(s.baselines.wasserstein.is_some());
        }
        assert!(!at.notes.iter().any(|n| n.contains("Wasserstein")));
        // Above it: left out for every model, said once, the other baselines kept.
        let above = run(17);
        for m in &above.models {
            assert_eq!(m.baselines.wasserstein, None, "{}", m.name);
            assert!(m.baselines.kl_divergence.is_some() && m.baselines.logits_l2.is_some());
        }
        let said: Vec<_> = above
            .notes
            .iter()
            .filter(|n| n.contains("Wasserstein"))
            .collect();
        assert_eq!(said.len(), 1, "{:?}", above.notes);
        assert!(said[0].contains("more than the 17"), "{}", said[0]);
    }
}
