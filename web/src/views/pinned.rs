//! The pinned models side by side: per layer, each one's REPS components, REPS and CKA against the
//! reference; their spectra overlaid (the logits layer, else the last layer); their weight
//! histograms (snapshots only). Cells are keyed `pinned:<model>:<layer>:<score>` with the keys of
//! the per-layer score registry (`reps::analysis::SCORES`).

use super::charts::{chart, Chart, Series};
use super::figures::{histogram_series, spectrum_of, spectrum_series};
use crate::protocol::Analysis;
use crate::views::props::{Handler, Shared};
use reps::analysis::SCORES;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct PinnedProps {
    pub analysis: Shared<Analysis>,
    pub pinned: Vec<String>,
    /// Unpins a model.
    pub on_unpin: Handler<String>,
}

/// The panel; nothing while no loaded model is pinned.
#[function_component(Pinned)]
pub fn pinned(p: &PinnedProps) -> Html {
    let c = &p.analysis.comparisons;
    let models: Vec<_> = p
        .pinned
        .iter()
        .filter_map(|name| c.models.iter().find(|m| &m.name == name))
        .collect();
    if models.is_empty() {
        return html! {};
    }
    let scores: Vec<_> = SCORES
        .iter()
        .filter(|s| s.of_layer.is_some() && !s.needs_user_weights)
        .collect();
    let spectra = chart(&Chart {
        id: "pinned-spectra".into(),
        title: "Pinned models: eigenvalue spectra".into(),
        x_label: "index i".into(),
        y_label: "eigenvalue λ_i".into(),
        series: models
            .iter()
            .filter_map(|m| {
                let (layer, ev) = spectrum_of(m, &c.layers)?;
                Some(spectrum_series(
                    format!("{} ({layer})", m.name),
                    &m.name,
                    ev,
                ))
            })
            .collect(),
        log: true,
        log_switch: true,
        regression: false,
        x_names: vec![],
    });
    let histograms: Vec<Series> = models
        .iter()
        .filter_map(|m| {
            let (_, h) = p.analysis.histograms.iter().find(|(n, _)| n == &m.name)?;
            Some(histogram_series(&m.name, h))
        })
        .collect();
    html! {
        <section id="pinned">
            <h2>{ "Pinned models" }</h2>
            <p class="note">{ format!("Against {} on every layer. Click a model anywhere (or press Enter on its row) to pin or unpin it.", c.reference) }</p>
            <p>{ for models.iter().map(|m| {
                let (name, on_unpin) = (m.name.clone(), p.on_unpin.clone());
                html! { <button class="unpin" data-unpin={m.name.clone()} onclick={Callback::from(move |_| on_unpin.emit(name.clone()))}>{ format!("unpin {}", m.name) }</button> }
            }) }</p>
            <table id="pinned-table">
                <thead>
                    <tr><th rowspan="2">{ "layer" }</th>
                        { for models.iter().map(|m| html! { <th colspan={scores.len().to_string()} data-model={m.name.clone()}>{ &m.name }</th> }) }
                    </tr>
                    <tr>{ for models.iter().map(|_| html! { { for scores.iter().map(|s| html! { <th title={s.label}>{ s.short }</th> }) } }) }</tr>
                </thead>
                <tbody>
                    { for c.layers.iter().map(|l| html! {
                        <tr><th>{ l }</th>
                            { for models.iter().map(|m| html! {
                                { for scores.iter().map(|s| {
                                    let key = format!("pinned:{}:{l}:{}", m.name, s.key);
                                    match m.on_layer(s, l) {
                                        Some(v) => html! { <td class="num" data-key={key} data-value={v.to_string()}>{ format!("{v:.3}") }</td> },
                                        None => html! { <td class="num na" data-key={key}>{ "n/a" }</td> },
                                    }
                                }) }
                            }) }
                        </tr>
                    }) }
                </tbody>
            </table>
            <div class="charts">
                { spectra }
                if !histograms.is_empty() {
                    { chart(&Chart {
                        id: "pinned-weights".into(),
                        title: "Pinned models: weight distributions".into(),
                        x_label: "weight".into(),
                        y_label: "fraction of weights".into(),
                        series: histograms,
                        log: false,
                        log_switch: false,
                        regression: false,
                        x_names: vec![],
                    }) }
                }
            </div>
        </section>
    }
}
