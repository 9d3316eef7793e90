//! Compression methods as a registry: each is one file with a `pub const METHOD` descriptor
//! (its name, its parameter's name, its default grid of 8 values, whether it trains), listed in
//! [`METHODS`]. The sweep makes one model per grid value; a method that trains chooses the
//! training images of a model trained from scratch, one that does not changes the original's
//! weights (without fine-tuning).
//!
//! Adding one: write `compress/<name>.rs` with a `pub const METHOD: CompressionMethod`, and add
//! it to [`METHODS`].

pub mod channel_prune;
pub mod coreset;
pub mod lowrank;
pub mod prune;
pub mod quantize;

use crate::model::WeightTensor;
use anyhow::Result;
use candle_core::Device;
use coreset::{Coreset, CoresetMethod};
use quantize::QuantMode;

/// Every method, in the order of the tables: the paper's three first.
pub const METHODS: &[CompressionMethod] = &[
    coreset::METHOD,
    prune::METHOD,
    quantize::METHOD,
    channel_prune::METHOD,
    lowrank::METHOD,
];

/// The paper's methods, the default selection.
pub const PAPER_METHODS: [&str; 3] = ["coreset", "prune", "quant"];

/// The method named `name`.
pub fn find(name: &str) -> Option<&'static CompressionMethod> {
    METHODS.iter().find(|m| m.name == name)
}

/// The names of [`METHODS`], for messages and `--help`.
pub fn names() -> Vec<&'static str> {
    METHODS.iter().map(|m| m.name).collect()
}

/// The settings methods read besides their parameter.
#[derive(Clone, Copy, Debug)]
pub struct MethodSettings {
    pub coreset: CoresetMethod,
    pub quant_mode: QuantMode,
    pub seed: u64,
}

/// What a method that trains chooses its images from.
pub struct SubsetInput<'a> {
    /// Training-set indices of each class.
    pub by_class: &'a [Vec<usize>],
    /// The original model's embedding of every training image (rows of the given width),
    /// computed on first use.
    pub embeddings: &'a mut dyn FnMut() -> Result<(Vec<f32>, usize)>,
    pub settings: MethodSettings,
    pub device: &'a Device,
}

/// How a method makes its model from a parameter value.
#[derive(Clone, Copy)]
pub enum Make {
    /// A network trained from scratch on the images (and per-image loss weights) chosen.
    Train(fn(&mut SubsetInput, f64) -> Result<Coreset>),
    /// The original network with its [`crate::model::params::Role::Weight`] tensors changed.
    Weights(fn(&mut [WeightTensor], f64, &MethodSettings) -> Result<()>),
}

/// One compression method.
pub struct CompressionMethod {
    /// Its name in `--methods`, model names (`<name>-<value>`) and the snapshot.
    pub name: &'static str,
    /// What its parameter is (`fraction`, `ratio`, `bits`, ...).
    pub parameter: &'static str,
    /// One line for `--help`.
    pub about: &'static str,
    /// The default values of its parameter, one model each.
    pub grid: [f64; 8],
    /// Why `value` is not a valid parameter, if it is not.
    pub check: fn(f64) -> Option<String>,
    pub make: Make,
    /// How `native search` allocates it layer by layer; `None` for a method it cannot search
    /// (one that trains).
    pub search: Option<LayerSearch>,
}

/// What `native search` needs of a method it applies one weight tensor at a time.
#[derive(Clone, Copy, Debug)]
pub struct LayerSearch {
    /// The default ladder of levels, from least to most compressed (the untouched layer comes
    /// before the first).
    pub ladder: &'static [f64],
    /// What the model's budget measures (`sparsity`, `average bits`, `kept share`).
    pub budget: &'static str,
    pub direction: reps::search::Direction,
    /// The budget's amount per parameter of a tensor of shape `dims` at `level`, or untouched
    /// (`None`): the share of its weights zeroed, its bits per weight, the share of its
    /// parameters kept.
    pub amount: fn(dims: &[usize], level: Option<f64>) -> f64,
    /// For a method with a rule of its own over all layers at once (a global threshold), which
    /// the search compares as the strategy `global`: the value that, applied to a layer alone,
    /// reproduces what the rule made of it (the share of its weights or channels it zeroed).
    pub global: Option<fn(&WeightTensor) -> f64>,
}

impl CompressionMethod {
    /// Whether its models are trained (from scratch) rather than derived from the original.
    pub fn trains(&self) -> bool {
        matches!(self.make, Make::Train(_))
    }
}

/// `check` for a parameter in [0, 1].
pub fn unit_interval(v: f64) -> Option<String> {
    (!(0.0..=1.0).contains(&v)).then(|| format!("{v} is not in [0, 1]"))
}

/// `check` for a parameter in (0, 1].
pub fn positive_fraction(v: f64) -> Option<String> {
    (!(v > 0.0 && v <= 1.0)).then(|| format!("{v} is not in (0, 1]"))
}

/// The share of `count` items a ratio zeroes, as the pruning methods count them:
/// `min(round(ratio · count), count) / count` (0 untouched or without items).
pub fn zeroed_share(count: usize, ratio: Option<f64>) -> f64 {
    match ratio {
        Some(r) if count > 0 => {
            ((r.clamp(0.0, 1.0) * count as f64).round() as usize).min(count) as f64 / count as f64
        }
        _ => 0.0,
    }
}
