//! Command-line arguments.

use crate::compress::coreset::CoresetMethod;
use crate::compress::quantize::QuantMode;
use crate::model::{arch, Kernels};
use crate::sweep::config::{DatasetChoice, Preset, SweepConfig};
use crate::sweep::Stage;
use crate::train::{OptimizerKind, Schedule};
use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// reps: how did compression change a network's internal representations?
///
/// Computes the REPS metric (effective rank, alive neurons, class separation, eigenvalue decay),
/// linear CKA and the paper's baselines between a reference model and compressed models, and how
/// well each score tracks accuracy drop.
#[derive(Debug, Parser)]
#[command(name = "native", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Analyse a `.reps` snapshot, or one activation file per model (.npz, .npy, .safetensors).
    ///
    /// Per-model files: every float array whose first axis is N is a layer (flattened per
    /// sample); reserved keys are `labels` (N integers), `logits` (N × K; also analysed as the
    /// layer `logits`), `accuracy` (a scalar), `method` (a string such as "distill"; the model's
    /// method in the report, `external` without it), `parameter` (a number) and `parameter_name`
    /// (a string). In `.safetensors` files the last three go in the header's `__metadata__`.
    /// The model name is the file stem.
    #[command(
        after_help = "Examples:\n  native analyze runs/quick/sweep.reps\n  native analyze ref.npz pruned.npz quant4.npz --format json --out report.json\n  native analyze a.npz b.npz --labels labels.npy --layers layer3,fc --weights 0.25,0.25,0.25,0.25"
    )]
    Analyze(AnalyzeArgs),

    /// Pack one activation file per model into a single `.reps` snapshot.
    ///
    /// Reads the files as `analyze` does (the first is the reference; names are file stems;
    /// `labels`, `logits`, `accuracy`, `method`, `parameter` and `parameter_name` as described
    /// there) and writes every model with every layer into one file that `analyze` and the viewer
    /// open on its own (`?snapshot=URL`): `native analyze NAME.reps` gives the numbers of
    /// `native analyze FILES...`. Values are stored as float32. A single `.reps` snapshot is
    /// written again in the current format version (upgrading version-1 files).
    #[command(
        after_help = "Examples:\n  native pack ref.npz distilled.npz lowrank.npz --out study.reps\n  native pack ref.safetensors q4.safetensors --labels labels.npy --out q4.reps"
    )]
    Pack(PackArgs),

    /// Train a network, compress it 24 ways (or more), evaluate, extract activations; write the snapshot and Tables 1–3.
    ///
    /// Makes the original model (--arch: resnet18, the paper's, or vit-tiny) and one model per
    /// value of each method's grid (--methods: by default the paper's 8 coreset models trained
    /// from scratch on fractions of the training set, 8 pruned and 8 quantized copies; also
    /// channel-prune and lowrank); evaluates all on the test set; extracts the activations of N
    /// class-balanced test images at the architecture's capture points; writes `sweep.reps`, `tables.md`,
    /// `results.json`, one checkpoint per model and `sweep.log` into --out. Rerunning the same
    /// command resumes: a finished model is reused when its files still have the content recorded
    /// in `manifest.json` (otherwise it is made again, and `sweep.log` says why); other settings
    /// into the same --out are refused; one run at a time holds --out (`.lock`). Every setting
    /// starts from --preset and can be overridden by its flag.
    #[command(
        name = "train-sweep",
        after_help = "Examples:\n  native train-sweep                       # quick preset: synthetic data, CPU, a few minutes\n  native train-sweep --preset paper --data-dir cifar-10-batches-bin --device cuda\n  native train-sweep --width 16 --epochs 10 --out runs/wider\n  native train-sweep --arch vit-tiny --methods all --out runs/vit\n  native train-sweep --methods prune,channel-prune --grid channel-prune=0.1,0.3,0.5"
    )]
    TrainSweep(Box<TrainSweepArgs>),

    /// Compress a sweep's original layer by layer, guided by REPS without labels, against rival allocations at the same budget.
    ///
    /// Each weight tensor gets its own level of --method (prune, quant, lowrank, channel-prune)
    /// from a ladder. Candidates are measured against the original on --calibration training
    /// images: REPS of the architecture's two default layers (pseudo-labels from the original),
    /// every component, CKA and prediction agreement. First every layer is moved alone to every
    /// level (the sensitivity pass); then the greedy search moves, one step at a time, the layer
    /// whose next level costs the least score per unit of budget, measures the whole candidate
    /// again, and refreshes its estimates every --refresh steps, until --budget is reached (or,
    /// with --min-reps, while REPS stays above the threshold). The same greedy search driven by
    /// prediction agreement, CKA or calibration accuracy (labels), one level for every layer
    /// (uniform) and the method's global threshold (global) are the rivals. Every strategy's model
    /// is evaluated on the test set; the paired bootstrap interval of its accuracy minus
    /// uniform's decides whether REPS guidance helps. Writes search.json, search.md,
    /// recipe-<strategy>.json, checkpoints/<strategy>.safetensors and search.reps into --out; a
    /// stopped search continues from its last finished step when rerun.
    #[command(
        after_help = "Examples:\n  native search --from runs/quick --method prune --budget 0.9 --out runs/search-prune-0.9\n  native search --from runs/quick --method quant --budget 3 --strategies reps,uniform --out runs/q3\n  native search --from runs/quick --method prune --min-reps 0.9 --confidence 0.95 --out runs/p-reps90\n  native search --from runs/quick --apply runs/search-prune-0.9/recipe-reps.json --out rebuilt"
    )]
    Search(Box<crate::search::SearchArgs>),

    /// Measure training speed: a training step (ResNet-18 by default) on candle's convolution and
    /// on the im2col + GEMM path, against the machine's GEMM rate (the best of two measurements,
    /// before and after the training steps).
    ///
    /// The last line is `gemm_gflops=<x> fast_gflops=<y> ratio=<y/x>` for the width-64 GEMM path.
    #[command(name = "bench-train")]
    BenchTrain(BenchTrainArgs),
}

#[derive(Debug, clap::Args)]
pub struct BenchTrainArgs {
    /// The architecture timed (its optimizer is the quick preset's).
    #[arg(long, value_name = "NAME", default_value = "resnet18", value_parser = parse_arch)]
    pub arch: String,
    /// Network widths to time (first-stage channels).
    #[arg(long, value_delimiter = ',', default_value = "16,64")]
    pub widths: Vec<usize>,
    /// Batch size of the training step.
    #[arg(long, default_value_t = 64)]
    pub batch: usize,
    /// Timed steps per configuration (best is reported; the reference path at width 64 takes one).
    #[arg(long, default_value_t = 3)]
    pub steps: usize,
    /// Side of the square matrices of the GEMM measurement.
    #[arg(long, default_value_t = 2048)]
    pub gemm_size: usize,
    /// Skip candle's own convolution (slow at width 64).
    #[arg(long)]
    pub skip_reference: bool,
    /// First check one training step of both paths on the device against candle's CPU path
    /// (loss and gradient norms within 1e-3 on CPU, 2e-2 on CUDA with TF32); fail otherwise.
    #[arg(long)]
    pub verify: bool,
    /// Also split the GEMM path's step into forward, backward and optimizer time (the device is
    /// synchronised after each phase, so the phases add up to a little more than a step) and, on
    /// the CPU, the forward and backward passes into im2col, col2im, the convolutions' GEMMs,
    /// layout transposes, BatchNorm and the rest (candle's elementwise ops, gradient
    /// accumulation, loss, linear layers, allocation).
    #[arg(long)]
    pub breakdown: bool,
    /// Where to compute: cpu, or cuda.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Cpu)]
    pub device: DeviceChoice,
}

#[derive(Debug, clap::Args)]
pub struct TrainSweepArgs {
    /// Starting settings: `quick` (synthetic data, 2000 training and 1000 test images, 5 epochs;
    /// ResNet-18 at width 16 in about 5 minutes on 2 CPU cores) or `paper` (CIFAR-10, 50 epochs,
    /// batch 128; ResNet-18 at width 64). Width, learning rate, weight decay, optimizer and
    /// warm-up are the architecture's for the preset.
    #[arg(long, value_enum, default_value_t = Preset::Quick)]
    pub preset: Preset,
    /// The architecture (each declares its capture points and the two layers analysed by default).
    #[arg(long, value_name = "NAME", default_value = "resnet18", value_parser = parse_arch, long_help = arch_help())]
    pub arch: String,
    /// Compression methods, comma-separated, or `all`. Default: coreset,prune,quant (the paper's).
    #[arg(long, value_delimiter = ',', value_name = "M,...", long_help = methods_help())]
    pub methods: Option<Vec<String>>,
    /// A method's grid, one model per value: METHOD=v1,v2,... (repeatable). Defaults: coreset
    /// 0.8 … 0.01, prune and channel-prune 0.05 … 0.9, quant 8 … 1 bits, lowrank 0.9 … 0.05 of
    /// the rank kept. --fractions, --ratios and --bits set the paper's three.
    #[arg(long, value_name = "METHOD=V,...")]
    pub grid: Vec<String>,
    /// Dataset: `synthetic` (embedded, generated from --seed) or `cifar10` (needs --data-dir).
    #[arg(long, value_enum)]
    pub dataset: Option<DatasetChoice>,
    /// Directory with CIFAR-10's binary batches (data_batch_1.bin … data_batch_5.bin, test_batch.bin).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// The architecture's width: resnet18's first-stage channels (64 in the paper; the stages
    /// have w, 2w, 4w, 8w), vit-tiny's embedding size (a multiple of 4).
    #[arg(long)]
    pub width: Option<usize>,
    /// Training epochs of the original and of every coreset model.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Training batch size.
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Initial learning rate.
    #[arg(long)]
    pub lr: Option<f64>,
    /// SGD momentum.
    #[arg(long)]
    pub momentum: Option<f64>,
    /// Weight decay (applied to weights and biases, not to normalisation layers or embeddings;
    /// decoupled with AdamW).
    #[arg(long)]
    pub weight_decay: Option<f64>,
    /// Learning-rate schedule after the warm-up.
    #[arg(long, value_enum)]
    pub schedule: Option<ScheduleArg>,
    /// Optimizer (default: the architecture's).
    #[arg(long, value_enum)]
    pub optimizer: Option<OptimizerArg>,
    /// Epochs of linear learning-rate warm-up before the schedule (default: the architecture's;
    /// 0 for resnet18).
    #[arg(long, value_name = "E")]
    pub warmup_epochs: Option<usize>,
    /// Seed of initialisation, data generation, shuffling, augmentation and coreset sampling.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Several seeds: one sweep per seed under OUT/seed-<s>/ (each staged, sharded and merged
    /// like any sweep), then OUT/summary.md and OUT/summary.json: each model's accuracy and REPS
    /// as mean ± standard deviation over the seeds, and Table 2 per seed and pooled.
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "S,...",
        conflicts_with = "seed"
    )]
    pub seeds: Option<Vec<u64>>,
    /// Use only the first N training images.
    #[arg(long, value_name = "N")]
    pub train_size: Option<usize>,
    /// Use only the first N test images for accuracy.
    #[arg(long, value_name = "N")]
    pub test_size: Option<usize>,
    /// Number of class-balanced test images whose activations are analysed (N; 200 in the paper).
    #[arg(long, value_name = "N")]
    pub samples: Option<usize>,
    /// Coreset selection.
    #[arg(long, value_enum)]
    pub coreset: Option<CoresetArg>,
    /// Quantization grid.
    #[arg(long, value_enum)]
    pub quant_mode: Option<QuantModeArg>,
    /// Keep the pooled capture points whole, flattened per sample: resnet18's conv1 and
    /// layer1…layer4 (instead of averaging over positions to N × C), vit-tiny's patch_embed and
    /// blocks (instead of averaging over tokens to N × width).
    #[arg(long)]
    pub no_pool: bool,
    /// Coreset fractions (default: 0.8,0.5,0.4,0.3,0.2,0.1,0.05,0.01).
    #[arg(long, value_delimiter = ',', value_name = "F,...")]
    pub fractions: Option<Vec<f64>>,
    /// Pruning ratios (default: 0.05,0.1,0.2,0.3,0.4,0.5,0.7,0.9).
    #[arg(long, value_delimiter = ',', value_name = "R,...")]
    pub ratios: Option<Vec<f64>>,
    /// Quantization bit widths (default: 8,7,6,5,4,3,2,1).
    #[arg(long, value_delimiter = ',', value_name = "B,...")]
    pub bits: Option<Vec<u32>>,
    /// Where to compute: cpu, or cuda (GPU 0; needs a build with `--features cuda`).
    #[arg(long, value_enum, default_value_t = DeviceChoice::Cpu)]
    pub device: DeviceChoice,
    /// How convolutions and BatchNorm are computed. Default: gemm, the faster on the CPU and on
    /// CUDA in `bench-train`. Results agree to rounding; the choice is not part of the pinned
    /// settings.
    #[arg(long, value_enum, value_name = "PATH")]
    pub conv: Option<ConvArg>,
    /// Output directory (default: runs/<preset>).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Stop after making this many models in this run (to test resumption).
    #[arg(long, hide = true)]
    pub max_models: Option<usize>,

    /// Do one stage of the sweep only (`original`: train and evaluate the original model into
    /// --out), for sweeps split over jobs: the original, then the shards (--shard), then the
    /// merge (--merge). Every stage must be given the same settings; a stage given other
    /// settings refuses, naming the flag. Without --stage, --shard and --merge: all of it.
    #[arg(long, value_enum, value_name = "STAGE", conflicts_with_all = ["shard", "merge"])]
    pub stage: Option<StageArg>,
    /// Make only this shard of the compressed models: I/N makes the models I, I+N, I+2N, … of
    /// the table order (0-based, the original not counted); `slurm` takes I and N from a Slurm
    /// job array (SLURM_ARRAY_TASK_ID less SLURM_ARRAY_TASK_MIN, SLURM_ARRAY_TASK_COUNT);
    /// `k8s/N` takes I from a Kubernetes Indexed Job (JOB_COMPLETION_INDEX). Needs the original
    /// made in --out (--stage original). Shards may run at the same time on machines sharing
    /// --out: each model is made under its own lock.
    #[arg(long, value_name = "I/N|slurm|k8s/N", conflicts_with = "merge")]
    pub shard: Option<String>,
    /// Write sweep.reps, tables.md and results.json from the models the stages made; every
    /// model must be there and verify, else the missing or corrupt ones are named and nothing
    /// is written. The outputs are byte-identical to those of one process with the same flags.
    #[arg(long)]
    pub merge: bool,

    /// The most memory training may take (bytes, or with a binary unit: 512M, 16G): settings
    /// whose estimated need (weights, gradients, momentum and one batch's activations) exceeds
    /// it are refused before anything is allocated. Default: half of the machine's memory.
    #[arg(long, value_name = "SIZE", value_parser = crate::input_file::parse_size)]
    pub max_memory: Option<u64>,
}

/// `--stage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StageArg {
    /// Train and evaluate the original model only.
    Original,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DeviceChoice {
    Cpu,
    Cuda,
}

/// `--schedule`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScheduleArg {
    /// `lr · ½ (1 + cos(π t / T))` over all T steps (the default).
    Cosine,
    /// `lr`, then `lr / 10` from 50 % and `lr / 100` from 75 % of the steps.
    Step,
    /// `lr` throughout.
    Constant,
}

/// `--optimizer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OptimizerArg {
    /// SGD with momentum (--momentum), as PyTorch's.
    Sgd,
    /// AdamW (β = 0.9, 0.999; ε = 1e-8; decoupled weight decay), as PyTorch's.
    Adamw,
}

/// `--coreset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CoresetArg {
    /// Facility location on the original model's embeddings, each image weighted by how many it
    /// stands for (the default).
    Craig,
    /// Uniformly random, class-balanced.
    Random,
}

/// `--quant-mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum QuantModeArg {
    /// One asymmetric grid [min, max] per tensor (the default).
    PerTensor,
    /// One asymmetric grid [min, max] per output channel.
    PerChannel,
    /// One symmetric grid [−max|w|, max|w|] per tensor.
    Symmetric,
}

/// `--conv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ConvArg {
    /// im2col + one matrix product per pass, and the fused BatchNorm.
    Gemm,
    /// candle's conv2d and BatchNorm (the reference).
    Candle,
}

impl From<ScheduleArg> for Schedule {
    fn from(a: ScheduleArg) -> Self {
        match a {
            ScheduleArg::Cosine => Schedule::Cosine,
            ScheduleArg::Step => Schedule::Step,
            ScheduleArg::Constant => Schedule::Constant,
        }
    }
}

impl From<OptimizerArg> for OptimizerKind {
    fn from(a: OptimizerArg) -> Self {
        match a {
            OptimizerArg::Sgd => OptimizerKind::Sgd,
            OptimizerArg::Adamw => OptimizerKind::AdamW,
        }
    }
}

impl From<CoresetArg> for CoresetMethod {
    fn from(a: CoresetArg) -> Self {
        match a {
            CoresetArg::Craig => CoresetMethod::Craig,
            CoresetArg::Random => CoresetMethod::Random,
        }
    }
}

impl From<QuantModeArg> for QuantMode {
    fn from(a: QuantModeArg) -> Self {
        match a {
            QuantModeArg::PerTensor => QuantMode::PerTensor,
            QuantModeArg::PerChannel => QuantMode::PerChannel,
            QuantModeArg::Symmetric => QuantMode::Symmetric,
        }
    }
}

impl From<ConvArg> for Kernels {
    fn from(a: ConvArg) -> Self {
        match a {
            ConvArg::Gemm => Kernels::Gemm,
            ConvArg::Candle => Kernels::Candle,
        }
    }
}

/// `--arch`'s long help, from the registry.
fn arch_help() -> String {
    let list: Vec<String> = arch::ARCHITECTURES
        .iter()
        .map(|a| format!("  {}: {}", a.name, a.about))
        .collect();
    format!(
        "The architecture (default: resnet18). Each declares its capture points and the two layers analysed by default:\n{}",
        list.join("\n")
    )
}

/// `--methods`' long help, from the registry.
fn methods_help() -> String {
    let list: Vec<String> = crate::compress::METHODS
        .iter()
        .map(|m| {
            let grid: Vec<String> = m.grid.iter().map(f64::to_string).collect();
            format!(
                "  {} ({}: {}{}): {}",
                m.name,
                m.parameter,
                grid.join(","),
                if m.trains() {
                    "; trains"
                } else {
                    "; no fine-tuning"
                },
                m.about
            )
        })
        .collect();
    format!(
        "Compression methods, comma-separated, or `all` (default: coreset,prune,quant, the paper's). Each makes one model per value of its grid (--grid):\n{}",
        list.join("\n")
    )
}

/// `--arch`: a registered architecture.
fn parse_arch(name: &str) -> Result<String, String> {
    match arch::find(name) {
        Some(a) => Ok(a.name.to_string()),
        None => Err(format!(
            "unknown architecture (known: {})",
            arch::names().join(", ")
        )),
    }
}

impl TrainSweepArgs {
    /// The stage this process does (--stage, --shard, --merge; all of the sweep without them).
    pub fn stage(&self) -> Result<Stage> {
        Ok(match (&self.stage, &self.shard, self.merge) {
            (Some(StageArg::Original), _, _) => Stage::Original,
            (None, Some(spec), _) => Stage::shard(spec, &|k| std::env::var(k).ok())?,
            (None, None, true) => Stage::Merge,
            (None, None, false) => Stage::All,
        })
    }

    /// The preset for the architecture, with every given flag applied.
    pub fn config(&self) -> Result<SweepConfig> {
        let arch = arch::find(&self.arch).context("--arch: unknown architecture")?;
        let mut c = SweepConfig::preset_for(self.preset, arch);
        macro_rules! set {
            ($($f:ident),*) => { $( if let Some(v) = &self.$f { c.$f = v.clone(); } )* };
        }
        macro_rules! map {
            ($($f:ident),*) => { $( if let Some(v) = self.$f { c.$f = v.into(); } )* };
        }
        set!(
            dataset,
            width,
            epochs,
            batch_size,
            lr,
            momentum,
            weight_decay,
            warmup_epochs,
            seed,
            samples,
            fractions,
            ratios,
            bits
        );
        map!(schedule, optimizer, coreset, quant_mode);
        c.kernels = self.conv.map(Kernels::from);
        if let Some(names) = &self.methods {
            c.select_methods(names)?;
        }
        for g in &self.grid {
            let Some((name, values)) = g.split_once('=') else {
                bail!("--grid {g}: expected METHOD=v1,v2,... (e.g. lowrank=0.5,0.25)");
            };
            let method = crate::compress::find(name).with_context(|| {
                format!(
                    "--grid {g}: unknown method '{name}' (known: {})",
                    crate::compress::names().join(", ")
                )
            })?;
            let values = values
                .split(',')
                .map(|v| {
                    v.trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|x| x.is_finite())
                        .with_context(|| format!("--grid {g}: '{v}' is not a number"))
                })
                .collect::<Result<Vec<f64>>>()?;
            c.set_grid(method, values)?;
        }
        if self.data_dir.is_some() {
            c.data_dir = self.data_dir.clone();
            if self.dataset.is_none() {
                c.dataset = DatasetChoice::Cifar10;
            }
        }
        if self.train_size.is_some() {
            c.train_size = self.train_size;
        }
        if self.test_size.is_some() {
            c.test_size = self.test_size;
        }
        c.no_pool |= self.no_pool;
        Ok(c)
    }
}

#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {
    /// One `.reps` snapshot, or one activation file per model; the first file is the reference
    /// unless --reference names another. With --pool, sweep directories.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,

    /// Pool sweeps that differ only in --seed: each INPUT is a finished `train-sweep` directory
    /// (its results.json) or a `train-sweep --seeds` directory (its seed-<s>/ sweeps), pooled in
    /// ascending order of seed. Prints what `train-sweep --seeds` writes to summary.md (summary.json with
    /// --format json): each model over the seeds, Table 2 per seed and pooled, and on the pooled
    /// models the intervals (a cluster bootstrap: seeds drawn with replacement, then models
    /// within each), p-values (drops permuted within each seed), the comparisons of REPS with
    /// every score, Table 3 and the paper's claims.
    #[arg(long, conflicts_with_all = ["reference", "labels", "layers", "tokens", "stream", "weights", "sample_bootstrap"])]
    pub pool: bool,

    /// Name of the reference model (a file stem, or a model name inside the snapshot).
    #[arg(long, value_name = "NAME")]
    pub reference: Option<String>,

    /// Labels of the N samples (.npy of integers, or .npz/.safetensors with a `labels` array).
    /// With --tokens they may be per token, `(B, T)` as the hidden states' leading axes (the
    /// labels of padding tokens are not read, so PyTorch's -100 there is fine), or one per kept
    /// token. Without labels, the reference model's predictions are used as pseudo-labels;
    /// without logits either, class separation is left out.
    #[arg(long, value_name = "FILE")]
    pub labels: Option<PathBuf>,

    /// Comma-separated layers to analyse. Default: `layer4.1.conv2,fc` (the paper's) when every
    /// model has both, else every layer that all models share.
    #[arg(long, value_name = "A,B,...", value_delimiter = ',')]
    pub layers: Option<Vec<String>>,

    /// Number of leading eigenvalues M in the eigenvalue-decay fit.
    #[arg(long, value_name = "M", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub top_m: u32,

    /// Language-model activations: every axis but the last is samples, so a `(B, T, H)` hidden
    /// state is B·T token rows of H features (a `(B, T, V)` `logits` array gives next-token
    /// predictions). An `attention_mask` array of shape `(B, T)` (1 = token, 0 = padding) in the
    /// files drops the padding tokens; `labels` may be per token, `(B, T)`. Implies --stream.
    #[arg(long)]
    pub tokens: bool,

    /// Read the activation files in row chunks instead of whole: layers with more samples than
    /// features (N > D) never sit in memory (their D × D second moments are accumulated in f64),
    /// the others are read one model at a time. Needs per-model files (not a snapshot); not
    /// with --sample-bootstrap.
    #[arg(long)]
    pub stream: bool,

    /// Your own REPS weights for (effective rank, alive, separation, decay), e.g. 0.4,0,0.3,0.3;
    /// rescaled to sum 1. Reported as `reps_user` and in the sensitivity table.
    #[arg(long, value_name = "A,B,C,D")]
    pub weights: Option<String>,

    /// Bootstrap resamples of the models for the 95% intervals of every correlation, of Table 3's
    /// rows and of the differences between REPS and each other score (percentile intervals; 0
    /// leaves them out).
    #[arg(long, value_name = "B", default_value_t = 10_000)]
    pub bootstrap: usize,

    /// Random permutations of the accuracy drops for the two-sided p-value of every correlation
    /// (0 leaves them out).
    #[arg(long, value_name = "P", default_value_t = 10_000)]
    pub permutations: usize,

    /// Seed of the resampling: the same seed gives the same intervals and p-values, here and in
    /// the viewer.
    #[arg(long, value_name = "S", default_value_t = 0)]
    pub seed: u64,

    /// The stable regime: Table 2 again over the models whose accuracy drop is at most DROP
    /// (needs at least 4 such models); also the threshold of the stable-then-cliff claims.
    #[arg(long, value_name = "DROP", default_value_t = 0.05)]
    pub stable_drop: f64,

    /// Give each model's weighted REPS a 95% interval from B bootstrap resamples of the analysed
    /// samples (the same rows for the reference and the model). Costs B analyses.
    #[arg(long, value_name = "B", value_parser = clap::value_parser!(u32).range(1..))]
    pub sample_bootstrap: Option<u32>,

    /// Print only the paper's claims, each with its verdict (holds, fails, undecided) and the
    /// statistics behind it (table format; JSON always holds them under `claims`).
    #[arg(long)]
    pub claims: bool,

    /// Output format: aligned tables for reading, JSON for programs, CSV (one row per model and
    /// layer) for spreadsheets.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Write the output to FILE instead of standard output: a regular file is replaced
    /// atomically (through a symlink, its target is); a FIFO or a device is written to as a
    /// stream; `-` is standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    #[command(flatten)]
    pub memory: MemoryArgs,
}

/// The memory budget of reading input files.
#[derive(Debug, clap::Args)]
pub struct MemoryArgs {
    /// The most memory that reading the inputs may take: the files' bytes plus every array
    /// decoded from them, checked against what each header claims before anything is allocated.
    /// A size in bytes or with a binary unit (512M, 16G). Default: half of the machine's memory.
    #[arg(long, value_name = "SIZE", value_parser = crate::input_file::parse_size)]
    pub max_memory: Option<u64>,
}

impl MemoryArgs {
    /// The budget in bytes.
    pub fn bytes(&self) -> u64 {
        self.max_memory
            .unwrap_or_else(reps::formats::machine_read_budget)
    }
}

#[derive(Debug, clap::Args)]
pub struct PackArgs {
    /// One activation file per model (.npz, .npy, .safetensors; the first is the reference), or
    /// one `.reps` snapshot to upgrade.
    #[arg(required = true, value_name = "FILE")]
    pub inputs: Vec<PathBuf>,

    /// Labels of the N samples (.npy of integers, or .npz/.safetensors with a `labels` array),
    /// stored in the snapshot; otherwise labels stored in the files are used.
    #[arg(long, value_name = "FILE")]
    pub labels: Option<PathBuf>,

    /// The snapshot to write (atomically), e.g. study.reps.
    #[arg(long, value_name = "NAME.reps")]
    pub out: PathBuf,

    #[command(flatten)]
    pub memory: MemoryArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

/// A library error in the command line's terms: an analysis option's name becomes its flag
/// (`top_m` → `--top-m`), and an exceeded memory budget names `--max-memory`. Other errors pass
/// as they are.
pub fn flag_error(e: reps::RepsError) -> anyhow::Error {
    match e {
        reps::RepsError::Option { option, reason } => {
            anyhow::anyhow!("--{}: {reason}", option.replace('_', "-"))
        }
        over @ reps::RepsError::OverBudget { .. } => {
            anyhow::anyhow!("{over}; --max-memory raises the budget")
        }
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    /// Every argument of `command` and of its subcommands that has no help text, and every
    /// subcommand without a summary, as `path argument`; `seen` counts the arguments checked.
    fn undocumented(command: &clap::Command, path: &str, seen: &mut usize) -> Vec<String> {
        let mut out = Vec::new();
        for a in command.get_arguments() {
            let id = a.get_id().as_str();
            if a.is_hide_set() || id == "help" || id == "version" {
                continue;
            }
            *seen += 1;
            if a.get_help().is_none() && a.get_long_help().is_none() {
                out.push(format!("{path} {id}"));
            }
        }
        for sub in command.get_subcommands() {
            let sub_path = format!("{path} {}", sub.get_name());
            if sub.get_about().is_none() && sub.get_long_about().is_none() {
                out.push(format!("{sub_path}: no summary"));
            }
            out.extend(undocumented(sub, &sub_path, seen));
        }
        out
    }

    #[test]
    fn every_argument_of_every_command_has_help() {
        let command = Cli::command();
        // clap's own consistency checks (conflicts, defaults, value names) of every command.
        command.clone().debug_assert();
        let mut seen = 0;
        let missing = undocumented(&command, "native", &mut seen);
        assert!(missing.is_empty(), "without help: {missing:?}");
        let mut analyze = 0;
        let analyze_command = command.find_subcommand("analyze").expect("analyze");
        assert!(undocumented(analyze_command, "analyze", &mut analyze).is_empty());
        // `analyze` has its inputs and 16 flags (--reference … --max-memory); train-sweep and the
        // rest add many more.
        assert!(analyze >= 17, "only {analyze} arguments of analyze checked");
        assert!(seen > 2 * analyze, "only {seen} arguments checked");
    }

    /// The help of the commands that read activation files names every format of the registry
    /// (`reps::formats::FORMATS`), so that a new format is not left out of `--help`.
    #[test]
    fn help_names_every_input_format() {
        let mut command = Cli::command();
        for name in ["analyze", "pack"] {
            let sub = command.find_subcommand_mut(name).expect("a subcommand");
            let help = sub.render_long_help().to_string();
            for f in reps::formats::FORMATS {
                assert!(
                    help.contains(f.extension),
                    "{name} --help lacks {}",
                    f.extension
                );
            }
        }
    }
}
