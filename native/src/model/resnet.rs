//! CIFAR ResNet-18: 3×3 stem without max-pool, BasicBlocks in four stages of
//! `w, 2w, 4w, 8w` channels (`w = 64 · width / 64`), BatchNorm, global average pool, fc.

use super::batch_norm::BatchNorm2d as BatchNorm;
use super::conv::conv2d_gemm;
use anyhow::Result;
use candle_core::{Module, ModuleT, Tensor};
use candle_nn::{linear, Linear, VarBuilder};
use clap::ValueEnum;
use serde::{Deserialize, Serialize};

/// How convolutions are computed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
pub enum ConvPath {
    /// im2col + one GEMM per pass, gradients included (`model::conv`; the default on the CPU).
    #[default]
    Gemm,
    /// candle's `conv2d` and its own backward (the reference; the default on CUDA).
    Candle,
}

/// A path chosen on the command line (`train-sweep --conv`), which [`ConvPath::for_device`] returns.
static CHOSEN: std::sync::OnceLock<ConvPath> = std::sync::OnceLock::new();

impl ConvPath {
    /// Makes every later [`ConvPath::for_device`] return `self` (the first call wins).
    pub fn choose_for_process(self) {
        let _ = CHOSEN.set(self);
    }

    /// The path chosen on the command line, else the faster path on `device`, as measured by
    /// `native bench-train`: the GEMM path on the CPU (3× candle's at width 16 on a 2-core
    /// machine) and on CUDA, where its kernels (`cuda/`: im2col/col2im, fused BatchNorm) beat
    /// candle's convolution and BatchNorm (H200, batch 128: 8198 against 5685 images/s at width
    /// 16, 3451 against 1378 at width 64); candle's own convolution elsewhere.
    pub fn for_device(device: &candle_core::Device) -> Self {
        if let Some(p) = CHOSEN.get() {
            *p
        } else if device.is_cpu() || device.is_cuda() {
            ConvPath::Gemm
        } else {
            ConvPath::Candle
        }
    }
}

/// A bias-free convolution with torchvision's weight name and shape (`C_out × C_in × k × k`).
struct Conv2d {
    weight: Tensor,
    stride: usize,
    padding: usize,
    path: ConvPath,
}

impl Conv2d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(match self.path {
            ConvPath::Gemm => conv2d_gemm(x, &self.weight, self.stride, self.padding)?,
            ConvPath::Candle => x.conv2d(&self.weight, self.padding, self.stride, 1, 1)?,
        })
    }
}

/// Layers whose activations are extracted, in order (DESIGN.md §3).
pub const CAPTURE_LAYERS: [&str; 8] = [
    "conv1",
    "layer1",
    "layer2",
    "layer3",
    "layer4",
    "layer4.1.conv2",
    "avgpool",
    "fc",
];

/// Activations captured during one forward pass, by layer name (NCHW or N × C tensors).
#[derive(Default)]
pub struct Captured(pub Vec<(String, Tensor)>);

struct BasicBlock {
    conv1: Conv2d,
    bn1: BatchNorm,
    conv2: Conv2d,
    bn2: BatchNorm,
    downsample: Option<(Conv2d, BatchNorm)>,
}

fn conv(
    cin: usize,
    cout: usize,
    k: usize,
    stride: usize,
    path: ConvPath,
    vb: VarBuilder,
) -> Result<Conv2d> {
    let weight = vb.get_with_hints(
        (cout, cin, k, k),
        "weight",
        candle_nn::init::DEFAULT_KAIMING_NORMAL,
    )?;
    Ok(Conv2d {
        weight,
        stride,
        padding: k / 2,
        path,
    })
}

fn bn(c: usize, path: ConvPath, vb: VarBuilder) -> Result<BatchNorm> {
    Ok(BatchNorm::new(c, path == ConvPath::Gemm, vb)?)
}

impl BasicBlock {
    fn new(cin: usize, cout: usize, stride: usize, path: ConvPath, vb: VarBuilder) -> Result<Self> {
        let downsample = if stride != 1 || cin != cout {
            Some((
                conv(cin, cout, 1, stride, path, vb.pp("downsample.0"))?,
                bn(cout, path, vb.pp("downsample.1"))?,
            ))
        } else {
            None
        };
        Ok(BasicBlock {
            conv1: conv(cin, cout, 3, stride, path, vb.pp("conv1"))?,
            bn1: bn(cout, path, vb.pp("bn1"))?,
            conv2: conv(cout, cout, 3, 1, path, vb.pp("conv2"))?,
            bn2: bn(cout, path, vb.pp("bn2"))?,
            downsample,
        })
    }

    /// The block's output; `conv2_out` receives the output of `conv2` (before its BatchNorm).
    fn forward(
        &self,
        x: &Tensor,
        train: bool,
        conv2_out: Option<&mut Option<Tensor>>,
    ) -> Result<Tensor> {
        let h = self.bn1.forward_t(&self.conv1.forward(x)?, train)?.relu()?;
        let c2 = self.conv2.forward(&h)?;
        if let Some(slot) = conv2_out {
            *slot = Some(c2.clone());
        }
        let h = self.bn2.forward_t(&c2, train)?;
        let shortcut = match &self.downsample {
            Some((c, b)) => b.forward_t(&c.forward(x)?, train)?,
            None => x.clone(),
        };
        Ok((h + shortcut)?.relu()?)
    }
}

/// The network.
pub struct ResNet18 {
    conv1: Conv2d,
    bn1: BatchNorm,
    stages: Vec<[BasicBlock; 2]>,
    fc: Linear,
}

impl ResNet18 {
    /// Builds the network on `vb` (names as torchvision's `resnet18`). `width` is the first
    /// stage's channel count (64 in the paper).
    pub fn new(width: usize, classes: usize, path: ConvPath, vb: VarBuilder) -> Result<Self> {
        let w = width;
        let mut stages = Vec::with_capacity(4);
        let mut cin = w;
        for (s, mult) in [1usize, 2, 4, 8].into_iter().enumerate() {
            let cout = w * mult;
            let stride = if s == 0 { 1 } else { 2 };
            let vbs = vb.pp(format!("layer{}", s + 1));
            stages.push([
                BasicBlock::new(cin, cout, stride, path, vbs.pp("0"))?,
                BasicBlock::new(cout, cout, 1, path, vbs.pp("1"))?,
            ]);
            cin = cout;
        }
        Ok(ResNet18 {
            conv1: conv(3, w, 3, 1, path, vb.pp("conv1"))?,
            bn1: bn(w, path, vb.pp("bn1"))?,
            stages,
            fc: linear(8 * w, classes, vb.pp("fc"))?,
        })
    }

    /// Logits for a `B × 3 × 32 × 32` batch; in training mode BatchNorm uses batch statistics and
    /// updates its running averages. With `capture`, the activations of [`CAPTURE_LAYERS`] are kept.
    pub fn forward(
        &self,
        x: &Tensor,
        train: bool,
        mut capture: Option<&mut Captured>,
    ) -> Result<Tensor> {
        let c1 = self.conv1.forward(x)?;
        let mut keep = |name: &str, t: &Tensor| {
            if let Some(c) = capture.as_deref_mut() {
                c.0.push((name.to_string(), t.clone()));
            }
        };
        keep("conv1", &c1);
        let mut h = self.bn1.forward_t(&c1, train)?.relu()?;
        for (s, [b0, b1]) in self.stages.iter().enumerate() {
            h = b0.forward(&h, train, None)?;
            let mut conv2 = None;
            h = b1.forward(&h, train, (s == 3).then_some(&mut conv2))?;
            keep(&format!("layer{}", s + 1), &h);
            if let Some(c2) = conv2 {
                keep("layer4.1.conv2", &c2);
            }
        }
        let pooled = h.mean((2, 3))?;
        keep("avgpool", &pooled);
        let logits = self.fc.forward(&pooled)?;
        keep("fc", &logits);
        Ok(logits)
    }
}
