//! The small numbers the computations compare against, each with its one meaning. Changing one
//! changes results; every use names its constant.

/// A correlation's series is constant when its spread `Σ (xᵢ − x̄)²` is at most
/// `n · (CONSTANT_SERIES · max|xᵢ|)²`: a spread at the rounding level of the values themselves.
pub const CONSTANT_SERIES: f64 = 1e-12;

/// The eigenvalue-decay fit counts eigenvalues above `DECAY_FLOOR · λ₁`; smaller ones are
/// rounding left over from the Gram products.
pub const DECAY_FLOOR: f64 = 1e-12;

/// Effective rank's entropy leaves out spectrum shares `p_i` at or below this.
pub const ENTROPY_SHARE_FLOOR: f64 = 1e-12;

/// Class separation's `ε`, relative to the largest entry of the activations: `d_inter / (d_intra
/// + SEPARATION_EPSILON · max|a|)` (the paper's absolute 1e-12, made scale-free).
pub const SEPARATION_EPSILON: f64 = 1e-12;

/// Softmax probabilities are clamped below at this in the KL divergence of the logit baselines,
/// so that a zero probability keeps the logarithm finite.
pub const PROBABILITY_FLOOR: f64 = 1e-12;

/// An accuracy drop counts as within a threshold up to this much above it: accuracy differences
/// round (0.90 − 0.85 is 0.05000000000000004).
pub const DROP_ROUNDING: f64 = 1e-9;
