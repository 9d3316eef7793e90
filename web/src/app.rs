//! The page: loading (bundled sample, `?snapshot=URL`, file picker, drag and drop), the reference
//! and layer choices, and the views. Reading and analysing run in the worker ([`crate::bridge`]);
//! the page builds the tables of the chosen layers from the worker's comparisons, which is quick.
//! A bad file shows its error and leaves what was loaded intact.

use crate::bridge::Bridge;
use crate::protocol::{Analysis, Request, Response};
use crate::views;
use reps::analysis::{Report, SeedSummary};
use reps::metrics::{PerComponent, RepsWeights, EQUAL, WEIGHTED};
use std::rc::Rc;
use web_sys::{DragEvent, HtmlInputElement};
use yew::prelude::*;

/// What the page shows besides the analysis itself.
#[derive(Clone, Default)]
pub struct ViewerState {
    /// The last job sent to the worker.
    latest: u32,
    /// The analysis shown, with its job number.
    shown: Option<(u32, Rc<Analysis>)>,
    /// A multi-seed summary opened after it, with its job number: shown instead.
    seeds: Option<(u32, Rc<SeedSummary>)>,
    /// Progress of the latest job: step, done, total.
    progress: Option<(String, usize, usize)>,
    status: Option<String>,
    error: Option<String>,
    /// The last statistics job sent to the worker and what it was asked for, its answer (what
    /// it was asked for, the report with its statistics, the worker's seconds) and its progress
    /// (resampling the samples: done, total).
    inference_latest: (u32, InferenceKey),
    inferred: Option<(InferenceKey, Rc<Report>, f64)>,
    inference_progress: Option<(usize, usize)>,
}

/// What a report's statistics were computed for: the analysis job, the layers, and the number of
/// sample resamples. Statistics are shown only for the current one.
pub type InferenceKey = (Option<u32>, Vec<String>, u32);

/// What changes the state.
pub enum Action {
    /// A request went to the worker as `job`; `status` says what it does.
    Sent { job: u32, status: String },
    /// A statistics request for `key` went to the worker as `job`.
    SentInference { job: u32, key: InferenceKey },
    /// The worker answered.
    Worker(Response),
}

impl Reducible for ViewerState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut s = (*self).clone();
        match action {
            Action::Sent { job, status } => {
                s.latest = job;
                s.status = Some(status);
                s.progress = None;
            }
            Action::SentInference { job, key } => {
                s.inference_latest = (job, key);
                s.inference_progress = None;
            }
            Action::Worker(Response::Ready) => return self,
            Action::Worker(Response::Progress {
                job,
                step,
                done,
                total,
            }) => {
                if job == s.inference_latest.0 {
                    s.inference_progress = Some((done, total));
                } else if job == s.latest {
                    s.progress = Some((step, done, total));
                } else {
                    return self;
                }
            }
            Action::Worker(Response::Inference {
                job,
                report,
                seconds,
            }) => {
                if job != s.inference_latest.0 {
                    return self;
                }
                s.inferred = Some((s.inference_latest.1.clone(), Rc::new(*report), seconds));
                s.inference_progress = None;
            }
            Action::Worker(Response::Seeds { job, summary }) => {
                if s.newest_shown() > job {
                    return self;
                }
                s.seeds = Some((job, Rc::new(*summary)));
                if job == s.latest {
                    s.status = None;
                    s.progress = None;
                    s.error = None;
                }
            }
            Action::Worker(Response::Done { job, analysis }) => {
                // A newer result than the one shown replaces it, even if a later job is queued.
                if s.newest_shown() > job {
                    return self;
                }
                s.shown = Some((job, Rc::new(*analysis)));
                s.seeds = None;
                if job == s.latest {
                    s.status = None;
                    s.progress = None;
                    s.error = None;
                }
            }
            Action::Worker(Response::Failed { job, error })
            | Action::Worker(Response::Crashed { job, error }) => {
                if job != 0 && job != s.latest && job != s.inference_latest.0 {
                    return self;
                }
                s.inference_progress = None;
                s.status = None;
                s.progress = None;
                s.error = Some(error);
            }
        }
        Rc::new(s)
    }
}

impl ViewerState {
    /// The job number of what the page shows (0: nothing yet).
    fn newest_shown(&self) -> u32 {
        let analysis = self.shown.as_ref().map_or(0, |(j, _)| *j);
        self.seeds.as_ref().map_or(analysis, |(j, _)| *j)
    }
}

fn file_list(list: Option<web_sys::FileList>) -> Vec<web_sys::File> {
    let Some(list) = list else { return Vec::new() };
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

/// `?snapshot=URL` made absolute against the page, else the bundled sample.
fn start_url() -> String {
    let Some(location) = web_sys::window().map(|w| w.location()) else {
        return "sample.reps".into();
    };
    let search = location.search().unwrap_or_default();
    let wanted = web_sys::UrlSearchParams::new_with_str(&search)
        .ok()
        .and_then(|p| p.get("snapshot"))
        .unwrap_or_else(|| "sample.reps".to_string());
    let href = location.href().unwrap_or_default();
    web_sys::Url::new_with_base(&wanted, &href)
        .map(|u| u.href())
        .unwrap_or(wanted)
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

#[function_component(App)]
pub fn app() -> Html {
    let state = use_reducer(ViewerState::default);
    let weights = use_state(|| WEIGHTED.0);
    let chosen_layers = use_state(|| None::<Vec<String>>);
    let chosen_models = use_state(|| None::<Vec<String>>);
    // Resamples of the analysed samples for per-model REPS intervals (0: none yet).
    let sample_bootstrap = use_state(|| 0u32);
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

    // On start: `?snapshot=URL`, else the bundled sample.
    {
        let (bridge, dispatcher) = (bridge.clone(), state.dispatcher());
        use_effect_with((), move |_| {
            let url = start_url();
            let status = format!("loading {url}…");
            let job = bridge.send(|job| Request::OpenUrl { job, url }, Vec::new());
            dispatcher.dispatch(Action::Sent { job, status });
        });
    }

    let on_files = {
        let (bridge, dispatcher) = (bridge.clone(), state.dispatcher());
        Callback::from(move |files: Vec<web_sys::File>| {
            if files.is_empty() {
                return;
            }
            let status = format!("reading {} file(s)…", files.len());
            let stream_above = stream_above();
            let job = bridge.send(|job| Request::OpenFiles { job, stream_above }, files);
            dispatcher.dispatch(Action::Sent { job, status });
        })
    };
    let onchange = {
        let on_files = on_files.clone();
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            on_files.emit(file_list(input.files()));
            input.set_value("");
        })
    };
    let ondragover = Callback::from(|e: DragEvent| e.prevent_default());
    let ondrop = {
        let on_files = on_files.clone();
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            on_files.emit(file_list(e.data_transfer().and_then(|d| d.files())));
        })
    };
    let on_reference = {
        let (bridge, dispatcher) = (bridge.clone(), state.dispatcher());
        Callback::from(move |e: Event| {
            let sel: web_sys::HtmlSelectElement = e.target_unchecked_into();
            let name = sel.value();
            let status = format!("analysing again against {name}…");
            let job = bridge.send(|job| Request::Reference { job, name }, Vec::new());
            dispatcher.dispatch(Action::Sent { job, status });
        })
    };
    let on_weight = {
        let weights = weights.clone();
        Callback::from(move |(k, v): (usize, f64)| {
            let mut w = *weights;
            w[k] = v;
            weights.set(w);
        })
    };

    // The layers the tables average over: the reader's choice where it still applies, else the
    // analysis's default.
    let shown = state.shown.clone();
    let layers: Vec<String> = match (&shown, &*chosen_layers) {
        (Some((_, a)), Some(c)) if c.iter().all(|l| a.comparisons.layers.contains(l)) => c.clone(),
        (Some((_, a)), _) => a.default_layers.clone(),
        (None, _) => Vec::new(),
    };
    // The report of the chosen layers (rebuilt when they change), then the sliders' weights as
    // the user's weights (all sliders at zero count as equal weights): a slider only recomputes
    // what depends on the weights.
    let base: Rc<Option<Result<Report, String>>> = {
        let shown = shown.clone();
        use_memo(
            (shown.as_ref().map(|s| s.0), layers.clone()),
            move |(_, layers)| {
                shown.as_ref().map(|(_, a)| {
                    a.comparisons
                        .report(layers, None)
                        .map_err(|e| e.to_string())
                })
            },
        )
    };
    // The worker fills in the statistics of the base report (intervals, p-values, the stable
    // regime, the comparisons, the claims; per-model intervals when asked for): sent again when
    // the layers, the analysis or the number of sample resamples change.
    let key: InferenceKey = (
        shown.as_ref().map(|s| s.0),
        layers.clone(),
        *sample_bootstrap,
    );
    {
        let (bridge, dispatcher, base) = (bridge.clone(), state.dispatcher(), base.clone());
        use_effect_with(key.clone(), move |key| {
            if let Some(Ok(r)) = base.as_ref() {
                let (report, sample_bootstrap) = (Box::new(r.clone()), key.2);
                let job = bridge.send(
                    |job| Request::Inference {
                        job,
                        report,
                        sample_bootstrap,
                    },
                    Vec::new(),
                );
                dispatcher.dispatch(Action::SentInference {
                    job,
                    key: key.clone(),
                });
            }
        });
    }
    // The statistics of the current choice, once the worker has sent them.
    let (inferred, seconds) = match &state.inferred {
        Some((k, r, seconds)) if *k == key => (Some(r.clone()), Some(*seconds)),
        _ => (None, None),
    };
    let report: Rc<Option<Result<Report, String>>> = use_memo(
        (
            shown.as_ref().map(|s| s.0),
            layers.clone(),
            *weights,
            inferred.as_ref().map(Rc::as_ptr),
        ),
        move |(_, _, raw, _)| {
            let w = RepsWeights::new(*raw).unwrap_or(EQUAL);
            match &inferred {
                Some(r) => Some(Ok(r.with_user_weights(Some(w)))),
                None => base.as_ref().as_ref().map(|r| {
                    r.as_ref()
                        .map(|r| r.with_user_weights(Some(w)))
                        .map_err(Clone::clone)
                }),
            }
        },
    );
    // Figure 2's models: the reader's choice where every name still exists, else the default.
    let figure_models: Vec<String> = match (report.as_ref(), &*chosen_models) {
        (Some(Ok(r)), Some(c)) if c.iter().all(|n| r.models.iter().any(|m| &m.name == n)) => {
            c.clone()
        }
        (Some(Ok(r)), _) => views::figures::selected_models(r),
        _ => Vec::new(),
    };
    let on_figure_models = {
        let chosen_models = chosen_models.clone();
        Callback::from(move |next: Vec<String>| chosen_models.set(Some(next)))
    };
    let on_sample_bootstrap = {
        let sample_bootstrap = sample_bootstrap.clone();
        Callback::from(move |_| sample_bootstrap.set(SAMPLE_RESAMPLES))
    };
    let on_layers = {
        let chosen_layers = chosen_layers.clone();
        Callback::from(move |next: Vec<String>| chosen_layers.set(Some(next)))
    };

    html! {
        <div class="page" {ondragover} {ondrop}>
            <header>
                <h1>{ "reps viewer" }</h1>
                <p class="lede">{ "How did compression change the network's representations? Drop a .reps snapshot, one .npz / .npy / .safetensors activation file per model (the first is the reference), or the summary.json of a multi-seed sweep, anywhere on the page. Everything is computed in your browser, in a background worker; no data leaves your machine." }</p>
                <label class="picker">{ "Open files…" }
                    // Visually hidden (the label is the button), still reachable by keyboard.
                    <input class="visually-hidden" type="file" multiple=true accept=".reps,.npz,.npy,.safetensors,.json" {onchange} />
                </label>
            </header>
            if let (Some(s), None) = (state.status.clone(), &state.progress) { <p class="status" id="status">{ s }</p> }
            if let Some((step, done, total)) = state.progress.clone() {
                <div class="progress" id="progress" role="progressbar" aria-valuenow={done.to_string()} aria-valuemax={total.to_string()}>
                    <progress max={total.max(1).to_string()} value={done.to_string()} />
                    <span>{ format!("{step} ({done}/{total})") }</span>
                </div>
            }
            if let Some(e) = state.error.clone() { <p class="error" id="error" role="alert">{ e }</p> }
            if let (Some(_), Some((_, a))) = (&state.error, shown.as_ref()) {
                <p class="stale" id="stale" role="status">{ format!("Still shown below: the earlier analysis of {}.", a.description) }</p>
            }
            if let Some((_, summary)) = state.seeds.as_ref() {
                { views::seeds::view(summary) }
            } else if let Some((_, a)) = shown.as_ref() {
                <p class="loaded" id="loaded">{ &a.description }
                    <span class="timings" id="timings" data-read={a.timings.read.to_string()} data-decode={a.timings.decode.to_string()} data-analyse={a.timings.analyse.to_string()}>
                        { format!(" · read {:.2} s, decoded {:.2} s, analysed {:.2} s in a background worker", a.timings.read, a.timings.decode, a.timings.analyse) }
                    </span>
                </p>
                {
                    match report.as_ref() {
                        Some(Ok(r)) => html! {
                            <>
                                <div class="choices">
                                    <label>{ "Reference model: " }
                                        <select id="reference" onchange={on_reference}>
                                            { for r.models.iter().map(|m| html! {
                                                <option value={m.name.clone()} selected={m.name == r.reference}>{ &m.name }</option>
                                            }) }
                                        </select>
                                    </label>
                                    { checkboxes(&Choice {
                                        id: "layers",
                                        legend: "Layers averaged in the tables",
                                        items: &a.comparisons.layers,
                                        chosen: &layers,
                                        at_least_one: true,
                                        on_change: on_layers,
                                    }) }
                                </div>
                                { statistics_status(&state, seconds, *sample_bootstrap, on_sample_bootstrap) }
                                <Views report={report.clone()} analysis={a.clone()} weights={*weights} {on_weight} {figure_models} {on_figure_models} />
                            </>
                        },
                        Some(Err(e)) => html! { <p class="error" role="alert">{ e }</p> },
                        None => html! {},
                    }
                }
            }
        </div>
    }
}

/// Resamples of the analysed samples behind the per-model REPS intervals the page offers.
const SAMPLE_RESAMPLES: u32 = 100;

/// Where the statistics stand (`seconds`: the worker's time on the shown ones, once they are
/// those of the current choice), and the button that asks for per-model intervals.
fn statistics_status(
    state: &ViewerState,
    seconds: Option<f64>,
    sample_bootstrap: u32,
    on_click: Callback<MouseEvent>,
) -> Html {
    let text = match (seconds, state.inference_progress) {
        (_, Some((done, total))) => format!("Statistics: resampling the samples ({done}/{total})…"),
        (None, None) => "Statistics: computing intervals, p-values and the claims in the worker…".into(),
        (Some(t), None) if sample_bootstrap > 0 => format!("Statistics: ready in {t:.2} s; per-model REPS intervals from {sample_bootstrap} resamples of the analysed samples (whiskers on the REPS-against-drop chart while the weights are the paper's weighted ones)."),
        (Some(t), None) => format!("Statistics: ready in {t:.2} s."),
    };
    let ready = seconds.is_some();
    html! {
        <p class="statistics" id="statistics" data-ready={ready.to_string()} data-seconds={seconds.unwrap_or(0.0).to_string()}>
            { text }
            if sample_bootstrap == 0 {
                { " " }<button id="sample-bootstrap" onclick={on_click} disabled={!ready}>{ format!("Per-model REPS intervals ({SAMPLE_RESAMPLES} resamples of the samples)") }</button>
            }
        </p>
    }
}

/// What the reader should know before the numbers: where class separation's labels came from,
/// the report's notes, and why correlations are missing when too few models are loaded.
fn context(r: &Report) -> Html {
    let compressed = r.models.len().saturating_sub(1);
    html! {
        <div class="context" id="context">
            <p id="label-source" data-source={format!("{:?}", r.label_source).to_lowercase()}>
                { format!("Class separation used {}.", r.label_source.describe()) }
            </p>
            if compressed < 3 {
                <p class="note" id="few-models">{ format!("{} model(s) besides the reference {}: the correlations with accuracy drop (Table 2, Table 3) need at least 3, so they show n/a. Load more models to fill them.", compressed, r.reference) }</p>
            }
            if !r.notes.is_empty() {
                <ul id="notes">{ for r.notes.iter().map(|n| html! { <li>{ n }</li> }) }</ul>
            }
        </div>
    }
}

/// A row of checkboxes choosing a subset of `items`.
struct Choice<'a> {
    /// The fieldset's id.
    id: &'static str,
    legend: &'static str,
    items: &'a [String],
    chosen: &'a [String],
    /// Whether unchecking the last checked item is refused.
    at_least_one: bool,
    /// Gets the new choice, in the order of `items`.
    on_change: Callback<Vec<String>>,
}

/// `chosen` with `name` toggled, in the order of `items`.
fn toggled(items: &[String], chosen: &[String], name: &str) -> Vec<String> {
    items
        .iter()
        .filter(|i| (*i == name) != chosen.contains(i))
        .cloned()
        .collect()
}

/// One checkbox per item (`data-item` holds its name).
fn checkboxes(c: &Choice) -> Html {
    html! {
        <fieldset class="choice" id={c.id}>
            <legend>{ c.legend }</legend>
            { for c.items.iter().map(|item| {
                let next = toggled(c.items, c.chosen, item);
                let (refuse, on_change) = (c.at_least_one && next.is_empty(), c.on_change.clone());
                let onchange = Callback::from(move |e: Event| {
                    if refuse {
                        // The last chosen item stays: undo the browser's toggle.
                        e.target_unchecked_into::<HtmlInputElement>().set_checked(true);
                    } else {
                        on_change.emit(next.clone());
                    }
                });
                html! {
                    <label class="item">
                        <input type="checkbox" data-item={item.clone()} checked={c.chosen.contains(item)} {onchange} />
                        { item }
                    </label>
                }
            }) }
        </fieldset>
    }
}

/// What [`Views`] draws; compared by pointer, so that progress messages and other page updates do
/// not redraw the tables and charts.
#[derive(Properties)]
pub struct ViewsProps {
    pub report: Rc<Option<Result<Report, String>>>,
    pub analysis: Rc<Analysis>,
    /// The sliders' values (the report holds them rescaled).
    pub weights: PerComponent<f64>,
    pub on_weight: Callback<(usize, f64)>,
    /// The models Figure 2 draws, and what sets them.
    pub figure_models: Vec<String>,
    pub on_figure_models: Callback<Vec<String>>,
}

impl PartialEq for ViewsProps {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.report, &other.report)
            && Rc::ptr_eq(&self.analysis, &other.analysis)
            && self.weights == other.weights
            && self.figure_models == other.figure_models
    }
}

/// The tables and the figures of one report.
#[function_component(Views)]
fn views(p: &ViewsProps) -> Html {
    let Some(Ok(r)) = p.report.as_ref() else {
        return html! {};
    };
    let a = &p.analysis;
    let names: Vec<String> = r.models.iter().map(|m| m.name.clone()).collect();
    html! {
        <>
            { context(r) }
            <views::heatmap::Heatmap analysis={a.clone()} />
            { views::tables::all(r, &p.weights, p.on_weight.clone()) }
            { checkboxes(&Choice {
                id: "figure-models",
                legend: "Models drawn in Figure 2 (a)–(c), (e)–(g)",
                items: &names,
                chosen: &p.figure_models,
                at_least_one: false,
                on_change: p.on_figure_models.clone(),
            }) }
            { views::figures::all(r, &a.comparisons, &a.histograms, &p.figure_models) }
        </>
    }
}
