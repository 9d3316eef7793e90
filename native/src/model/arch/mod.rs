//! The architectures `train-sweep --arch` can train: one file each, registered in
//! [`ARCHITECTURES`]. An architecture builds its network from [`Params`] (recording each
//! parameter's role), declares its capture points with the reduction each one gets, the two
//! layers analogous to the paper's (`layer4.1.conv2`, `fc`), the capture point whose rows are
//! CRAIG's embedding, and its training defaults.
//!
//! Adding one: write `arch/<name>.rs` with a `pub const ARCH: Architecture`, and add it to
//! [`ARCHITECTURES`].

mod resnet18;
mod vit_tiny;

use super::layers::Kernels;
use super::params::Params;
use crate::train::OptimizerKind;
use anyhow::Result;
use candle_core::Tensor;

/// Every architecture, the default first.
pub const ARCHITECTURES: &[Architecture] = &[resnet18::ARCH, vit_tiny::ARCH];

/// The architecture named `name`.
pub fn find(name: &str) -> Option<&'static Architecture> {
    ARCHITECTURES.iter().find(|a| a.name == name)
}

/// The names of [`ARCHITECTURES`], for messages and `--help`.
pub fn names() -> Vec<&'static str> {
    ARCHITECTURES.iter().map(|a| a.name).collect()
}

/// The shape of a network to build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetConfig {
    /// The architecture's width (`--width`): first-stage channels of a ResNet, the embedding size
    /// of a ViT.
    pub width: usize,
    pub classes: usize,
    pub kernels: Kernels,
}

/// A built network: logits for a `B × 3 × 32 × 32` batch.
///
/// The forward pass is a chain of segments (a ResNet's stem, each residual block and the head; a
/// ViT's embedding, each block and the head), so that a network whose later parameters changed
/// can be run again from the first segment that reads them (the compression search does).
pub trait Model {
    /// How many segments the forward pass chains.
    fn segments(&self) -> usize;

    /// Segment `k` (`0 ≤ k < segments()`): from the output of segment `k − 1` (the images for
    /// `k = 0`) to its own output (the logits for the last), appending its capture points to
    /// `capture` as they are computed.
    fn forward_segment(
        &self,
        k: usize,
        x: &Tensor,
        train: bool,
        capture: Option<&mut Captured>,
    ) -> Result<Tensor>;

    /// The segment that reads the parameter `name` (`None` for a name the network does not have).
    fn segment_of(&self, name: &str) -> Option<usize>;

    /// Logits (B × classes): every segment in turn. In training mode BatchNorm uses batch
    /// statistics and updates its running averages. With `capture`, every capture point's
    /// activation is appended as it is computed (before its reduction).
    fn forward(
        &self,
        x: &Tensor,
        train: bool,
        mut capture: Option<&mut Captured>,
    ) -> Result<Tensor> {
        let mut h = x.clone();
        for k in 0..self.segments() {
            h = self.forward_segment(k, &h, train, capture.as_deref_mut())?;
        }
        Ok(h)
    }
}

/// Activations captured during one forward pass, by capture point, in the order computed.
#[derive(Default)]
pub struct Captured(pub Vec<(String, Tensor)>);

impl Captured {
    /// Appends `t` as the capture point `name`, when capturing.
    pub fn keep(slot: &mut Option<&mut Captured>, name: &str, t: &Tensor) {
        if let Some(c) = slot.as_deref_mut() {
            c.0.push((name.to_string(), t.clone()));
        }
    }
}

/// What is done to a capture point's activation before it is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduce {
    /// `B × C × H × W` averaged over H and W to `B × C` (flattened instead with `--no-pool`).
    Pool,
    /// `B × T × D` averaged over the T tokens to `B × D` (flattened instead with `--no-pool`).
    TokenMean,
    /// Flattened per sample.
    Flatten,
    /// Stored as it is (already `B × D`).
    Keep,
}

/// A named activation an architecture exposes for analysis.
#[derive(Clone, Copy, Debug)]
pub struct CapturePoint {
    pub name: &'static str,
    pub reduce: Reduce,
}

/// Training hyper-parameters of one preset.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hyper {
    pub width: usize,
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    pub weight_decay: f64,
    pub optimizer: OptimizerKind,
    /// Epochs of linear learning-rate warm-up before the schedule.
    pub warmup_epochs: usize,
}

/// One architecture's descriptor.
pub struct Architecture {
    /// Its `--arch` name, also the snapshot's `architecture`.
    pub name: &'static str,
    /// One line for `--help`.
    pub about: &'static str,
    /// Builds the network's layers, creating their parameters under `p`.
    pub build: fn(&NetConfig, &Params) -> Result<Box<dyn Model>>,
    /// Why `width` cannot be built, if it cannot.
    pub check_width: fn(usize) -> Option<String>,
    /// Capture points in the order they are stored; the last is the logits.
    pub capture_points: &'static [CapturePoint],
    /// The layers analogous to the paper's `layer4.1.conv2` and `fc`, analysed by default.
    pub default_layers: [&'static str; 2],
    /// The capture point whose rows are CRAIG's embedding of an image.
    pub embedding: &'static str,
    /// Defaults of the quick preset (synthetic data, 2 CPU cores).
    pub quick: Hyper,
    /// Defaults of the paper preset.
    pub paper: Hyper,
    /// A rough upper bound of training's memory in bytes for (width, batch size): weights,
    /// gradients, optimizer state, a derived copy, and one batch's activations.
    pub training_memory: fn(usize, usize) -> f64,
}

impl Architecture {
    /// The capture point that holds the logits.
    pub fn logits(&self) -> &'static str {
        self.capture_points
            .last()
            .map(|c| c.name)
            .unwrap_or("logits")
    }

    /// The reduction of the capture point `name` (`Keep` for one not declared).
    pub fn reduction(&self, name: &str) -> Reduce {
        self.capture_points
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.reduce)
            .unwrap_or(Reduce::Keep)
    }

    /// Its position among the capture points (for ordering stored layers).
    pub fn capture_index(&self, name: &str) -> usize {
        self.capture_points
            .iter()
            .position(|c| c.name == name)
            .unwrap_or(usize::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compress;
    use crate::model::params::Role;
    use crate::model::Network;
    use candle_core::Device;

    /// The smallest width in 2..=16 each architecture builds.
    fn small_width(a: &Architecture) -> usize {
        (2..=16).find(|w| (a.check_width)(*w).is_none()).unwrap()
    }

    /// Every parameter has a role; every multiplied tensor (rank ≥ 2, not an embedding) is a
    /// `Weight`, starts from random values, and is what pruning covers; running statistics are
    /// not trained; the declared layers exist and agree with the analysis default.
    #[test]
    fn roles_initialisation_and_declarations() {
        for a in ARCHITECTURES {
            let cfg = NetConfig {
                width: small_width(a),
                classes: 10,
                kernels: Kernels::Gemm,
            };
            let net = Network::new(a, &cfg, 1, &Device::Cpu).unwrap();
            let params = net.params.all();
            let vars = net.params.varmap().data().lock().unwrap().len();
            assert_eq!(params.len(), vars, "{}: a variable without a role", a.name);
            let mut multiplied = Vec::new();
            for p in &params {
                let values = p
                    .var
                    .as_tensor()
                    .flatten_all()
                    .unwrap()
                    .to_vec1::<f32>()
                    .unwrap();
                let constant = values.iter().all(|v| *v == values[0]);
                if p.var.rank() >= 2 && p.spec.role != Role::Embedding {
                    assert_eq!(p.spec.role, Role::Weight, "{}: {}", a.name, p.name);
                    multiplied.push(p.name.clone());
                }
                if p.spec.role == Role::Weight {
                    assert!(!constant, "{}: {} starts constant", a.name, p.name);
                }
                if p.spec.role == Role::RunningStatistic {
                    assert!(!p.spec.role.trained());
                }
            }
            assert!(!multiplied.is_empty());
            let trained = net.trainable().len();
            let running = params.iter().filter(|p| !p.spec.role.trained()).count();
            assert_eq!(trained + running, params.len());
            // Pruning half of the weights zeroes half of every multiplied tensor's union, and
            // covers every multiplied tensor.
            let mut weights = net.weights().unwrap();
            let names: Vec<String> = weights.iter().map(|w| w.name.clone()).collect();
            assert_eq!(names, multiplied, "{}", a.name);
            let compress::Make::Weights(prune) = compress::find("prune").unwrap().make else {
                panic!("prune derives from the original")
            };
            let settings = compress::MethodSettings {
                coreset: compress::coreset::CoresetMethod::Random,
                quant_mode: compress::quantize::QuantMode::PerTensor,
                seed: 0,
            };
            prune(&mut weights, 0.5, &settings).unwrap();
            let total: usize = weights.iter().map(|w| w.values.len()).sum();
            let zeros = weights
                .iter()
                .flat_map(|w| &w.values)
                .filter(|v| **v == 0.0)
                .count();
            assert_eq!(zeros, (total as f64 * 0.5).round() as usize, "{}", a.name);
            // Declarations: the forward pass captures exactly the declared points, in order.
            let points: Vec<String> = a
                .capture_points
                .iter()
                .map(|c| c.name.to_string())
                .collect();
            let x =
                candle_core::Tensor::zeros((2, 3, 32, 32), candle_core::DType::F32, &Device::Cpu)
                    .unwrap();
            let mut cap = Captured::default();
            net.model.forward(&x, false, Some(&mut cap)).unwrap();
            let captured: Vec<String> = cap.0.into_iter().map(|(n, _)| n).collect();
            assert_eq!(captured, points, "{}", a.name);
            for name in a.default_layers.iter().chain([&a.embedding]) {
                assert!(points.iter().any(|p| p == name), "{}: {name}", a.name);
            }
            assert_eq!(
                reps::analysis::default_layers(&points),
                a.default_layers,
                "{}",
                a.name
            );
        }
    }

    /// Running from segment `segment_of(p)` on the unchanged network's input to it gives, after
    /// `p` changed, the logits and captures of a whole forward pass, bit for bit; starting one
    /// segment later (with the stale input) does not, so `p` is read in that segment and no
    /// earlier one. Checked for every parameter of every architecture.
    #[test]
    fn segments_restart_where_a_parameter_is_read() {
        for a in ARCHITECTURES {
            let cfg = NetConfig {
                width: small_width(a),
                classes: 10,
                kernels: Kernels::Gemm,
            };
            let net = Network::new(a, &cfg, 3, &Device::Cpu).unwrap();
            let x = wavy(2 * 3 * 32 * 32).reshape((2, 3, 32, 32)).unwrap();
            let n = net.model.segments();
            let mut inputs = vec![x.clone()];
            for k in 0..n {
                let y = net
                    .model
                    .forward_segment(k, &inputs[k], false, None)
                    .unwrap();
                inputs.push(y);
            }
            let whole = net.model.forward(&x, false, None).unwrap();
            assert_eq!(bits(&whole), bits(&inputs[n]), "{}: the chain", a.name);
            assert!(net.model.segment_of("no.such.parameter").is_none());
            for p in net.params.all() {
                let k = net.model.segment_of(&p.name).unwrap_or_else(|| {
                    panic!("{}: {} has no segment", a.name, p.name);
                });
                assert!(k < n, "{}: {}", a.name, p.name);
                let before = p.var.as_tensor().copy().unwrap();
                // Not a constant shift, which a LayerNorm after it would remove.
                let change = wavy(before.elem_count()).reshape(before.dims()).unwrap();
                p.var.set(&(&before + change).unwrap()).unwrap();
                let mut full = Captured::default();
                let expected = net.model.forward(&x, false, Some(&mut full)).unwrap();
                let from = |start: usize| {
                    let mut h = inputs[start].clone();
                    let mut cap = Captured::default();
                    for j in start..n {
                        h = net
                            .model
                            .forward_segment(j, &h, false, Some(&mut cap))
                            .unwrap();
                    }
                    (h, cap)
                };
                let (got, cap) = from(k);
                assert_eq!(bits(&got), bits(&expected), "{}: {}", a.name, p.name);
                let tail: Vec<_> = full.0[full.0.len() - cap.0.len()..].to_vec();
                for ((n1, t1), (n2, t2)) in cap.0.iter().zip(&tail) {
                    assert_eq!(n1, n2);
                    assert_eq!(bits(t1), bits(t2), "{}: {} at {n1}", a.name, p.name);
                }
                if k + 1 < n {
                    let (stale, _) = from(k + 1);
                    assert_ne!(bits(&stale), bits(&expected), "{}: {}", a.name, p.name);
                }
                p.var.set(&before).unwrap();
            }
        }
    }

    /// `sin(0.37 i)`, i = 0 … n − 1: varied values, the same on every run.
    fn wavy(n: usize) -> candle_core::Tensor {
        let v: Vec<f32> = (0..n).map(|i| (0.37 * i as f32).sin()).collect();
        candle_core::Tensor::new(v, &Device::Cpu).unwrap()
    }

    fn bits(t: &candle_core::Tensor) -> Vec<u32> {
        let v = t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        v.into_iter().map(f32::to_bits).collect()
    }
}
