//! A multi-seed summary (`summary.json` of `train-sweep --seeds`): Table 1 as mean ± standard
//! deviation over the seeds, Table 2 per seed and pooled, and REPS against accuracy drop with
//! ±1 standard deviation error bars. Every number carries `data-key` and `data-value` (the mean;
//! `data-sd` the standard deviation).

use super::charts::{chart, Chart};
use super::figures::by_method;
use reps::analysis::{score, MeanSd, SeedModel, SeedSummary};
use reps::stats::Correlations;
use yew::prelude::*;

/// Reads one quantity of a model.
type Field = fn(&SeedModel) -> &MeanSd;

/// The columns of Table 1 over seeds: key, header, the value.
const COLUMNS: [(&str, &str, Field); 5] = [
    ("acc", "accuracy", |m| &m.accuracy),
    ("drop", "accuracy drop", |m| &m.accuracy_drop),
    ("reps_weighted", "REPS (weighted)", |m| &m.reps_weighted),
    ("reps_equal", "REPS (equal)", |m| &m.reps_equal),
    ("cka", "CKA", |m| &m.cka),
];

/// One `mean ± sd` cell.
fn cell(key: String, v: &MeanSd) -> Html {
    match v.mean {
        Some(mean) => html! {
            <td class="num" data-key={key} data-value={mean.to_string()} data-sd={v.sd.map(|s| s.to_string())}>
                { format!("{mean:.4}") }
                if let Some(sd) = v.sd { <span class="sd">{ format!(" ± {sd:.4}") }</span> }
            </td>
        },
        None => html! { <td class="num na" data-key={key}>{ "n/a" }</td> },
    }
}

/// One `PLCC / SRCC / KRCC` cell; the keys end in `:plcc`, `:srcc`, `:krcc`.
fn correlation_cell(key: String, c: &Correlations) -> Html {
    let one = |name: &str, v: Option<f64>| match v {
        Some(x) => {
            html! { <span class="num" data-key={format!("{key}:{name}")} data-value={x.to_string()}>{ format!("{x:.3}") }</span> }
        }
        None => {
            html! { <span class="num na" data-key={format!("{key}:{name}")} title={c.reason.clone().unwrap_or_default()}>{ "n/a" }</span> }
        }
    };
    html! { <td>{ one("plcc", c.plcc) }{ " / " }{ one("srcc", c.srcc) }{ " / " }{ one("krcc", c.krcc) }</td> }
}

/// The whole summary.
pub fn view(s: &SeedSummary) -> Html {
    let seeds: Vec<String> = s.seeds.iter().map(|x| x.to_string()).collect();
    // REPS against drop: one series per method, each point with ±1 sd of REPS.
    let mut series = by_method(
        s.models
            .iter()
            .filter(|m| m.name != s.reference)
            .filter_map(|m| {
                let (x, y) = (m.accuracy_drop.mean?, m.reps_weighted.mean?);
                let sd = m.reps_weighted.sd;
                Some((
                    m.name.as_str(),
                    m.method.as_str(),
                    (x, y),
                    sd.map(|sd| (y - sd, y + sd)),
                ))
            }),
    );
    for s in &mut series {
        s.whisker_label = "mean ± 1 sd";
    }
    let figure = Chart {
        id: "seeds-reps-vs-drop".into(),
        title: format!(
            "REPS against accuracy drop, mean ± sd over {} seeds",
            s.seeds.len()
        ),
        x_label: "accuracy drop (mean)".into(),
        y_label: "REPS, weighted (mean ± sd)".into(),
        series,
        log: false,
        log_switch: false,
        regression: true,
        x_names: Vec::new(),
    };
    html! {
        <section id="seeds">
            <h2>{ format!("Summary over seeds {}", seeds.join(", ")) }</h2>
            <p class="note">{ format!("Mean ± sample standard deviation over the seeds; each seed's accuracy drop is against its own {}. Open a seed's sweep.reps for its layers, spectra and histograms.", s.reference) }</p>
            <table id="seeds-table1">
                <thead><tr><th>{ "model" }</th><th>{ "seeds" }</th>
                    { for COLUMNS.iter().map(|(_, h, _)| html! { <th>{ *h }</th> }) }
                </tr></thead>
                <tbody>
                    { for s.models.iter().map(|m| html! {
                        <tr data-model={m.name.clone()}>
                            <th>{ &m.name }</th>
                            <td class="num">{ m.accuracy.n }</td>
                            { for COLUMNS.iter().map(|(k, _, f)| cell(format!("seeds:{k}:{}", m.name), f(m))) }
                        </tr>
                    }) }
                </tbody>
            </table>
            <h3>{ "Table 2 per seed and pooled: each score against accuracy drop (PLCC / SRCC / KRCC)" }</h3>
            <table id="seeds-table2">
                <thead><tr><th>{ "score" }</th>
                    { for seeds.iter().map(|x| html! { <th>{ format!("seed {x}") }</th> }) }
                    <th>{ "pooled" }</th>
                </tr></thead>
                <tbody>
                    { for s.correlations.iter().map(|(key, c)| html! {
                        <tr>
                            <th>{ score(key).map_or(key, |sc| sc.label) }</th>
                            { for c.per_seed.iter().zip(&seeds).map(|(p, x)| correlation_cell(format!("seeds-corr:{key}:{x}"), p)) }
                            { correlation_cell(format!("seeds-corr:{key}:pooled"), &c.pooled) }
                        </tr>
                    }) }
                </tbody>
            </table>
            { chart(&figure) }
        </section>
    }
}
