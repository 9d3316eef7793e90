//! The page's hooks apart from its layout: [`use_choices`], the reader's choices restored from
//! the link, and [`use_worker`], the background worker that reads and analyses, with the requests
//! the page sends it.

use crate::bridge::Bridge;
use crate::protocol::{Request, Response, Side};
use crate::state::{Action, Source, ViewerState};
use crate::view_state::{current_hash, parse_hash, preferred_theme, Theme, ViewState};
use crate::views::heatmap::DEFAULT_THRESHOLD;
use reps::metrics::{PerComponent, WEIGHTED};
use std::cell::RefCell;
use std::rc::Rc;
use yew::prelude::*;

/// The reader's choices, each its own state: restored from the link (the URL's hash) on the
/// first render, which the page writes back once something is shown.
pub struct Choices {
    /// What the link restores, read once, and its problems (shown on the page).
    pub link: Rc<(ViewState, Vec<String>)>,
    /// REPS's component weights (the sliders).
    pub weights: UseStateHandle<PerComponent<f64>>,
    /// The layers the tables average over (`None`: the analysis's default).
    pub chosen_layers: UseStateHandle<Option<Vec<String>>>,
    /// The models Figure 2 draws (`None`: its default).
    pub chosen_models: UseStateHandle<Option<Vec<String>>>,
    pub pinned: UseStateHandle<Vec<String>>,
    /// The model under the pointer (linked selection).
    pub hovered: UseStateHandle<Option<String>>,
    /// The overview's damage threshold and score.
    pub threshold: UseStateHandle<f64>,
    pub heat_score: UseStateHandle<String>,
    pub theme: UseStateHandle<Theme>,
    /// How the arrays of activation files opened next are read: `None` (tokens where a file has
    /// an attention_mask), `Some(true)` (tokens), `Some(false)` (one sample per first axis).
    pub axes: UseStateHandle<Option<bool>>,
    /// The link's reference, applied to the first analysis shown.
    pub pending_reference: Rc<RefCell<Option<String>>>,
    /// Resamples of the analysed samples for per-model REPS intervals (0: none yet).
    pub sample_bootstrap: UseStateHandle<u32>,
}

/// [`Choices`], with the theme set on `<html>` (which style.css reads) whenever it changes.
#[hook]
pub fn use_choices() -> Choices {
    let link = use_memo((), |_| parse_hash(&current_hash()));
    let start = &link.0;
    let weights = use_state(|| start.weights.unwrap_or(WEIGHTED.0));
    let chosen_layers = use_state(|| start.layers.clone());
    let chosen_models = use_state(|| None::<Vec<String>>);
    let pinned = use_state(|| start.pinned.clone());
    let hovered = use_state(|| None::<String>);
    let threshold = use_state(|| start.threshold.unwrap_or(DEFAULT_THRESHOLD));
    let heat_score = use_state(|| "reps_weighted".to_string());
    let theme = use_state(|| start.theme.unwrap_or_else(preferred_theme));
    let axes = use_state(|| None::<bool>);
    let pending_reference = use_mut_ref(|| start.reference.clone());
    let sample_bootstrap = use_state(|| 0u32);
    use_effect_with(*theme, |theme| {
        if let Some(root) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
        {
            let _ = root.set_attribute("data-theme", theme.name());
        }
    });
    Choices {
        link,
        weights,
        chosen_layers,
        chosen_models,
        pinned,
        hovered,
        threshold,
        heat_score,
        theme,
        axes,
        pending_reference,
        sample_bootstrap,
    }
}

/// The worker and what the page asks of it.
pub struct Worker {
    pub bridge: Bridge,
    /// Opens files as side A or B.
    pub open: Callback<(Vec<web_sys::File>, Side)>,
    /// Analyses the files shown again against another reference (a model's name).
    pub reanalyse: Callback<String>,
}

/// The worker, started once (and again when it crashes), its answers dispatched to `state`; on
/// the first render it opens `first` (a URL). `tokens` is how the arrays of activation files
/// opened next are read (`None`: tokens where a file has an attention mask).
#[hook]
pub fn use_worker(
    state: &UseReducerHandle<ViewerState>,
    first: String,
    tokens: Option<bool>,
) -> Worker {
    let bridge = {
        let dispatcher = state.dispatcher();
        use_memo((), move |_| {
            let bridge = Bridge::spawn(Callback::noop());
            let restart = bridge.clone();
            bridge.set_on_response(Callback::from(move |r: Response| {
                if matches!(r, Response::Crashed { .. }) {
                    // Not from inside the worker's own callback: start the new one afterwards.
                    let restart = restart.clone();
                    wasm_bindgen_futures::spawn_local(async move { restart.start() });
                }
                dispatcher.dispatch(Action::Worker(r));
            }));
            bridge
        })
    };
    // On start: the link's snapshot, else `?snapshot=URL`, else the bundled sample.
    {
        let (bridge, dispatcher) = (bridge.clone(), state.dispatcher());
        use_effect_with((), move |_| {
            let url = first;
            let status = format!("loading {url}…");
            let source = Source::Url(url.clone());
            let job = bridge.send(
                |job| Request::OpenUrl {
                    job,
                    url,
                    side: Side::A,
                },
                Vec::new(),
            );
            dispatcher.dispatch(Action::Sent {
                job,
                status,
                source,
                side: Side::A,
            });
        });
    }
    // Opens files as side A or B; two snapshots dropped together are A and B.
    let open = {
        let (bridge, dispatcher, tokens) = (bridge.clone(), state.dispatcher(), tokens);
        Callback::from(move |(files, side): (Vec<web_sys::File>, Side)| {
            if files.is_empty() {
                return;
            }
            let status = match side {
                Side::A => format!("reading {} file(s)…", files.len()),
                Side::B => format!("reading {} file(s) as B…", files.len()),
            };
            let stream_above = stream_above();
            let job = bridge.send(
                |job| Request::OpenFiles {
                    job,
                    stream_above,
                    side,
                    tokens,
                },
                files,
            );
            dispatcher.dispatch(Action::Sent {
                job,
                status,
                source: Source::Files,
                side,
            });
        })
    };
    let reanalyse = {
        let (bridge, dispatcher) = (bridge.clone(), state.dispatcher());
        Callback::from(move |name: String| {
            let status = format!("analysing again against {name}…");
            let job = bridge.send(|job| Request::Reference { job, name }, Vec::new());
            dispatcher.dispatch(Action::Sent {
                job,
                status,
                source: Source::Shown,
                side: Side::A,
            });
        })
    };
    Worker {
        bridge: (*bridge).clone(),
        open,
        reanalyse,
    }
}

/// Files larger than this in all are read in row chunks: `?stream_above=BYTES`, else
/// [`crate::load::MAX_TOTAL_BYTES`] (the tests lower it to stream small files).
fn stream_above() -> u64 {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .and_then(|s| web_sys::UrlSearchParams::new_with_str(&s).ok())
        .and_then(|p| p.get("stream_above"))
        .and_then(|v| v.parse().ok())
        .unwrap_or(crate::load::MAX_TOTAL_BYTES)
}
