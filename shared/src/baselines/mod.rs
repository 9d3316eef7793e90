//! The paper's baseline similarity measures (Table 2): functional ones on logits and weight similarity.

mod logits;
mod weight_similarity;

pub use logits::{
    kl_divergence, logits_cosine, logits_l2, prediction_agreement, wasserstein_1d,
    wasserstein_logits, LogitBaselines, LogitSums, StreamedLogitBaselines,
};
pub use weight_similarity::weight_similarity;
