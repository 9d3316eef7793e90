//! A compression search (`search.json` of `native search`): the final models of every strategy
//! with the paired difference from uniform, the claims, each strategy's path (calibration REPS
//! and accuracy against the budget, step by step) and each strategy's level per layer as bars
//! side by side. Every number carries `data-key` and `data-value`.

use super::charts::{chart, Chart, Series, PALETTE};
use reps::search::{Measurement, SearchResult};
use yew::prelude::*;

/// One number cell (`n/a` when missing).
fn num(key: String, v: Option<f64>) -> Html {
    match v {
        Some(x) => {
            html! { <td class="num" data-key={key} data-value={x.to_string()}>{ format!("{x:.4}") }</td> }
        }
        None => html! { <td class="num na" data-key={key}>{ "n/a" }</td> },
    }
}

/// Each strategy's path: `y(measurement)` against the budget, from the untouched model through
/// every greedy step (one point for the strategies that do not step).
fn path_chart(
    r: &SearchResult,
    id: &str,
    title: &str,
    y_label: &str,
    y: fn(&Measurement) -> Option<f64>,
) -> Chart {
    let untouched_budget = r.space.budget(&vec![0; r.space.layers.len()]);
    let series = r
        .allocations
        .iter()
        .map(|a| {
            let mut points = Vec::new();
            match &a.greedy {
                Some(g) => {
                    if let Some(v) = r.sensitivity.untouched.as_ref().and_then(y) {
                        points.push((untouched_budget, v));
                    }
                    points.extend(
                        g.steps
                            .iter()
                            .filter_map(|s| Some((s.budget, y(&s.measurement)?))),
                    );
                }
                None => points.extend(y(&a.measurement).map(|v| (a.budget, v))),
            }
            Series {
                name: a.strategy.clone(),
                model: Some(a.strategy.clone()),
                line: a.greedy.is_some(),
                points,
                ..Default::default()
            }
        })
        .collect();
    Chart {
        id: id.into(),
        title: title.into(),
        x_label: r.budget_name.clone(),
        y_label: y_label.into(),
        series,
        log: false,
        log_switch: false,
        regression: false,
        x_names: Vec::new(),
    }
}

/// Each strategy's level per layer, as bars side by side (an untouched layer at its untouched
/// amount: no pruning, 32 bits, the whole rank).
fn levels_chart(r: &SearchResult) -> Html {
    let (layers, strategies) = (r.space.layers.len(), r.models.len().max(1));
    let value =
        |m: usize, i: usize| r.models[m].levels[i].unwrap_or_else(|| r.space.layers[i].amounts[0]);
    let top = (0..r.models.len())
        .flat_map(|m| (0..layers).map(move |i| (m, i)))
        .map(|(m, i)| value(m, i))
        .fold(0.0f64, f64::max)
        .max(1e-12);
    let (left, bottom, height, bar) = (48.0, 150.0, 220.0, 6.0);
    let group = bar * strategies as f64 + 6.0;
    let width = left + group * layers as f64 + 10.0;
    html! {
        <figure class="chart" id="search-levels">
            <figcaption>{ "Each strategy's level per layer" }</figcaption>
            <svg viewBox={format!("0 0 {width} {}", height + bottom)} width={width.to_string()} role="img" aria-label="levels per layer">
                <line x1={left.to_string()} y1={height.to_string()} x2={(width - 10.0).to_string()} y2={height.to_string()} stroke="currentColor" />
                <text x="4" y="12" font-size="10">{ format!("max {top}") }</text>
                { for (0..layers).map(|i| {
                    let x0 = left + group * i as f64;
                    let name = &r.space.layers[i].name;
                    html! {
                        <g>
                            { for (0..r.models.len()).map(|m| {
                                let v = value(m, i);
                                let h = height * v / top;
                                let strategy = &r.models[m].strategy;
                                html! {
                                    <rect x={(x0 + bar * m as f64).to_string()} y={(height - h).to_string()} width={bar.to_string()} height={h.to_string()}
                                        fill={PALETTE[m % PALETTE.len()]} data-model={strategy.clone()}
                                        data-key={format!("search-level:{strategy}:{name}")} data-value={v.to_string()}>
                                        <title>{ format!("{strategy}, {name}: {v}") }</title>
                                    </rect>
                                }
                            }) }
                            <text x={(x0 + 4.0).to_string()} y={(height + 6.0).to_string()} font-size="9" transform={format!("rotate(60 {} {})", x0 + 4.0, height + 6.0)}>{ name.trim_end_matches(".weight") }</text>
                        </g>
                    }
                }) }
            </svg>
            <p class="legend">{ for r.models.iter().enumerate().map(|(m, f)| html! {
                <span><svg width="10" height="10" aria-hidden="true"><rect width="10" height="10" fill={PALETTE[m % PALETTE.len()]} /></svg>{ format!(" {}  ", f.strategy) }</span>
            }) }</p>
        </figure>
    }
}

/// The whole search.
pub fn view(r: &SearchResult) -> Html {
    let setting = |k: &str| r.setting(k);
    let reps_path = path_chart(
        r,
        "search-path-reps",
        "REPS on the calibration images along each strategy's path",
        "REPS (weighted)",
        Measurement::reps,
    );
    let accuracy_path = path_chart(
        r,
        "search-path-accuracy",
        "Calibration accuracy along each strategy's path",
        "calibration accuracy",
        |m| m.accuracy,
    );
    html! {
        <section id="search">
            <h2>{ format!("Compression search: {} of {}", setting("method"), setting("from")) }</h2>
            <p class="note">{ format!("Budget: {} (target {}, REPS threshold {}); {} calibration images; original test accuracy {:.4}. Test accuracy is on the whole test set; REPS, CKA and agreement on the sweep's analysed test images (open search.reps for their layers); the difference from uniform is paired over the test images, with its 95% bootstrap interval.", r.budget_name, setting("budget"), setting("min_reps"), setting("calibration"), r.original_accuracy) }</p>
            <table id="search-models">
                <thead><tr>
                    <th>{ "strategy" }</th><th>{ "budget" }</th><th>{ "test accuracy" }</th><th>{ "− uniform" }</th><th>{ "95% interval" }</th>
                    <th>{ "REPS" }</th><th>{ "CKA" }</th><th>{ "agreement" }</th><th>{ "calib. REPS" }</th><th>{ "calib. accuracy" }</th>
                </tr></thead>
                <tbody>
                    { for r.models.iter().map(|m| {
                        let k = |c: &str| format!("search:{}:{c}", m.strategy);
                        let d = m.vs_uniform.as_ref();
                        html! {
                            <tr data-model={m.strategy.clone()}>
                                <th>{ &m.strategy }</th>
                                { num(k("budget"), Some(m.budget)) }
                                { num(k("accuracy"), Some(m.accuracy)) }
                                { num(k("vs_uniform"), d.map(|d| d.difference)) }
                                <td class="num" data-key={k("vs_uniform_interval")}>{ d.and_then(|d| d.interval).map_or("–".into(), |[lo, hi]| format!("[{lo:+.4}, {hi:+.4}]")) }</td>
                                { num(k("reps"), m.reps) }
                                { num(k("cka"), Some(m.cka)) }
                                { num(k("prediction_agreement"), m.prediction_agreement) }
                                { num(k("calibration_reps"), m.calibration.reps()) }
                                { num(k("calibration_accuracy"), m.calibration.accuracy) }
                            </tr>
                        }
                    }) }
                </tbody>
            </table>
            if !r.claims.is_empty() {
                <table id="search-claims">
                    <thead><tr><th>{ "claim" }</th><th>{ "verdict" }</th><th>{ "evidence" }</th></tr></thead>
                    <tbody>
                        { for r.claims.iter().map(|c| html! {
                            <tr>
                                <td>{ &c.statement }</td>
                                <td class={classes!("verdict", c.verdict.as_str())} data-key={format!("search-claim:{}", c.id)} data-verdict={c.verdict.as_str()}>{ c.verdict.as_str() }</td>
                                <td>{ &c.evidence }</td>
                            </tr>
                        }) }
                    </tbody>
                </table>
            }
            { chart(&reps_path) }
            { chart(&accuracy_path) }
            { levels_chart(r) }
            <p class="note" id="search-timing">{ format!("{} candidates measured: forward passes {:.1} s, analysis {:.1} s, compression {:.1} s; {:.1} s in all.", r.timing.candidates, r.timing.forward_s, r.timing.analysis_s, r.timing.compress_s, r.seconds) }</p>
        </section>
    }
}
