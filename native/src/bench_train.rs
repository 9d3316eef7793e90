//! `native bench-train`: the machine's GEMM rate against a ResNet-18 training step on candle's
//! convolution and on the im2col + GEMM path, in one run.

use crate::cli::BenchTrainArgs;
use crate::data::synthetic;
use crate::model::layers::flops;
use crate::model::ops::profile::{self, Part};
use crate::model::{arch, Architecture, Kernels, NetConfig, Network};
use crate::train::Optimizer;
use anyhow::{Context, Result};
use candle_core::{Device, Tensor};
use std::time::Instant;

/// Floating-point operations of one training step of `arch` at `width` on `batch` 32×32 images:
/// 3 × the forward pass (forward, input gradient and weight gradient each cost one product of
/// the same size), the forward pass's products counted by the layers themselves
/// ([`flops::count`], `2·m·n·k` per product) on one image.
pub fn training_flops(
    arch: &'static Architecture,
    width: usize,
    batch: usize,
    classes: usize,
) -> Result<f64> {
    let dev = Device::Cpu;
    let cfg = NetConfig {
        width,
        classes,
        kernels: Kernels::Gemm,
    };
    let net = Network::new(arch, &cfg, 0, &dev)?;
    let x = Tensor::zeros((1, 3, 32, 32), candle_core::DType::F32, &dev)?;
    let (logits, forward) = flops::count(|| net.model.forward(&x, false, None));
    logits?;
    Ok(3.0 * forward * batch as f64)
}

/// Best GFLOP/s of an `n × n × n` f32 matrix product on `device`.
fn gemm_gflops(device: &Device, n: usize, repeats: usize) -> Result<f64> {
    let a = Tensor::randn(0f32, 1.0, (n, n), device)?;
    let b = Tensor::randn(0f32, 1.0, (n, n), device)?;
    let _ = a.matmul(&b)?.sum_all()?.to_scalar::<f32>()?;
    let mut best = f64::INFINITY;
    for _ in 0..repeats {
        let t = Instant::now();
        let c = a.matmul(&b)?;
        let _ = c.sum_all()?.to_scalar::<f32>()?;
        best = best.min(t.elapsed().as_secs_f64());
    }
    Ok(2.0 * (n * n * n) as f64 / best / 1e9)
}

/// A network, its optimizer and one batch of synthetic images, for timing training steps.
struct Bench {
    net: Network,
    optimizer: Box<dyn Optimizer>,
    x: Tensor,
    y: Tensor,
}

impl Bench {
    fn new(
        arch: &'static Architecture,
        width: usize,
        kernels: Kernels,
        batch: usize,
        device: &Device,
    ) -> Result<Self> {
        let data = synthetic::generate(1, batch, 0);
        let net = Network::new(arch, &net_config(width, kernels), 1, device)?;
        let optimizer = arch.quick.optimizer.build(net.trainable(), 0.9, 5e-4);
        let idx: Vec<usize> = (0..batch).collect();
        let (x, y) = data.train.batch(&idx, None, device)?;
        Ok(Bench {
            net,
            optimizer,
            x,
            y,
        })
    }
}

/// Ten classes at `width` with `kernels`.
fn net_config(width: usize, kernels: Kernels) -> NetConfig {
    NetConfig {
        width,
        classes: 10,
        kernels,
    }
}

/// Seconds per training step (best of `steps` after one warm-up step).
fn step_seconds(
    arch: &'static Architecture,
    width: usize,
    kernels: Kernels,
    batch: usize,
    steps: usize,
    device: &Device,
) -> Result<f64> {
    let Bench {
        net,
        mut optimizer,
        x,
        y,
    } = Bench::new(arch, width, kernels, batch, device)?;
    let mut best = f64::INFINITY;
    for s in 0..steps + 1 {
        let t = Instant::now();
        let logits = net.model.forward(&x, true, None)?;
        let loss = candle_nn::loss::cross_entropy(&logits, &y)?;
        let grads = loss.backward()?;
        optimizer.step(&grads, 0.01)?;
        let _ = loss.to_scalar::<f32>()?;
        if s > 0 {
            best = best.min(t.elapsed().as_secs_f64());
        }
    }
    Ok(best)
}

/// Mean seconds per training step of the forward pass (with the loss), the backward pass and the
/// optimizer update, the device synchronised after each, and of each [`Part`] of the custom ops
/// within the first two, over `steps` steps after one warm-up.
fn phase_seconds(
    arch: &'static Architecture,
    width: usize,
    batch: usize,
    steps: usize,
    device: &Device,
) -> Result<([f64; 3], [f64; Part::ALL.len()])> {
    let Bench {
        net,
        mut optimizer,
        x,
        y,
    } = Bench::new(arch, width, Kernels::Gemm, batch, device)?;
    let mut total = [0.0; 3];
    for s in 0..steps + 1 {
        if s == 1 {
            profile::start();
        }
        let t = Instant::now();
        let loss = candle_nn::loss::cross_entropy(&net.model.forward(&x, true, None)?, &y)?;
        device.synchronize()?;
        let forward = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let grads = loss.backward()?;
        device.synchronize()?;
        let backward = t.elapsed().as_secs_f64();
        let t = Instant::now();
        optimizer.step(&grads, 0.01)?;
        device.synchronize()?;
        if s > 0 {
            for (acc, v) in total
                .iter_mut()
                .zip([forward, backward, t.elapsed().as_secs_f64()])
            {
                *acc += v / steps as f64;
            }
        }
    }
    Ok((total, profile::stop().map(|v| v / steps as f64)))
}

/// Prints the per-phase table and, on the CPU, where the forward and backward passes spend their
/// time (the custom ops' parts; "other" is candle's own work: elementwise ops, the gradient
/// accumulation, the loss, the linear layers, allocation).
fn print_breakdown(
    arch: &'static Architecture,
    args: &BenchTrainArgs,
    device: &Device,
) -> Result<()> {
    println!("GEMM path, mean ms per step (batch {}):", args.batch);
    let parts = Part::ALL.map(Part::label);
    print!(
        "{:>6} {:>9} {:>9} {:>9}",
        "width", "forward", "backward", "update"
    );
    if device.is_cpu() {
        for p in parts {
            print!(" {p:>10}");
        }
        print!(" {:>10}", "other");
    }
    println!();
    for &width in &args.widths {
        let ([f, b, u], within) = phase_seconds(arch, width, args.batch, args.steps, device)?;
        print!(
            "{width:>6} {:>9.2} {:>9.2} {:>9.2}",
            1e3 * f,
            1e3 * b,
            1e3 * u
        );
        if device.is_cpu() {
            for v in within {
                print!(" {:>10.2}", 1e3 * v);
            }
            print!(" {:>10.2}", 1e3 * (f + b - within.iter().sum::<f64>()));
        }
        println!();
    }
    Ok(())
}

/// Loss and gradient norms (conv1, fc) of one ResNet-18 training step on `device`, for a fixed
/// batch.
fn one_step(width: usize, kernels: Kernels, batch: usize, device: &Device) -> Result<[f64; 3]> {
    let data = synthetic::generate(2, batch, 0);
    let resnet = arch::find("resnet18").context("resnet18 is registered")?;
    let net = Network::new(resnet, &net_config(width, kernels), 5, device)?;
    let idx: Vec<usize> = (0..batch).collect();
    let (x, y) = data.train.batch(&idx, None, device)?;
    let loss = candle_nn::loss::cross_entropy(&net.model.forward(&x, true, None)?, &y)?;
    let grads = loss.backward()?;
    let params = net.params.all();
    let norm = |name: &str| -> Result<f64> {
        let v = &params
            .iter()
            .find(|p| p.name == name)
            .context("named variable")?
            .var;
        let g = grads.get(v.as_tensor()).expect("gradient");
        Ok(g.sqr()?.sum_all()?.to_scalar::<f32>()?.sqrt() as f64)
    };
    Ok([
        loss.to_scalar::<f32>()? as f64,
        norm("conv1.weight")?,
        norm("fc.weight")?,
    ])
}

/// Checks one training step of both paths on `device` against candle's path on the CPU: loss and
/// gradient norms within `tol` (relative; TF32 on CUDA needs ~1e-2). Returns whether all passed.
pub fn verify(width: usize, batch: usize, device: &Device, tol: f64) -> Result<bool> {
    let reference = one_step(width, Kernels::Candle, batch, &Device::Cpu)?;
    // The GEMM path's own gathers first, exactly: they must not depend on the device.
    let (fwd, bwd) = crate::model::ops::verify::max_conv_layout_difference(device)?;
    let mut ok = fwd == 0.0 && bwd <= 1e-5;
    println!(
        "verify im2col/col2im on {device:?}: max |device − cpu| {fwd:.1e} / {bwd:.1e}: {}",
        if ok { "PASS" } else { "FAIL" }
    );
    let bn = crate::model::ops::verify::max_batch_norm_difference(device)?;
    let bn_ok = bn <= 1e-4;
    ok &= bn_ok;
    println!(
        "verify fused BatchNorm on {device:?}: max relative |device − cpu| {bn:.1e} (output, gradients, running statistics): {}",
        if bn_ok { "PASS" } else { "FAIL" }
    );
    for path in [Kernels::Candle, Kernels::Gemm] {
        let got = one_step(width, path, batch, device)?;
        let worst = got
            .iter()
            .zip(&reference)
            .map(|(a, b)| (a - b).abs() / b.abs().max(1e-12))
            .fold(0.0, f64::max);
        let pass = worst <= tol;
        ok &= pass;
        println!(
            "verify {:>6} on {:?}: loss {:.6} (cpu reference {:.6}), |∇conv1| {:.4e}, |∇fc| {:.4e}, max rel. diff {worst:.2e}: {}",
            format!("{path:?}").to_lowercase(),
            device,
            got[0],
            reference[0],
            got[1],
            got[2],
            if pass { "PASS" } else { "FAIL" }
        );
    }
    Ok(ok)
}

/// Runs the benchmark and prints the table and the summary line.
pub fn run(args: &BenchTrainArgs, device: &Device) -> Result<()> {
    if args.verify {
        let tol = if device.is_cpu() { 1e-3 } else { 2e-2 };
        if !verify(16, 32, device, tol)? {
            anyhow::bail!(
                "the training step on {device:?} differs from the CPU reference (see above)"
            );
        }
    }
    let arch = arch::find(&args.arch).context("--arch: unknown architecture")?;
    // The machine's rate is the best of two measurements, before and after the training steps,
    // so that a busy moment on a shared machine does not flatter the ratio.
    let before = gemm_gflops(device, args.gemm_size, 5)?;
    let mut rows = Vec::new();
    let mut fast64 = None;
    for &width in &args.widths {
        let flops = training_flops(arch, width, args.batch, 10)?;
        for path in [Kernels::Candle, Kernels::Gemm] {
            if path == Kernels::Candle && args.skip_reference {
                continue;
            }
            let steps = if path == Kernels::Candle && width >= 64 {
                1
            } else {
                args.steps
            };
            let s = step_seconds(arch, width, path, args.batch, steps, device)?;
            let gf = flops / s / 1e9;
            rows.push((width, path, args.batch as f64 / s, gf));
            if path == Kernels::Gemm && width == 64 {
                fast64 = Some(gf);
            }
        }
    }
    let after = gemm_gflops(device, args.gemm_size, 5)?;
    let gemm = before.max(after);
    println!(
        "single-precision GEMM ({n}×{n}×{n}): {gemm:.1} GFLOP/s (best of {before:.1} before and {after:.1} after the training steps)",
        n = args.gemm_size
    );
    println!("{} training step, 32×32, batch {}:", arch.name, args.batch);
    println!(
        "{:>6} {:>8} {:>10} {:>12} {:>10}",
        "width", "path", "images/s", "GFLOP/s", "of GEMM"
    );
    for (width, path, images, gf) in rows {
        println!(
            "{width:>6} {:>8} {:>10.1} {:>12.1} {:>9.0}%",
            format!("{path:?}").to_lowercase(),
            images,
            gf,
            100.0 * gf / gemm
        );
    }
    if args.breakdown {
        print_breakdown(arch, args, device)?;
    }
    match fast64 {
        Some(y) => println!(
            "gemm_gflops={gemm:.1} fast_gflops={y:.1} ratio={:.3}",
            y / gemm
        ),
        None => println!(
            "gemm_gflops={gemm:.1} (width 64 not measured: add it to --widths for the ratio)"
        ),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On the CPU both paths agree with the reference to 1e-3 (the check `--verify` runs on a GPU).
    #[test]
    fn verify_passes_on_the_cpu() {
        assert!(verify(4, 8, &Device::Cpu, 1e-3).unwrap());
    }

    /// The breakdown's parts are all measured, and lie within the forward and backward passes
    /// they were measured in (time counted twice or outside them would exceed the passes).
    #[test]
    fn breakdown_parts_lie_within_the_passes() {
        let resnet = arch::find("resnet18").unwrap();
        let ([f, b, u], parts) = phase_seconds(resnet, 2, 4, 2, &Device::Cpu).unwrap();
        assert!(f > 0.0 && b > 0.0 && u > 0.0);
        for (part, v) in Part::ALL.iter().zip(parts) {
            assert!(v > 0.0, "{part:?} not measured");
        }
        assert!(
            parts.iter().sum::<f64>() <= f + b,
            "{parts:?} against {f} + {b}"
        );
    }

    #[test]
    fn flops_by_hand_for_width_one() {
        // Width 1, batch 1: stem 2·3·1·9·32² = 55296; stage 1: 4 convs 1→1 at 32² = 4·18·1024;
        // stage 2 (16²): 1→2 (36·256), 2→2 (72·256), downsample 1→2 (4·256), 2× 2→2 (2·72·256);
        // stage 3 (8²): 2→4 (144·64), 4→4 (288·64), ds 2→4 (16·64), 2·288·64;
        // stage 4 (4²): 4→8 (576·16), 8→8 (1152·16), ds 4→8 (64·16), 2·1152·16; fc 2·8·10.
        let fwd = 55296.0
            + 4.0 * 18.0 * 1024.0
            + (36.0 + 72.0 + 4.0 + 144.0) * 256.0
            + (144.0 + 288.0 + 16.0 + 576.0) * 64.0
            + (576.0 + 1152.0 + 64.0 + 2304.0) * 16.0
            + 160.0;
        let resnet = arch::find("resnet18").unwrap();
        assert_eq!(training_flops(resnet, 1, 1, 10).unwrap(), 3.0 * fwd);
        assert_eq!(training_flops(resnet, 1, 4, 10).unwrap(), 12.0 * fwd);
    }
}
