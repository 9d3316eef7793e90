//! The page: loading (bundled sample, `?snapshot=URL`, file picker, drag and drop), the reference
//! and layer choices, the theme, linked selection ([`views::linked`]), the view kept in the URL's
//! hash ([`crate::view_state`]), and the views. Reading and analysing run in the worker ([`crate::bridge`]);
//! the page builds the tables of the chosen layers from the worker's comparisons, which is quick.
//! A bad file shows its error and leaves what was loaded intact.

use crate::hooks::{use_choices, use_worker, Choices, Worker};
use crate::protocol::{Analysis, Preview, Side};
use crate::state::{Action, InferenceKey, ViewerState};
use crate::view_state::{to_hash, write_hash, Theme, ViewState};
use crate::views;
use crate::views::choice::{checkboxes, Choice};
use crate::views::linked;
use crate::views::report::Views;
use reps::analysis::Report;
use reps::formats::accept_list;
use reps::metrics::{RepsWeights, EQUAL, WEIGHTED};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{DragEvent, HtmlInputElement};
use yew::prelude::*;

/// Table 1 and Figure 1 of files still being analysed (the rest follows with the analysis).
fn preview_view(p: &Preview) -> Html {
    let fig1 = views::figures::weights_figure(&p.models, &p.reference, &p.histograms);
    html! {
        <section id="preview">
            <p class="loaded" id="preview-loaded">{ &p.description }{ " · analysing…" }</p>
            { views::tables::table1(&p.models, &p.reference) }
            if let Some(f) = fig1 {
                <div class="charts">{ f }</div>
            }
        </section>
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

/// Saves `report` as report.json, as `native analyze --format json` writes it.
fn save_report(report: &Report) {
    match serde_json::to_string_pretty(report) {
        Ok(text) => views::download::download("report.json", "application/json", &(text + "\n")),
        Err(e) => web_sys::console::error_1(&format!("report.json: {e}").into()),
    }
}

#[function_component(App)]
pub fn app() -> Html {
    let state = use_reducer(ViewerState::default);
    let Choices {
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
    } = use_choices();
    let (start, link_problems) = (&link.0, &link.1);
    let Worker {
        bridge,
        open,
        reanalyse,
    } = use_worker(
        &state,
        start.snapshot.clone().unwrap_or_else(start_url),
        *axes,
    );
    let on_files = {
        let open = open.clone();
        Callback::from(move |mut files: Vec<web_sys::File>| {
            if files.len() == 2 && files.iter().all(|f| f.name().ends_with(".reps")) {
                let b = files.pop().into_iter().collect();
                open.emit((files, Side::A));
                open.emit((b, Side::B));
            } else {
                open.emit((files, Side::A));
            }
        })
    };
    let picker = |side: Side| {
        let open = open.clone();
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            open.emit((file_list(input.files()), side));
            input.set_value("");
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
    let onchange_b = picker(Side::B);
    let on_axes = {
        let axes = axes.clone();
        Callback::from(move |e: Event| {
            let v = e
                .target_unchecked_into::<web_sys::HtmlSelectElement>()
                .value();
            axes.set(match v.as_str() {
                "tokens" => Some(true),
                "samples" => Some(false),
                _ => None,
            });
        })
    };
    let on_close_b = {
        let dispatcher = state.dispatcher();
        Callback::from(move |_: MouseEvent| dispatcher.dispatch(Action::CloseB))
    };
    let ondragover = Callback::from(|e: DragEvent| e.prevent_default());
    let ondrop = {
        let on_files = on_files.clone();
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            on_files.emit(file_list(e.data_transfer().and_then(|d| d.files())));
        })
    };
    let on_reference = reanalyse.reform(|e: Event| {
        e.target_unchecked_into::<web_sys::HtmlSelectElement>()
            .value()
    });
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
    // The link's reference, once, on the first analysis that has it.
    {
        let (pending, reanalyse, shown) = (pending_reference.clone(), reanalyse, shown.clone());
        use_effect_with(shown.as_ref().map(|s| s.0), move |_| {
            if let Some((_, a)) = shown.as_ref() {
                let wanted = pending.borrow_mut().take();
                if let Some(name) = wanted.filter(|n| *n != a.comparisons.reference) {
                    if a.comparisons.models.iter().any(|m| m.name == name) {
                        reanalyse.emit(name);
                    }
                }
            }
        });
    }
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
                let job = bridge.infer(report, sample_bootstrap);
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
    let report: Rc<Option<Result<Report, String>>> = {
        let (inferred, base) = (inferred.clone(), base.clone());
        use_memo(
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
        )
    };
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

    let on_report = {
        let (bridge, dispatcher, inferred, weights) = (
            bridge.clone(),
            state.dispatcher(),
            inferred.clone(),
            *weights,
        );
        let (base, sample_bootstrap) = (base.clone(), *sample_bootstrap);
        Callback::from(move |_: MouseEvent| {
            if weights == WEIGHTED.0 {
                // The paper's weights: the report as native analyze writes it without --weights.
                if let Some(r) = &inferred {
                    save_report(r);
                }
            } else if let (Some(Ok(r)), Ok(w)) = (base.as_ref(), RepsWeights::new(weights)) {
                // Other weights: their Table 2 row needs its statistics too, as with --weights.
                let report = Box::new(r.with_user_weights(Some(w)));
                let job = bridge.infer(report, sample_bootstrap);
                dispatcher.dispatch(Action::SentExport { job });
            }
        })
    };
    // An export's answer is saved once.
    use_effect_with(state.exported.clone(), |exported| {
        if let Some((_, r)) = exported {
            save_report(r);
        }
    });

    // Linked selection (views::linked): hover or focus highlights, a click or Enter pins.
    let hover = {
        let hovered = hovered.clone();
        Callback::from(move |target: Option<web_sys::EventTarget>| {
            let m = linked::model_at(target);
            if *hovered != m {
                hovered.set(m);
            }
        })
    };
    let onmouseover = hover.reform(|e: MouseEvent| e.target());
    let onfocusin = hover.reform(|e: FocusEvent| e.target());
    let on_pin = {
        let pinned = pinned.clone();
        Callback::from(move |name: String| pinned.set(linked::toggle(&pinned, &name)))
    };
    let onclick = {
        let on_pin = on_pin.clone();
        Callback::from(move |e: MouseEvent| {
            if !linked::on_control(e.target()) {
                if let Some(m) = linked::model_at(e.target()) {
                    on_pin.emit(m);
                }
            }
        })
    };
    let onkeydown = {
        let on_pin = on_pin.clone();
        Callback::from(move |e: KeyboardEvent| {
            if !matches!(e.key().as_str(), "Enter" | " ") {
                return;
            }
            // Only on the focused row itself, not on a control inside one.
            let own = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .and_then(|el| el.get_attribute("data-model"));
            if let Some(m) = own {
                e.prevent_default();
                on_pin.emit(m);
            }
        })
    };
    let on_theme = {
        let theme = theme.clone();
        Callback::from(move |_: MouseEvent| theme.set(theme.toggled()))
    };
    let on_threshold = {
        let threshold = threshold.clone();
        Callback::from(move |t: f64| threshold.set(t))
    };
    let on_heat_score = {
        let heat_score = heat_score.clone();
        Callback::from(move |k: String| heat_score.set(k))
    };

    // The link: written once something is shown and the link's own reference has been applied.
    let view = shown.as_ref().map(|_| ViewState {
        snapshot: state.shown_url.clone(),
        reference: match report.as_ref() {
            Some(Ok(r)) => Some(r.reference.clone()),
            _ => None,
        },
        layers: Some(layers.clone()),
        weights: Some(*weights),
        pinned: (*pinned).clone(),
        threshold: Some(*threshold),
        theme: Some(*theme),
    });
    {
        let pending = pending_reference.clone();
        use_effect_with(view, move |view| {
            if let (Some(v), None) = (view, pending.borrow().as_ref()) {
                write_hash(&to_hash(v));
            }
        });
    }

    let analysis_view = |a: &Rc<Analysis>, r: &Rc<Option<Result<Report, String>>>| {
        let Some(Ok(rep)) = r.as_ref() else {
            return html! {};
        };
        html! {
            <>
                <div class="choices">
                    <label>{ "Reference model: " }
                        <select id="reference" onchange={on_reference.clone()}>
                            { for rep.models.iter().map(|m| html! {
                                <option value={m.name.clone()} selected={m.name == rep.reference}>{ &m.name }</option>
                            }) }
                        </select>
                    </label>
                    { checkboxes(&Choice {
                        id: "layers",
                        legend: "Layers averaged in the tables",
                        items: &a.comparisons.layers,
                        chosen: &layers,
                        at_least_one: true,
                        on_change: on_layers.clone(),
                    }) }
                </div>
                { statistics_status(&state, seconds, *sample_bootstrap, on_sample_bootstrap.clone()) }
                if let Some((_, b)) = state.shown_b.as_ref() {
                    <views::compare::Compare a={r.clone()} a_description={a.description.clone()} b={b.clone()}
                        heat_score={(*heat_score).clone()} threshold={*threshold} on_close={on_close_b.clone()} />
                }
                <views::pinned::Pinned analysis={a.clone()} pinned={(*pinned).clone()} on_unpin={on_pin.clone()} />
                <Views report={r.clone()} analysis={a.clone()} weights={*weights} on_weight={on_weight.clone()}
                    figure_models={figure_models.clone()} on_figure_models={on_figure_models.clone()}
                    heat_score={(*heat_score).clone()} threshold={*threshold} on_heat_score={on_heat_score.clone()}
                    on_threshold={on_threshold.clone()} on_report={on_report.clone()} report_ready={inferred.is_some()} />
            </>
        }
    };

    // A search is shown alone (its search.json opened by itself), or above the analysis of the
    // snapshot dropped with it, which the same job answers.
    let search = state.search.as_ref().map(|(_, r)| r.clone());
    let search_above = matches!(
        (&state.search, &shown),
        (Some((s, _)), Some((a, _))) if s == a
    );

    html! {
        <div class="page" {ondragover} {ondrop} {onmouseover} {onfocusin} {onclick} {onkeydown}>
            <style>{ views::charts::chart_css(|v| format!("var({v})")) }</style>
            <style id="linked">{ linked::css(hovered.as_deref(), &pinned) }</style>
            <header>
                <h1>{ "reps viewer" }</h1>
                <button id="theme" class="theme" onclick={on_theme} aria-pressed={(*theme == Theme::Dark).to_string()}>{ if *theme == Theme::Dark { "light mode" } else { "dark mode" } }</button>
                <p class="lede">{ "How did compression change the network's representations? Drop a .reps snapshot, one .npz / .npy / .safetensors activation file per model (the first is the reference), the summary.json of a multi-seed sweep, or the results.json of sweeps that differ only in their seed (pooled here), anywhere on the page. Everything is computed in your browser, in a background worker; no data leaves your machine. The address bar keeps the view (reference, layers, weights, pinned models, threshold, theme): copy it to share." }</p>
                <label class="picker">{ "Open files…" }
                    // Visually hidden (the label is the button), still reachable by keyboard.
                    <input class="visually-hidden" type="file" multiple=true accept={accept_list(&[".json"])} {onchange} />
                </label>
                { " " }
                { " " }
                <label class="axes" title="How the arrays of .npz / .safetensors files opened next are read: a language model's (batch, sequence, hidden) hidden states as batch·sequence tokens of hidden features (native analyze --tokens), or one sample per first axis">{ "Arrays: " }
                    <select id="axes" onchange={on_axes}>
                        <option value="auto" selected={axes.is_none()}>{ "tokens if a file has an attention_mask" }</option>
                        <option value="tokens" selected={*axes == Some(true)}>{ "tokens: every axis but the last is a sample" }</option>
                        <option value="samples" selected={*axes == Some(false)}>{ "samples: one per first axis" }</option>
                    </select>
                </label>
                { " " }
                <label class="picker" title="A second snapshot or set of activation files, shown beside the first: Table 2 and the overview of each, and the difference of per-model REPS. Dropping two .reps files together opens them as A and B.">{ "Compare with B…" }
                    <input id="open-b" class="visually-hidden" type="file" multiple=true accept={accept_list(&[])} onchange={onchange_b} />
                </label>
            </header>
            if !link_problems.is_empty() {
                <ul class="note" id="link-problems">{ for link_problems.iter().map(|p| html! { <li>{ p }</li> }) }</ul>
            }
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
            if let Some(p) = state.current_preview() {
                { preview_view(p) }
            } else if let (Some(result), false) = (search.as_ref(), search_above) {
                { views::search::view(result) }
            } else if let Some((_, summary)) = state.seeds.as_ref() {
                { views::seeds::view(summary) }
            } else if let Some((_, a)) = shown.as_ref() {
                if let (Some(result), true) = (search.as_ref(), search_above) { { views::search::view(result) } }
                <p class="loaded" id="loaded">{ &a.description }
                    <span class="timings" id="timings" data-read={a.timings.read.to_string()} data-decode={a.timings.decode.to_string()} data-analyse={a.timings.analyse.to_string()} data-workers={a.timings.workers.to_string()} data-kernels={a.timings.kernels.clone()}>
                        { format!(" · read {:.2} s, decoded {:.2} s, analysed {:.2} s in {}", a.timings.read, a.timings.decode, a.timings.analyse, if a.timings.workers > 1 { format!("{} background workers", a.timings.workers) } else { "a background worker".into() }) }
                    </span>
                </p>
                {
                    match report.as_ref() {
                        Some(Err(e)) => html! { <p class="error" role="alert">{ e }</p> },
                        _ => analysis_view(a, &report),
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
