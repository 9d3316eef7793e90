//! Rank and linear correlations between model-level scores and accuracy drop (Table 2).

mod correlation;

pub use correlation::{
    average_ranks, correlate, kendall_tau_b, pearson, spearman, Correlations, Undefined,
};
