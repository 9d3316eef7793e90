//! Candidates of a search and their measurement: the original with some layers compressed, run
//! on the calibration images and compared with the original's activations there.

use super::trace::{Inputs, Traces};
use crate::compress::{CompressionMethod, Make, MethodSettings};
use crate::data::Images;
use crate::interrupt;
use crate::model::{Network, WeightTensor};
use crate::sweep::Interrupted;
use anyhow::{Context, Result};
use reps::activations::{Activations, Values};
use reps::analysis::{sample_bootstrap_at, AnalysisInput, AnalysisOptions, ModelInput, Reference};
use reps::search::{Measurement, Timing};
use std::collections::HashMap;
use std::time::Instant;

/// `w` compressed alone with `method`'s parameter `v`: the method applied to it as to a model of
/// one weight tensor (the values of a search's candidate and of a recipe's model).
pub fn compress_layer(
    method: &CompressionMethod,
    settings: &MethodSettings,
    w: &WeightTensor,
    v: f64,
) -> Result<Vec<f32>> {
    let Make::Weights(apply) = method.make else {
        anyhow::bail!(
            "{} trains its models; it cannot compress a layer",
            method.name
        )
    };
    let mut one = [w.clone()];
    apply(&mut one, v, settings).with_context(|| format!("{} {v} on {}", method.name, w.name))?;
    let [w] = one;
    Ok(w.values)
}

/// The per-layer values of a candidate: `None` untouched, else the method's parameter.
pub type LayerValues = [Option<f64>];

/// The calibration images and what is compared on them.
pub struct Calibration<'a> {
    pub images: &'a Images,
    /// The images used, by index.
    pub indices: &'a [usize],
    pub no_pool: bool,
    /// The compared layers (the architecture's two default layers).
    pub layers: Vec<String>,
}

/// Makes and measures candidates.
pub struct Measurer<'a> {
    net: &'a Network,
    original: Vec<WeightTensor>,
    method: &'static CompressionMethod,
    settings: MethodSettings,
    /// Compressed tensors by layer and parameter bits (each computed once).
    cache: HashMap<(usize, u64), Vec<f32>>,
    calibration: Calibration<'a>,
    /// Earlier candidates' forward passes, to start each one where it differs.
    traces: Traces,
    reference: Reference,
    /// With `--confidence`: the level and resamples of REPS's sample bootstrap.
    confidence: Option<(f64, usize, u64)>,
    pub timing: Timing,
}

/// Calibration images per forward pass. A profile of the quick preset's ResNet found the same
/// time per image from 32 to 256 (the convolutions' im2col and GEMM dominate); 64 keeps the
/// im2col buffers small.
const CALIBRATION_BATCH: usize = 64;

/// The sample-bootstrap resamples behind `--confidence`.
pub const CONFIDENCE_RESAMPLES: usize = 200;

impl<'a> Measurer<'a> {
    /// A measurer of candidates made from `net`'s current weights (the original) with `method`,
    /// compared on `calibration`; with `confidence` (a level and a seed) each measurement holds
    /// the lower end of REPS's sample-bootstrap interval.
    pub fn new(
        net: &'a Network,
        method: &'static CompressionMethod,
        settings: MethodSettings,
        calibration: Calibration<'a>,
        confidence: Option<(f64, u64)>,
    ) -> Result<Self> {
        let mut timing = Timing::default();
        let original = net.weights()?;
        let names: Vec<String> = original.iter().map(|w| w.name.clone()).collect();
        let mut traces = Traces::new(net, &names)?;
        let none = vec![None; original.len()];
        let input = calibration.activations(net, &mut traces, &none, "original", &mut timing)?;
        let top_m = AnalysisOptions::default().top_m;
        Ok(Measurer {
            net,
            original,
            traces,
            method,
            settings,
            cache: HashMap::new(),
            reference: Reference::new(input, &calibration.layers, None, top_m)?,
            calibration,
            confidence: confidence.map(|(level, seed)| (level, CONFIDENCE_RESAMPLES, seed)),
            timing,
        })
    }

    /// The searched layers: every weight tensor, by name.
    pub fn weights(&self) -> &[WeightTensor] {
        &self.original
    }

    /// The original's measurement against itself (every score at its best).
    pub fn untouched(&mut self) -> Result<Measurement> {
        let none = vec![None; self.original.len()];
        self.measure(&none)
    }

    /// The weights of the candidate `values`: each layer untouched or compressed alone with its
    /// value.
    pub fn candidate_weights(&mut self, values: &LayerValues) -> Result<Vec<WeightTensor>> {
        let mut out = self.original.clone();
        for (i, v) in values.iter().enumerate() {
            if let Some(v) = v {
                out[i].values = self.compressed(i, *v)?.to_vec();
            }
        }
        Ok(out)
    }

    /// Layer `i` compressed alone with parameter `v` (computed once).
    fn compressed(&mut self, i: usize, v: f64) -> Result<&[f32]> {
        let key = (i, v.to_bits());
        if !self.cache.contains_key(&key) {
            let started = Instant::now();
            let values = compress_layer(self.method, &self.settings, &self.original[i], v)?;
            self.cache.insert(key, values);
            self.timing.compress_s += started.elapsed().as_secs_f64();
        }
        Ok(&self.cache[&key])
    }

    /// The network the candidates are made in.
    pub fn net(&self) -> &Network {
        self.net
    }

    /// The method's settings (from the sweep).
    pub fn settings(&self) -> MethodSettings {
        self.settings
    }

    /// The network with the candidate `values`' weights.
    pub fn set(&mut self, values: &LayerValues) -> Result<()> {
        let w = self.candidate_weights(values)?;
        self.net.set_weights(&w)
    }

    /// Measures the candidate `values` against the original on the calibration images.
    pub fn measure(&mut self, values: &LayerValues) -> Result<Measurement> {
        if crate::test_hooks::signal_at("search") == Some(self.timing.candidates) {
            interrupt::raise_terminate();
        }
        if interrupt::requested() {
            return Err(Interrupted("stopped by a signal between two candidates".into()).into());
        }
        self.set(values)?;
        let input = self
            .calibration
            .activations(
                self.net,
                &mut self.traces,
                values,
                "candidate",
                &mut self.timing,
            )
            .with_context(|| {
                let moved: Vec<String> = self
                    .original
                    .iter()
                    .zip(values)
                    .filter_map(|(w, v)| v.map(|v| format!("{} at {v}", w.name)))
                    .collect();
                format!("the candidate with {}", moved.join(", "))
            })?;
        let started = Instant::now();
        let report = self.reference.compare(&input)?;
        let lower = match self.confidence {
            Some((level, resamples, seed)) => Some(self.reps_lower(input, level, resamples, seed)?),
            None => None,
        };
        self.timing.analysis_s += started.elapsed().as_secs_f64();
        self.timing.candidates += 1;
        Ok(Measurement::of(&report, lower))
    }

    /// The lower end of the candidate's weighted REPS interval over resamples of the
    /// calibration images.
    fn reps_lower(
        &self,
        input: ModelInput,
        level: f64,
        resamples: usize,
        seed: u64,
    ) -> Result<f64> {
        let pair = AnalysisInput {
            models: vec![self.reference.model().clone(), input],
            labels: None,
        };
        let options = AnalysisOptions {
            layers: Some(self.calibration.layers.clone()),
            ..AnalysisOptions::default()
        };
        let mut report = reps::analysis::analyze(&pair, &options)?;
        sample_bootstrap_at(&pair, &mut report, resamples, seed, level, &mut |_, _| {})?;
        report.models[1]
            .reps_ci
            .map(|[lo, _]| lo)
            .context("the bootstrap gave no interval for REPS")
    }
}

impl Calibration<'_> {
    /// The compared layers of `net` as it is (the candidate `values`), on the calibration
    /// images, with its accuracy there (from their true labels); the forward passes start where
    /// `values` differs from a run in `traces`, and their time is added to `timing`.
    fn activations(
        &self,
        net: &Network,
        traces: &mut Traces,
        values: &LayerValues,
        name: &str,
        timing: &mut Timing,
    ) -> Result<ModelInput> {
        let started = Instant::now();
        let inputs = Inputs {
            images: self.images,
            indices: self.indices,
            batch: CALIBRATION_BATCH,
            no_pool: self.no_pool,
            layers: &self.layers,
        };
        let captured = traces.run(net, values, &inputs, timing)?;
        timing.forward_s += started.elapsed().as_secs_f64();
        let mut layers = Vec::new();
        for wanted in &self.layers {
            let l = captured
                .iter()
                .find(|l| &l.name == wanted)
                .with_context(|| format!("the network has no capture point {wanted}"))?;
            let shape: Vec<usize> = l.sample_shape.iter().map(|&d| d as usize).collect();
            let values = Values::F32(l.values.clone().into());
            layers.push((
                wanted.clone(),
                Activations::new(self.indices.len(), shape, values)?,
            ));
        }
        let mut input = ModelInput::new(name, "calibration", layers);
        input.logits = Some(net.arch.logits().to_string());
        let predicted = input
            .logits()
            .context("the logits are not among the compared layers")?
            .row_argmax();
        let correct = predicted
            .iter()
            .zip(self.indices)
            .filter(|(&p, &i)| p == u32::from(self.images.labels[i]))
            .count();
        input.accuracy = Some(correct as f64 / self.indices.len() as f64);
        Ok(input)
    }
}
