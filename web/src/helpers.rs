//! Helper workers: more instances of the analysis worker, which it starts (named
//! [`HELPER_NAME`]) and which each compare a share of the models with the reference
//! ([`crate::load::analyse_part`]) while it does its own share; it then joins the shares
//! ([`crate::load::analysis_of_parts`]), which gives exactly the one-pass analysis. One helper per
//! core the browser reports beyond the first, at most [`MAX_HELPERS`]; each holds its own decoded
//! copy of the files while it works. A helper that fails or stops has its share computed by the
//! worker instead, and is not used again.

use crate::load::{analyse_part, analysis_of_parts, shares};
use crate::protocol::{decode, encode, Analysis, Request, Response};
use futures::channel::mpsc;
use futures::StreamExt;
use js_sys::{Array, Uint8Array};
use reps::analysis::{LayerResults, OpenedFiles, Progress};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, ErrorEvent, MessageEvent, Worker, WorkerOptions};

/// The name a helper is started with; a worker of that name starts no helpers of its own.
pub const HELPER_NAME: &str = "reps-helper";

/// The most helpers started, whatever the number of cores (each holds a copy of the files).
pub const MAX_HELPERS: usize = 3;

/// The name the page starts the analysis worker with: `workers` in all (the worker and
/// `workers − 1` helpers), or as many as the cores when `None`.
pub fn worker_name(workers: Option<usize>) -> String {
    match workers {
        Some(w) => format!("reps-worker helpers={}", w.saturating_sub(1)),
        None => "reps-worker".into(),
    }
}

/// The number of helpers a [`worker_name`] asks for, if it does.
fn helpers_named(name: &str) -> Option<usize> {
    name.strip_prefix("reps-worker helpers=")?.parse().ok()
}

struct Helper {
    worker: Worker,
    /// The helper's messages; `None` when it stopped with an error.
    rx: mpsc::UnboundedReceiver<Option<Vec<u8>>>,
    ready: bool,
    /// Whether it was sent a share of the current job.
    sent: bool,
    _onmessage: Closure<dyn FnMut(MessageEvent)>,
    _onerror: Closure<dyn FnMut(ErrorEvent)>,
}

impl Helper {
    fn start() -> Option<Helper> {
        let options = WorkerOptions::new();
        options.set_name(HELPER_NAME);
        let worker = Worker::new_with_options(crate::builds::OWN_LOADER, &options).ok()?;
        let (tx, rx) = mpsc::unbounded();
        let stopped = tx.clone();
        let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            let _ = tx.unbounded_send(Some(Uint8Array::new(&e.data()).to_vec()));
        });
        let onerror = Closure::<dyn FnMut(ErrorEvent)>::new(move |e: ErrorEvent| {
            e.prevent_default();
            let _ = stopped.unbounded_send(None);
        });
        worker.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
        worker.set_onerror(Some(onerror.as_ref().unchecked_ref()));
        Some(Helper {
            worker,
            rx,
            ready: false,
            sent: false,
            _onmessage: onmessage,
            _onerror: onerror,
        })
    }

    /// The helper's next message; `None` once it stopped or sent something unreadable.
    async fn next(&mut self) -> Option<Response> {
        decode(&self.rx.next().await??).ok()
    }

    /// Waits until the helper listens (messages sent before are lost); false if it stopped.
    async fn wait_ready(&mut self) -> bool {
        while !self.ready {
            match self.next().await {
                Some(Response::Ready) => self.ready = true,
                Some(_) => {}
                None => return false,
            }
        }
        true
    }

    /// Sends a request with `blobs` beside it; false if it could not be sent.
    fn send(&self, request: &Request, blobs: &Array) -> bool {
        let Ok(bytes) = encode(request) else {
            return false;
        };
        let message = Array::of2(&Uint8Array::from(bytes.as_slice()), blobs);
        self.worker.post_message(&message).is_ok()
    }

    /// The helper's share for `job`; `None` if it failed or stopped.
    async fn share(&mut self, job: u32) -> Option<LayerResults> {
        loop {
            match self.next().await? {
                Response::Part { job: j, results } if j == job => return Some(*results),
                Response::Failed { job: j, .. } | Response::Crashed { job: j, .. } if j == job => {
                    return None
                }
                _ => {}
            }
        }
    }
}

/// The analysis worker's helpers.
pub struct Helpers(Vec<Helper>);

impl Helpers {
    /// Starts the helpers the worker's name asks for ([`worker_name`]), else one per core beyond
    /// the first; at most [`MAX_HELPERS`], and none in a helper.
    pub fn start(scope: &DedicatedWorkerGlobalScope) -> Helpers {
        let name = scope.name();
        if name == HELPER_NAME {
            return Helpers(Vec::new());
        }
        let cores = scope.navigator().hardware_concurrency() as usize;
        let count = helpers_named(&name)
            .unwrap_or(cores.saturating_sub(1))
            .min(MAX_HELPERS);
        Helpers((0..count).filter_map(|_| Helper::start()).collect())
    }

    /// Whether there are helpers to share the work with.
    pub fn any(&self) -> bool {
        !self.0.is_empty()
    }

    /// Sends each helper its share of `job` (the models against `reference`), to be read from
    /// `sources` (name and contents), once it listens; returns the number of shares in all
    /// (0: no helper took one, the worker does everything).
    pub async fn dispatch(
        &mut self,
        job: u32,
        reference: &Option<String>,
        sources: &[(String, web_sys::Blob)],
    ) -> usize {
        if self.0.is_empty() || sources.is_empty() {
            return 0;
        }
        let names: Vec<String> = sources.iter().map(|(n, _)| n.clone()).collect();
        let blobs: Array = sources.iter().map(|(_, b)| JsValue::from(b)).collect();
        let of = 1 + self.0.len();
        for (k, helper) in self.0.iter_mut().enumerate() {
            let request = Request::Part {
                job,
                names: names.clone(),
                reference: reference.clone(),
                share: k + 1,
                of,
            };
            helper.sent = helper.wait_ready().await && helper.send(&request, &blobs);
        }
        of
    }

    /// The analysis of `loaded` against `reference` from `of` shares: the worker's own (share 0)
    /// and each helper's, as [`Helpers::dispatch`] sent them; a share a helper could not deliver
    /// is computed here. `progress` sees the worker's own work. Returns the analysis and the
    /// number of workers whose shares it holds.
    pub async fn analyse(
        &mut self,
        job: u32,
        of: usize,
        loaded: &OpenedFiles,
        reference: Option<String>,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<(Analysis, u32), String> {
        let shares = shares(loaded, of);
        let part = |k: usize, progress: &mut dyn FnMut(Progress<'_>)| match shares.get(k) {
            Some(share) => {
                analyse_part(loaded, reference.clone(), share, progress).map_err(|e| e.to_string())
            }
            None => Ok(LayerResults::default()),
        };
        let mut parts = vec![part(0, progress)?];
        let mut workers = 1;
        let mut failed = Vec::new();
        for k in 0..self.0.len() {
            let helper = &mut self.0[k];
            let got = match helper.sent {
                true => helper.share(job).await,
                false => None,
            };
            match got {
                Some(r) => {
                    parts.push(r);
                    workers += 1;
                }
                None => {
                    failed.push(k);
                    parts.push(part(k + 1, progress)?);
                }
            }
        }
        for k in failed.into_iter().rev() {
            self.0.remove(k).worker.terminate();
        }
        let analysis = analysis_of_parts(loaded, reference, parts).map_err(|e| e.to_string())?;
        Ok((analysis, workers))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_name_carries_its_number_of_helpers() {
        assert_eq!(helpers_named(&worker_name(Some(1))), Some(0));
        assert_eq!(helpers_named(&worker_name(Some(4))), Some(3));
        assert_eq!(helpers_named(&worker_name(None)), None);
        assert_eq!(helpers_named(HELPER_NAME), None);
    }
}
