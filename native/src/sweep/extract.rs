//! Activations of the N analysed samples at the layers of DESIGN.md §3, as snapshot layers.

use crate::data::Images;
use crate::model::{Captured, Network, CAPTURE_LAYERS};
use anyhow::Result;
use reps::formats::snapshot::SnapshotLayer;

/// Runs `net` (evaluation mode) on the images `indices` of `test` and returns the layers of
/// [`CAPTURE_LAYERS`] and the logits. `conv1` and `layer1`…`layer4` are global-average-pooled to
/// N × C unless `no_pool`; `layer4.1.conv2` is flattened (C × H × W per sample); `avgpool` is
/// N × C; `fc` are the logits.
pub fn extract(
    net: &Network,
    test: &Images,
    indices: &[usize],
    no_pool: bool,
    batch: usize,
) -> Result<(Vec<SnapshotLayer>, SnapshotLayer)> {
    let mut layers: Vec<SnapshotLayer> = Vec::new();
    for chunk in indices.chunks(batch.max(1)) {
        let (x, _) = test.batch(chunk, None, &net.device)?;
        let mut cap = Captured::default();
        net.model.forward(&x, false, Some(&mut cap))?;
        for (name, t) in cap.0 {
            let pool =
                !no_pool && (name == "conv1" || name.starts_with("layer") && !name.contains('.'));
            let t = if pool && t.rank() == 4 {
                t.mean((2, 3))?
            } else {
                t
            };
            let sample_shape: Vec<u32> = t.dims()[1..].iter().map(|&d| d as u32).collect();
            let values = t.flatten_all()?.to_vec1::<f32>()?;
            match layers.iter_mut().find(|l| l.name == name) {
                Some(l) => l.values.extend(values),
                None => layers.push(SnapshotLayer {
                    name,
                    sample_shape,
                    values,
                }),
            }
        }
    }
    layers.sort_by_key(|l| CAPTURE_LAYERS.iter().position(|n| *n == l.name));
    let logits = layers
        .iter()
        .find(|l| l.name == "fc")
        .cloned()
        .expect("fc is always captured");
    Ok((layers, logits))
}
