//! Two analyses side by side (A: the one the page shows; B: a second snapshot or set of files,
//! each against its own reference on its own default layers): Table 2 of each, B's heatmap with
//! A's score and threshold, and the difference B − A of per-model REPS (weighted) for the models
//! both hold, by name. Cells are keyed `ab:<a|b>:<plcc|srcc|krcc>:<score>`, `b:heat:<model>:<layer>`
//! and `diff:<model>` (with `diff-a:` / `diff-b:` for the two values).

use super::tables::num;
use crate::protocol::Analysis;
use crate::views::props::{Handler, Shared};
use reps::analysis::{scores_present, Report};
use reps::stats::Statistic;
use std::rc::Rc;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct CompareProps {
    /// Side A's report as the page shows it, and side B's analysis.
    pub a: Shared<Option<Result<Report, String>>>,
    pub a_description: String,
    pub b: Shared<Analysis>,
    pub heat_score: String,
    pub threshold: f64,
    /// Closes side B.
    pub on_close: Handler<MouseEvent>,
}

/// The comparison section.
#[function_component(Compare)]
pub fn compare(p: &CompareProps) -> Html {
    let b = &p.b;
    let b_report = use_memo(Rc::as_ptr(&b.0) as usize, {
        let b = b.clone();
        move |_| b.comparisons.report(&b.default_layers, None)
    });
    let Some(Ok(a)) = p.a.as_ref() else {
        return html! {};
    };
    let rb = match b_report.as_ref() {
        Ok(r) => r,
        Err(e) => {
            return html! { <section id="compare"><p class="error" role="alert">{ format!("B: {e}") }</p></section> }
        }
    };
    // Table 2's scores both reports hold (the user's weights exist on side A only).
    let scores: Vec<_> = scores_present(false)
        .filter(|s| a.correlations.get(s.key).is_some() && rb.correlations.get(s.key).is_some())
        .collect();
    let shared: Vec<(&str, Option<f64>, Option<f64>)> = a
        .models
        .iter()
        .filter(|m| m.name != a.reference)
        .filter_map(|m| {
            let other = rb
                .models
                .iter()
                .find(|x| x.name == m.name && x.name != rb.reference)?;
            Some((m.name.as_str(), m.reps_weighted, other.reps_weighted))
        })
        .collect();
    let widest = shared
        .iter()
        .filter_map(|&(_, x, y)| Some((y? - x?).abs()))
        .fold(0.0, f64::max);
    html! {
        <section id="compare">
            <h2>{ "A and B side by side" }</h2>
            <p class="note">{ format!("A: {} (reference {}, layers {}). B: {} (reference {}, layers {}). Each side is analysed against its own reference on its own default layers; B shows point values (its intervals and p-values come with native analyze on B).", p.a_description, a.reference, a.layers.join(", "), b.description, rb.reference, rb.layers.join(", ")) }</p>
            <button id="close-b" onclick={p.on_close.0.clone()}>{ "close B" }</button>
            <h3>{ "Table 2, A and B: each score against accuracy drop" }</h3>
            <table id="compare-table2">
                <thead>
                    <tr><th rowspan="2">{ "Metric" }</th><th colspan="3">{ "A" }</th><th colspan="3">{ "B" }</th></tr>
                    <tr>{ for (0..2).map(|_| html! { { for Statistic::ALL.iter().map(|s| html! { <th>{ s.label() }</th> }) } }) }</tr>
                </thead>
                <tbody>
                    { for scores.iter().map(|s| html! {
                        <tr><td>{ s.label }</td>
                            { for [("a", a), ("b", rb)].into_iter().map(|(side, r)| html! {
                                { for Statistic::ALL.iter().map(|&st| num(format!("ab:{side}:{}:{}", st.key(), s.key), r.correlations.get(s.key).and_then(|c| c.value(st)))) }
                            }) }
                        </tr>
                    }) }
                </tbody>
            </table>
            <h3>{ format!("B's overview against {}", rb.reference) }</h3>
            <super::heatmap::Heatmap analysis={b.clone()} prefix="b:" score={p.heat_score.clone()} threshold={p.threshold} on_score={Callback::noop()} on_threshold={Callback::noop()} />
            <h3>{ "Difference B − A of per-model REPS (weighted)" }</h3>
            if shared.is_empty() {
                <p class="note" id="no-shared">{ "A and B share no compressed model by name: nothing to subtract." }</p>
            } else {
                <table id="diff">
                    <thead><tr><th>{ "model" }</th><th>{ "A" }</th><th>{ "B" }</th><th>{ "B − A" }</th><th/></tr></thead>
                    <tbody>
                        { for shared.iter().map(|&(name, x, y)| {
                            let d = x.zip(y).map(|(x, y)| y - x);
                            // A bar from the middle: right (blue) where B is higher, left (vermilion) where lower.
                            let bar = d.map(|d| {
                                let w = if widest > 0.0 { 50.0 * d.abs() / widest } else { 0.0 };
                                let (left, colour) = if d >= 0.0 { (50.0, "#0072B2") } else { (50.0 - w, "#D55E00") };
                                format!("left: {left:.1}%; width: {w:.1}%; background: {colour}")
                            });
                            html! {
                                <tr data-model={name.to_string()} tabindex="0">
                                    <th>{ name }</th>
                                    { num(format!("diff-a:{name}"), x) }{ num(format!("diff-b:{name}"), y) }{ num(format!("diff:{name}"), d) }
                                    <td class="bar-cell">if let Some(style) = bar { <span class="bar" {style}></span> }</td>
                                </tr>
                            }
                        }) }
                    </tbody>
                </table>
            }
        </section>
    }
}
