//! `vit-tiny`: a Vision Transformer for 32 × 32 images. Non-overlapping 4 × 4 patches (64 of
//! them) are embedded linearly to `--width` dimensions; a class token is prepended and a learned
//! position embedding added (65 tokens); [`DEPTH`] pre-norm blocks follow, each
//! `x ← x + proj(attention(LN(x)))`, `x ← x + fc2(GELU(fc1(LN(x))))` with [`HEADS`] heads of
//! `width / HEADS` dimensions and an MLP of [`MLP_RATIO`]` · width`; the final LayerNorm's class
//! token goes through the linear head. Trained with AdamW (warm-up, then cosine).
//!
//! Capture points: `patch_embed` (the 64 patch embeddings), `blocks.0` … `blocks.3` (token-mean
//! unless `--no-pool`), `blocks.3.tokens` (the last block's 65 tokens flattened: the analogue of
//! the ResNet's `layer4.1.conv2`), `norm.cls` (the final norm's class token, CRAIG's embedding)
//! and `head` (the logits).

use super::{Architecture, CapturePoint, Captured, Hyper, Model, NetConfig, Reduce};
use crate::model::layers::{flops, LayerNorm, Linear};
use crate::model::ops::softmax::softmax_last_dim;
use crate::model::params::{Init, Params, Role};
use crate::train::OptimizerKind;
use anyhow::Result;
use candle_core::Tensor;

/// Transformer blocks.
pub const DEPTH: usize = 4;
/// Attention heads per block (`--width` must be a multiple).
pub const HEADS: usize = 4;
/// MLP hidden size over the width.
pub const MLP_RATIO: usize = 2;
/// Side of a square patch, in pixels.
pub const PATCH: usize = 4;
/// Patches of a 32 × 32 image.
const PATCHES: usize = (32 / PATCH) * (32 / PATCH);
/// Standard deviation of the linear layers' and embeddings' initial values (timm's ViT).
const INIT_STD: f32 = 0.02;

pub const ARCH: Architecture = Architecture {
    name: "vit-tiny",
    about: "a Vision Transformer for 32×32 images: 4×4 patches, 4 pre-norm blocks, 4 heads (--width = embedding size, a multiple of 4); AdamW",
    build,
    check_width: |w| {
        (w % HEADS != 0).then(|| format!("must be a multiple of {HEADS} (the heads), got {w}"))
    },
    capture_points: &[
        point("patch_embed", Reduce::TokenMean),
        point("blocks.0", Reduce::TokenMean),
        point("blocks.1", Reduce::TokenMean),
        point("blocks.2", Reduce::TokenMean),
        point("blocks.3", Reduce::TokenMean),
        point("blocks.3.tokens", Reduce::Flatten),
        point("norm.cls", Reduce::Keep),
        point("head", Reduce::Keep),
    ],
    default_layers: ["blocks.3.tokens", "head"],
    embedding: "norm.cls",
    quick: Hyper {
        width: 64,
        epochs: 5,
        batch_size: 64,
        lr: 2e-3,
        weight_decay: 0.05,
        optimizer: OptimizerKind::AdamW,
        warmup_epochs: 1,
    },
    paper: Hyper {
        width: 192,
        epochs: 50,
        batch_size: 128,
        lr: 1e-3,
        weight_decay: 0.05,
        optimizer: OptimizerKind::AdamW,
        warmup_epochs: 5,
    },
    training_memory,
};

const fn point(name: &'static str, reduce: Reduce) -> CapturePoint {
    CapturePoint { name, reduce }
}

/// Weights (`DEPTH · (4 + 2·MLP_RATIO) · width²`) five times over (weights, gradients, AdamW's
/// two moments, a derived copy), and per image about 40 token × width tensors and 4 attention
/// maps per block kept for the backward pass.
fn training_memory(width: usize, batch: usize) -> f64 {
    let (w, t) = (width as f64, (PATCHES + 1) as f64);
    let parameters = DEPTH as f64 * (4 + 2 * MLP_RATIO) as f64 * w * w;
    let per_image = DEPTH as f64 * (40.0 * t * w + 4.0 * HEADS as f64 * t * t);
    (5.0 * parameters + per_image * batch as f64) * 4.0
}

struct Attention {
    qkv: Linear,
    proj: Linear,
}

impl Attention {
    /// Multi-head self-attention of `B × T × C`: `softmax(q kᵀ / sqrt(C/H)) v` per head.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (b, t, c) = x.dims3()?;
        let hd = c / HEADS;
        let qkv = self
            .qkv
            .forward(x)?
            .reshape((b, t, 3, HEADS, hd))?
            .permute((2, 0, 3, 1, 4))?;
        let (q, k, v) = (
            qkv.get(0)?.contiguous()?,
            qkv.get(1)?.contiguous()?,
            qkv.get(2)?.contiguous()?,
        );
        let scores = (q.matmul(&k.t()?.contiguous()?)? / (hd as f64).sqrt())?;
        let weights = softmax_last_dim(&scores)?;
        let y = weights.matmul(&v)?.transpose(1, 2)?.reshape((b, t, c))?;
        flops::add(4.0 * (b * HEADS * t * t * hd) as f64);
        self.proj.forward(&y)
    }
}

struct Block {
    norm1: LayerNorm,
    attn: Attention,
    norm2: LayerNorm,
    fc1: Linear,
    fc2: Linear,
}

impl Block {
    fn new(width: usize, p: &Params) -> Result<Self> {
        let hidden = MLP_RATIO * width;
        Ok(Block {
            norm1: LayerNorm::new(&p.pp("norm1"), width)?,
            attn: Attention {
                qkv: Linear::new(&p.pp("attn.qkv"), width, 3 * width, Some(INIT_STD))?,
                proj: Linear::new(&p.pp("attn.proj"), width, width, Some(INIT_STD))?,
            },
            norm2: LayerNorm::new(&p.pp("norm2"), width)?,
            fc1: Linear::new(&p.pp("mlp.fc1"), width, hidden, Some(INIT_STD))?,
            fc2: Linear::new(&p.pp("mlp.fc2"), hidden, width, Some(INIT_STD))?,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let x = (x + self.attn.forward(&self.norm1.forward(x)?)?)?;
        let mlp = self
            .fc2
            .forward(&self.fc1.forward(&self.norm2.forward(&x)?)?.gelu_erf()?)?;
        Ok((x + mlp)?)
    }
}

struct VitTiny {
    patch_embed: Linear,
    cls_token: Tensor,
    pos_embed: Tensor,
    blocks: Vec<Block>,
    norm: LayerNorm,
    head: Linear,
}

fn build(cfg: &NetConfig, p: &Params) -> Result<Box<dyn Model>> {
    let w = cfg.width;
    let embedding = |name: &str, tokens: usize| {
        p.get(
            (1, tokens, w),
            name,
            Role::Embedding,
            Init::Normal(INIT_STD),
        )
    };
    Ok(Box::new(VitTiny {
        patch_embed: Linear::new(&p.pp("patch_embed"), 3 * PATCH * PATCH, w, None)?,
        cls_token: embedding("cls_token", 1)?,
        pos_embed: embedding("pos_embed", PATCHES + 1)?,
        blocks: (0..DEPTH)
            .map(|i| Block::new(w, &p.pp(format!("blocks.{i}"))))
            .collect::<Result<_>>()?,
        norm: LayerNorm::new(&p.pp("norm"), w)?,
        head: Linear::new(&p.pp("head"), w, cfg.classes, Some(INIT_STD))?,
    }))
}

/// `B × 3 × 32 × 32` images as `B × 64 × 48` patches (row-major patches; channel, row, column
/// within a patch, as a PyTorch `Conv2d(3, C, 4, stride=4)` weight reads them).
fn patches(x: &Tensor) -> Result<Tensor> {
    let (b, c, h, w) = x.dims4()?;
    let (gh, gw) = (h / PATCH, w / PATCH);
    Ok(x.reshape((b, c, gh, PATCH, gw, PATCH))?
        .permute((0, 2, 4, 1, 3, 5))?
        .reshape((b, gh * gw, c * PATCH * PATCH))?)
}

impl Model for VitTiny {
    /// The embedding, the [`DEPTH`] blocks, the head.
    fn segments(&self) -> usize {
        self.blocks.len() + 2
    }

    fn forward_segment(
        &self,
        k: usize,
        x: &Tensor,
        _train: bool,
        mut capture: Option<&mut Captured>,
    ) -> Result<Tensor> {
        let depth = self.blocks.len();
        if k == 0 {
            let b = x.dim(0)?;
            let e = self.patch_embed.forward(&patches(x)?)?;
            Captured::keep(&mut capture, "patch_embed", &e);
            let cls = self.cls_token.broadcast_as((b, 1, e.dim(2)?))?;
            return Ok(Tensor::cat(&[&cls, &e], 1)?.broadcast_add(&self.pos_embed)?);
        }
        if k > depth {
            let cls = self.norm.forward(&x.get_on_dim(1, 0)?)?;
            Captured::keep(&mut capture, "norm.cls", &cls);
            let logits = self.head.forward(&cls)?;
            Captured::keep(&mut capture, "head", &logits);
            return Ok(logits);
        }
        let i = k - 1;
        let h = self.blocks[i].forward(x)?;
        Captured::keep(&mut capture, &format!("blocks.{i}"), &h);
        if i == depth - 1 {
            Captured::keep(&mut capture, &format!("blocks.{i}.tokens"), &h);
        }
        Ok(h)
    }

    /// `patch_embed.*`, `cls_token`, `pos_embed`: 0; `blocks.<i>.*`: i + 1; `norm.*`, `head.*`:
    /// the last.
    fn segment_of(&self, name: &str) -> Option<usize> {
        let mut parts = name.split('.');
        match parts.next()? {
            "patch_embed" | "cls_token" | "pos_embed" => Some(0),
            "norm" | "head" => Some(self.segments() - 1),
            "blocks" => {
                let i: usize = parts.next()?.parse().ok()?;
                (i < self.blocks.len()).then_some(i + 1)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ops::custom_op::test_values;
    use crate::model::{initialise, Kernels};
    use candle_core::{Device, Var};
    use std::collections::HashMap;

    const WIDTH: usize = 8;

    /// `erf` by its Taylor series (exact to rounding for the |x| < 3 met here).
    fn erf(x: f64) -> f64 {
        if x.abs() > 5.0 {
            return x.signum();
        }
        let (mut term, mut sum) = (x, x);
        for n in 1..100 {
            term *= -x * x / n as f64;
            sum += term / (2 * n + 1) as f64;
        }
        sum * 2.0 / std::f64::consts::PI.sqrt()
    }

    fn layer_norm(x: &[f64], w: &[f64], b: &[f64]) -> Vec<f64> {
        let d = x.len() as f64;
        let mean = x.iter().sum::<f64>() / d;
        let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / d;
        let inv = 1.0 / (var + LayerNorm::EPS).sqrt();
        (0..x.len())
            .map(|i| (x[i] - mean) * inv * w[i] + b[i])
            .collect()
    }

    /// `W x + b` for W stored out × in, row-major.
    fn affine(w: &[f64], b: &[f64], x: &[f64]) -> Vec<f64> {
        let n = x.len();
        (0..b.len())
            .map(|o| b[o] + (0..n).map(|i| w[o * n + i] * x[i]).sum::<f64>())
            .collect()
    }

    /// The network written out directly, in f64, attention by explicit loops: logits of one
    /// 3 × 32 × 32 image (`x`, CHW) for parameters `p` by name.
    fn direct(p: &HashMap<String, Vec<f64>>, x: &[f64], classes: usize) -> Vec<f64> {
        let d = WIDTH;
        let hd = d / HEADS;
        let g = |n: &str| &p[n][..];
        let mut tokens: Vec<Vec<f64>> = vec![g("cls_token").to_vec()];
        for py in 0..8 {
            for px in 0..8 {
                let mut patch = Vec::with_capacity(48);
                for c in 0..3 {
                    for i in 0..4 {
                        for j in 0..4 {
                            patch.push(x[c * 1024 + (py * 4 + i) * 32 + px * 4 + j]);
                        }
                    }
                }
                tokens.push(affine(
                    g("patch_embed.weight"),
                    g("patch_embed.bias"),
                    &patch,
                ));
            }
        }
        let t = tokens.len();
        for (k, tok) in tokens.iter_mut().enumerate() {
            for (i, v) in tok.iter_mut().enumerate() {
                *v += g("pos_embed")[k * d + i];
            }
        }
        for blk in 0..DEPTH {
            let q = |n: &str| g(&format!("blocks.{blk}.{n}")).to_vec();
            let qkv: Vec<Vec<f64>> = tokens
                .iter()
                .map(|tok| {
                    let n = layer_norm(tok, &q("norm1.weight"), &q("norm1.bias"));
                    affine(&q("attn.qkv.weight"), &q("attn.qkv.bias"), &n)
                })
                .collect();
            let mut attended = vec![vec![0.0; d]; t];
            for h in 0..HEADS {
                for i in 0..t {
                    let scores: Vec<f64> = (0..t)
                        .map(|j| {
                            (0..hd)
                                .map(|e| qkv[i][h * hd + e] * qkv[j][d + h * hd + e])
                                .sum::<f64>()
                                / (hd as f64).sqrt()
                        })
                        .collect();
                    let max = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                    let exps: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
                    let total: f64 = exps.iter().sum();
                    for e in 0..hd {
                        attended[i][h * hd + e] = (0..t)
                            .map(|j| exps[j] / total * qkv[j][2 * d + h * hd + e])
                            .sum();
                    }
                }
            }
            for (tok, a) in tokens.iter_mut().zip(&attended) {
                let out = affine(&q("attn.proj.weight"), &q("attn.proj.bias"), a);
                tok.iter_mut().zip(out).for_each(|(v, o)| *v += o);
                let n = layer_norm(tok, &q("norm2.weight"), &q("norm2.bias"));
                let hidden: Vec<f64> = affine(&q("mlp.fc1.weight"), &q("mlp.fc1.bias"), &n)
                    .into_iter()
                    .map(|v| 0.5 * v * (1.0 + erf(v / std::f64::consts::SQRT_2)))
                    .collect();
                let out = affine(&q("mlp.fc2.weight"), &q("mlp.fc2.bias"), &hidden);
                tok.iter_mut().zip(out).for_each(|(v, o)| *v += o);
            }
        }
        let cls = layer_norm(&tokens[0], g("norm.weight"), g("norm.bias"));
        let logits = affine(g("head.weight"), g("head.bias"), &cls);
        assert_eq!(logits.len(), classes);
        logits
    }

    /// The candle network and the direct one agree on the logits of two images and on the
    /// gradients of `Σ logits · P` (central differences of the direct one) for elements of every
    /// kind of parameter.
    #[test]
    fn forward_and_gradients_match_a_direct_implementation() {
        let dev = Device::Cpu;
        let classes = 3;
        let cfg = NetConfig {
            width: WIDTH,
            classes,
            kernels: Kernels::Gemm,
        };
        let params = Params::new(&dev);
        let model = build(&cfg, &params).unwrap();
        initialise(&params, 1).unwrap();
        // Values of order one everywhere (the initial ones are tiny), LayerNorm scales near 1.
        let mut host: HashMap<String, Vec<f64>> = HashMap::new();
        for (k, p) in params.all().iter().enumerate() {
            let n = p.var.elem_count();
            let v: Vec<f32> = test_values(n, 100 + k as u64)
                .into_iter()
                .map(|v| {
                    if p.spec.role == Role::Norm && p.name.ends_with("weight") {
                        1.0 + v
                    } else {
                        v
                    }
                })
                .collect();
            p.var
                .set(&Tensor::from_vec(v.clone(), p.var.dims(), &dev).unwrap())
                .unwrap();
            host.insert(p.name.clone(), v.iter().map(|&x| x as f64).collect());
        }
        let images = 2;
        let xv = test_values(images * 3 * 1024, 7);
        let x = Tensor::from_vec(xv.clone(), (images, 3, 32, 32), &dev).unwrap();
        let proj = test_values(images * classes, 9);
        let logits = model.forward(&x, true, None).unwrap();
        let got = logits.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let loss_of = |p: &HashMap<String, Vec<f64>>| -> f64 {
            (0..images)
                .flat_map(|i| {
                    let l = direct(
                        p,
                        &xv[i * 3072..(i + 1) * 3072]
                            .iter()
                            .map(|&v| v as f64)
                            .collect::<Vec<_>>(),
                        classes,
                    );
                    l.into_iter().enumerate().map(move |(c, v)| (i, c, v))
                })
                .map(|(i, c, v)| v * proj[i * classes + c] as f64)
                .sum()
        };
        for i in 0..images {
            let xi: Vec<f64> = xv[i * 3072..(i + 1) * 3072]
                .iter()
                .map(|&v| v as f64)
                .collect();
            let want = direct(&host, &xi, classes);
            for c in 0..classes {
                let g = got[i * classes + c] as f64;
                assert!(
                    (g - want[c]).abs() <= 1e-4 * want[c].abs().max(1.0),
                    "image {i} class {c}: {g} vs {}",
                    want[c]
                );
            }
        }
        let p = Tensor::from_vec(proj.clone(), (images, classes), &dev).unwrap();
        let grads = (logits * p).unwrap().sum_all().unwrap().backward().unwrap();
        let vars: HashMap<String, Var> =
            params.all().into_iter().map(|p| (p.name, p.var)).collect();
        for (name, index) in [
            ("patch_embed.weight", 5),
            ("patch_embed.bias", 2),
            ("cls_token", 3),
            ("pos_embed", 17),
            ("blocks.0.attn.qkv.weight", 3),
            ("blocks.0.attn.qkv.weight", 8 * 9 + 1),
            ("blocks.2.attn.qkv.weight", 8 * 20 + 6),
            ("blocks.1.attn.proj.weight", 10),
            ("blocks.3.mlp.fc1.bias", 4),
            ("blocks.2.mlp.fc2.weight", 33),
            ("blocks.3.norm1.weight", 1),
            ("blocks.3.norm2.bias", 7),
            ("norm.weight", 2),
            ("norm.bias", 5),
            ("head.weight", 11),
            ("head.bias", 1),
        ] {
            let candle = grads
                .get(vars[name].as_tensor())
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()[index] as f64;
            let h = 1e-4;
            let mut plus = host.clone();
            plus.get_mut(name).unwrap()[index] += h;
            let mut minus = host.clone();
            minus.get_mut(name).unwrap()[index] -= h;
            let numeric = (loss_of(&plus) - loss_of(&minus)) / (2.0 * h);
            assert!(
                (candle - numeric).abs() <= 2e-3 * numeric.abs().max(0.05),
                "∂/∂{name}[{index}]: candle {candle}, central difference {numeric}"
            );
        }
    }

    /// Captures have the documented shapes (that they are the declared points, in order, is
    /// checked for every architecture in `arch::tests`).
    #[test]
    fn capture_points_and_shapes() {
        let dev = Device::Cpu;
        let cfg = NetConfig {
            width: WIDTH,
            classes: 10,
            kernels: Kernels::Gemm,
        };
        let params = Params::new(&dev);
        let model = build(&cfg, &params).unwrap();
        initialise(&params, 3).unwrap();
        let x = Tensor::zeros((2, 3, 32, 32), candle_core::DType::F32, &dev).unwrap();
        let mut cap = Captured::default();
        model.forward(&x, false, Some(&mut cap)).unwrap();
        let shape = |n: &str| {
            cap.0
                .iter()
                .find(|(m, _)| m == n)
                .unwrap()
                .1
                .dims()
                .to_vec()
        };
        assert_eq!(shape("patch_embed"), [2, 64, WIDTH]);
        assert_eq!(shape("blocks.3"), [2, 65, WIDTH]);
        assert_eq!(shape("blocks.3.tokens"), [2, 65, WIDTH]);
        assert_eq!(shape("norm.cls"), [2, WIDTH]);
        assert_eq!(shape("head"), [2, 10]);
    }
}
