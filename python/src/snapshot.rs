//! `reps.load` and `reps.save`: models from files, and a `.reps` snapshot the viewer opens.

use crate::analysis::labels_of;
use crate::arrays::to_numpy;
use crate::inputs::{model_files, read_file, Item};
use crate::{error, labels_arg};
use pyo3::prelude::*;
use pyo3::types::PyList;
use reps::analysis::open_files;
use reps::formats::{snapshot, ReadBudget};
use reps::AnalysisInput;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The models of a `.reps` snapshot or of one activation file, as
/// `[(name, [(layer, ndarray)], logits, labels, accuracy, method, parameter, parameter_name)]`
/// (one copy of each array, into NumPy's memory; every model gets the input's labels). See
/// `reps.load`.
#[pyfunction]
#[pyo3(signature = (path, *, max_memory))]
pub fn load<'py>(
    py: Python<'py>,
    path: PathBuf,
    max_memory: Option<u64>,
) -> PyResult<Bound<'py, PyList>> {
    let mut budget = ReadBudget::new(max_memory.unwrap_or_else(reps::formats::machine_read_budget));
    let name = path.display().to_string();
    let opened = py
        .detach(|| {
            let bytes = read_file(&path, &mut budget)?;
            open_files(&[(name, bytes)], None, &mut budget)
        })
        .map_err(error)?;
    let labels = opened.input.labels.as_ref().map(|(l, _)| {
        let l: Vec<i64> = l.iter().map(|&x| x as i64).collect();
        numpy::PyArray1::from_vec(py, l).into_any()
    });
    let models = PyList::empty(py);
    for m in &opened.input.models {
        let layers = PyList::empty(py);
        for (key, a) in &m.layers {
            let shape: Vec<usize> = std::iter::once(a.rows())
                .chain(a.sample_shape().iter().copied())
                .collect();
            layers.append((key, to_numpy(py, &shape, a.values())?))?;
        }
        models.append((
            &m.name,
            layers,
            &m.logits,
            labels.clone(),
            m.accuracy,
            &m.method,
            m.parameter,
            &m.parameter_name,
        ))?;
    }
    Ok(models)
}

/// Writes `items` (model tuples or paths) and `labels` as a `.reps` snapshot at `path`,
/// atomically (a temporary file in the same folder, renamed into place). See `reps.save`.
#[pyfunction]
#[pyo3(signature = (items, path, *, labels, max_memory))]
pub fn save(
    py: Python<'_>,
    items: Vec<Bound<'_, PyAny>>,
    path: PathBuf,
    labels: Option<Bound<'_, PyAny>>,
    max_memory: Option<u64>,
) -> PyResult<()> {
    let items = items
        .iter()
        .map(Item::extract)
        .collect::<PyResult<Vec<_>>>()?;
    let labels = labels_arg(labels.as_ref())?;
    let mut budget = ReadBudget::new(max_memory.unwrap_or_else(reps::formats::machine_read_budget));
    let written = py.detach(|| -> Result<(), reps::RepsError> {
        let labels = labels_of(labels, &mut budget)?;
        let (files, _) = model_files(&items, &mut budget)?;
        let input = AnalysisInput::from_model_files(files, labels)?;
        let bytes =
            snapshot::encode(&input.to_snapshot("reps (Python)", env!("CARGO_PKG_VERSION")))?;
        write_atomically(&path, &bytes).map_err(|e| reps::RepsError::File {
            file: path.display().to_string(),
            reason: format!("cannot write it: {e}"),
        })
    });
    drop(items);
    written.map_err(error)
}

/// `bytes` at `path` through a synced temporary file renamed into place, so that a crash never
/// leaves half a snapshot under the final name.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file_name = path.file_name().ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "the path names no file")
    })?;
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        file_name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
