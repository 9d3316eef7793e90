//! Learning-rate schedules.

/// How the learning rate changes over training.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

    /// The learning rate at step `t` of `total` after `warmup` steps of linear warm-up:
    /// `base · (t + 1) / warmup` for `t < warmup`, then [`Schedule::lr`] over the remaining
    /// `total − warmup` steps. Without warm-up, exactly [`Schedule::lr`].
    pub fn lr_after_warmup(&self, base: f64, t: usize, total: usize, warmup: usize) -> f64 {
        if t < warmup {
            base * (t + 1) as f64 / warmup as f64
        } else {
            self.lr(base, t - warmup, total.saturating_sub(warmup))
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
        // Warm-up over 10 of 110 steps, then the cosine over the other 100.
        assert!((Schedule::Cosine.lr_after_warmup(0.1, 0, 110, 10) - 0.01).abs() < 1e-15);
        assert!((Schedule::Cosine.lr_after_warmup(0.1, 9, 110, 10) - 0.1).abs() < 1e-15);
        assert_eq!(Schedule::Cosine.lr_after_warmup(0.1, 10, 110, 10), 0.1);
        assert!((Schedule::Cosine.lr_after_warmup(0.1, 60, 110, 10) - 0.05).abs() < 1e-15);
        for t in [0, 37, 99] {
            assert_eq!(
                Schedule::Step.lr_after_warmup(0.1, t, 100, 0),
                Schedule::Step.lr(0.1, t, 100)
            );
        }
    }
}
