//! Matrix products on the CPU for the convolution's GEMMs, by the `gemm` crate (candle's own CPU
//! matmul calls the same function with the same arguments, so results are bitwise candle's).
//!
//! The convolution's matrices are `rows × (B·H_o·W_o)` with `B·H_o·W_o` a power of two (64
//! images of 32 × 32 is 65,536 columns). Rows that far apart fall into the same cache sets, and
//! packing or writing a few dozen of them at once evicts itself; rows [`padded_stride`] apart do
//! not. The stride changes where values sit, not what is computed: the products are bitwise
//! those of unpadded matrices.

/// A matrix view: element `(i, j)` at `data[i·row_stride + j·col_stride]`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MatRef<'a> {
    pub data: &'a [f32],
    pub rows: usize,
    pub cols: usize,
    pub row_stride: usize,
    pub col_stride: usize,
}

impl<'a> MatRef<'a> {
    /// Row-major `rows × cols` with rows `row_stride` values apart.
    pub fn rows_of(data: &'a [f32], rows: usize, cols: usize, row_stride: usize) -> Self {
        MatRef {
            data,
            rows,
            cols,
            row_stride,
            col_stride: 1,
        }
    }

    /// The transpose (a view: no copy).
    pub fn t(self) -> Self {
        MatRef {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }

    /// Whether every element lies inside `data` (checked before `gemm` reads through pointers).
    fn fits(&self) -> bool {
        self.rows == 0
            || self.cols == 0
            || (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride
                < self.data.len()
    }
}

/// Row stride for a matrix of `cols` columns: `cols + 16` (64 bytes more, so that consecutive
/// rows of a power-of-two width do not map to the same cache sets).
pub(crate) fn padded_stride(cols: usize) -> usize {
    cols + 16
}

/// How to spread one product over the threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Threads {
    /// `gemm`'s own parallelism (exactly candle's call).
    Gemm,
    /// This thread only: for callers that run several products in parallel themselves.
    One,
}

/// `C = A·B`, `C` row-major (`a.rows × b.cols`) with rows `ldc` values apart (`ldc ≥ b.cols`;
/// the padding between rows is zero). Panics if a view reaches outside its data or the inner
/// dimensions differ: both are bugs of the caller, never of the input.
pub(crate) fn matmul(a: MatRef, b: MatRef, ldc: usize, threads: Threads) -> Vec<f32> {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert!(
        k == b.rows && ldc >= n && a.fits() && b.fits(),
        "matmul: {m}×{k} · {}×{n} into rows of {ldc}",
        b.rows
    );
    let mut c = vec![0f32; m * ldc];
    let workers = match threads {
        Threads::Gemm => candle_core::utils::get_num_threads(),
        Threads::One => 1,
    };
    // SAFETY: `c` holds `m` rows of `ldc ≥ n` values; `a` and `b` fit their data.
    unsafe { gemm_raw(a, b, c.as_mut_ptr(), ldc, workers) };
    c
}

/// `gemm::gemm` with candle's arguments (no read of the destination, `α = 0`, `β = 1`).
///
/// # Safety
/// `dst` must be valid for writes at `i·ldc + j` for every `i < a.rows`, `j < b.cols`, and no one
/// else may touch those elements during the call; `a` and `b` must fit their data.
unsafe fn gemm_raw(a: MatRef, b: MatRef, dst: *mut f32, ldc: usize, workers: usize) {
    let parallelism = if workers > 1 {
        gemm::Parallelism::Rayon(workers)
    } else {
        gemm::Parallelism::None
    };
    gemm::gemm(
        a.rows,
        b.cols,
        a.cols,
        dst,
        1,
        ldc as isize,
        false,
        a.data.as_ptr(),
        a.col_stride as isize,
        a.row_stride as isize,
        b.data.as_ptr(),
        b.col_stride as isize,
        b.row_stride as isize,
        0.0,
        1.0,
        false,
        false,
        false,
        parallelism,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ops::custom_op::test_values;

    /// Padded rows and transposed views, on `gemm`'s threads or on one, give the same bits as
    /// candle's matmul of the same operands (shapes on `gemm`'s general path and on its path for
    /// small products).
    #[test]
    fn padded_and_single_threaded_products_are_bitwise_candles() {
        use candle_core::{Device, Tensor};
        for (m, k, n) in [(8, 40, 1040), (24, 300, 600), (5, 7, 9)] {
            let av = test_values(m * k, 1);
            let bv = test_values(k * n, 2);
            let at = Tensor::from_vec(av.clone(), (m, k), &Device::Cpu).unwrap();
            let bt = Tensor::from_vec(bv.clone(), (k, n), &Device::Cpu).unwrap();
            let want: Vec<f32> = at
                .matmul(&bt)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap();

            // A stored transposed (k × m), B with padded rows.
            let mut a_t = vec![0f32; k * m];
            for i in 0..m {
                for j in 0..k {
                    a_t[j * m + i] = av[i * k + j];
                }
            }
            let ldb = padded_stride(n);
            let mut bp = vec![f32::NAN; k * ldb];
            for i in 0..k {
                bp[i * ldb..i * ldb + n].copy_from_slice(&bv[i * n..(i + 1) * n]);
            }
            let a = MatRef::rows_of(&a_t, k, m, m).t();
            let b = MatRef::rows_of(&bp, k, n, ldb);
            for threads in [Threads::Gemm, Threads::One] {
                let ldc = padded_stride(n);
                let c = matmul(a, b, ldc, threads);
                for i in 0..m {
                    let row = &c[i * ldc..(i + 1) * ldc];
                    for j in 0..n {
                        assert_eq!(
                            row[j].to_bits(),
                            want[i * n + j].to_bits(),
                            "{m}×{k}×{n} {threads:?} at ({i}, {j})"
                        );
                    }
                    assert!(row[n..].iter().all(|&v| v == 0.0), "padding not zero");
                }
            }
        }
    }
}
