//! Seeded initialisation on the host, so that CPU runs are reproducible (candle's own random
//! initialisation cannot be seeded on the CPU). The schemes are torchvision's ResNet ones.

use anyhow::{Context, Result};
use candle_core::Tensor;
use candle_nn::VarMap;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

/// Overwrites every variable of `varmap` from a ChaCha8 stream seeded with `seed`, visiting the
/// variables in name order:
/// - conv weights (rank 4): Kaiming normal, fan-out, ReLU gain (`std = sqrt(2 / (out·k·k))`);
/// - fc weight and bias: uniform in `±1/sqrt(fan_in)` (PyTorch's `Linear` default);
/// - BatchNorm: weight 1, bias 0, running mean 0, running variance 1.
pub fn initialise(varmap: &VarMap, seed: u64) -> Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let data = varmap.data().lock().expect("varmap lock");
    let mut names: Vec<&String> = data.keys().collect();
    names.sort();
    for name in names {
        let var = &data[name];
        let dims = var.dims().to_vec();
        let n: usize = dims.iter().product();
        let values: Vec<f32> = if dims.len() == 4 {
            let fan_out = dims[0] * dims[2] * dims[3];
            let normal = Normal::new(0.0f32, (2.0 / fan_out as f32).sqrt()).expect("valid std");
            (0..n).map(|_| normal.sample(&mut rng)).collect()
        } else if name.starts_with("fc.") {
            let fan_in = if dims.len() == 2 {
                dims[1]
            } else {
                data["fc.weight"].dims()[1]
            };
            let bound = 1.0 / (fan_in as f32).sqrt();
            (0..n).map(|_| rng.random_range(-bound..bound)).collect()
        } else if name.ends_with("running_var") || name.ends_with(".weight") {
            vec![1.0; n]
        } else {
            vec![0.0; n]
        };
        let t = Tensor::from_vec(values, dims.as_slice(), var.device())?;
        var.set(&t)
            .with_context(|| format!("initialising {name}"))?;
    }
    Ok(())
}
