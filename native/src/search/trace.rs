//! Forward passes of search candidates that start where a candidate differs from one already
//! run. A candidate of the search differs from the original, or from the current candidate, in
//! one layer: the segments of the network before that layer's ([`Model::segments`]) see the same
//! inputs as before, so their outputs are taken from the earlier run instead of computed again.
//! Each segment runs on the same batches as a whole forward pass would, so the result is bit for
//! bit that of [`crate::sweep::extract::extract`].
//!
//! [`Model::segments`]: crate::model::Model::segments

use crate::data::Images;
use crate::model::{Captured, Network};
use crate::sweep::extract::append_captured;
use anyhow::{Context, Result};
use candle_core::Tensor;
use reps::formats::snapshot::SnapshotLayer;
use reps::search::Timing;
use std::collections::VecDeque;

/// Recent candidates' runs kept beside the original's. Three cover the lazy greedy search: the
/// current candidate, the move measured last, and the one before it (which may be taken without
/// being measured again). Each run holds every segment's input for every calibration image: for
/// the quick preset's ResNet (width 16) and 256 images about 80 MB.
const RECENT: usize = 3;

/// A candidate's run: its per-layer values and, per calibration batch, each segment's input and
/// what it captured of the compared layers.
struct Trace {
    values: Vec<Option<f64>>,
    batches: Vec<BatchTrace>,
}

struct BatchTrace {
    inputs: Vec<Tensor>,
    captured: Vec<Vec<(String, Tensor)>>,
}

/// The runs kept, and how the searched layers map to segments.
pub struct Traces {
    /// The segment of each searched layer (weight tensors in name order).
    segment_of: Vec<usize>,
    original: Option<Trace>,
    /// Most recently used last.
    recent: VecDeque<Trace>,
}

/// The images of one run and what it keeps.
pub struct Inputs<'a> {
    pub images: &'a Images,
    pub indices: &'a [usize],
    pub batch: usize,
    pub no_pool: bool,
    /// The capture points kept (the compared layers).
    pub layers: &'a [String],
}

impl Traces {
    /// Runs of `net`'s candidates whose searched layers are `layers` (parameter names).
    pub fn new(net: &Network, layers: &[String]) -> Result<Self> {
        let segment_of = layers
            .iter()
            .map(|name| {
                net.model
                    .segment_of(name)
                    .with_context(|| format!("the network has no parameter {name}"))
            })
            .collect::<Result<_>>()?;
        Ok(Traces {
            segment_of,
            original: None,
            recent: VecDeque::new(),
        })
    }

    /// The first segment whose input or parameters differ between a run of `a` and one of `b`
    /// (the number of segments when none does).
    fn first_difference(&self, a: &[Option<f64>], b: &[Option<f64>], segments: usize) -> usize {
        a.iter()
            .zip(b)
            .zip(&self.segment_of)
            .filter(|((x, y), _)| x != y)
            .map(|(_, &s)| s)
            .min()
            .unwrap_or(segments)
    }

    /// The compared layers of `net`, whose weights are now those of the candidate `values`, on
    /// the images of `inputs` (unsorted, as [`append_captured`] leaves them). The first run is
    /// kept as the original's; later ones start from the kept run that shares the most segments.
    /// The segments run and reused are added to `timing`.
    pub fn run(
        &mut self,
        net: &Network,
        values: &[Option<f64>],
        inputs: &Inputs,
        timing: &mut Timing,
    ) -> Result<Vec<SnapshotLayer>> {
        let segments = net.model.segments();
        // The kept run sharing the most segments, the most recent among equals.
        let mut base: Option<(usize, Option<usize>)> = None;
        if let Some(o) = &self.original {
            base = Some((self.first_difference(&o.values, values, segments), None));
        }
        for (i, t) in self.recent.iter().enumerate() {
            let start = self.first_difference(&t.values, values, segments);
            if base.is_none_or(|(best, _)| start >= best) {
                base = Some((start, Some(i)));
            }
        }
        let (start, kept) = match base {
            Some((start, Some(i))) => {
                // Most recently used goes last.
                let t = self.recent.remove(i).expect("an index of recent");
                self.recent.push_back(t);
                (start, self.recent.back())
            }
            Some((start, None)) => (start, self.original.as_ref()),
            None => (0, None),
        };
        let chunks: Vec<&[usize]> = inputs.indices.chunks(inputs.batch.max(1)).collect();
        let mut batches = Vec::with_capacity(chunks.len());
        let mut layers = Vec::new();
        for (b, chunk) in chunks.iter().enumerate() {
            let (mut kept_inputs, mut captured, mut h) = match kept {
                Some(t) => {
                    let bt = &t.batches[b];
                    let h = bt.inputs.get(start).cloned();
                    (
                        bt.inputs[..start].to_vec(),
                        bt.captured[..start].to_vec(),
                        h,
                    )
                }
                None => (Vec::new(), Vec::new(), None),
            };
            if start == 0 {
                h = Some(inputs.images.batch(chunk, None, net.device())?.0);
            }
            for k in start..segments {
                let x = h.take().expect("a segment's input");
                let mut cap = Captured::default();
                let y = net.model.forward_segment(k, &x, false, Some(&mut cap))?;
                // Detached, a kept tensor holds its values only, not the graph of operations
                // (im2col buffers included) that made it from the network's variables.
                cap.0.retain(|(name, _)| inputs.layers.contains(name));
                captured.push(cap.0.into_iter().map(|(n, t)| (n, t.detach())).collect());
                kept_inputs.push(x);
                h = Some(y.detach());
            }
            let all = Captured(captured.iter().flatten().cloned().collect());
            append_captured(net, all, inputs.no_pool, &mut layers)?;
            batches.push(BatchTrace {
                inputs: kept_inputs,
                captured,
            });
        }
        timing.segments_run += segments - start;
        timing.segments_reused += start;
        let trace = Trace {
            values: values.to_vec(),
            batches,
        };
        if self.original.is_none() {
            self.original = Some(trace);
        } else if start < segments {
            // (A candidate identical to a kept run is already kept.)
            self.recent.push_back(trace);
            if self.recent.len() > RECENT {
                self.recent.pop_front();
            }
        }
        Ok(layers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::synthetic;
    use crate::sweep::extract::extract;

    /// A sequence of candidates (the original, one layer moved, a second on top, back to the
    /// first, the original again, a layer of the stem) gives, bit for bit, the compared layers of
    /// a whole forward pass, while starting each run at the first segment that differs from the
    /// best kept run: the segments taken from kept runs are counted by hand.
    #[test]
    fn runs_from_the_first_changed_segment_equal_whole_passes() {
        let net = Network::untrained("resnet18", 4, 5);
        let arch = net.arch;
        let original = net.weights().unwrap();
        let names: Vec<String> = original.iter().map(|w| w.name.clone()).collect();
        let at = |name: &str| names.iter().position(|n| n == name).unwrap();
        let data = synthetic::generate(2, 20, 4);
        let indices: Vec<usize> = (0..20).collect();
        let layers: Vec<String> = arch.default_layers.iter().map(|l| l.to_string()).collect();
        let inputs = Inputs {
            images: &data.train,
            indices: &indices,
            batch: 8,
            no_pool: false,
            layers: &layers,
        };
        let mut traces = Traces::new(&net, &names).unwrap();
        let mut timing = Timing::default();
        let none = vec![None; names.len()];
        let moved = |changes: &[(&str, f64)]| {
            let mut v = none.clone();
            for (name, x) in changes {
                v[at(name)] = Some(*x);
            }
            v
        };
        // Segments: conv1 0, layer2.1 4, layer3.0 5, fc 9 (of 10).
        let a = moved(&[("layer3.0.conv1.weight", 0.5)]);
        let ab = moved(&[
            ("layer3.0.conv1.weight", 0.5),
            ("layer2.1.conv2.weight", 0.5),
        ]);
        let ac = moved(&[("layer3.0.conv1.weight", 0.5), ("fc.weight", 0.25)]);
        let stem = moved(&[("conv1.weight", 2.0)]);
        let sequence = [
            (none.clone(), 0),
            (a.clone(), 5),  // from the original
            (ab.clone(), 4), // from the original (layer2.1 differs from `a` too)
            (ac.clone(), 9), // from `a`
            (a.clone(), 10), // `a` itself: nothing runs
            (none.clone(), 10),
            (stem, 0),
        ];
        let mut reused = 0;
        for (values, start) in sequence {
            let mut w = original.clone();
            for (t, v) in w.iter_mut().zip(&values) {
                if let Some(v) = v {
                    t.values.iter_mut().for_each(|x| *x *= *v as f32);
                }
            }
            net.set_weights(&w).unwrap();
            let mut got = traces.run(&net, &values, &inputs, &mut timing).unwrap();
            got.sort_by_key(|l| arch.capture_index(&l.name));
            let mut whole = extract(&net, &data.train, &indices, false, 8).unwrap();
            whole.retain(|l| layers.contains(&l.name));
            assert_eq!(got.len(), 2);
            for (g, e) in got.iter().zip(&whole) {
                assert_eq!(g.name, e.name);
                assert_eq!(g.sample_shape, e.sample_shape);
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&g.values), bits(&e.values), "{}", g.name);
            }
            reused += start;
            assert_eq!(timing.segments_reused, reused, "{values:?}");
        }
        assert_eq!(timing.segments_run + timing.segments_reused, 7 * 10);
    }
}
