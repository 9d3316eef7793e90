//! The registry of REPS components (paper eq. 9): one descriptor per component, in weight order.
//!
//! Weights ([`super::RepsWeights`]), Table 3 and the best-weights search are indexed by this list,
//! and every table that shows components iterates it. Adding a component means one descriptor
//! here, the field it reads in [`LayerComparison`] (and its mean in the model report), and one more
//! number in each Table 3 configuration.

use super::LayerComparison;

/// One REPS component.
#[derive(Clone, Copy, Debug)]
pub struct Component {
    /// Key in JSON and CSV (`effective_rank`); also the key of its model-level score.
    pub key: &'static str,
    /// Display name (`Effective Rank`).
    pub label: &'static str,
    /// The paper's symbol of the score (`s_e`).
    pub symbol: &'static str,
    /// The paper's symbol of its weight (`α`).
    pub weight: &'static str,
    /// The score of one compared layer; `None` when it cannot be computed there (class separation
    /// without labels), in which case REPS renormalises the other weights.
    pub of: fn(&LayerComparison) -> Option<f64>,
}

/// The components in weight order: effective rank, alive neurons, class separation, eigenvalue
/// decay (the paper's α, β, γ, δ).
pub const COMPONENTS: &[Component] = &[
    Component {
        key: "effective_rank",
        label: "Effective Rank",
        symbol: "s_e",
        weight: "α",
        of: |c| Some(c.effective_rank),
    },
    Component {
        key: "alive",
        label: "Alive Neurons",
        symbol: "s_alive",
        weight: "β",
        of: |c| Some(c.alive),
    },
    Component {
        key: "separation",
        label: "Class Separation",
        symbol: "s_s",
        weight: "γ",
        of: |c| c.separation,
    },
    Component {
        key: "decay",
        label: "Eigenvalue Decay Similarity",
        symbol: "s_d",
        weight: "δ",
        of: |c| Some(c.decay),
    },
];

/// How many components REPS weighs (the length of every weight vector).
pub const COMPONENT_COUNT: usize = COMPONENTS.len();

/// One value per component, in [`COMPONENTS`] order (weights, or a model's component scores).
pub type PerComponent<T> = [T; COMPONENT_COUNT];
