//! The page: loading (bundled sample, `?snapshot=URL`, file picker, drag and drop), the analysis,
//! and the views. A bad file shows its error and leaves what was loaded intact.

use crate::load::{load, Loaded};
use crate::views;
use reps::analysis::{analyze, AnalysisOptions, Report};
use std::rc::Rc;
use web_sys::{DragEvent, HtmlInputElement};
use yew::prelude::*;

/// Reads every file's bytes, then loads them as one analysis.
async fn read_files(files: Vec<web_sys::File>) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut out = Vec::with_capacity(files.len());
    for f in files {
        let name = f.name();
        let bytes = gloo_file::futures::read_as_bytes(&gloo_file::File::from(f))
            .await
            .map_err(|e| format!("{name}: cannot be read: {e}"))?;
        out.push((name, bytes));
    }
    Ok(out)
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

fn file_list(list: Option<web_sys::FileList>) -> Vec<web_sys::File> {
    let Some(list) = list else { return Vec::new() };
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

#[function_component(App)]
pub fn app() -> Html {
    let loaded = use_state(|| None::<Loaded>);
    let error = use_state(|| None::<String>);
    let status = use_state(|| Some("loading the sample snapshot…".to_string()));
    let reference = use_state(|| None::<String>);
    let weights = use_state(|| [0.15, 0.05, 0.35, 0.45]);
    let generation = use_mut_ref(|| 0u32);

    // Load a list of (name, bytes): on success replace what is shown, on failure keep it.
    let accept = {
        let (loaded, error, status, reference, generation) = (
            loaded.clone(),
            error.clone(),
            status.clone(),
            reference.clone(),
            generation.clone(),
        );
        Callback::from(move |files: Result<Vec<(String, Vec<u8>)>, String>| {
            status.set(None);
            let result = files.and_then(|f| {
                *generation.borrow_mut() += 1;
                load(&f, *generation.borrow()).map_err(|e| e.to_string())
            });
            match result {
                Ok(l) => {
                    reference.set(None);
                    error.set(None);
                    loaded.set(Some(l));
                }
                Err(e) => error.set(Some(e)),
            }
        })
    };

    // On start: `?snapshot=URL`, else the bundled sample.
    {
        let (accept, status) = (accept.clone(), status.clone());
        use_effect_with((), move |_| {
            let search = web_sys::window()
                .and_then(|w| w.location().search().ok())
                .unwrap_or_default();
            let url = web_sys::UrlSearchParams::new_with_str(&search)
                .ok()
                .and_then(|p| p.get("snapshot"))
                .unwrap_or_else(|| "sample.reps".to_string());
            status.set(Some(format!("loading {url}…")));
            wasm_bindgen_futures::spawn_local(async move {
                let name = url.rsplit('/').next().unwrap_or(&url).to_string();
                accept.emit(fetch(&url).await.map(|b| vec![(name, b)]));
            });
        });
    }

    let on_files = {
        let (accept, status) = (accept.clone(), status.clone());
        Callback::from(move |files: Vec<web_sys::File>| {
            if files.is_empty() {
                return;
            }
            status.set(Some(format!("reading {} file(s)…", files.len())));
            let accept = accept.clone();
            wasm_bindgen_futures::spawn_local(async move { accept.emit(read_files(files).await) });
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

    // The analysis, recomputed when the input or the reference changes.
    let report: Rc<Result<Report, String>> = {
        let key = (loaded.as_ref().map(|l| l.input.1), (*reference).clone());
        let loaded = loaded.clone();
        use_memo(key, move |(_, reference)| match loaded.as_ref() {
            None => Err(String::new()),
            Some(l) => analyze(
                &l.input.0,
                &AnalysisOptions {
                    reference: reference.clone(),
                    ..Default::default()
                },
            )
            .map_err(|e| e.to_string()),
        })
    };

    // All layers, for the per-layer figures; and the fc spectra of the figure's models.
    let layers_report: Rc<Option<Report>> = {
        let key = (loaded.as_ref().map(|l| l.input.1), (*reference).clone());
        let loaded = loaded.clone();
        use_memo(key, move |(_, reference)| {
            let l = loaded.as_ref()?;
            let first = l.input.0.models.first()?;
            let all: Vec<String> = first
                .layers
                .iter()
                .map(|(k, _)| k.clone())
                .filter(|k| l.input.0.models.iter().all(|m| m.layer(k).is_some()))
                .collect();
            analyze(
                &l.input.0,
                &AnalysisOptions {
                    reference: reference.clone(),
                    layers: Some(all),
                    ..Default::default()
                },
            )
            .ok()
        })
    };
    let spectra: Rc<Vec<(String, Vec<f64>)>> = {
        let key = (loaded.as_ref().map(|l| l.input.1), (*reference).clone());
        let (loaded, report) = (loaded.clone(), report.clone());
        use_memo(key, move |_| {
            let (Some(l), Ok(r)) = (loaded.as_ref(), report.as_ref()) else {
                return Vec::new();
            };
            views::figures::selected_models(r)
                .into_iter()
                .filter_map(|name| {
                    let m = l.input.0.models.iter().find(|m| m.name == name)?;
                    let layer = m
                        .layer("fc")
                        .or_else(|| m.layer("logits"))
                        .or_else(|| m.layers.last().map(|x| &x.1))?;
                    let s = reps::metrics::LayerStats::compute(layer, None, 10).ok()?;
                    Some((
                        name,
                        s.eigenvalues.into_iter().filter(|&x| x > 0.0).collect(),
                    ))
                })
                .collect()
        })
    };

    let on_reference = {
        let reference = reference.clone();
        Callback::from(move |e: Event| {
            let sel: web_sys::HtmlSelectElement = e.target_unchecked_into();
            reference.set(Some(sel.value()));
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

    html! {
        <div class="page" {ondragover} {ondrop}>
            <header>
                <h1>{ "reps viewer" }</h1>
                <p class="lede">{ "How did compression change the network's representations? Drop a .reps snapshot, or one .npz / .npy / .safetensors activation file per model (the first is the reference), anywhere on the page. Everything is computed in your browser." }</p>
                <label class="picker">{ "Open files… " }
                    <input type="file" multiple=true accept=".reps,.npz,.npy,.safetensors" {onchange} />
                </label>
            </header>
            if let Some(s) = (*status).clone() { <p class="status" id="status">{ s }</p> }
            if let Some(e) = (*error).clone() { <p class="error" id="error" role="alert">{ e }</p> }
            if let Some(l) = loaded.as_ref() {
                <p class="loaded" id="loaded">{ &l.description }</p>
                {
                    match report.as_ref() {
                        Ok(r) => html! {
                            <>
                                <label>{ "Reference model: " }
                                    <select id="reference" onchange={on_reference}>
                                        { for r.models.iter().map(|m| html! {
                                            <option value={m.name.clone()} selected={m.name == r.reference}>{ &m.name }</option>
                                        }) }
                                    </select>
                                </label>
                                { views::tables::all(r, *weights, on_weight) }
                                { views::figures::all(
                                    r,
                                    layers_report.as_ref().as_ref(),
                                    &spectra,
                                    &l.histograms,
                                    &reps::metrics::RepsWeights::new(*weights).unwrap_or(reps::metrics::EQUAL),
                                ) }
                            </>
                        },
                        Err(e) => html! { <p class="error" role="alert">{ e }</p> },
                    }
                }
            }
        </div>
    }
}
