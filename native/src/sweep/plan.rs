//! The 25 models of a sweep: what each is and in which order they are made.

use super::config::SweepConfig;
use reps::formats::snapshot::ModelKind;

/// One model to produce.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelSpec {
    pub name: String,
    pub kind: ModelKind,
    /// Coreset fraction, pruning ratio or bit width.
    pub parameter: Option<f64>,
}

/// Models in the order of the paper's tables: the original, coresets, pruning, quantization.
pub fn table_order(cfg: &SweepConfig) -> Vec<ModelSpec> {
    let mut out = vec![ModelSpec {
        name: "original".into(),
        kind: ModelKind::Original,
        parameter: None,
    }];
    out.extend(cfg.fractions.iter().map(|f| ModelSpec {
        name: format!("coreset-{f}"),
        kind: ModelKind::Coreset,
        parameter: Some(*f),
    }));
    out.extend(cfg.ratios.iter().map(|r| ModelSpec {
        name: format!("prune-{r}"),
        kind: ModelKind::Prune,
        parameter: Some(*r),
    }));
    out.extend(cfg.bits.iter().map(|b| ModelSpec {
        name: format!("quant-{b}"),
        kind: ModelKind::Quant,
        parameter: Some(*b as f64),
    }));
    out
}

/// The order of work: the original first (everything derives from it), then the cheap pruned and
/// quantized models, then the coresets (each a full training run), largest first.
pub fn work_order(cfg: &SweepConfig) -> Vec<ModelSpec> {
    let all = table_order(cfg);
    let rank = |k: ModelKind| match k {
        ModelKind::Original => 0,
        ModelKind::Prune => 1,
        ModelKind::Quant => 2,
        _ => 3,
    };
    let mut v = all;
    v.sort_by_key(|m| rank(m.kind));
    v
}
