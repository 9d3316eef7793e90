//! Householder reflectors `H = I − τ v vᵀ` (LAPACK's `dlarfg` convention: `v₀ = 1`), generated
//! from a vector and applied to the columns of a block.

pub(super) use crate::linalg::reduce::dot;

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

/// `y += α x`.
#[inline(always)]
pub(super) fn axpy(alpha: f64, x: &[f64], y: &mut [f64]) {
    for (y, x) in y.iter_mut().zip(x) {
        *y += alpha * x;
    }
}
