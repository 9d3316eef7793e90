//! `reps._reps`: crate `reps` as a Python extension module (PyO3, abi3).
//!
//! The Python package `reps` (python/reps/) is a thin layer over these functions: it turns the
//! user's arrays into C-contiguous float32/float64 ndarrays, which are read here without a copy,
//! and the JSON text returned here into a dict. Each function releases the GIL while crate
//! `reps` works ([`run`]), turns its errors into `reps.RepsError` and its panics into
//! exceptions, and stops with `KeyboardInterrupt` at the next (model, layer) step after Ctrl-C.

mod analysis;
mod arrays;
mod inputs;
mod snapshot;

use analysis::Settings;
use inputs::{Item, Labels};
use pyo3::create_exception;
use pyo3::exceptions::{PyKeyboardInterrupt, PyValueError};
use pyo3::prelude::*;
use reps::analysis::{AnalysisOptions, InferenceOptions};
use reps::metrics::{compare_layers, LayerStats, RepsWeights};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::path::PathBuf;

create_exception!(
    reps,
    RepsError,
    PyValueError,
    "Bad input or options: the message names the file or model, the layer and what is wrong."
);

/// A library error as `reps.RepsError`, in the Python API's terms.
pub(crate) fn error(e: reps::RepsError) -> PyErr {
    let message = match e {
        over @ reps::RepsError::OverBudget { .. } => {
            format!("{over}; max_memory= raises the budget")
        }
        other => other.to_string(),
    };
    RepsError::new_err(without_repeated_source(message))
}

/// An in-memory model's source is `model 'name'`, which the engine's messages about a model
/// also name: `model 'a': model 'a' has no layer 'x'` reads `model 'a' has no layer 'x'`.
fn without_repeated_source(message: String) -> String {
    match message.split_once(": ") {
        Some((source, rest)) if source.starts_with("model '") && rest.starts_with(source) => {
            rest.to_string()
        }
        _ => message,
    }
}

/// The unwinding payload that stops an analysis after Ctrl-C (raised at a progress step, on the
/// calling thread, and caught in [`run`]; it is never a panic, so no panic message is printed).
struct Interrupted;

/// Runs `work` with the GIL released. `work` gets a function to call between steps, which
/// checks for Ctrl-C (and other signals) and stops the work when a handler raised. A panic
/// inside becomes `RepsError` (it would be a bug), never an abort of the interpreter.
fn run<T: Send>(
    py: Python<'_>,
    work: impl FnOnce(&mut dyn FnMut()) -> Result<T, reps::RepsError> + Send,
) -> PyResult<T> {
    let mut raised: Option<PyErr> = None;
    let outcome = py.detach(|| {
        catch_unwind(AssertUnwindSafe(|| {
            let mut check = || {
                if let Err(e) = Python::attach(|py| py.check_signals()) {
                    raised = Some(e);
                    resume_unwind(Box::new(Interrupted));
                }
            };
            work(&mut check)
        }))
    });
    match outcome {
        Ok(result) => result.map_err(error),
        Err(payload) if payload.is::<Interrupted>() => Err(raised
            .take()
            .unwrap_or_else(|| PyKeyboardInterrupt::new_err("interrupted"))),
        Err(payload) => {
            let what = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("unknown panic");
            Err(RepsError::new_err(format!(
                "internal error (a bug in reps; please report it): {what}"
            )))
        }
    }
}

/// `labels`: a path to a labels file, or an int64 ndarray.
pub(crate) fn labels_arg(labels: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Labels>> {
    let Some(obj) = labels else { return Ok(None) };
    if let Ok(path) = obj.extract::<PathBuf>() {
        return Ok(Some(Labels::Path(path)));
    }
    arrays::int_array(obj)
        .map(|a| Some(Labels::Array(a)))
        .ok_or_else(|| RepsError::new_err("labels: expected a path or an int64 ndarray"))
}

/// The report of `native analyze --format json`, as JSON text. See `reps.analyze`.
#[pyfunction]
#[pyo3(signature = (items, *, reference, labels, layers, tokens, attention_mask, weights, top_m,
    bootstrap, permutations, seed, stable_drop, sample_bootstrap, stream, claims, max_memory))]
#[allow(clippy::too_many_arguments)]
fn analyze(
    py: Python<'_>,
    items: Vec<Bound<'_, PyAny>>,
    reference: Option<String>,
    labels: Option<Bound<'_, PyAny>>,
    layers: Option<Vec<String>>,
    tokens: bool,
    attention_mask: Option<Bound<'_, PyAny>>,
    weights: Option<Vec<f64>>,
    top_m: usize,
    bootstrap: usize,
    permutations: usize,
    seed: u64,
    stable_drop: f64,
    sample_bootstrap: Option<usize>,
    stream: bool,
    claims: bool,
    max_memory: Option<u64>,
) -> PyResult<String> {
    let items = items
        .iter()
        .map(Item::extract)
        .collect::<PyResult<Vec<_>>>()?;
    let labels = labels_arg(labels.as_ref())?;
    let attention_mask = attention_mask
        .map(|m| {
            arrays::int_array(&m)
                .ok_or_else(|| RepsError::new_err("attention_mask: expected an int64 ndarray"))
        })
        .transpose()?;
    let user_weights = weights
        .map(|w| {
            let w: [f64; 4] = w.try_into().map_err(|w: Vec<f64>| {
                RepsError::new_err(format!("weights: expected 4 numbers, got {}", w.len()))
            })?;
            RepsWeights::new(w).map_err(error)
        })
        .transpose()?;
    let settings = Settings {
        options: AnalysisOptions {
            reference,
            layers,
            top_m,
            user_weights,
        },
        inference: InferenceOptions {
            bootstrap,
            permutations,
            seed,
            stable_drop,
        },
        tokens,
        stream,
        sample_bootstrap,
        claims,
        max_memory: max_memory.unwrap_or_else(reps::formats::machine_read_budget),
    };
    let report = run(py, |check| {
        analysis::analyze(&items, labels, attention_mask, &settings, check)
    })?;
    // Dropping the inputs releases the arrays, with the GIL held.
    drop(items);
    serde_json::to_string(&report).map_err(|e| RepsError::new_err(e.to_string()))
}

/// One layer of `other` against the same layer of `reference`: the REPS components, REPS and
/// CKA, as JSON text. See `reps.compare`.
#[pyfunction]
#[pyo3(signature = (reference, other, *, labels, top_m))]
fn compare(
    py: Python<'_>,
    reference: Bound<'_, PyAny>,
    other: Bound<'_, PyAny>,
    labels: Option<Bound<'_, PyAny>>,
    top_m: usize,
) -> PyResult<String> {
    // Messages name the argument: `reference: layer 'layer': non-finite value ...`.
    let as_layer = |obj: &Bound<'_, PyAny>, name: &str| -> PyResult<reps::Activations> {
        let model = inputs::MemoryModel {
            name: name.to_string(),
            layers: vec![(
                "layer".into(),
                arrays::float_array(obj).ok_or_else(|| {
                    RepsError::new_err(format!("{name}: not a C-contiguous float ndarray"))
                })?,
            )],
            logits: None,
            labels: None,
            accuracy: None,
            method: None,
            parameter: None,
            parameter_name: None,
        };
        let mut m = model.per_sample().map_err(error)?;
        Ok(m.layers.remove(0).1)
    };
    let (a, b) = (
        as_layer(&reference, "reference")?,
        as_layer(&other, "other")?,
    );
    let labels = match labels_arg(labels.as_ref())? {
        None => None,
        Some(Labels::Array(l)) => {
            Some(reps::formats::parse_labels("labels", "labels", &l).map_err(error)?)
        }
        Some(Labels::Path(_)) => return Err(RepsError::new_err("labels: expected an array")),
    };
    if a.rows() != b.rows() || labels.as_ref().is_some_and(|l| l.len() != a.rows()) {
        return Err(RepsError::new_err(format!(
            "reference has {} samples, other {}{}: they must be the same samples",
            a.rows(),
            b.rows(),
            labels
                .as_ref()
                .map(|l| format!(", labels {}", l.len()))
                .unwrap_or_default()
        )));
    }
    if top_m == 0 {
        return Err(RepsError::new_err(
            "top_m: the number of eigenvalues in the decay fit must be at least 1",
        ));
    }
    let result = run(py, |_| {
        let r = LayerStats::compute(&a, labels.as_deref(), top_m)?;
        let m = LayerStats::compute(&b, labels.as_deref(), top_m)?;
        Ok(compare_layers(&r, &m))
    })?;
    serde_json::to_string(&result).map_err(|e| RepsError::new_err(e.to_string()))
}

#[pymodule]
fn _reps(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("RepsError", m.py().get_type::<RepsError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(analyze, m)?)?;
    m.add_function(wrap_pyfunction!(compare, m)?)?;
    m.add_function(wrap_pyfunction!(snapshot::load, m)?)?;
    m.add_function(wrap_pyfunction!(snapshot::save, m)?)?;
    Ok(())
}
