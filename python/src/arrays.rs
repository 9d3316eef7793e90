//! NumPy arrays handed to crate `reps` without a copy.
//!
//! The Python layer (`reps/_arrays.py`) turns whatever the user passed (DLPack, `__array__`,
//! float16, bfloat16, strided views) into C-contiguous float32/float64 or int64 ndarrays; this
//! module only borrows their memory.

use numpy::{PyArrayDyn, PyArrayMethods, PyUntypedArrayMethods};
use pyo3::prelude::*;
use reps::formats::{ArrayData, RawArray};
use reps::{Buffer, Values};

/// The elements of a C-contiguous ndarray, kept alive by a reference to it.
struct NumpyElements<T> {
    _owner: Py<PyAny>,
    ptr: *const T,
    len: usize,
}

// SAFETY: the pointer is only read (as a shared slice) while `_owner` keeps the array, and so
// its data buffer, alive; NumPy never moves the buffer of an array that has other references
// (`ndarray.resize` refuses). Writing to the array from another Python thread while an analysis
// reads it is a data race the caller must avoid, as with any extension that releases the GIL.
unsafe impl<T: Sync> Send for NumpyElements<T> {}
unsafe impl<T: Sync> Sync for NumpyElements<T> {}

impl<T> AsRef<[T]> for NumpyElements<T> {
    fn as_ref(&self) -> &[T] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: see the Send/Sync impls; `ptr` points at `len` initialised elements.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

/// A float array: its shape and its elements, shared with NumPy.
pub struct FloatArray {
    pub shape: Vec<usize>,
    pub values: Values,
}

fn shared<T: numpy::Element + Sync + Send>(a: &Bound<'_, PyArrayDyn<T>>) -> Option<Buffer<T>> {
    if !a.is_c_contiguous() {
        return None;
    }
    Some(Buffer::shared(NumpyElements {
        _owner: a.clone().into_any().unbind(),
        ptr: a.data() as *const T,
        len: a.len(),
    }))
}

/// `obj` as a float array, without copying: it must be a C-contiguous float32 or float64
/// ndarray (the Python layer converts anything else first). `None` otherwise.
pub fn float_array(obj: &Bound<'_, PyAny>) -> Option<FloatArray> {
    if let Ok(a) = obj.cast::<PyArrayDyn<f32>>() {
        return Some(FloatArray {
            shape: a.shape().to_vec(),
            values: Values::F32(shared(a)?),
        });
    }
    if let Ok(a) = obj.cast::<PyArrayDyn<f64>>() {
        return Some(FloatArray {
            shape: a.shape().to_vec(),
            values: Values::F64(shared(a)?),
        });
    }
    None
}

/// `obj`, an int64 ndarray (labels, an attention mask), as a [`RawArray`] (copied: these are
/// N values, not N × D).
pub fn int_array(obj: &Bound<'_, PyAny>) -> Option<RawArray> {
    let a = obj.cast::<PyArrayDyn<i64>>().ok()?;
    let values = a.to_vec().ok()?;
    RawArray::new(a.shape().to_vec(), ArrayData::Int(values)).ok()
}

/// A NumPy array of `values` with `shape` (one copy, into memory NumPy owns).
pub fn to_numpy<'py>(
    py: Python<'py>,
    shape: &[usize],
    values: &Values,
) -> PyResult<Bound<'py, PyAny>> {
    Ok(match values {
        Values::F32(v) => numpy::PyArray1::from_slice(py, v)
            .reshape(shape.to_vec())?
            .into_any(),
        Values::F64(v) => numpy::PyArray1::from_slice(py, v)
            .reshape(shape.to_vec())?
            .into_any(),
    })
}
