//! Device checks of the ops (for `bench-train --verify` on a GPU, and the ops' tests): each op
//! run on a device against the same op on the CPU.

use super::batch_norm::BatchNorm2d;
use super::conv::{col2im, im2col};
use super::geometry::ConvGeometry;
use candle_core::{Device, ModuleT, Result, Tensor, Var};

/// Largest `|device − CPU|` of `im2col` and of `col2im` over a few awkward geometries (strides 1
/// and 2, padding 0 and 1, odd sizes, 1×1 and 3×3 kernels). `im2col` is a pure gather (0 is
/// expected); `col2im` sums at most k² values, so only rounding may differ.
pub fn max_conv_layout_difference(device: &Device) -> Result<(f32, f32)> {
    let geometries = [
        (2, 3, 7, 5, 3, 2, 1),
        (1, 4, 8, 8, 1, 2, 0),
        (3, 2, 6, 9, 3, 1, 1),
        (2, 8, 32, 32, 3, 1, 1),
        (2, 16, 9, 9, 3, 2, 1),
    ];
    let max_abs = |a: &Tensor, b: &Tensor| -> Result<f32> {
        (a - b)?.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()
    };
    let (mut fwd, mut bwd) = (0f32, 0f32);
    for (batch, channels, height, width, kernel, stride, padding) in geometries {
        let g = ConvGeometry {
            batch,
            channels,
            height,
            width,
            kernel,
            stride,
            padding,
        };
        let x = Tensor::randn(0f32, 1.0, (batch, channels, height, width), &Device::Cpu)?;
        let here = im2col(&x, &g)?;
        let there = im2col(&x.to_device(device)?, &g)?;
        fwd = fwd.max(max_abs(&here, &there.to_device(&Device::Cpu)?)?);
        let cols = Tensor::randn(0f32, 1.0, (g.rows(), g.cols()), &Device::Cpu)?;
        let here = col2im(&cols, &g)?;
        let there = col2im(&cols.to_device(device)?, &g)?;
        bwd = bwd.max(max_abs(&here, &there.to_device(&Device::Cpu)?)?);
    }
    Ok((fwd, bwd))
}

/// One training step of a BatchNorm2d on `dev` in `dtype` (fused op or candle_nn) for a
/// `(b, c, h, w)` input with fixed values: the output, the gradients of `Σ y·P` for x, γ and β,
/// and the running statistics, each as f32.
pub fn batch_norm_step(
    dev: &candle_core::Device,
    dtype: candle_core::DType,
    fused: bool,
    (b, c, h, w): (usize, usize, usize, usize),
) -> Result<Vec<(&'static str, Tensor)>> {
    use candle_core::DType;
    let n = b * c * h * w;
    let values = |n: usize, seed: u64, shape: &[usize]| -> Result<Tensor> {
        let v: Vec<f32> = super::custom_op::test_values(n, seed)
            .into_iter()
            .map(|v| 2.0 * v)
            .collect();
        Tensor::from_vec(v, shape, dev)?.to_dtype(dtype)
    };
    let constant = |v: f64| Var::from_tensor(&(Tensor::ones(c, dtype, dev)? * v)?);
    let (weight, bias) = (
        Var::from_tensor(&values(c, 5, &[c])?)?,
        Var::from_tensor(&values(c, 6, &[c])?)?,
    );
    let (running_mean, running_var) = (constant(0.0)?, constant(1.0)?);
    let bn = BatchNorm2d::new(
        c,
        fused,
        [&weight, &bias, &running_mean, &running_var].map(|v| v.as_tensor().clone()),
    )?;
    let x = Var::from_tensor(&values(n, 7, &[b, c, h, w])?)?;
    let proj = values(n, 8, &[b, c, h, w])?;
    let y = bn.forward_t(x.as_tensor(), true)?;
    let g = (&y * &proj)?.sum_all()?.backward()?;
    let f32_ = |t: &Tensor| t.to_dtype(DType::F32)?.to_device(&candle_core::Device::Cpu);
    let grad = |t: &Tensor| -> Result<Tensor> {
        f32_(
            g.get(t)
                .ok_or_else(|| candle_core::Error::Msg("no gradient".into()))?,
        )
    };
    Ok(vec![
        ("output", f32_(&y)?),
        ("input gradient", grad(x.as_tensor())?),
        ("weight gradient", grad(weight.as_tensor())?),
        ("bias gradient", grad(bias.as_tensor())?),
        ("running mean", f32_(running_mean.as_tensor())?),
        ("running var", f32_(running_var.as_tensor())?),
    ])
}

/// `max |a − b| / max |b|`.
pub fn max_rel(a: &Tensor, b: &Tensor) -> Result<f32> {
    let max_abs =
        |t: &Tensor| -> Result<f32> { t.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>() };
    Ok(max_abs(&(a - b)?)? / max_abs(b)?.max(1e-12))
}

/// The largest relative difference between the fused BatchNorm training step on `device` and on
/// the CPU (output, three gradients, running statistics) over a few shapes, for
/// `bench-train --verify` on a GPU. Both sum in f64, so this is rounding only.
pub fn max_batch_norm_difference(device: &candle_core::Device) -> Result<f32> {
    let mut worst = 0f32;
    for shape in [
        (4, 3, 5, 5),
        (5, 8, 1, 1),
        (3, 2, 7, 4),
        (8, 4, 16, 16),
        (128, 64, 4, 4),
    ] {
        let here = batch_norm_step(
            &candle_core::Device::Cpu,
            candle_core::DType::F32,
            true,
            shape,
        )?;
        let there = batch_norm_step(device, candle_core::DType::F32, true, shape)?;
        for ((_, a), (_, b)) in there.iter().zip(&here) {
            worst = worst.max(max_rel(a, b)?);
        }
    }
    Ok(worst)
}
