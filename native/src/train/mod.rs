//! Training (SGD with momentum, weight decay, a learning-rate schedule) and evaluation.

mod schedule;
mod sgd;

pub use schedule::Schedule;
pub use sgd::Sgd;

use crate::data::{Augment, Images};
use crate::model::Network;
use anyhow::{ensure, Result};
use candle_core::{Tensor, D};
use indicatif::ProgressBar;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

/// Hyper-parameters of one training run.
#[derive(Clone, Debug)]
pub struct TrainConfig {
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    pub momentum: f64,
    pub weight_decay: f64,
    pub schedule: Schedule,
    /// Seeds the shuffling and the augmentation.
    pub seed: u64,
}

/// What a training run reports.
#[derive(Clone, Debug, Default)]
pub struct TrainReport {
    pub final_loss: f64,
    pub train_accuracy: f64,
    pub images_per_second: f64,
}

/// Cross-entropy of `logits` (B × K) against `targets` (B), optionally weighted per sample
/// (`Σ w_i ce_i / Σ w_i`, as CRAIG's coreset weights require).
fn loss(logits: &Tensor, targets: &Tensor, weights: Option<&Tensor>) -> Result<Tensor> {
    match weights {
        None => Ok(candle_nn::loss::cross_entropy(logits, targets)?),
        Some(w) => {
            let logp = candle_nn::ops::log_softmax(logits, D::Minus1)?;
            let picked = logp.gather(&targets.unsqueeze(1)?, 1)?.squeeze(1)?;
            let total = (picked * w)?.sum_all()?.neg()?;
            Ok((total / w.sum_all()?.to_scalar::<f32>()? as f64)?)
        }
    }
}

/// Trains `net` on the images `subset` of `data` (all when `None`), with per-sample weights when
/// given (same order as `subset`). `bar` shows epochs, loss, accuracy and throughput.
pub fn train(
    net: &Network,
    data: &Images,
    subset: &[usize],
    sample_weights: Option<&[f32]>,
    cfg: &TrainConfig,
    bar: &ProgressBar,
) -> Result<TrainReport> {
    ensure!(
        !subset.is_empty(),
        "nothing to train on (empty training set)"
    );
    ensure!(cfg.batch_size > 0, "--batch-size must be at least 1");
    let mut sgd = Sgd::new(net.trainable(), cfg.momentum, cfg.weight_decay);
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let mut augment = Augment::new(cfg.seed ^ 0xA11CE);
    let steps_per_epoch = subset.len().div_ceil(cfg.batch_size);
    let total_steps = cfg.epochs * steps_per_epoch;
    bar.set_length(total_steps as u64);
    bar.set_position(0);
    let mut order: Vec<usize> = (0..subset.len()).collect();
    let mut report = TrainReport::default();
    let start = Instant::now();
    let mut seen = 0usize;
    for epoch in 0..cfg.epochs {
        order.shuffle(&mut rng);
        let (mut loss_sum, mut correct, mut count) = (0.0f64, 0usize, 0usize);
        for (b, chunk) in order.chunks(cfg.batch_size).enumerate() {
            let step = epoch * steps_per_epoch + b;
            let idx: Vec<usize> = chunk.iter().map(|&k| subset[k]).collect();
            let (x, y) = data.batch(&idx, Some(&mut augment), &net.device)?;
            let w = sample_weights
                .map(|sw| {
                    let v: Vec<f32> = chunk.iter().map(|&k| sw[k]).collect();
                    Tensor::from_vec(v, chunk.len(), &net.device)
                })
                .transpose()?;
            let logits = net.model.forward(&x, true, None)?;
            let l = loss(&logits, &y, w.as_ref())?;
            let grads = l.backward()?;
            sgd.step(&grads, cfg.schedule.lr(cfg.lr, step, total_steps))?;
            let lv = l.to_scalar::<f32>()? as f64;
            if !lv.is_finite() {
                anyhow::bail!(
                    "training diverged: loss is {lv} at epoch {}, step {b} (lower --lr)",
                    epoch + 1
                );
            }
            let pred = logits.argmax(D::Minus1)?;
            correct += pred
                .eq(&y)?
                .to_dtype(candle_core::DType::F32)?
                .sum_all()?
                .to_scalar::<f32>()? as usize;
            loss_sum += lv * chunk.len() as f64;
            count += chunk.len();
            seen += chunk.len();
            bar.inc(1);
            let ips = seen as f64 / start.elapsed().as_secs_f64().max(1e-9);
            bar.set_message(format!(
                "epoch {}/{} loss {:.3} acc {:.3} {:.0} img/s",
                epoch + 1,
                cfg.epochs,
                loss_sum / count as f64,
                correct as f64 / count as f64,
                ips
            ));
        }
        report.final_loss = loss_sum / count.max(1) as f64;
        report.train_accuracy = correct as f64 / count.max(1) as f64;
    }
    report.images_per_second = seen as f64 / start.elapsed().as_secs_f64().max(1e-9);
    Ok(report)
}

/// Accuracy of `net` on all of `data` (BatchNorm in evaluation mode).
pub fn evaluate(net: &Network, data: &Images, batch_size: usize) -> Result<f64> {
    ensure!(!data.is_empty(), "empty test set");
    let mut correct = 0usize;
    let all: Vec<usize> = (0..data.len()).collect();
    for chunk in all.chunks(batch_size.max(1)) {
        let (x, y) = data.batch(chunk, None, &net.device)?;
        let pred = net.model.forward(&x, false, None)?.argmax(D::Minus1)?;
        correct += pred
            .eq(&y)?
            .to_dtype(candle_core::DType::F32)?
            .sum_all()?
            .to_scalar::<f32>()? as usize;
    }
    Ok(correct as f64 / data.len() as f64)
}
