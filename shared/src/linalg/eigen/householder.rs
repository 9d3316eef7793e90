//! Householder reflectors `H = I − τ v vᵀ` (LAPACK's `dlarfg` convention: `v₀ = 1`), generated
//! from a vector and applied to the columns of a block.

/// A reflector `H = I − τ v vᵀ` with `v₀ = 1`, and `β`, the first entry of `Hx` (all others 0).
pub(super) struct Reflector {
    pub tau: f64,
    pub beta: f64,
}

/// Turns `x` into the reflector's vector `v` (`x₀` becomes 1) and returns `τ` and `β` with
/// `H x = β e₀`, `|β| = ‖x‖₂`, `β` of the opposite sign to `x₀`.
///
/// `τ = (β − x₀)/β`, `v = [1; x₁.. / (x₀ − β)]`. When `x₁.. = 0` the reflector is the identity:
/// `τ = 0`, `β = x₀`. The norm is computed with scaling (no overflow or underflow of the squares).
#[inline(always)]
pub(super) fn make_reflector(x: &mut [f64]) -> Reflector {
    let alpha = x[0];
    let tail = scaled_norm(&x[1..]);
    x[0] = 1.0;
    if tail == 0.0 {
        return Reflector {
            tau: 0.0,
            beta: alpha,
        };
    }
    // libm's hypot, not the platform's, so that the browser computes the same bits.
    let beta = -libm::hypot(alpha, tail).copysign(alpha);
    let scale = 1.0 / (alpha - beta);
    for v in &mut x[1..] {
        *v *= scale;
    }
    Reflector {
        tau: (beta - alpha) / beta,
        beta,
    }
}

/// `‖x‖₂`, scaled by the largest magnitude so that squares neither overflow nor underflow.
#[inline(always)]
fn scaled_norm(x: &[f64]) -> f64 {
    let max = x.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    if max == 0.0 {
        return 0.0;
    }
    let inv = 1.0 / max;
    max * dot_with(x, x, inv).sqrt()
}

/// `Σ (xᵢ·s)(yᵢ·s)`.
#[inline(always)]
fn dot_with(x: &[f64], y: &[f64], s: f64) -> f64 {
    x.iter().zip(y).map(|(a, b)| (a * s) * (b * s)).sum()
}

/// `Σ xᵢ yᵢ`, with four independent sums so that the loop vectorises.
#[inline(always)]
pub(super) fn dot(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len().min(y.len());
    let (x, y) = (&x[..n], &y[..n]);
    let mut acc = [0.0f64; 8];
    let mut xc = x.chunks_exact(8);
    let mut yc = y.chunks_exact(8);
    for (a, b) in (&mut xc).zip(&mut yc) {
        for k in 0..8 {
            acc[k] += a[k] * b[k];
        }
    }
    let tail: f64 = xc
        .remainder()
        .iter()
        .zip(yc.remainder())
        .map(|(a, b)| a * b)
        .sum();
    let (a, b) = acc.split_at(4);
    (a[0] + b[0]) + (a[1] + b[1]) + (a[2] + b[2]) + (a[3] + b[3]) + tail
}

/// `y += α x`.
#[inline(always)]
pub(super) fn axpy(alpha: f64, x: &[f64], y: &mut [f64]) {
    for (y, x) in y.iter_mut().zip(x) {
        *y += alpha * x;
    }
}
