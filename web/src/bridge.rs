//! The page's side of the analysis worker: starts it, queues requests until it is ready, numbers
//! jobs, and hands its answers to the page. A crashed worker is replaced by a fresh one.

use crate::protocol::{decode, encode, Request, Response};
use js_sys::{Array, Uint8Array};
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{ErrorEvent, MessageEvent, Worker};
use yew::Callback;

struct Inner {
    worker: Option<Worker>,
    ready: bool,
    queue: Vec<Array>,
    next_job: u32,
    on_response: Callback<Response>,
    _onmessage: Option<Closure<dyn FnMut(MessageEvent)>>,
    _onerror: Option<Closure<dyn FnMut(ErrorEvent)>>,
}

/// The page's query parameter `name`, if given.
fn query(name: &str) -> Option<String> {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .and_then(|s| web_sys::UrlSearchParams::new_with_str(&s).ok())
        .and_then(|p| p.get(name))
}

/// `?workers=N` of the page: analyse with N workers in all (1: the worker alone, as the
/// benchmark's single-threaded figure needs); else as many as the cores.
fn workers_wanted() -> Option<usize> {
    query("workers")
        .and_then(|v| v.parse().ok())
        .filter(|&n| n >= 1)
}

/// A handle on the worker; cloning shares it.
#[derive(Clone)]
pub struct Bridge(Rc<RefCell<Inner>>);

impl Bridge {
    /// Starts the worker; every answer goes to `on_response`. A worker that cannot start or that
    /// fails arrives as [`Response::Failed`] for job 0.
    pub fn spawn(on_response: Callback<Response>) -> Self {
        let bridge = Bridge(Rc::new(RefCell::new(Inner {
            worker: None,
            ready: false,
            queue: Vec::new(),
            next_job: 1,
            on_response,
            _onmessage: None,
            _onerror: None,
        })));
        bridge.start();
        bridge
    }

    /// Where the worker's answers go from now on.
    pub fn set_on_response(&self, on_response: Callback<Response>) {
        self.0.borrow_mut().on_response = on_response;
    }

    /// (Re)starts the worker, dropping any old one and its queue.
    pub fn start(&self) {
        let weak = Rc::downgrade(&self.0);
        let mut inner = self.0.borrow_mut();
        if let Some(w) = inner.worker.take() {
            w.terminate();
        }
        inner.ready = false;
        inner.queue.clear();
        let options = web_sys::WorkerOptions::new();
        options.set_name(&crate::helpers::worker_name(workers_wanted()));
        let worker = match Worker::new_with_options(
            crate::builds::page_loader(query("simd").as_deref()),
            &options,
        ) {
            Ok(w) => w,
            Err(e) => {
                let error = format!(
                    "the analysis worker cannot start: {}",
                    crate::worker::js_error(&e)
                );
                inner.on_response.emit(Response::Failed { job: 0, error });
                return;
            }
        };
        let onmessage = Closure::<dyn FnMut(MessageEvent)>::new({
            let weak = weak.clone();
            move |e: MessageEvent| on_message(&weak, e)
        });
        let onerror = Closure::<dyn FnMut(ErrorEvent)>::new(move |e: ErrorEvent| {
            e.prevent_default();
            if let Some(inner) = weak.upgrade() {
                let cb = inner.borrow().on_response.clone();
                cb.emit(Response::Crashed {
                    job: 0,
                    error: format!("the analysis worker stopped: {}", e.message()),
                });
            }
        });
        worker.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
        worker.set_onerror(Some(onerror.as_ref().unchecked_ref()));
        inner.worker = Some(worker);
        inner._onmessage = Some(onmessage);
        inner._onerror = Some(onerror);
    }

    /// Asks for the statistics of `report` ([`Request::Inference`]) as a new job, and returns its
    /// number.
    pub fn infer(&self, report: Box<reps::analysis::Report>, sample_bootstrap: u32) -> u32 {
        self.send(
            |job| Request::Inference {
                job,
                report,
                sample_bootstrap,
            },
            Vec::new(),
        )
    }

    /// Sends the request that `make` builds for a new job number, with `files` beside it, and
    /// returns the job number.
    pub fn send(&self, make: impl FnOnce(u32) -> Request, files: Vec<web_sys::File>) -> u32 {
        let mut inner = self.0.borrow_mut();
        let job = inner.next_job;
        inner.next_job += 1;
        let bytes = match encode(&make(job)) {
            Ok(b) => b,
            Err(error) => {
                let cb = inner.on_response.clone();
                drop(inner);
                cb.emit(Response::Failed { job, error });
                return job;
            }
        };
        let list = Array::new();
        for f in files {
            list.push(&f);
        }
        let message = Array::of2(&Uint8Array::from(bytes.as_slice()), &list);
        if inner.ready {
            post(&inner, &message);
        } else {
            inner.queue.push(message);
        }
        job
    }
}

fn post(inner: &Inner, message: &Array) {
    if let Some(w) = &inner.worker {
        if let Err(e) = w.post_message(message) {
            let error = format!(
                "cannot reach the analysis worker: {}",
                crate::worker::js_error(&e)
            );
            inner.on_response.emit(Response::Failed { job: 0, error });
        }
    }
}

fn on_message(weak: &Weak<RefCell<Inner>>, e: MessageEvent) {
    let Some(inner) = weak.upgrade() else { return };
    let response = decode::<Response>(&Uint8Array::new(&e.data()).to_vec())
        .unwrap_or_else(|error| Response::Failed { job: 0, error });
    if response == Response::Ready {
        let mut i = inner.borrow_mut();
        i.ready = true;
        for m in std::mem::take(&mut i.queue) {
            post(&i, &m);
        }
    }
    let cb = inner.borrow().on_response.clone();
    cb.emit(response);
}
