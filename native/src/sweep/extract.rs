//! Activations of the N analysed samples at the architecture's capture points, as snapshot
//! layers.

use crate::data::Images;
use crate::model::{Captured, Network, Reduce};
use crate::train::correct_per_image;
use anyhow::Result;
use reps::formats::snapshot::{Reduction, SnapshotLayer, SnapshotModel};
use reps::histogram::{shared_range, weight_histogram, FINE_BINS};

use super::config::EVAL_BATCH;

/// What a snapshot says of how a model was made.
pub struct Described<'a> {
    pub name: &'a str,
    pub method: &'a str,
    /// The parameter's name and value.
    pub parameter: Option<(&'a str, f64)>,
}

/// A model as a sweep's snapshot holds it: its accuracy on all of `test`, its weight similarity
/// with the `reference` weights (all weights in name order), its own fine weight histogram (the
/// snapshot's shared-range histograms are made from these at the end, without reading the
/// checkpoints again), and its activations on the test images `samples`; with whether it
/// classifies each test image correctly.
pub fn describe(
    net: &Network,
    what: Described,
    test: &Images,
    samples: &[usize],
    no_pool: bool,
    reference: &[f32],
) -> Result<(SnapshotModel, Vec<bool>)> {
    let correct = correct_per_image(net, test, EVAL_BATCH)?;
    let accuracy = correct.iter().filter(|&&c| c).count() as f64 / test.len() as f64;
    let layers = extract(net, test, samples, no_pool, EVAL_BATCH)?;
    let flat = net.flat_weights()?;
    let (lo, hi) = shared_range([flat.as_slice()]);
    let histogram = weight_histogram(&flat, lo, hi, FINE_BINS)?;
    let weight_similarity = reps::baselines::weight_similarity(reference, &flat)?;
    let model = SnapshotModel {
        name: what.name.to_string(),
        method: what.method.to_string(),
        parameter: what.parameter.map(|(_, p)| p),
        parameter_name: what.parameter.map(|(n, _)| n.to_string()),
        accuracy: Some(accuracy),
        weight_similarity: Some(weight_similarity),
        histogram: Some(histogram),
        layers,
        logits: Some(net.arch.logits().into()),
    };
    Ok((model, correct))
}

/// The reduction a capture point gets: its declared one, pooling (over positions or tokens)
/// replaced by flattening with `no_pool`. Pooling over tokens is stored as `Pooled`: a mean over
/// the positions of the capture shape's first axis after the channels' (a ResNet's H × W, a
/// ViT's T), which the capture shape tells apart.
fn reduction(declared: Reduce, no_pool: bool) -> Reduce {
    match declared {
        Reduce::Pool | Reduce::TokenMean if no_pool => Reduce::Flatten,
        r => r,
    }
}

/// Runs `net` (evaluation mode) on the images `indices` of `test` and returns its capture points
/// in the architecture's order, each with its capture shape and reduction.
pub fn extract(
    net: &Network,
    test: &Images,
    indices: &[usize],
    no_pool: bool,
    batch: usize,
) -> Result<Vec<SnapshotLayer>> {
    let mut layers: Vec<SnapshotLayer> = Vec::new();
    for chunk in indices.chunks(batch.max(1)) {
        let (x, _) = test.batch(chunk, None, net.device())?;
        let mut cap = Captured::default();
        net.model.forward(&x, false, Some(&mut cap))?;
        append_captured(net, cap, no_pool, &mut layers)?;
    }
    layers.sort_by_key(|l| net.arch.capture_index(&l.name));
    Ok(layers)
}

/// Appends one batch's captured activations, each reduced as its capture point declares, to the
/// rows of `layers` (a new layer for a capture point not yet there; not sorted).
pub fn append_captured(
    net: &Network,
    cap: Captured,
    no_pool: bool,
    layers: &mut Vec<SnapshotLayer>,
) -> Result<()> {
    for (name, t) in cap.0 {
        let original_shape: Vec<u32> = t.dims()[1..].iter().map(|&d| d as u32).collect();
        let reduce = reduction(net.arch.reduction(&name), no_pool);
        let t = match reduce {
            Reduce::Pool => t.mean((2, 3))?,
            Reduce::TokenMean => t.mean(1)?,
            Reduce::Flatten => t.flatten_from(1)?,
            Reduce::Keep => t,
        };
        let values = t.flatten_all()?.to_vec1::<f32>()?;
        match layers.iter_mut().find(|l| l.name == name) {
            Some(l) => l.values.extend(values),
            None => layers.push(SnapshotLayer {
                name,
                original_shape,
                reduction: match reduce {
                    Reduce::Pool | Reduce::TokenMean => Reduction::Pooled,
                    Reduce::Flatten => Reduction::Flattened,
                    Reduce::Keep => Reduction::AsIs,
                },
                sample_shape: t.dims()[1..].iter().map(|&d| d as u32).collect(),
                values,
            }),
        }
    }
    Ok(())
}
