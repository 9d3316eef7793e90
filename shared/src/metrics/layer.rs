//! Per-layer statistics of one model, and their comparison with the reference model's.

use super::{
    alive_fraction, cka::cka_with_cross, decay_fit, decay_score, effective_rank,
    effective_rank_score, separation_ratio, separation_score, DecayFit, PerComponent, RepsWeights,
    COMPONENTS,
};
use crate::activations::Activations;
use crate::error::Result;
use crate::linalg::{spectrum, CenteredMatrix, Kernel};
use serde::{Deserialize, Serialize};

/// Everything computed on one model's layer on its own: the raw values of the REPS components and
/// what CKA needs to compare it with another model's layer.
#[derive(Clone, Debug)]
pub struct LayerStats {
    /// N.
    pub samples: usize,
    /// D.
    pub features: usize,
    /// Eigenvalues `λ_i = s_i²` of the centred second-moment matrix, descending (length min(N, D));
    /// `+∞` where the activations are so large (beyond about 1e150) that λ overflows f64.
    pub eigenvalues: Vec<f64>,
    /// `r_e` (eq. 4).
    pub effective_rank: f64,
    /// `s_alive` (eq. 5).
    pub alive_fraction: f64,
    /// `r_s` (eqs. 6–7); `None` without labels.
    pub separation_ratio: Option<f64>,
    /// `δ` and its fit (eq. 8).
    pub decay: DecayFit,
    /// `None` when the layer was streamed: its cross products with the reference were
    /// accumulated while reading (see `analysis::compare_models_streamed`).
    pub(crate) kernel: Option<Kernel>,
    pub(crate) self_inner: f64,
    pub(crate) row_squared_norms: Vec<f64>,
}

impl LayerStats {
    /// Computes the statistics of `a` (N × D). `labels` (length N) enable class separation;
    /// `top_m` is M of the decay fit.
    pub fn compute(a: &Activations, labels: Option<&[u32]>, top_m: usize) -> Result<Self> {
        // Everything below is computed on the centred matrix scaled by a power of two (exact,
        // and scale-invariant); only the eigenvalues reported for plots are scaled back.
        let centered = CenteredMatrix::new(a);
        let (scaled_eigenvalues, kernel, self_inner) = spectrum(&centered)?;
        let separation = labels.map(|y| separation_ratio(centered.matrix.as_ref(), y));
        Ok(LayerStats::from_parts(
            ScaledMoments {
                samples: a.rows(),
                features: a.cols(),
                scale_exponent: centered.scale_exponent,
                scaled_eigenvalues,
                column_variances: centered.column_variances,
                row_squared_norms: centered.row_squared_norms,
                self_inner,
            },
            separation,
            top_m,
            Some(kernel),
        ))
    }

    /// The statistics from the second moments of the centred matrix scaled by `2^−e` (however
    /// they were computed: in memory, or streamed over row chunks).
    pub(crate) fn from_parts(
        m: ScaledMoments,
        separation_ratio: Option<f64>,
        top_m: usize,
        kernel: Option<Kernel>,
    ) -> Self {
        let scaled_eigenvalues = m.scaled_eigenvalues;
        let eigenvalues: Vec<f64> = scaled_eigenvalues
            .iter()
            .map(|&l| libm::ldexp(l, 2 * m.scale_exponent))
            .collect();
        // The decay fit takes logarithms, which a power-of-two scale shifts by a rounded
        // constant: fit the eigenvalues in the activations' units where they are representable
        // (bit for bit what an unscaled computation gives), the scaled ones otherwise.
        let representable = eigenvalues
            .iter()
            .zip(&scaled_eigenvalues)
            .all(|(&l, &s)| l.is_finite() && (s == 0.0 || l >= f64::MIN_POSITIVE));
        let for_decay = if representable {
            &eigenvalues
        } else {
            &scaled_eigenvalues
        };
        LayerStats {
            samples: m.samples,
            features: m.features,
            effective_rank: effective_rank(&scaled_eigenvalues),
            alive_fraction: alive_fraction(&m.column_variances),
            separation_ratio,
            decay: decay_fit(for_decay, top_m),
            eigenvalues,
            kernel,
            self_inner: m.self_inner,
            row_squared_norms: m.row_squared_norms,
        }
    }
}

/// The second moments of a centred matrix scaled by `2^−e` that [`LayerStats`] is built from.
pub(crate) struct ScaledMoments {
    pub samples: usize,
    pub features: usize,
    /// `e`.
    pub scale_exponent: i32,
    /// Eigenvalues of the scaled second-moment matrix, descending.
    pub scaled_eigenvalues: Vec<f64>,
    /// Population variance of every column of the scaled matrix.
    pub column_variances: Vec<f64>,
    /// Squared norm of every row of the scaled matrix.
    pub row_squared_norms: Vec<f64>,
    /// `‖ÃᵀÃ‖²_F` of the scaled matrix.
    pub self_inner: f64,
}

/// Raw per-layer values of the compared model, as reported beside the scores.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RawLayerValues {
    pub effective_rank: f64,
    pub dead_fraction: f64,
    pub separation: Option<f64>,
    pub decay_slope: f64,
    pub decay_r2: Option<f64>,
}

/// One model's layer compared with the reference's: the four REPS scores, CKA, and raw values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerComparison {
    /// `s_e`.
    pub effective_rank: f64,
    /// `s_alive` (not normalised by the reference).
    pub alive: f64,
    /// `s_s`; `None` when no labels are available.
    pub separation: Option<f64>,
    /// `s_d`.
    pub decay: f64,
    /// REPS with the paper's weighted variant.
    pub reps_weighted: Option<f64>,
    /// REPS with equal weights.
    pub reps_equal: Option<f64>,
    /// Linear CKA (biased HSIC).
    pub cka: f64,
    /// Linear CKA (unbiased HSIC); `None` for N < 4.
    pub cka_debiased: Option<f64>,
    /// The compared model's raw values.
    pub raw: RawLayerValues,
}

impl LayerComparison {
    /// The component scores in [`COMPONENTS`] order (separation possibly missing).
    pub fn components(&self) -> PerComponent<Option<f64>> {
        std::array::from_fn(|k| (COMPONENTS[k].of)(self))
    }

    /// `REPS^l = α s_e + β s_alive + γ s_s + δ s_d` (eq. 9) with the given weights.
    pub fn reps(&self, weights: &RepsWeights) -> Option<f64> {
        weights.combine(self.components())
    }
}

/// Compares a model's layer with the reference's. Passing the same statistics twice gives every
/// score exactly 1.
///
/// # Panics
/// If either was streamed (`kernel` is `None`): the streamed analysis passes the cross product
/// it accumulated to [`compare_layers_with_cross`] instead.
pub fn compare_layers(reference: &LayerStats, model: &LayerStats) -> LayerComparison {
    compare_layers_with_cross(reference, model, cross_inner_product(reference, model))
}

/// `‖ÃᵀB̃‖²_F` between two layers computed in memory.
pub(crate) fn cross_inner_product(x: &LayerStats, y: &LayerStats) -> f64 {
    match (&x.kernel, &y.kernel) {
        (Some(kx), Some(ky)) => crate::linalg::spectrum_kernel_inner_product(kx, ky),
        _ => panic!("a streamed layer has no kernel; pass its accumulated cross product"),
    }
}

/// [`compare_layers`] with the CKA cross term `‖ÃᵀB̃‖²_F` (of the scaled matrices) given.
pub(crate) fn compare_layers_with_cross(
    reference: &LayerStats,
    model: &LayerStats,
    cross: f64,
) -> LayerComparison {
    let separation = match (model.separation_ratio, reference.separation_ratio) {
        (Some(r), Some(r0)) => Some(separation_score(r, r0)),
        _ => None,
    };
    let cka = cka_with_cross(reference, model, cross);
    let mut out = LayerComparison {
        effective_rank: effective_rank_score(model.effective_rank, reference.effective_rank),
        alive: model.alive_fraction,
        separation,
        decay: decay_score(model.decay.slope, reference.decay.slope),
        reps_weighted: None,
        reps_equal: None,
        cka: cka.biased,
        cka_debiased: cka.debiased,
        raw: RawLayerValues {
            effective_rank: model.effective_rank,
            dead_fraction: 1.0 - model.alive_fraction,
            separation: model.separation_ratio,
            decay_slope: model.decay.slope,
            decay_r2: model.decay.r2,
        },
    };
    out.reps_weighted = out.reps(&super::WEIGHTED);
    out.reps_equal = out.reps(&super::EQUAL);
    out
}
