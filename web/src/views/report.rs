//! The tables and the figures of one report, with what the reader should know first: redrawn only
//! when the report, the analysis or a choice that they depend on changes.

use super::choice::{checkboxes, Choice};
use crate::protocol::Analysis;
use crate::views;
use crate::views::props::{Handler, Shared};
use reps::analysis::{score, Report};
use reps::metrics::PerComponent;
use yew::prelude::*;

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

/// What [`Views`] draws; compared by pointer, so that progress messages and other page updates do
/// not redraw the tables and charts.
#[derive(Properties, PartialEq)]
pub struct ViewsProps {
    pub report: Shared<Option<Result<Report, String>>>,
    pub analysis: Shared<Analysis>,
    /// The sliders' values (the report holds them rescaled).
    pub weights: PerComponent<f64>,
    pub on_weight: Handler<(usize, f64)>,
    /// The models Figure 2 draws, and what sets them.
    pub figure_models: Vec<String>,
    pub on_figure_models: Handler<Vec<String>>,
    /// The overview's score (a key of `reps::analysis::SCORES`) and damage threshold, and what
    /// sets them.
    pub heat_score: String,
    pub threshold: f64,
    pub on_heat_score: Handler<String>,
    pub on_threshold: Handler<f64>,
    /// Saves the report as JSON, once its statistics are `report_ready`.
    pub on_report: Handler<MouseEvent>,
    pub report_ready: bool,
}

/// The tables and the figures of one report.
#[function_component(Views)]
pub fn views(p: &ViewsProps) -> Html {
    let Some(Ok(r)) = p.report.as_ref() else {
        return html! {};
    };
    let a = &p.analysis;
    let names: Vec<String> = r.models.iter().map(|m| m.name.clone()).collect();
    let c = &a.comparisons;
    let first = score(&p.heat_score).map(|s| views::tables::FirstDamaged {
        score: s.short,
        threshold: p.threshold,
        layers: c
            .models
            .iter()
            .map(|m| {
                let l = m.first_below(&c.layers, s, p.threshold);
                (m.name.clone(), l.map(str::to_string))
            })
            .collect(),
    });
    html! {
        <>
            { context(r) }
            <views::heatmap::Heatmap analysis={a.clone()} score={p.heat_score.clone()} threshold={p.threshold}
                on_score={p.on_heat_score.clone()} on_threshold={p.on_threshold.clone()} />
            if let Some(first) = first {
                { views::tables::all(r, &p.weights, p.on_weight.0.clone(), &first, p.on_report.0.clone(), p.report_ready) }
            }
            { checkboxes(&Choice {
                id: "figure-models",
                legend: "Models drawn in Figure 2 (a)–(c), (e)–(g)",
                items: &names,
                chosen: &p.figure_models,
                at_least_one: false,
                on_change: p.on_figure_models.0.clone(),
            }) }
            { views::figures::all(r, &a.comparisons, &a.histograms, &p.figure_models) }
        </>
    }
}
