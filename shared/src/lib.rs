//! # reps — representation similarity diagnostics for compressed neural networks
//!
//! One implementation of every number of the REPS paper ("Do Coresets, Pruning, and Quantization
//! Preserve Neural Network Representations?") and of the tools around it, shared by the command
//! line (`native analyze`) and the browser viewer:
//!
//! - [`metrics`]: the four REPS components (effective rank, alive neurons, class separation,
//!   eigenvalue decay), per-layer and model-level REPS, linear CKA (biased and debiased);
//! - [`baselines`]: prediction agreement, logits cosine/L2, KL divergence, Wasserstein, weight similarity;
//! - [`stats`]: PLCC, SRCC (average ranks for ties), KRCC (tau-b), bootstrap intervals,
//!   permutation p-values and Steiger's test;
//! - [`analysis`]: the full report, Table 2 correlations and Table 3 sensitivity, their
//!   inference (intervals, stable regime, REPS against each score) and the paper's claims;
//! - [`formats`]: `.npz`/`.npy`/`.safetensors` importers and the `.reps` snapshot, all from bytes;
//! - [`histogram`]: 50-bin weight histograms on a shared range; [`repeats`]: values given twice.
//!
//! Definitions and edge cases follow `docs/DESIGN.md` §2; each public function's doc states its formula.

pub mod activations;
pub mod analysis;
pub mod baselines;
pub mod error;
pub mod formats;
pub mod histogram;
mod linalg;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub use linalg::gram_fused;
pub use linalg::{gram, product_kernels};
pub mod metrics;
pub mod model_input;
mod parallel;
pub mod repeats;
pub mod search;
pub mod stats;
pub mod tolerances;

pub use activations::{Activations, Buffer, Values};
pub use analysis::{analyze, AnalysisInput, AnalysisOptions, Report};
pub use error::{RepsError, Result};
