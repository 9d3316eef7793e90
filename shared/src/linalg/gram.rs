//! The Gram matrix `K = X Xᵀ` of a column-major N × D matrix, written for WebAssembly's two-lane
//! SIMD: the browser's matrix products otherwise go through faer's recursive triangular product,
//! which calls the GEMM about 31 times per Gram and packs the whole K dimension again each time.
//! Native targets keep faer (runtime-dispatched AVX2/AVX-512 kernels); this kernel is compiled
//! and tested everywhere.
//!
//! The scheme: the features (K = D) are taken in blocks of [`K_BLOCK`]; each block is packed once
//! into panels of 4 samples (`panel[k][0..4]`, zero-padded past N); then every 4 × 4 tile of the
//! lower triangle is accumulated over the block in 8 two-lane accumulators (two lanes of rows times
//! four columns: 8 of V8's 15 vector registers on x86-64, so nothing spills) and added to `K`.
//! The order of every sum is fixed by N and D alone, so the result does not depend on timing or
//! threads. At the end the lower triangle is mirrored: `K` is returned whole and symmetric.

use faer::{Mat, MatRef};

/// Features per packed block: 4 samples × 256 features × 8 bytes = 8 KiB per panel, so that a
/// tile's two panels stay in the L1 cache.
pub const K_BLOCK: usize = 256;

/// Samples per panel and per side of a tile.
const TILE: usize = 4;

/// `K = X Xᵀ` of the N × D column-major `x`, whole and symmetric: `K_ij = Σ_k x_ik x_jk`, summed
/// over blocks of [`K_BLOCK`] features in a fixed order. N = 0 gives a 0 × 0 matrix, D = 0 zeros.
/// The analysis uses it in WebAssembly; it is public so that the browser tests can check it.
pub fn gram(x: MatRef<'_, f64>) -> Mat<f64> {
    #[cfg(all(target_arch = "wasm32", feature = "relaxed-simd"))]
    {
        gram_fused(x)
    }
    #[cfg(not(all(target_arch = "wasm32", feature = "relaxed-simd")))]
    {
        gram_by(x, lanes::tile)
    }
}

/// [`gram`] with each multiply-add of the 4 × 4 tiles as WebAssembly's `f64x2.relaxed_madd`,
/// which the engine computes fused (one rounding) where the CPU has FMA, and as a multiply then
/// an add elsewhere: each sum moves by at most a rounding per term, well inside the 1e-13
/// relative tolerance of the tests. A module that contains it fails validation in browsers
/// without relaxed SIMD (Safari), so only the viewer's relaxed build (cargo feature
/// `relaxed-simd`) calls it from [`gram`]; the browser tests call it directly.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub fn gram_fused(x: MatRef<'_, f64>) -> Mat<f64> {
    gram_by(x, |a, b, kb| lanes::tile_fused(a, b, kb))
}

type TileKernel = fn(&[f64], &[f64], usize) -> [[f64; TILE]; TILE];

fn gram_by(x: MatRef<'_, f64>, tile: TileKernel) -> Mat<f64> {
    let (n, d) = (x.nrows(), x.ncols());
    let panels = n.div_ceil(TILE);
    let mut k = Mat::<f64>::zeros(n, n);
    let mut packed = vec![0.0f64; panels * TILE * K_BLOCK.min(d.max(1))];
    for k0 in (0..d).step_by(K_BLOCK) {
        let kb = K_BLOCK.min(d - k0);
        pack(x, k0, kb, &mut packed);
        for pa in 0..panels {
            let a = &packed[pa * TILE * kb..(pa + 1) * TILE * kb];
            for pb in 0..=pa {
                let b = &packed[pb * TILE * kb..(pb + 1) * TILE * kb];
                let tile = tile(a, b, kb);
                for (c, column) in tile.iter().enumerate() {
                    let j = pb * TILE + c;
                    if j >= n {
                        break;
                    }
                    for (r, &v) in column.iter().enumerate() {
                        let i = pa * TILE + r;
                        if i < n && i >= j {
                            k[(i, j)] += v;
                        }
                    }
                }
            }
        }
    }
    for j in 0..n {
        for i in j + 1..n {
            k[(j, i)] = k[(i, j)];
        }
    }
    k
}

/// Packs the features `k0..k0 + kb` of `x`: panel `p`, feature `k` holds samples
/// `4p..4p + 4` at `packed[(p · kb + k) · 4..]`, zeros past N.
fn pack(x: MatRef<'_, f64>, k0: usize, kb: usize, packed: &mut [f64]) {
    let n = x.nrows();
    let mut column = vec![0.0; n.div_ceil(TILE) * TILE];
    for k in 0..kb {
        let col = x.col(k0 + k);
        match col.try_as_col_major() {
            Some(c) => column[..n].copy_from_slice(c.as_slice()),
            None => column[..n]
                .iter_mut()
                .enumerate()
                .for_each(|(i, v)| *v = col[i]),
        }
        for (p, group) in column.chunks_exact(TILE).enumerate() {
            packed[(p * kb + k) * TILE..(p * kb + k + 1) * TILE].copy_from_slice(group);
        }
    }
}

/// The 4 × 4 tile kernel over one block, `tile[c][r] = Σ_k a[k][r] · b[k][c]`, in two-lane
/// vectors: WebAssembly's `f64x2` where SIMD is enabled, pairs of f64 elsewhere (the same sums in
/// the same order).
mod lanes {
    use super::TILE;

    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    use core::arch::wasm32::*;

    /// `acc + x · y` lane by lane, as a multiply then an add (two roundings).
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    #[cfg_attr(feature = "relaxed-simd", allow(dead_code))]
    pub fn tile(a: &[f64], b: &[f64], kb: usize) -> [[f64; TILE]; TILE] {
        tile_with(a, b, kb, |x, y, acc| f64x2_add(acc, f64x2_mul(x, y)))
    }

    /// `acc + x · y` lane by lane as `f64x2.relaxed_madd` (fused where the CPU has FMA).
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    #[target_feature(enable = "relaxed-simd")]
    pub fn tile_fused(a: &[f64], b: &[f64], kb: usize) -> [[f64; TILE]; TILE] {
        tile_with(a, b, kb, |x, y, acc| f64x2_relaxed_madd(x, y, acc))
    }

    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    #[inline(always)]
    fn tile_with(
        a: &[f64],
        b: &[f64],
        kb: usize,
        madd: impl Fn(v128, v128, v128) -> v128,
    ) -> [[f64; TILE]; TILE] {
        let mut acc = [f64x2_splat(0.0); 2 * TILE];
        for k in 0..kb {
            // SAFETY: `a` and `b` hold `kb` groups of 4 f64; unaligned loads are allowed.
            let (lo, hi, bk) = unsafe {
                let pa = a.as_ptr().add(k * TILE) as *const v128;
                (
                    v128_load(pa),
                    v128_load(pa.add(1)),
                    b.as_ptr().add(k * TILE),
                )
            };
            for c in 0..TILE {
                // SAFETY: c < 4 within the group of `b`.
                let bc = f64x2_splat(unsafe { *bk.add(c) });
                acc[2 * c] = madd(lo, bc, acc[2 * c]);
                acc[2 * c + 1] = madd(hi, bc, acc[2 * c + 1]);
            }
        }
        let mut out = [[0.0; TILE]; TILE];
        for (c, column) in out.iter_mut().enumerate() {
            *column = [
                f64x2_extract_lane::<0>(acc[2 * c]),
                f64x2_extract_lane::<1>(acc[2 * c]),
                f64x2_extract_lane::<0>(acc[2 * c + 1]),
                f64x2_extract_lane::<1>(acc[2 * c + 1]),
            ];
        }
        out
    }

    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    pub fn tile(a: &[f64], b: &[f64], kb: usize) -> [[f64; TILE]; TILE] {
        let mut out = [[0.0; TILE]; TILE];
        for k in 0..kb {
            let (ak, bk) = (&a[k * TILE..(k + 1) * TILE], &b[k * TILE..(k + 1) * TILE]);
            for (column, &bc) in out.iter_mut().zip(bk) {
                for (o, &ar) in column.iter_mut().zip(ak) {
                    *o += ar * bc;
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Σ_k x[i][k] x[j][k]` term by term, for every (i, j).
    fn direct(x: MatRef<'_, f64>) -> Mat<f64> {
        Mat::from_fn(x.nrows(), x.nrows(), |i, j| {
            (0..x.ncols()).map(|k| x[(i, k)] * x[(j, k)]).sum()
        })
    }

    #[test]
    fn equals_the_direct_sum_at_awkward_shapes() {
        for (n, d) in [
            (1, 1),
            (3, 5),
            (17, 300),
            (8, 257),
            (200, 8192),
            (40, 7),
            (5, 512),
        ] {
            let x = Mat::from_fn(n, d, |i, j| {
                (((i * 7919 + j * 104_729) % 1009) as f64 / 1009.0 - 0.5) * (1.0 + (j % 3) as f64)
            });
            let (got, want) = (gram(x.as_ref()), direct(x.as_ref()));
            for i in 0..n {
                for j in 0..n {
                    assert_eq!(got[(i, j)], got[(j, i)], "symmetric at {n}×{d}");
                    // Relative to the Cauchy–Schwarz bound of the entry, √(K_ii K_jj).
                    let scale = (want[(i, i)] * want[(j, j)]).sqrt();
                    let err = (got[(i, j)] - want[(i, j)]).abs();
                    assert!(err <= 1e-13 * scale, "{n}×{d} ({i}, {j}): {err:e}");
                }
            }
        }
    }

    #[test]
    fn no_features_give_zeros() {
        assert_eq!(
            gram(Mat::<f64>::zeros(3, 0).as_ref()),
            Mat::<f64>::zeros(3, 3)
        );
        assert_eq!(gram(Mat::<f64>::zeros(0, 4).as_ref()).nrows(), 0);
    }
}
