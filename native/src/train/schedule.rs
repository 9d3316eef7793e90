//! Learning-rate schedules.

use clap::ValueEnum;

/// How the learning rate changes over training.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
pub enum Schedule {
    /// `lr · ½ (1 + cos(π t / T))` over all T steps (the default).
    Cosine,
    /// `lr`, then `lr / 10` from 50 % and `lr / 100` from 75 % of the steps.
    Step,
    /// `lr` throughout.
    Constant,
}

impl Schedule {
    /// The learning rate at step `t` of `total`.
    pub fn lr(&self, base: f64, t: usize, total: usize) -> f64 {
        let frac = t as f64 / total.max(1) as f64;
        match self {
            Schedule::Cosine => 0.5 * base * (1.0 + (std::f64::consts::PI * frac).cos()),
            Schedule::Step if frac >= 0.75 => base / 100.0,
            Schedule::Step if frac >= 0.5 => base / 10.0,
            Schedule::Step | Schedule::Constant => base,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_by_hand() {
        assert_eq!(Schedule::Cosine.lr(0.1, 0, 100), 0.1);
        assert!((Schedule::Cosine.lr(0.1, 50, 100) - 0.05).abs() < 1e-15);
        assert!(Schedule::Cosine.lr(0.1, 100, 100).abs() < 1e-15);
        assert_eq!(Schedule::Step.lr(0.1, 49, 100), 0.1);
        assert_eq!(Schedule::Step.lr(0.1, 50, 100), 0.01);
        assert_eq!(Schedule::Step.lr(0.1, 80, 100), 0.001);
        assert_eq!(Schedule::Constant.lr(0.1, 99, 100), 0.1);
    }
}
