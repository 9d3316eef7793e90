//! The 25 models of a sweep: what each is and in which order they are made.

use super::config::SweepConfig;
use reps::formats::snapshot::paper_parameter_name;

/// How a model of the sweep is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Trained on the whole training set: the reference.
    Original,
    /// Trained from scratch on a fraction of the training set.
    Coreset,
    /// Global unstructured magnitude pruning of the original.
    Prune,
    /// Post-training weight quantization of the original.
    Quant,
}

impl Method {
    /// The method's name in the snapshot and the reports.
    pub fn name(self) -> &'static str {
        match self {
            Method::Original => "original",
            Method::Coreset => "coreset",
            Method::Prune => "prune",
            Method::Quant => "quant",
        }
    }

    /// The name of its parameter (`reps::formats::snapshot::PAPER_METHODS`).
    pub fn parameter_name(self) -> Option<&'static str> {
        paper_parameter_name(self.name())
    }
}

/// One model to produce.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelSpec {
    pub name: String,
    pub method: Method,
    /// Coreset fraction, pruning ratio or bit width.
    pub parameter: Option<f64>,
}

/// Models in the order of the paper's tables: the original, coresets, pruning, quantization.
pub fn table_order(cfg: &SweepConfig) -> Vec<ModelSpec> {
    let spec = |method: Method, parameter: f64| ModelSpec {
        name: format!("{}-{parameter}", method.name()),
        method,
        parameter: Some(parameter),
    };
    let mut out = vec![ModelSpec {
        name: "original".into(),
        method: Method::Original,
        parameter: None,
    }];
    out.extend(cfg.fractions.iter().map(|&f| spec(Method::Coreset, f)));
    out.extend(cfg.ratios.iter().map(|&r| spec(Method::Prune, r)));
    out.extend(cfg.bits.iter().map(|&b| spec(Method::Quant, b as f64)));
    out
}

/// The order of work: the original first (everything derives from it), then the cheap pruned and
/// quantized models, then the coresets (each a full training run), largest first.
pub fn work_order(cfg: &SweepConfig) -> Vec<ModelSpec> {
    let rank = |m: Method| match m {
        Method::Original => 0,
        Method::Prune => 1,
        Method::Quant => 2,
        Method::Coreset => 3,
    };
    let mut v = table_order(cfg);
    v.sort_by_key(|m| rank(m.method));
    v
}
