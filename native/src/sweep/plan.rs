//! The models of a sweep: what each is and in which order they are made.

use super::config::SweepConfig;
use crate::compress::CompressionMethod;

/// One model to produce.
#[derive(Clone)]
pub struct ModelSpec {
    pub name: String,
    /// How it is made, with the method's parameter (coreset fraction, pruning ratio, bit
    /// width, ...); `None` for the original (trained on the whole training set: the reference
    /// every other model is compared with).
    pub made_by: Option<(&'static CompressionMethod, f64)>,
}

impl ModelSpec {
    /// The method's name in the snapshot and the reports (`original` for the original).
    pub fn method_name(&self) -> &'static str {
        self.made_by.map_or("original", |(m, _)| m.name)
    }

    pub fn is_original(&self) -> bool {
        self.made_by.is_none()
    }
}

/// Models in the order of the tables: the original, then each selected method's grid, methods in
/// registry order (the paper's: coresets, pruning, quantization).
pub fn table_order(cfg: &SweepConfig) -> Vec<ModelSpec> {
    let mut out = vec![ModelSpec {
        name: "original".into(),
        made_by: None,
    }];
    for method in cfg.selected_methods() {
        out.extend(cfg.grid(method).into_iter().map(|p| ModelSpec {
            name: format!("{}-{p}", method.name),
            made_by: Some((method, p)),
        }));
    }
    out
}

/// The order of work: the original first (everything derives from it), then the cheap derived
/// models, then the models that train (each a full training run), each group in table order.
pub fn work_order(cfg: &SweepConfig) -> Vec<ModelSpec> {
    let mut v = table_order(cfg);
    v.sort_by_key(|m| m.made_by.map_or(0, |(m, _)| 1 + m.trains() as u8));
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::config::Preset;

    #[test]
    fn paper_order_and_names() {
        let cfg = SweepConfig::preset(Preset::Quick);
        let names: Vec<String> = table_order(&cfg).into_iter().map(|m| m.name).collect();
        assert_eq!(names.len(), 25);
        assert_eq!(&names[..3], ["original", "coreset-0.8", "coreset-0.5"]);
        assert_eq!(names[9], "prune-0.05");
        assert_eq!(&names[17..19], ["quant-8", "quant-7"]);
        let work: Vec<String> = work_order(&cfg).into_iter().map(|m| m.name).collect();
        assert_eq!(&work[..3], ["original", "prune-0.05", "prune-0.1"]);
        assert_eq!(work[17], "coreset-0.8");
        assert_eq!(work[24], "coreset-0.01");
    }
}
