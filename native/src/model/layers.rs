//! The layers architectures are built from. Each creates its parameters through [`Params`] with
//! their roles and initialisations, and adds the floating-point operations of its products to
//! [`flops`] while they are counted.

use super::ops::batch_norm::BatchNorm2d;
use super::ops::conv::conv2d_gemm;
use super::ops::layer_norm::layer_norm;
use super::params::{Init, Params, Role};
use anyhow::Result;
use candle_core::{Module, Tensor, D};

/// How convolutions and BatchNorm are computed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Kernels {
    /// im2col + one GEMM per pass, gradients included (`ops::conv`), and BatchNorm as one
    /// fused op each way (`ops::batch_norm`); on the CPU also BatchNorm with its ReLU and the
    /// residual block's `relu(a + b)` as one op each (`ops::residual`): the default on the CPU
    /// and on CUDA, where `native bench-train` measures it faster.
    #[default]
    Gemm,
    /// candle's `conv2d` and `candle_nn::BatchNorm` with their own backward (the reference).
    Candle,
    /// The arithmetic of [`Kernels::Gemm`] without its CPU fusions: the convolution as im2col,
    /// candle's matmul and a permute, the fused BatchNorm followed by candle's ReLU, the residual
    /// sum and its ReLU as candle ops (the structure of the CUDA path). The same bits as
    /// [`Kernels::Gemm`] on the CPU, which the training tests check.
    #[cfg_attr(not(test), allow(dead_code))]
    Composed,
}

impl Kernels {
    /// The faster kernels on `device`, as measured by `native bench-train`: the GEMM path on the
    /// CPU (3× candle's at width 16 on a 2-core machine) and on CUDA, where its kernels
    /// (`ops/cuda/`: im2col/col2im, fused BatchNorm) beat candle's convolution and BatchNorm (H200,
    /// batch 128: 8198 against 5685 images/s at width 16, 3451 against 1378 at width 64);
    /// candle's own elsewhere.
    pub fn for_device(device: &candle_core::Device) -> Self {
        if device.is_cpu() || device.is_cuda() {
            Kernels::Gemm
        } else {
            Kernels::Candle
        }
    }
}

/// Counting the floating-point operations of forward passes (for `bench-train`'s GFLOP/s): the
/// layers add `2·m·n·k` for each matrix product while [`flops::count`] runs.
pub mod flops {
    use std::cell::Cell;

    thread_local! {
        static COUNTER: Cell<Option<f64>> = const { Cell::new(None) };
    }

    /// Adds `n` operations when counting (on this thread).
    pub fn add(n: f64) {
        COUNTER.with(|c| {
            if let Some(v) = c.get() {
                c.set(Some(v + n));
            }
        });
    }

    /// Runs `f`, returning its result and the operations the layers added meanwhile.
    pub fn count<T>(f: impl FnOnce() -> T) -> (T, f64) {
        let outer = COUNTER.with(|c| c.replace(Some(0.0)));
        let out = f();
        let n = COUNTER.with(|c| c.replace(outer)).unwrap_or(0.0);
        (out, n)
    }
}

/// A bias-free convolution (`C_out × C_in × k × k`, torchvision's name `weight`), padding `k/2`.
pub struct Conv2d {
    weight: Tensor,
    stride: usize,
    padding: usize,
    kernels: Kernels,
}

impl Conv2d {
    /// Creates `weight` under `p` (Kaiming normal, fan-out).
    pub fn new(
        p: &Params,
        cin: usize,
        cout: usize,
        k: usize,
        stride: usize,
        kernels: Kernels,
    ) -> Result<Self> {
        let weight = p.get(
            (cout, cin, k, k),
            "weight",
            Role::Weight,
            Init::KaimingNormalFanOut,
        )?;
        Ok(Conv2d {
            weight,
            stride,
            padding: k / 2,
            kernels,
        })
    }

    /// How this convolution is computed (and with it the layers around it).
    pub fn kernels(&self) -> Kernels {
        self.kernels
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let y = match self.kernels {
            Kernels::Gemm | Kernels::Composed => conv2d_gemm(
                x,
                &self.weight,
                self.stride,
                self.padding,
                self.kernels == Kernels::Gemm,
            )?,
            Kernels::Candle => x.conv2d(&self.weight, self.padding, self.stride, 1, 1)?,
        };
        let (b, _, h, w) = y.dims4()?;
        flops::add(2.0 * (self.weight.elem_count() * b * h * w) as f64);
        Ok(y)
    }
}

/// A linear layer `y = x Wᵀ + b` (`weight`: out × in, `bias`: out) over the last axis.
pub struct Linear {
    inner: candle_nn::Linear,
}

impl Linear {
    /// Creates `weight` and `bias` under `p`: PyTorch's default, both uniform in
    /// `±1/sqrt(in)`, when `std` is `None`; else weight `N(0, std²)` and bias 0 (ViT).
    pub fn new(p: &Params, input: usize, output: usize, std: Option<f32>) -> Result<Self> {
        let (w_init, b_init) = match std {
            None => {
                let bound = 1.0 / (input as f32).sqrt();
                (Init::Uniform(bound), Init::Uniform(bound))
            }
            Some(s) => (Init::Normal(s), Init::Constant(0.0)),
        };
        let weight = p.get((output, input), "weight", Role::Weight, w_init)?;
        let bias = p.get(output, "bias", Role::Bias, b_init)?;
        Ok(Linear {
            inner: candle_nn::Linear::new(weight, Some(bias)),
        })
    }

    /// `x Wᵀ + b` for `x` of any rank: the leading axes are flattened into rows first, so that
    /// the product (and its weight gradient) is one matrix product, not one per leading index
    /// against a broadcast weight.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let rows = x.elem_count() / x.dim(D::Minus1)?;
        let y = if x.rank() <= 2 {
            self.inner.forward(x)?
        } else {
            let mut dims = x.dims().to_vec();
            let flat = self.inner.forward(&x.reshape((rows, x.dim(D::Minus1)?))?)?;
            *dims.last_mut().expect("rank > 2") = flat.dim(1)?;
            flat.reshape(dims)?
        };
        flops::add(2.0 * (rows * self.inner.weight().elem_count()) as f64);
        Ok(y)
    }
}

/// BatchNorm over the channels of `B × C × H × W` (PyTorch's: ε = 1e-5, momentum 0.1): `weight`
/// 1 and `bias` 0 ([`Role::Norm`]), `running_mean` 0 and `running_var` 1
/// ([`Role::RunningStatistic`]).
pub fn batch_norm(p: &Params, channels: usize, kernels: Kernels) -> Result<BatchNorm2d> {
    let get = |name: &str, role: Role, v: f32| p.get(channels, name, role, Init::Constant(v));
    let tensors = [
        get("weight", Role::Norm, 1.0)?,
        get("bias", Role::Norm, 0.0)?,
        get("running_mean", Role::RunningStatistic, 0.0)?,
        get("running_var", Role::RunningStatistic, 1.0)?,
    ];
    Ok(BatchNorm2d::new(
        channels,
        kernels != Kernels::Candle,
        tensors,
    )?)
}

/// Layer normalisation over the last axis, `y = (x − μ)/sqrt(σ² + ε)·γ + β` with ε = 1e-6
/// (`weight` γ = 1, `bias` β = 0, [`Role::Norm`]; the op in `ops::layer_norm`).
pub struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
}

impl LayerNorm {
    pub const EPS: f64 = 1e-6;

    pub fn new(p: &Params, dim: usize) -> Result<Self> {
        Ok(LayerNorm {
            weight: p.get(dim, "weight", Role::Norm, Init::Constant(1.0))?,
            bias: p.get(dim, "bias", Role::Norm, Init::Constant(0.0))?,
        })
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(layer_norm(x, &self.weight, &self.bias, Self::EPS)?)
    }
}
