//! `resnet18`: the CIFAR ResNet-18 of the paper, with torchvision's parameter names. A 3×3 stem
//! without max-pool, BasicBlocks in four stages of `w, 2w, 4w, 8w` channels (w = `--width`, 64 in
//! the paper), BatchNorm, global average pool, fc.

use super::{Architecture, CapturePoint, Captured, Hyper, Model, NetConfig, Reduce};
use crate::model::layers::{batch_norm, Conv2d, Kernels, Linear};
use crate::model::ops::batch_norm::BatchNorm2d as BatchNorm;
use crate::model::ops::residual::add_relu;
use crate::model::params::Params;
use crate::train::OptimizerKind;
use anyhow::Result;
use candle_core::{ModuleT, Tensor};

pub const ARCH: Architecture = Architecture {
    name: "resnet18",
    about: "the paper's CIFAR ResNet-18 (--width = first-stage channels, 64 in the paper); SGD",
    build,
    check_width: |_| None,
    // docs/DESIGN.md §3: the stage outputs pooled, `layer4.1.conv2` flattened as in the paper.
    capture_points: &[
        point("conv1", Reduce::Pool),
        point("layer1", Reduce::Pool),
        point("layer2", Reduce::Pool),
        point("layer3", Reduce::Pool),
        point("layer4", Reduce::Pool),
        point("layer4.1.conv2", Reduce::Flatten),
        point("avgpool", Reduce::Keep),
        point("fc", Reduce::Keep),
    ],
    default_layers: ["layer4.1.conv2", "fc"],
    embedding: "avgpool",
    quick: Hyper {
        width: 16,
        epochs: 5,
        batch_size: 64,
        lr: 0.05,
        weight_decay: 5e-4,
        optimizer: OptimizerKind::Sgd,
        warmup_epochs: 0,
    },
    paper: Hyper {
        width: 64,
        epochs: 50,
        batch_size: 128,
        lr: 0.1,
        weight_decay: 5e-4,
        optimizer: OptimizerKind::Sgd,
        warmup_epochs: 0,
    },
    training_memory,
};

const fn point(name: &'static str, reduce: Reduce) -> CapturePoint {
    CapturePoint { name, reduce }
}

/// About 11.2 million weights at width 64 (growing with width²) four times over (weights,
/// gradients, momentum, the model being derived), and a batch's activations kept for the
/// backward pass (about 40,000 · width floats per 32 × 32 image, im2col buffers included).
fn training_memory(width: usize, batch: usize) -> f64 {
    let w = width as f64;
    let parameters = 11.2e6 * (w / 64.0).powi(2);
    let activations = 40_000.0 * w * batch as f64;
    (4.0 * parameters + activations) * 4.0
}

struct BasicBlock {
    conv1: Conv2d,
    bn1: BatchNorm,
    conv2: Conv2d,
    bn2: BatchNorm,
    downsample: Option<(Conv2d, BatchNorm)>,
}

impl BasicBlock {
    fn new(cin: usize, cout: usize, stride: usize, k: Kernels, p: &Params) -> Result<Self> {
        let downsample = if stride != 1 || cin != cout {
            Some((
                Conv2d::new(&p.pp("downsample.0"), cin, cout, 1, stride, k)?,
                batch_norm(&p.pp("downsample.1"), cout, k)?,
            ))
        } else {
            None
        };
        Ok(BasicBlock {
            conv1: Conv2d::new(&p.pp("conv1"), cin, cout, 3, stride, k)?,
            bn1: batch_norm(&p.pp("bn1"), cout, k)?,
            conv2: Conv2d::new(&p.pp("conv2"), cout, cout, 3, 1, k)?,
            bn2: batch_norm(&p.pp("bn2"), cout, k)?,
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
        // BatchNorm with its ReLU, and the sum with the shortcut with its ReLU, as one op each.
        let fused = self.conv1.kernels() == Kernels::Gemm;
        let h = self
            .bn1
            .forward_relu_t(&self.conv1.forward(x)?, train, fused)?;
        let c2 = self.conv2.forward(&h)?;
        if let Some(slot) = conv2_out {
            *slot = Some(c2.clone());
        }
        let h = self.bn2.forward_t(&c2, train)?;
        let shortcut = match &self.downsample {
            Some((c, b)) => b.forward_t(&c.forward(x)?, train)?,
            None => x.clone(),
        };
        Ok(add_relu(&h, &shortcut, fused)?)
    }
}

struct ResNet18 {
    conv1: Conv2d,
    bn1: BatchNorm,
    stages: Vec<[BasicBlock; 2]>,
    fc: Linear,
}

fn build(cfg: &NetConfig, p: &Params) -> Result<Box<dyn Model>> {
    let (w, k) = (cfg.width, cfg.kernels);
    let mut stages = Vec::with_capacity(4);
    let mut cin = w;
    for (s, mult) in [1usize, 2, 4, 8].into_iter().enumerate() {
        let cout = w * mult;
        let stride = if s == 0 { 1 } else { 2 };
        let ps = p.pp(format!("layer{}", s + 1));
        stages.push([
            BasicBlock::new(cin, cout, stride, k, &ps.pp("0"))?,
            BasicBlock::new(cout, cout, 1, k, &ps.pp("1"))?,
        ]);
        cin = cout;
    }
    Ok(Box::new(ResNet18 {
        conv1: Conv2d::new(&p.pp("conv1"), 3, w, 3, 1, k)?,
        bn1: batch_norm(&p.pp("bn1"), w, k)?,
        stages,
        fc: Linear::new(&p.pp("fc"), 8 * w, cfg.classes, None)?,
    }))
}

impl Model for ResNet18 {
    /// The stem, the eight blocks, the head.
    fn segments(&self) -> usize {
        2 + 2 * self.stages.len()
    }

    fn forward_segment(
        &self,
        k: usize,
        x: &Tensor,
        train: bool,
        mut capture: Option<&mut Captured>,
    ) -> Result<Tensor> {
        let fused = self.conv1.kernels() == Kernels::Gemm;
        let blocks = 2 * self.stages.len();
        if k == 0 {
            let c1 = self.conv1.forward(x)?;
            Captured::keep(&mut capture, "conv1", &c1);
            return Ok(self.bn1.forward_relu_t(&c1, train, fused)?);
        }
        if k > blocks {
            let pooled = x.mean((2, 3))?;
            Captured::keep(&mut capture, "avgpool", &pooled);
            let logits = self.fc.forward(&pooled)?;
            Captured::keep(&mut capture, "fc", &logits);
            return Ok(logits);
        }
        let (s, b) = ((k - 1) / 2, (k - 1) % 2);
        let block = &self.stages[s][b];
        if b == 0 {
            return block.forward(x, train, None);
        }
        let mut conv2 = None;
        let h = block.forward(x, train, (s == 3).then_some(&mut conv2))?;
        Captured::keep(&mut capture, &format!("layer{}", s + 1), &h);
        if let Some(c2) = conv2 {
            Captured::keep(&mut capture, "layer4.1.conv2", &c2);
        }
        Ok(h)
    }

    /// `conv1.*`, `bn1.*`: 0; `layer<s>.<b>.*`: 2(s − 1) + b + 1; `fc.*`: the last.
    fn segment_of(&self, name: &str) -> Option<usize> {
        let mut parts = name.split('.');
        let first = parts.next()?;
        match first {
            "conv1" | "bn1" => Some(0),
            "fc" => Some(self.segments() - 1),
            _ => {
                let s: usize = first.strip_prefix("layer")?.parse().ok()?;
                let b: usize = parts.next()?.parse().ok()?;
                ((1..=self.stages.len()).contains(&s) && b < 2).then(|| 2 * (s - 1) + b + 1)
            }
        }
    }
}
