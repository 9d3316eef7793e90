//! AdamW (Loshchilov & Hutter 2019) as PyTorch's `torch.optim.AdamW`, with the decay applied only
//! to the parameters whose role decays: at step t,
//! `w ← w·(1 − lr·λ)` (decaying parameters), `m ← β₁m + (1 − β₁)g`, `v ← β₂v + (1 − β₂)g²`,
//! `w ← w − lr · (m / (1 − β₁ᵗ)) / (sqrt(v / (1 − β₂ᵗ)) + ε)`, with β₁ = 0.9, β₂ = 0.999, ε = 1e-8.

use super::Optimizer;
use anyhow::Result;
use candle_core::backprop::GradStore;
use candle_core::{Tensor, Var};
use std::collections::HashMap;

/// The optimiser state.
pub struct AdamW {
    names: Vec<String>,
    params: Vec<(Var, bool)>,
    /// First and second moments, per parameter (absent before its first gradient).
    moments: Vec<Option<(Tensor, Tensor)>>,
    step: i32,
    weight_decay: f64,
}

impl AdamW {
    pub const BETA1: f64 = 0.9;
    pub const BETA2: f64 = 0.999;
    pub const EPS: f64 = 1e-8;

    /// `params`: (name, variable, whether weight decay applies).
    pub fn new(params: Vec<(String, Var, bool)>, weight_decay: f64) -> Self {
        AdamW {
            moments: vec![None; params.len()],
            names: params.iter().map(|(n, _, _)| n.clone()).collect(),
            params: params.into_iter().map(|(_, v, d)| (v, d)).collect(),
            step: 0,
            weight_decay,
        }
    }
}

impl Optimizer for AdamW {
    fn step(&mut self, grads: &GradStore, lr: f64) -> Result<()> {
        self.step += 1;
        let (b1, b2) = (Self::BETA1, Self::BETA2);
        let (c1, c2) = (1.0 - b1.powi(self.step), 1.0 - b2.powi(self.step));
        for ((var, decay), moments) in self.params.iter().zip(self.moments.iter_mut()) {
            let Some(g) = grads.get(var.as_tensor()) else {
                continue;
            };
            let mut w = var.as_tensor().detach();
            if *decay && self.weight_decay > 0.0 {
                w = (w * (1.0 - lr * self.weight_decay))?;
            }
            let (m, v) = match moments.take() {
                Some((m, v)) => (
                    ((m * b1)? + (g * (1.0 - b1))?)?,
                    ((v * b2)? + (g.sqr()? * (1.0 - b2))?)?,
                ),
                None => ((g * (1.0 - b1))?, (g.sqr()? * (1.0 - b2))?),
            };
            let denominator = ((&v / c2)?.sqrt()? + Self::EPS)?;
            let update = ((&m / c1)? / denominator)?;
            var.set(&(w - (update * lr)?)?)?;
            *moments = Some((m.detach(), v.detach()));
        }
        Ok(())
    }

    fn state(&self) -> Result<Vec<(String, Tensor)>> {
        let device = match self.params.first() {
            Some((v, _)) => v.device().clone(),
            None => candle_core::Device::Cpu,
        };
        let mut out = vec![(
            "adamw_step".to_string(),
            Tensor::new(&[self.step as u32], &device)?,
        )];
        for (name, moments) in self.names.iter().zip(&self.moments) {
            if let Some((m, v)) = moments {
                out.push((format!("adamw_m/{name}"), m.clone()));
                out.push((format!("adamw_v/{name}"), v.clone()));
            }
        }
        Ok(out)
    }

    fn load_state(&mut self, state: &HashMap<String, Tensor>) -> Result<()> {
        self.step = match state.get("adamw_step") {
            Some(t) => t.to_vec1::<u32>()?.first().copied().unwrap_or(0) as i32,
            None => 0,
        };
        for ((name, (var, _)), moments) in
            self.names.iter().zip(&self.params).zip(&mut self.moments)
        {
            let get = |kind: &str| {
                state
                    .get(&format!("{kind}/{name}"))
                    .map(|t| t.to_device(var.device()))
                    .transpose()
            };
            *moments = match (get("adamw_m")?, get("adamw_v")?) {
                (Some(m), Some(v)) => Some((m, v)),
                _ => None,
            };
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    /// Two steps on f(w) = Σ wᵢ² / 2 (gradient w) by hand, for a decaying and a non-decaying
    /// parameter.
    #[test]
    fn two_steps_by_hand() {
        let dev = Device::Cpu;
        let a = Var::new(&[1.0f32, -2.0], &dev).unwrap();
        let b = Var::new(&[0.5f32], &dev).unwrap();
        let mut opt = AdamW::new(
            vec![
                ("a".into(), a.clone(), true),
                ("b".into(), b.clone(), false),
            ],
            0.1,
        );
        let lr = 0.01;
        // Reference in f64, PyTorch's formulas.
        let mut reference = vec![(1.0f64, true), (-2.0, true), (0.5, false)];
        let mut m = [0.0f64; 3];
        let mut v = [0.0f64; 3];
        for t in 1..=2 {
            let loss = ((a.as_tensor().sqr().unwrap().sum_all().unwrap()
                + b.as_tensor().sqr().unwrap().sum_all().unwrap())
            .unwrap()
                * 0.5)
                .unwrap();
            opt.step(&loss.backward().unwrap(), lr).unwrap();
            for (i, (w, decays)) in reference.iter_mut().enumerate() {
                let g = *w;
                if *decays {
                    *w *= 1.0 - lr * 0.1;
                }
                m[i] = 0.9 * m[i] + 0.1 * g;
                v[i] = 0.999 * v[i] + 0.001 * g * g;
                let mh = m[i] / (1.0 - 0.9f64.powi(t));
                let vh = v[i] / (1.0 - 0.999f64.powi(t));
                *w -= lr * mh / (vh.sqrt() + 1e-8);
            }
        }
        let got: Vec<f32> = [a.as_tensor(), b.as_tensor()]
            .iter()
            .flat_map(|t| t.to_vec1::<f32>().unwrap())
            .collect();
        for (g, (r, _)) in got.iter().zip(&reference) {
            assert!((*g as f64 - r).abs() < 1e-6, "{got:?} vs {reference:?}");
        }
        // The first step of Adam moves every coordinate by about lr, whatever its gradient.
        assert!((reference[2].0 - (0.5 - 2.0 * lr)).abs() < 1e-4);
    }
}
