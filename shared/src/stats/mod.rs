//! Rank and linear correlations between model-level scores and accuracy drop (Table 2), and the
//! inference on them: bootstrap intervals, permutation p-values and Steiger's test.

mod clusters;
mod correlation;
mod resampler;
mod resampling;
mod steiger;

pub use clusters::Clusters;
pub use correlation::{
    average_ranks, correlate, kendall_tau_b, pearson, spearman, Correlations, Statistic, Undefined,
};
pub use resampler::Resampler;
pub use resampling::{
    bootstrap_correlations, format_p_value, infer_correlations, p_label, percentile_interval,
    permutation_p_value, permutation_p_values, quantile,
};
pub use steiger::{normal_two_sided_p, steiger_z, SteigerTest};
