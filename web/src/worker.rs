//! The analysis worker: reads, fetches and analyses off the page's thread, one request at a time,
//! and reports progress. Its entry point is `src/bin/worker.rs`; the page talks to it through
//! [`crate::bridge`].

use crate::blob_source::BlobSource;
use crate::helpers::Helpers;
use crate::load::{
    analyse, analyse_part, analyse_streamed, infer, preview, preview_of_index, shares,
};
use crate::protocol::{decode, encode, Analysis, Request, Response, Side, Timings};
use futures::channel::mpsc;
use futures::StreamExt;
use js_sys::{Array, Uint8Array};
use reps::analysis::{open_files, InferenceOptions, OpenedFiles, Progress, SeedSummary};
use reps::formats::stream::{list_entries, ByteSource, ATTENTION_MASK};
use reps::formats::ReadBudget;
use reps::search::SearchResult;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

/// Progress messages are sent at most this often (milliseconds), plus the last step.
const PROGRESS_INTERVAL_MS: f64 = 40.0;

/// What the worker keeps between requests, for a change of reference and for resampling.
enum Loaded {
    /// Files read whole and decoded, and what they were read from (for the helpers; empty
    /// without helpers).
    Memory(OpenedFiles, Sources),
    /// Files read in row chunks each time they are analysed, and how their axes are read
    /// (`Some(true)`: tokens; `None`: tokens when a file has an `attention_mask`).
    Streamed(Vec<web_sys::File>, Option<bool>),
}

/// Files by name, as the helpers read them.
type Sources = Vec<(String, web_sys::Blob)>;

impl Loaded {
    fn memory(&self) -> Option<&OpenedFiles> {
        match self {
            Loaded::Memory(f, _) => Some(f),
            Loaded::Streamed(..) => None,
        }
    }
}

thread_local! {
    /// The job being worked on, for the crash report.
    static CURRENT_JOB: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Installs the message handler and tells the page the worker is ready.
pub fn run() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    // A panic ends this WebAssembly instance: tell the page, which starts a fresh worker.
    let hook_scope = scope.clone();
    std::panic::set_hook(Box::new(move |info| {
        let job = CURRENT_JOB.with(|j| j.get());
        let error = format!("the analysis worker crashed: {info}");
        post(&hook_scope, &Response::Crashed { job, error });
    }));
    let (tx, mut rx) = mpsc::unbounded::<JsValue>();
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        let _ = tx.unbounded_send(e.data());
    });
    scope.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    let worker_scope = scope.clone();
    // One request at a time, in order: a reference change sent while files are still being read
    // applies to the new files.
    let mut helpers = Helpers::start(&scope);
    wasm_bindgen_futures::spawn_local(async move {
        let mut state: Option<Loaded> = None;
        while let Some(data) = rx.next().await {
            handle(&worker_scope, &mut state, &mut helpers, data).await;
        }
    });
    post(&scope, &Response::Ready);
}

fn post(scope: &DedicatedWorkerGlobalScope, message: &Response) {
    let bytes = match encode(message) {
        Ok(b) => b,
        Err(e) => match encode(&Response::Failed { job: 0, error: e }) {
            Ok(b) => b,
            Err(_) => return,
        },
    };
    let array = Uint8Array::from(bytes.as_slice());
    // Hand the buffer over instead of copying it.
    let _ = scope.post_message_with_transfer(&array, &Array::of1(&array.buffer()));
}

async fn handle(
    scope: &DedicatedWorkerGlobalScope,
    state: &mut Option<Loaded>,
    helpers: &mut Helpers,
    data: JsValue,
) {
    let parts: Array = data.unchecked_into();
    let request: Request = match decode(&Uint8Array::new(&parts.get(0)).to_vec()) {
        Ok(r) => r,
        Err(error) => return post(scope, &Response::Failed { job: 0, error }),
    };
    let job = request.job();
    CURRENT_JOB.with(|j| j.set(job));
    let seconds_since = |t: f64| (js_sys::Date::now() - t) / 1000.0;
    let started = js_sys::Date::now();
    // Whether the models read replace those kept for a change of reference (side A only).
    let mut keep = true;
    // What the helpers read (the files as they came, or the fetched bytes as a Blob), and the
    // number of shares the work is split into (0: not split). The helpers are sent their shares
    // as soon as the files are known, so that they read and decode them while this worker does.
    let mut sources: Sources = Vec::new();
    let mut dispatched = 0;
    // Whether the page has its preview already (from a version-4 snapshot's index).
    let mut previewed = false;
    let (reference, files) = match request {
        Request::Part {
            names,
            reference,
            share,
            of,
            ..
        } => {
            let response = part(scope, job, names, reference, (share, of), &parts).await;
            return post(scope, &response);
        }
        Request::Inference {
            report,
            sample_bootstrap,
            ..
        } => {
            if sample_bootstrap > 0 && matches!(state, Some(Loaded::Streamed(..))) {
                let error = "resampling the samples needs them in memory; files this large are read in row chunks, so per-model intervals over the samples are not available (the model-level statistics are)".to_string();
                return post(scope, &Response::Failed { job, error });
            }
            let mut last = 0.0;
            let result = infer(
                state.as_ref().and_then(Loaded::memory),
                *report,
                sample_bootstrap,
                &mut |done, total| {
                    let now = js_sys::Date::now();
                    if now - last >= PROGRESS_INTERVAL_MS || done == total {
                        last = now;
                        progress(scope, job, "resampling the samples".into(), done, total);
                    }
                },
            );
            return post(
                scope,
                &match result {
                    Ok(report) => Response::Inference {
                        job,
                        report: Box::new(report),
                        seconds: seconds_since(started),
                    },
                    Err(e) => Response::Failed {
                        job,
                        error: e.to_string(),
                    },
                },
            );
        }
        Request::OpenFiles {
            stream_above,
            side,
            tokens,
            ..
        } => {
            let files: Array = parts.get(1).unchecked_into();
            let mut list: Vec<web_sys::File> = files.iter().map(|f| f.unchecked_into()).collect();
            if side == Side::A {
                if let Some(response) = search_beside_snapshot(scope, job, &mut list).await {
                    post(scope, &response);
                }
            }
            let total: f64 = list.iter().map(|f| f.size()).sum();
            // Large files, and token files (whose axes only the row reader interprets), are read
            // in row chunks; JSON (summaries, sweeps' results) is read whole.
            if !all_json(list.iter().map(|f| f.name()))
                && (total > stream_above as f64
                    || tokens == Some(true)
                    || has_attention_mask(&list))
            {
                let keep = (side == Side::A).then_some(state);
                let read = Streaming { list, tokens };
                return analyse_blobs(scope, job, keep, read, None, started);
            }
            keep = side == Side::A;
            sources = list.iter().map(|f| (f.name(), f.clone().into())).collect();
            if !is_summary(&sources) {
                dispatched = helpers.dispatch(job, &None, &sources).await;
            }
            if let [file] = list.as_slice() {
                if let Some(preview) = index_preview(file) {
                    post(scope, &Response::Opened { job, preview });
                    previewed = true;
                }
            }
            (None, read_files(scope, job, &sources).await)
        }
        Request::OpenUrl { url, side, .. } => {
            keep = side == Side::A;
            progress(scope, job, format!("fetching {url}"), 0, 1);
            let name = url
                .split(['?', '#'])
                .next()
                .and_then(|u| u.rsplit('/').next())
                .unwrap_or(&url)
                .to_string();
            let fetched = fetch(&url).await;
            if let (Ok(bytes), true) = (&fetched, helpers.any()) {
                sources = blob_of(bytes)
                    .map(|b| vec![(name.clone(), b)])
                    .unwrap_or_default();
                if !is_summary(&sources) {
                    dispatched = helpers.dispatch(job, &None, &sources).await;
                }
            }
            (None, fetched.map(|b| Some(vec![(name, b)])))
        }
        Request::Reference { name, .. } => {
            if let Some(Loaded::Streamed(list, tokens)) = state {
                let (list, tokens) = (list.clone(), *tokens);
                let read = Streaming { list, tokens };
                return analyse_blobs(scope, job, Some(state), read, Some(name), started);
            }
            if let Some(Loaded::Memory(_, kept)) = state {
                sources = kept.clone();
                dispatched = helpers.dispatch(job, &Some(name.clone()), &sources).await;
            }
            (Some(name), Ok(None))
        }
    };
    let read = seconds_since(started);
    // A multi-seed summary is shown as it is; sweeps' results.json files are pooled first.
    if let Ok(Some(list)) = files.as_ref().map(Option::as_deref) {
        if let [(name, bytes)] = list {
            if SearchResult::is_search(bytes) {
                let response = match SearchResult::from_json(name, bytes) {
                    Ok(r) => Response::Search {
                        job,
                        result: Box::new(r),
                    },
                    Err(e) => failed(job, e),
                };
                return post(scope, &response);
            }
        }
        if all_json(list.iter().map(|(name, _)| name)) {
            let response = match summary_of(list) {
                Ok(s) => Response::Seeds {
                    job,
                    summary: Box::new(s),
                },
                Err(e) => Response::Failed {
                    job,
                    error: e.to_string(),
                },
            };
            return post(scope, &response);
        }
    }
    let decoding = js_sys::Date::now();
    let fresh = match files {
        Ok(Some(f)) => {
            progress(scope, job, "decoding".into(), 0, 1);
            match open_files(&f, None, &mut ReadBudget::default()) {
                Ok(o) => Some(o),
                Err(e) => return post(scope, &failed(job, e)),
            }
        }
        Ok(None) => None,
        Err(error) => return post(scope, &Response::Failed { job, error }),
    };
    let decode = seconds_since(decoding);
    // Table 1 and the weight histograms need no analysis: the page draws them now.
    if let (Some(f), false) = (&fresh, previewed) {
        let preview = Box::new(preview(f, reference.as_deref()));
        post(scope, &Response::Opened { job, preview });
    }
    let analysing = js_sys::Date::now();
    let loaded = match (&fresh, state.as_ref()) {
        (Some(f), _) => f,
        (None, Some(Loaded::Memory(f, _))) => f,
        _ => return post(scope, &failed(job, "nothing is loaded yet")),
    };
    let mut on_progress = throttled(scope, job);
    let result = if dispatched > 0 {
        helpers
            .analyse(job, dispatched, loaded, reference, &mut on_progress)
            .await
    } else {
        analyse(loaded, reference, &mut on_progress)
            .map(|a| (a, 1))
            .map_err(|e| e.to_string())
    };
    match result {
        Ok((analysis, workers)) => {
            let timings = Timings {
                read,
                decode,
                analyse: seconds_since(analysing),
                workers,
                kernels: reps::product_kernels().into(),
            };
            // Only a successful load of side A replaces the models kept for reference changes.
            if let (Some(f), true) = (fresh, keep) {
                *state = Some(Loaded::Memory(f, sources));
            }
            post(
                scope,
                &Response::Done {
                    job,
                    analysis: Box::new(Analysis {
                        timings,
                        ..analysis
                    }),
                },
            );
        }
        Err(error) => post(scope, &Response::Failed { job, error }),
    }
}

/// A compression search's `search.json` dropped together with other files (its `search.reps`):
/// taken out of `list` and answered as the Search view, so that the rest is analysed as usual
/// under it. `None` (and `list` untouched) unless exactly one file is JSON, some are not, and
/// that one is a search's.
async fn search_beside_snapshot(
    scope: &DedicatedWorkerGlobalScope,
    job: u32,
    list: &mut Vec<web_sys::File>,
) -> Option<Response> {
    let json: Vec<usize> = (0..list.len())
        .filter(|&i| list[i].name().ends_with(".json"))
        .collect();
    let [i] = json[..] else { return None };
    if list.len() < 2 {
        return None;
    }
    let file = &list[i];
    let read = read_files(scope, job, &[(file.name(), file.clone().into())]).await;
    let (name, bytes) = match read {
        Ok(Some(mut r)) => r.pop()?,
        _ => return None,
    };
    if !SearchResult::is_search(&bytes) {
        return None;
    }
    list.remove(i);
    Some(match SearchResult::from_json(&name, &bytes) {
        Ok(r) => Response::Search {
            job,
            result: Box::new(r),
        },
        Err(e) => failed(job, e),
    })
}

fn failed(job: u32, error: impl ToString) -> Response {
    Response::Failed {
        job,
        error: error.to_string(),
    }
}

/// A helper's share: reads the blobs sent beside the request (named `names`) and compares share
/// `share.0` of `share.1` of the models with `reference` on every shared layer.
async fn part(
    scope: &DedicatedWorkerGlobalScope,
    job: u32,
    names: Vec<String>,
    reference: Option<String>,
    share: (usize, usize),
    parts: &Array,
) -> Response {
    let blobs: Array = parts.get(1).unchecked_into();
    let named: Sources = names
        .into_iter()
        .zip(blobs.iter().map(|b| b.unchecked_into::<web_sys::Blob>()))
        .collect();
    let files = match read_files(scope, job, &named).await {
        Ok(Some(f)) => f,
        Ok(None) => return failed(job, "no files were sent"),
        Err(error) => return failed(job, error),
    };
    let result = open_files(&files, None, &mut ReadBudget::default()).and_then(|loaded| {
        let indices = shares(&loaded, share.1)
            .get(share.0)
            .cloned()
            .unwrap_or_default();
        analyse_part(&loaded, reference, &indices, &mut |_| {})
    });
    match result {
        Ok(results) => Response::Part {
            job,
            results: Box::new(results),
        },
        Err(e) => failed(job, e),
    }
}

/// The preview of a version-4 snapshot from its index alone (its first bytes, read with
/// `Blob.slice`), before the rest of the file is read; `None` for anything else, or an index that
/// does not read (the whole file's decoding then reports what is wrong).
fn index_preview(file: &web_sys::File) -> Option<Box<crate::protocol::Preview>> {
    use reps::formats::snapshot::{decode_index, index_end, HEADER_V4};
    let name = file.name();
    if !name.ends_with(".reps") {
        return None;
    }
    let source = BlobSource::new(file.clone()).ok()?;
    let mut head = vec![0u8; HEADER_V4.min(source.len() as usize)];
    source.read_at(0, &mut head).ok()?;
    let end = index_end(&name, &head).ok()??;
    if end > source.len() {
        return None;
    }
    let mut bytes = vec![0u8; usize::try_from(end).ok()?];
    source.read_at(0, &mut bytes).ok()?;
    let index = decode_index(&name, &bytes).ok()?;
    preview_of_index(&name, index).ok().map(Box::new)
}

/// Whether `files` are JSON (a multi-seed summary, or sweeps' results to pool), which are
/// summarised, not analysed.
fn is_summary(files: &Sources) -> bool {
    all_json(files.iter().map(|(name, _)| name))
}

/// Whether there is at least one name and every one is a `.json` file's.
fn all_json<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> bool {
    let mut any = false;
    for name in names {
        if !name.as_ref().ends_with(".json") {
            return false;
        }
        any = true;
    }
    any
}

/// The summary the JSON files make: one `summary.json` as it is, else the sweeps'
/// `results.json` files pooled over their seeds (with `native analyze --pool`'s defaults).
fn summary_of(files: &[(String, Vec<u8>)]) -> reps::Result<SeedSummary> {
    let is_results = |bytes: &[u8]| {
        serde_json::from_slice::<serde_json::Value>(bytes).is_ok_and(|v| v.get("report").is_some())
    };
    match files {
        [(name, bytes)] if !is_results(bytes) => SeedSummary::from_json(name, bytes),
        _ => {
            let list: Vec<(&str, &[u8])> = files
                .iter()
                .map(|(n, b)| (n.as_str(), b.as_slice()))
                .collect();
            reps::analysis::pool_results(&list, &InferenceOptions::default())
        }
    }
}

/// `bytes` as a Blob (a copy), for the helpers.
fn blob_of(bytes: &[u8]) -> Option<web_sys::Blob> {
    let parts = Array::of1(&Uint8Array::from(bytes));
    web_sys::Blob::new_with_u8_array_sequence(&parts).ok()
}

fn progress(scope: &DedicatedWorkerGlobalScope, job: u32, step: String, done: usize, total: usize) {
    post(
        scope,
        &Response::Progress {
            job,
            step,
            done,
            total,
        },
    );
}

/// A progress callback that posts at most every [`PROGRESS_INTERVAL_MS`], and the last step.
fn throttled<'a>(scope: &'a DedicatedWorkerGlobalScope, job: u32) -> impl FnMut(Progress<'_>) + 'a {
    let mut last = 0.0;
    move |p: Progress<'_>| {
        let now = js_sys::Date::now();
        if now - last >= PROGRESS_INTERVAL_MS || p.done == p.total {
            last = now;
            let step = format!("analysing {} of {}", p.layer, p.model);
            progress(scope, job, step, p.done, p.total);
        }
    }
}

/// Files to read in row chunks, and how their axes are read (as [`Loaded::Streamed`]).
struct Streaming {
    list: Vec<web_sys::File>,
    tokens: Option<bool>,
}

/// Whether one of `list` (an `.npz` or `.safetensors` file) holds an `attention_mask` array:
/// token files, read as tokens whatever their size. Read from the headers; a file whose
/// headers cannot be read counts as not, and its error comes with the reading.
fn has_attention_mask(list: &[web_sys::File]) -> bool {
    list.iter().any(|f| {
        BlobSource::new(f.clone())
            .ok()
            .and_then(|s| list_entries(&s).ok())
            .is_some_and(|entries| entries.iter().any(|e| e.key == ATTENTION_MASK))
    })
}

/// Analyses `read.list` read in row chunks from the files themselves (`Blob.slice`), and keeps
/// the files in `keep` (side A's state) for a later change of reference when it succeeds.
fn analyse_blobs(
    scope: &DedicatedWorkerGlobalScope,
    job: u32,
    keep: Option<&mut Option<Loaded>>,
    read: Streaming,
    reference: Option<String>,
    started: f64,
) {
    let result = read
        .list
        .iter()
        .map(|f| BlobSource::new(f.clone()))
        .collect::<Result<Vec<_>, String>>()
        .and_then(|sources| {
            let sources: Vec<&dyn ByteSource> =
                sources.iter().map(|s| s as &dyn ByteSource).collect();
            analyse_streamed(&sources, reference, read.tokens, &mut throttled(scope, job))
                .map_err(|e| e.to_string())
        });
    match result {
        Ok(analysis) => {
            if let Some(state) = keep {
                *state = Some(Loaded::Streamed(read.list, read.tokens));
            }
            let timings = Timings {
                read: 0.0,
                decode: 0.0,
                analyse: (js_sys::Date::now() - started) / 1000.0,
                workers: 1,
                kernels: reps::product_kernels().into(),
            };
            post(
                scope,
                &Response::Done {
                    job,
                    analysis: Box::new(Analysis {
                        timings,
                        ..analysis
                    }),
                },
            );
        }
        Err(error) => post(scope, &Response::Failed { job, error }),
    }
}

/// Each file's name and bytes, in order.
async fn read_files(
    scope: &DedicatedWorkerGlobalScope,
    job: u32,
    list: &[(String, web_sys::Blob)],
) -> Result<Option<Vec<(String, Vec<u8>)>>, String> {
    let n = list.len();
    let sizes: Vec<(String, u64)> = list
        .iter()
        .map(|(n, f)| (n.clone(), f.size() as u64))
        .collect();
    crate::load::check_sizes(&sizes).map_err(|e| e.to_string())?;
    let mut out = Vec::with_capacity(n);
    for (i, (name, file)) in list.iter().enumerate() {
        progress(scope, job, format!("reading {name}"), i, n);
        let buffer = JsFuture::from(file.array_buffer())
            .await
            .map_err(|e| format!("{name}: cannot be read: {}", js_error(&e)))?;
        out.push((name.clone(), Uint8Array::new(&buffer).to_vec()));
    }
    Ok(Some(out))
}

async fn fetch(url: &str) -> Result<Vec<u8>, String> {
    let resp = gloo_net::http::Request::get(url)
        .send()
        .await
        .map_err(|e| format!("{url}: cannot be fetched: {e}"))?;
    if !resp.ok() {
        return Err(format!("{url}: the server answered {}", resp.status()));
    }
    resp.binary().await.map_err(|e| format!("{url}: {e}"))
}

/// A thrown JS value as text.
pub fn js_error(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| format!("{e:?}"))
}
