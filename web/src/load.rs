//! What the worker does with the files it reads (opened by `reps::analysis::open_files`, as in
//! `native analyze`): the size check before reading, and everything the page draws. Pure Rust: the
//! worker calls it, and native unit tests check it.

use crate::protocol::{Analysis, Preview, Timings};
use reps::analysis::ModelInput;
use reps::analysis::{
    compare_layers_of, compare_models_with, default_layers,
    sample_bootstrap as sample_bootstrap_samples, AnalysisOptions, InferenceOptions, LayerResults,
    OpenedFiles, Progress, Report,
};
use reps::analysis::{compare_models_streamed, shared_layers};
use reps::formats::snapshot::SnapshotIndex;
use reps::formats::stream::{open_streamed, ByteSource};
use reps::formats::ReadBudget;
use reps::histogram::WeightHistogram;
use reps::RepsError;

/// The most bytes of files the viewer reads whole. WebAssembly has 4 GiB of memory, and a file is
/// held about three times while it is decoded (its bytes, the decoded arrays, the analysis input).
/// Larger activation files are read in row chunks ([`analyse_streamed`]); there the limit is on
/// the width D of a layer (its D × D second moments must fit in the reading budget).
pub const MAX_TOTAL_BYTES: u64 = 1 << 30;

/// Refuses, before reading anything, files whose sizes together exceed [`MAX_TOTAL_BYTES`]; the
/// message names the largest file.
pub fn check_sizes(files: &[(String, u64)]) -> Result<(), RepsError> {
    let total: u64 = files.iter().map(|(_, s)| s).sum();
    if total <= MAX_TOTAL_BYTES {
        return Ok(());
    }
    let (name, size) = files
        .iter()
        .max_by_key(|(_, s)| *s)
        .expect("a non-zero total has a file");
    let gb = |b: u64| b as f64 / 1e9;
    Err(RepsError::File {
        file: name.clone(),
        reason: format!(
            "is {:.2} GB ({:.2} GB in all): more than the {:.2} GB the browser can analyse at once; use `native analyze` for files this large",
            gb(*size),
            gb(total),
            gb(MAX_TOTAL_BYTES)
        ),
    })
}

/// What `loaded` holds before any analysis (Table 1 and Figure 1 are drawn from it meanwhile):
/// every model without its activations, the reference (`reference`, default the first model),
/// the description and the weight histograms.
pub fn preview(loaded: &OpenedFiles, reference: Option<&str>) -> Preview {
    let models: Vec<_> = loaded
        .input
        .models
        .iter()
        .map(|m| m.with_layers(m.layers.iter().map(|(k, _)| (k.clone(), ())).collect()))
        .collect();
    preview_of(&loaded.description, models, &loaded.histograms, reference)
}

/// The same from the index of a version-4 snapshot `file` alone, before its activations are
/// read (the reference is its first model).
pub fn preview_of_index(file: &str, index: SnapshotIndex) -> Result<Preview, RepsError> {
    let (description, histograms) = (index.description(file), index.histograms());
    let models = index
        .models
        .into_iter()
        .map(|m| ModelInput::from_snapshot_model(file, m, |_, _| Ok(())))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(preview_of(&description, models, &histograms, None))
}

fn preview_of(
    description: &str,
    models: Vec<ModelInput<()>>,
    histograms: &[(String, WeightHistogram)],
    reference: Option<&str>,
) -> Preview {
    let first = models.first().map(|m| m.name.clone()).unwrap_or_default();
    Preview {
        description: description.to_string(),
        reference: reference.map_or(first, str::to_string),
        models,
        histograms: histograms.to_vec(),
    }
}

/// Compares every model with `reference` (default: the first) on every shared layer, once: the
/// page then builds the report of any layer choice from this without the activations.
/// `progress` sees each (model, layer) step.
pub fn analyse(
    loaded: &OpenedFiles,
    reference: Option<String>,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Analysis, RepsError> {
    let every: Vec<usize> = (0..loaded.input.models.len()).collect();
    let part = analyse_part(loaded, reference.clone(), &every, progress)?;
    analysis_of_parts(loaded, reference, vec![part])
}

/// The models of `loaded` split into `parts` shares of about equal work, interleaved (model `i`
/// in share `i mod parts`), so that each share holds some of every method; empty shares are left
/// out.
pub fn shares(loaded: &OpenedFiles, parts: usize) -> Vec<Vec<usize>> {
    let n = loaded.input.models.len();
    let parts = parts.clamp(1, n.max(1));
    (0..parts)
        .map(|p| (p..n).step_by(parts).collect::<Vec<_>>())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The per-layer comparisons of the models at `indices` (`reps::analysis::compare_layers_of`
/// over every shared layer): one worker's share of [`analyse`].
pub fn analyse_part(
    loaded: &OpenedFiles,
    reference: Option<String>,
    indices: &[usize],
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<LayerResults, RepsError> {
    let (options, _) = every_layer(loaded.input.shared_layers(), reference)?;
    compare_layers_of(&loaded.input, &options, indices, progress)
}

/// [`analyse`] from the shares computed by [`analyse_part`] (by this worker and its helpers),
/// together covering every model once: exactly what one pass gives.
pub fn analysis_of_parts(
    loaded: &OpenedFiles,
    reference: Option<String>,
    parts: Vec<LayerResults>,
) -> Result<Analysis, RepsError> {
    let (options, default_layers) = every_layer(loaded.input.shared_layers(), reference)?;
    let comparisons = compare_models_with(&loaded.input, &options, parts)?;
    Ok(Analysis {
        description: loaded.description.clone(),
        histograms: loaded.histograms.clone(),
        comparisons,
        default_layers,
        timings: Timings::default(),
    })
}

/// The options that compare every one of the shared layers `all` once, and the layers shown by
/// default; an error when there are none.
fn every_layer(
    all: Vec<String>,
    reference: Option<String>,
) -> Result<(AnalysisOptions, Vec<String>), RepsError> {
    if all.is_empty() {
        return Err(RepsError::Invalid(
            "the models share no layer name; check the array keys of the files".into(),
        ));
    }
    let default_layers = default_layers(&all);
    let options = AnalysisOptions {
        reference,
        layers: Some(all),
        ..Default::default()
    };
    Ok((options, default_layers))
}

/// [`analyse`] for activation files read in row chunks (`reps::formats::stream`), never whole:
/// every shared layer compared once, as there. With `tokens` `Some(true)`, and by default
/// (`None`) when a file has an `attention_mask`, the files are read as language-model tokens
/// (every axis but the last is samples, padding dropped), as `native analyze --tokens` reads
/// them; `Some(false)` reads one sample per first axis. A snapshot cannot be streamed.
pub fn analyse_streamed(
    sources: &[&dyn ByteSource],
    reference: Option<String>,
    tokens: Option<bool>,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Analysis, RepsError> {
    let input = open_streamed(sources, tokens, None, None, &mut ReadBudget::default())?;
    let (options, default_layers) = every_layer(shared_layers(&input.models), reference)?;
    let mut comparisons = compare_models_streamed(
        &input.models,
        input.labels.clone(),
        &options,
        None,
        progress,
    )?;
    comparisons.notes.extend(input.warnings);
    let unit = if input.tokens {
        "tokens (the files have an attention_mask)"
    } else {
        "samples"
    };
    Ok(Analysis {
        description: format!(
            "{} activation files, {} {unit}, read in row chunks",
            input.models.len(),
            input.samples
        ),
        histograms: Vec::new(),
        comparisons,
        default_layers,
        timings: Timings::default(),
    })
}

/// What the worker answers to [`crate::protocol::Request::Inference`]: `report` with per-model
/// REPS intervals from `sample_bootstrap` resamples of the loaded samples (none when 0), then its
/// inference with the defaults of `native analyze` (`InferenceOptions::default()`: 10,000
/// resamples and permutations, seed 0), so the browser shows the terminal's numbers.
/// `progress(done, total)` follows the sample resamples.
pub fn infer(
    loaded: Option<&OpenedFiles>,
    mut report: Report,
    sample_bootstrap: u32,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Report, RepsError> {
    if sample_bootstrap > 0 {
        let loaded =
            loaded.ok_or_else(|| RepsError::Invalid("nothing is loaded to resample".into()))?;
        sample_bootstrap_samples(
            &loaded.input,
            &mut report,
            sample_bootstrap as usize,
            InferenceOptions::default().seed,
            progress,
        )?;
    }
    report.with_inference(&InferenceOptions::default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{decode, encode, Response};
    use reps::analysis::{analyze, open_files};

    fn sample() -> OpenedFiles {
        let bytes = include_bytes!("../../www/sample.reps").to_vec();
        open_files(
            &[("sample.reps".into(), bytes)],
            None,
            &mut Default::default(),
        )
        .unwrap()
    }

    /// The preview the page draws Table 1 and Figure 1 from before the analysis ends holds what
    /// the finished report says of every model, and survives the trip to the page.
    #[test]
    fn preview_holds_what_the_report_says_of_every_model() {
        let loaded = sample();
        let p = decode::<Preview>(&encode(&preview(&loaded, Some("quant-4"))).unwrap()).unwrap();
        assert_eq!(p.reference, "quant-4");
        assert_eq!(
            preview(&loaded, None).reference,
            loaded.input.models[0].name
        );
        let report = analyze(&loaded.input, &Default::default()).unwrap();
        assert_eq!(p.models.len(), report.models.len());
        for (m, r) in p.models.iter().zip(&report.models) {
            let shown = (
                &m.name,
                &m.method,
                m.parameter,
                &m.parameter_name,
                m.accuracy,
            );
            let reported = (
                &r.name,
                &r.method,
                r.parameter,
                &r.parameter_name,
                r.accuracy,
            );
            assert_eq!(shown, reported);
            assert_eq!(m.layers.len(), 8, "{}: every layer named", m.name);
        }
        assert_eq!(p.histograms, loaded.histograms);
        assert_eq!(p.description, loaded.description);
        // The bundled sample is a version-4 file: its index alone gives the same preview.
        let bytes = include_bytes!("../../www/sample.reps");
        let end = reps::formats::snapshot::index_end("sample.reps", bytes)
            .unwrap()
            .unwrap();
        let index = reps::formats::snapshot::decode_index("sample.reps", &bytes[..end as usize]);
        let early = preview_of_index("sample.reps", index.unwrap()).unwrap();
        assert_eq!(early, preview(&loaded, None));
    }

    /// Shares computed apart (by helper workers: their results travel as postcard) give exactly
    /// the analysis of one pass, whatever the number of shares and the reference.
    #[test]
    fn shares_joined_equal_one_pass() {
        let loaded = sample();
        for (parts, reference) in [(2, None), (3, Some("quant-4".to_string())), (40, None)] {
            let whole = analyse(&loaded, reference.clone(), &mut |_| {}).unwrap();
            let shares = shares(&loaded, parts);
            assert_eq!(shares.len(), parts.min(25));
            let mut seen: Vec<usize> = shares.concat();
            seen.sort_unstable();
            assert_eq!(seen, (0..25).collect::<Vec<_>>(), "every model once");
            let results = shares
                .iter()
                .map(|s| {
                    let r = analyse_part(&loaded, reference.clone(), s, &mut |_| {}).unwrap();
                    decode::<LayerResults>(&encode(&r).unwrap()).unwrap()
                })
                .collect();
            let joined = analysis_of_parts(&loaded, reference, results).unwrap();
            assert_eq!(joined, whole, "{parts} shares");
        }
    }

    /// The worker's path (compare every layer once, report the default layers) gives exactly the
    /// report of `native analyze`'s path, and survives the trip to the page.
    #[test]
    fn worker_analysis_equals_a_direct_report_and_round_trips() {
        let loaded = sample();
        let mut steps = 0;
        let a = analyse(&loaded, None, &mut |p| {
            steps += 1;
            assert_eq!(p.done, steps);
        })
        .unwrap();
        assert_eq!(steps, 25 * 8, "one progress step per (model, layer)");
        assert_eq!(a.default_layers, ["layer4.1.conv2", "fc"]);
        assert_eq!(a.comparisons.layers.len(), 8);
        let direct = analyze(&loaded.input, &Default::default()).unwrap();
        assert_eq!(
            a.comparisons.report(&a.default_layers, None).unwrap(),
            direct
        );
        // Every model carries the spectrum of its logits layer (fc): positive, non-increasing, the
        // eigenvalues of that layer computed on their own.
        assert_eq!(a.comparisons.models.len(), 25);
        for (m, input) in a.comparisons.models.iter().zip(&loaded.input.models) {
            assert_eq!(m.logits.as_deref(), Some("fc"));
            let s = m.spectra.get("fc").unwrap();
            let own = reps::metrics::LayerStats::compute(input.layer("fc").unwrap(), None, 10)
                .unwrap()
                .eigenvalues;
            let positive: Vec<f64> = own.into_iter().filter(|&x| x > 0.0).collect();
            assert_eq!(s, &positive, "{}", m.name);
            assert!(
                !s.is_empty() && s.len() <= 10,
                "{}: {} eigenvalues",
                m.name,
                s.len()
            );
            assert!(
                s.windows(2).all(|w| w[0] >= w[1] && w[1] > 0.0),
                "{}: {s:?}",
                m.name
            );
        }
        let message = Response::Done {
            job: 7,
            analysis: Box::new(a),
        };
        assert_eq!(
            decode::<Response>(&encode(&message).unwrap()).unwrap(),
            message
        );
        assert!(decode::<Response>(&[0xff, 0xff, 0xff]).is_err());
    }

    /// The worker's statistics are `native analyze`'s (the same function, the same defaults),
    /// and the filled report survives the trip to the page.
    #[test]
    fn worker_inference_equals_the_native_path_and_round_trips() {
        let loaded = sample();
        let base = analyze(&loaded.input, &Default::default()).unwrap();
        let inferred = infer(Some(&loaded), base.clone(), 0, &mut |_, _| {}).unwrap();
        assert_eq!(
            inferred,
            base.with_inference(&InferenceOptions::default()).unwrap()
        );
        assert!(inferred
            .correlations
            .get("reps_equal")
            .unwrap()
            .plcc_ci
            .is_some());
        assert!(!inferred.claims.is_empty());
        let mut calls = 0;
        let sampled = infer(Some(&loaded), base.clone(), 3, &mut |done, total| {
            calls += 1;
            assert_eq!((done, total), (calls, 3));
        })
        .unwrap();
        assert!(sampled.models.iter().all(|m| m.reps_ci.is_some()));
        assert!(infer(None, base, 3, &mut |_, _| {}).is_err());
        let message = Response::Inference {
            job: 3,
            report: Box::new(sampled),
            seconds: 0.25,
        };
        assert_eq!(
            decode::<Response>(&encode(&message).unwrap()).unwrap(),
            message
        );
    }

    #[test]
    fn files_too_large_for_the_browser_are_refused_by_name() {
        let half = MAX_TOTAL_BYTES / 2;
        assert!(check_sizes(&[("a.npz".into(), half), ("b.npz".into(), half)]).is_ok());
        let err = check_sizes(&[("a.npz".into(), half), ("big.npz".into(), half + 1)])
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("big.npz: is 0.54 GB (1.07 GB in all)"),
            "{err}"
        );
        assert!(err.contains("native analyze"), "{err}");
        assert!(check_sizes(&[]).is_ok());
    }

    #[test]
    fn another_reference_and_bad_requests() {
        let loaded = sample();
        let a = analyse(&loaded, Some("prune-0.5".into()), &mut |_| {}).unwrap();
        assert_eq!(a.comparisons.reference, "prune-0.5");
        let r = a.comparisons.report(&a.default_layers, None).unwrap();
        let me = r.models.iter().find(|m| m.name == "prune-0.5").unwrap();
        assert_eq!((me.cka, me.accuracy_drop), (1.0, Some(0.0)));
        let err = analyse(&loaded, Some("nope".into()), &mut |_| {})
            .unwrap_err()
            .to_string();
        assert!(err.contains("'nope' not found"), "{err}");
        let err = open_files(&[], None, &mut Default::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("no file"), "{err}");
        let snap = include_bytes!("../../www/sample.reps").to_vec();
        let err = open_files(
            &[
                ("a.reps".into(), snap.clone()),
                ("b.npz".into(), vec![1, 2]),
            ],
            None,
            &mut Default::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("a.reps: ") && err.contains("on its own"),
            "{err}"
        );
    }
}
