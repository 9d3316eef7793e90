//! Messages between the page and the analysis worker. Each message is postcard bytes in a
//! `Uint8Array`; dropped files travel beside a request as the browser's own `File` objects, which
//! are handed to the worker without copying their contents.

use reps::analysis::{Comparisons, LayerResults, ModelInput, Report, SeedSummary};
use reps::histogram::WeightHistogram;
use reps::search::SearchResult;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// From the page to the worker. `job` numbers grow; the page shows only its latest job's answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// Read the files sent beside this message: one `.reps` snapshot, one activation file per
    /// model (the first is the reference), or one multi-seed `summary.json`.
    /// Files larger than `stream_above` bytes in all are read in row chunks from their `Blob`s
    /// (`reps::formats::stream`) instead of whole.
    /// Files with an `attention_mask`, and every file when `tokens` is `Some(true)`, are read
    /// as tokens (every axis but the last is samples), in row chunks; `Some(false)` reads one
    /// sample per first axis even where there is a mask.
    OpenFiles {
        job: u32,
        stream_above: u64,
        side: Side,
        tokens: Option<bool>,
    },
    /// Fetch a snapshot from an absolute URL.
    OpenUrl { job: u32, url: String, side: Side },
    /// Analyse the loaded models again against another reference model.
    Reference { job: u32, name: String },
    /// Fill in the statistics of a report the page built (intervals, p-values, the stable
    /// regime, the comparisons, the claims: `Report::with_inference` with its defaults), first
    /// resampling the loaded samples `sample_bootstrap` times for per-model REPS intervals (0:
    /// none).
    Inference {
        job: u32,
        report: Box<Report>,
        sample_bootstrap: u32,
    },
    /// From the analysis worker to one of its helper workers: read the blobs sent beside this
    /// message (named `names`, in order) and compare share `share` of `of` of the models
    /// (`crate::load::shares`) with `reference` on every shared layer
    /// (`crate::load::analyse_part`); answered by [`Response::Part`]. Sent as soon as the files
    /// are known, so that the helper reads and decodes them while the worker does.
    Part {
        job: u32,
        names: Vec<String>,
        reference: Option<String>,
        share: usize,
        of: usize,
    },
}

/// Which of the two compared analyses a request opens. The worker keeps the models of side A for
/// a change of reference and for resampling; side B is analysed once against its own reference
/// and shown beside A.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Side {
    #[default]
    A,
    B,
}

impl Request {
    /// The job number the request carries.
    pub fn job(&self) -> u32 {
        match self {
            Request::OpenFiles { job, .. }
            | Request::OpenUrl { job, .. }
            | Request::Reference { job, .. }
            | Request::Inference { job, .. }
            | Request::Part { job, .. } => *job,
        }
    }
}

/// From the worker to the page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Response {
    /// The worker listens; requests sent before this are queued by the page.
    Ready,
    /// `done` of `total` steps of `job`; `step` says what is being done.
    Progress {
        job: u32,
        step: String,
        done: usize,
        total: usize,
    },
    /// What the job's files hold, sent as soon as they are decoded and before they are analysed:
    /// the page draws Table 1 and the weight histograms from it meanwhile.
    Opened { job: u32, preview: Box<Preview> },
    /// The job's result; it replaces what the page shows.
    Done { job: u32, analysis: Box<Analysis> },
    /// The report of an [`Request::Inference`] job, with its statistics, and the seconds the
    /// worker spent on them.
    Inference {
        job: u32,
        report: Box<Report>,
        seconds: f64,
    },
    /// The job opened a multi-seed summary (`summary.json` of `train-sweep --seeds`); it
    /// replaces what the page shows.
    Seeds { job: u32, summary: Box<SeedSummary> },
    /// The job opened a compression search's `search.json` (`native search`); it replaces what
    /// the page shows.
    Search { job: u32, result: Box<SearchResult> },
    /// A helper worker's share of a [`Request::Part`].
    Part {
        job: u32,
        results: Box<LayerResults>,
    },
    /// The job failed; what the page shows stays.
    Failed { job: u32, error: String },
    /// The worker crashed (a panic, or the browser stopped it) during `job`: the page starts a
    /// fresh worker, and what it shows stays.
    Crashed { job: u32, error: String },
}

/// What decoded files hold before any analysis: enough for Table 1 and Figure 1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Preview {
    /// One line about what was loaded.
    pub description: String,
    /// The model the others will be compared with.
    pub reference: String,
    /// Every model's name, method, parameter and accuracy, with its layers' names.
    pub models: Vec<ModelInput<()>>,
    /// Weight histograms by model (snapshots only).
    pub histograms: Vec<(String, WeightHistogram)>,
}

/// Everything the page draws, computed in the worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// One line about what was loaded.
    pub description: String,
    /// Weight histograms by model (snapshots only).
    pub histograms: Vec<(String, WeightHistogram)>,
    /// Every model against the reference on every layer that all models share.
    pub comparisons: Comparisons,
    /// The layers the tables average over until the reader picks others: the paper's layers when
    /// every model has them, else all shared layers.
    pub default_layers: Vec<String>,
    /// Where the worker's time went (seconds; zero where not measured).
    pub timings: Timings,
}

/// Seconds the worker spent on one job.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    /// Reading the files or fetching the URL.
    pub read: f64,
    /// Decoding the bytes into activations.
    pub decode: f64,
    /// Comparing every model with the reference on every layer.
    pub analyse: f64,
    /// Workers that shared the comparisons (the analysis worker and its helpers).
    pub workers: u32,
    /// The kernels the matrix products ran (`reps::product_kernels`): `relaxed-simd`,
    /// `simd128` or `scalar`.
    pub kernels: String,
}

/// Postcard bytes of a message.
pub fn encode<T: Serialize>(message: &T) -> Result<Vec<u8>, String> {
    postcard::to_allocvec(message).map_err(|e| format!("cannot encode a worker message: {e}"))
}

/// A message from postcard bytes.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    postcard::from_bytes(bytes).map_err(|e| format!("cannot decode a worker message: {e}"))
}
