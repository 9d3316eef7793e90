//! Activations of the N analysed samples at the layers of DESIGN.md §3, as snapshot layers.

use crate::data::Images;
use crate::model::{Captured, Network, CAPTURE_LAYERS};
use anyhow::Result;
use reps::formats::snapshot::{Reduction, SnapshotLayer};

/// The layer whose output is the logits.
pub const LOGITS_LAYER: &str = "fc";

/// The reduction a capture point gets: `conv1` and `layer1`…`layer4` are global-average-pooled to
/// N × C unless `no_pool` (then flattened); `layer4.1.conv2` is flattened (C × H × W per sample,
/// as in the paper); `avgpool` and `fc` are stored as they are.
fn reduction(name: &str, rank: usize, no_pool: bool) -> Reduction {
    let stage_output = name == "conv1" || name.starts_with("layer") && !name.contains('.');
    match rank {
        4 if stage_output && !no_pool => Reduction::Pooled,
        4 => Reduction::Flattened,
        _ => Reduction::AsIs,
    }
}

/// Runs `net` (evaluation mode) on the images `indices` of `test` and returns the layers of
/// [`CAPTURE_LAYERS`] in that order, each with its capture shape and reduction; the logits are
/// the layer [`LOGITS_LAYER`].
pub fn extract(
    net: &Network,
    test: &Images,
    indices: &[usize],
    no_pool: bool,
    batch: usize,
) -> Result<Vec<SnapshotLayer>> {
    let mut layers: Vec<SnapshotLayer> = Vec::new();
    for chunk in indices.chunks(batch.max(1)) {
        let (x, _) = test.batch(chunk, None, &net.device)?;
        let mut cap = Captured::default();
        net.model.forward(&x, false, Some(&mut cap))?;
        for (name, t) in cap.0 {
            let original_shape: Vec<u32> = t.dims()[1..].iter().map(|&d| d as u32).collect();
            let reduction = reduction(&name, t.rank(), no_pool);
            let t = match reduction {
                Reduction::Pooled => t.mean((2, 3))?,
                _ => t,
            };
            let sample_shape = match reduction {
                Reduction::Flattened => vec![original_shape.iter().product()],
                _ => t.dims()[1..].iter().map(|&d| d as u32).collect(),
            };
            let values = t.flatten_all()?.to_vec1::<f32>()?;
            match layers.iter_mut().find(|l| l.name == name) {
                Some(l) => l.values.extend(values),
                None => layers.push(SnapshotLayer {
                    name,
                    original_shape,
                    reduction,
                    sample_shape,
                    values,
                }),
            }
        }
    }
    layers.sort_by_key(|l| CAPTURE_LAYERS.iter().position(|n| *n == l.name));
    Ok(layers)
}
