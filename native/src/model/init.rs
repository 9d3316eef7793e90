//! Seeded initialisation on the host, so that CPU runs are reproducible (candle's own random
//! initialisation cannot be seeded on the CPU).

use super::params::{Init, Params};
use anyhow::{Context, Result};
use candle_core::Tensor;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

/// Overwrites every parameter with values drawn as its layer declared ([`Init`]), from one
/// ChaCha8 stream seeded with `seed`, visiting the parameters in name order (constants draw
/// nothing). `Uniform(b)` with `b ≤ 0` and `Normal(σ)` with `σ ≤ 0` give zeros.
pub fn initialise(params: &Params, seed: u64) -> Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for p in params.all() {
        let dims = p.var.dims().to_vec();
        let n: usize = dims.iter().product();
        let mut normal = |std: f32| -> Vec<f32> {
            match Normal::new(0.0f32, std) {
                Ok(d) if std > 0.0 => (0..n).map(|_| d.sample(&mut rng)).collect(),
                _ => vec![0.0; n],
            }
        };
        let values: Vec<f32> = match p.spec.init {
            Init::Constant(c) => vec![c; n],
            Init::KaimingNormalFanOut => {
                let fan_out =
                    dims.first().copied().unwrap_or(1) * dims.iter().skip(2).product::<usize>();
                normal((2.0 / fan_out.max(1) as f32).sqrt())
            }
            Init::Normal(std) => normal(std),
            Init::Uniform(b) if b > 0.0 => (0..n).map(|_| rng.random_range(-b..b)).collect(),
            Init::Uniform(_) => vec![0.0; n],
        };
        let t = Tensor::from_vec(values, dims.as_slice(), p.var.device())?;
        p.var
            .set(&t)
            .with_context(|| format!("initialising {}", p.name))?;
    }
    Ok(())
}
