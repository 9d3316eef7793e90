//! The four REPS components (paper eqs. 4–8), linear CKA, and the per-layer statistics that feed them.
//!
//! Each component has a *raw* value computed on one model's layer (effective rank, alive fraction,
//! separation ratio, decay slope) and a *score* in [0, 1] that compares it with the reference model.

mod alive;
mod cka;
mod components;
mod decay;
mod effective_rank;
mod layer;
mod reps_weights;
mod separation;

pub use alive::alive_fraction;
pub use cka::{cka_from_stats, linear_cka, linear_cka_debiased, CkaPair};
pub use components::{Component, PerComponent, COMPONENTS, COMPONENT_COUNT};
pub use decay::{decay_fit, decay_score, DecayFit};
pub use effective_rank::{effective_rank, effective_rank_score};
pub use layer::{compare_layers, LayerComparison, LayerStats};
pub(crate) use layer::{compare_layers_with_cross, ScaledMoments};
pub use reps_weights::{RepsWeights, EQUAL, WEIGHTED};
pub(crate) use separation::separation_from_parts;
pub use separation::{separation_ratio, separation_score};
