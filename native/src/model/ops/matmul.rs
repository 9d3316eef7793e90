//! Matrix products on the CPU for the convolution's GEMMs, by the `gemm` crate (candle's own CPU
//! matmul calls the same function with the same arguments, so results are bitwise candle's).
//!
//! Two things make the convolution's products faster than a plain call, without changing a bit:
//!
//! - **Padded rows.** The convolution's matrices are `rows × (B·H_o·W_o)` with `B·H_o·W_o` a
//!   power of two (64 images of 32 × 32 is 65,536 columns). Rows that far apart fall into the
//!   same cache sets, and packing or writing a few dozen of them at once evicts itself. Rows
//!   [`padded_stride`] apart do not. The stride changes where values sit, not what is computed.
//! - **Columns split among threads.** For `C = A·B` with few rows (a layer's output channels) and
//!   many columns, `gemm`'s own threading splits poorly (on a 2-core machine, 64 × 576 × 65,536
//!   ran slower on two threads than on one). Each thread instead takes a contiguous block of
//!   columns and runs a single-threaded product. Every element of `C` is still the same dot
//!   product summed in the same order: `gemm` blocks the depth `k` by a size that depends on `k`
//!   alone once both sides exceed 64 (`gemm_common::cache::kernel_params`), and each block's
//!   width is at least [`MIN_SPLIT_COLUMNS`].

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

/// Narrowest column block a thread takes when a product's columns are split (wider than 64, so
/// that every block takes `gemm`'s general path whose depth blocking depends on `k` alone).
pub(crate) const MIN_SPLIT_COLUMNS: usize = 256;

/// How to spread one product over the threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Threads {
    /// `gemm`'s own parallelism over the whole product (exactly candle's call).
    Gemm,
    /// Contiguous blocks of columns, one single-threaded product per thread, when there are at
    /// least [`MIN_SPLIT_COLUMNS`] per thread (otherwise as [`Threads::Gemm`]).
    SplitColumns,
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
    let workers = candle_core::utils::get_num_threads();
    let block = n
        .div_ceil(workers.max(1))
        .next_multiple_of(16)
        .max(MIN_SPLIT_COLUMNS);
    if threads == Threads::SplitColumns && workers > 1 && n >= 2 * MIN_SPLIT_COLUMNS {
        use rayon::prelude::*;
        let dst = c.as_mut_ptr() as usize;
        (0..n)
            .step_by(block)
            .collect::<Vec<_>>()
            .par_iter()
            .for_each(|&first| {
                let width = block.min(n - first);
                let rhs = MatRef {
                    data: &b.data[first * b.col_stride..],
                    cols: width,
                    ..b
                };
                // SAFETY: the blocks write disjoint columns `first..first + width` of `c`, which
                // outlives the scope; `a` and `rhs` fit their data (checked above).
                unsafe { gemm_raw(a, rhs, (dst as *mut f32).add(first), ldc, 1) };
            });
    } else {
        // SAFETY: `c` holds `m` rows of `ldc ≥ n` values; `a` and `b` fit their data.
        unsafe { gemm_raw(a, b, c.as_mut_ptr(), ldc, workers) };
    }
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

    /// Every way of running a product gives the same bits as candle's matmul of the same
    /// operands: padded rows, transposed views, columns split among threads (wide enough to be
    /// split: 1,040 columns), and a product too narrow to split.
    #[test]
    fn padded_and_split_products_are_bitwise_candles() {
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
            for threads in [Threads::Gemm, Threads::SplitColumns] {
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
