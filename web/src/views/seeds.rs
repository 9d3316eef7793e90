//! A multi-seed summary (`summary.json` of `train-sweep --seeds` or `analyze --pool`): Table 1 as
//! mean ± standard deviation over the seeds, Table 2 per seed and pooled, REPS against accuracy
//! drop with ±1 standard deviation error bars, and the inference on the pooled models (intervals
//! and p-values, the comparisons, Table 3 and the claims). Every number carries `data-key` and
//! `data-value` (the mean; `data-sd` the standard deviation).

use super::charts::{chart, Chart};
use super::figures::by_method;
use super::statistics;
use super::tables::{correlations_table, interval};
use reps::analysis::{score, MeanSd, NamedMap, SeedModel, SeedSummary};
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
            { for drop_by_level(s).iter().map(chart) }
            { pooled(s) }
        </section>
    }
}

/// One chart per method whose models have a parameter: the accuracy drop (mean ± sd over the
/// seeds) against the level, in ascending order of the parameter (where stable-then-cliff shows).
fn drop_by_level(s: &SeedSummary) -> Vec<Chart> {
    let mut charts: Vec<Chart> = Vec::new();
    for m in s.models.iter().filter(|m| m.name != s.reference) {
        let (Some(p), Some(drop)) = (m.parameter, m.accuracy_drop.mean) else {
            continue;
        };
        let id = format!("seeds-drop-{}", m.method);
        let at = match charts.iter().position(|c| c.id == id) {
            Some(at) => at,
            None => {
                let param = m.parameter_name.as_deref().unwrap_or("parameter");
                charts.push(Chart {
                    id,
                    title: format!(
                        "{}: accuracy drop by {param}, mean ± sd over {} seeds",
                        m.method,
                        s.seeds.len()
                    ),
                    x_label: param.to_string(),
                    y_label: "accuracy drop (mean ± sd)".into(),
                    series: vec![super::charts::Series {
                        name: m.method.clone(),
                        line: true,
                        whisker_label: "mean ± 1 sd",
                        ..Default::default()
                    }],
                    log: false,
                    log_switch: false,
                    regression: false,
                    x_names: Vec::new(),
                });
                charts.len() - 1
            }
        };
        let series = &mut charts[at].series[0];
        series.points.push((p, drop));
        series.point_models.push(m.name.clone());
        series
            .whiskers
            .push(m.accuracy_drop.sd.map(|sd| (drop - sd, drop + sd)));
    }
    for c in &mut charts {
        // In ascending order of the level, so that the line joins neighbouring levels.
        let s = &mut c.series[0];
        let mut order: Vec<usize> = (0..s.points.len()).collect();
        order.sort_by(|&a, &b| s.points[a].0.total_cmp(&s.points[b].0));
        s.points = order.iter().map(|&i| s.points[i]).collect();
        s.point_models = order.iter().map(|&i| s.point_models[i].clone()).collect();
        s.whiskers = order.iter().map(|&i| s.whiskers[i]).collect();
    }
    charts
}

/// The inference on the pooled models, when the summary has it.
fn pooled(s: &SeedSummary) -> Html {
    let Some(i) = &s.inference else {
        return html! {};
    };
    let table2 = NamedMap(
        s.correlations
            .iter()
            .map(|(k, c)| (k.to_string(), c.pooled.clone()))
            .collect(),
    );
    html! {
        <>
            <h3 id="pooled">{ "Pooled over the seeds, with intervals" }</h3>
            <p class="note">{ format!("The compressed models of all {} seeds as one set. Under each value: its 95% percentile cluster-bootstrap interval ({} resamples, each drawing seeds with replacement, then models within each drawn seed) and its two-sided p-value from {} permutations of the accuracy drops within each seed; seed {}.", s.seeds.len(), i.bootstrap, i.permutations, i.seed) }</p>
            { correlations_table(false, &table2, "pooled:") }
            if !s.sensitivity.is_empty() {
                <h3>{ "Table 3 on the pooled models: REPS's PLCC for each weight configuration" }</h3>
                <table id="pooled-table3">
                    <thead><tr><th>{ "configuration" }</th><th>{ "weights" }</th><th>{ "PLCC" }</th><th>{ "95% interval" }</th></tr></thead>
                    <tbody>
                    { for s.sensitivity.iter().map(|r| html! {
                        <tr>
                            <td>{ &r.name }</td>
                            <td>{ r.weights.iter().map(|w| format!("{w:.2}")).collect::<Vec<_>>().join(", ") }</td>
                            <td class="num" data-key={format!("pooled-table3:{}", r.name)} data-value={r.plcc.map(|p| p.to_string())}>{ r.plcc.map_or("n/a".into(), |p| format!("{p:.4}")) }</td>
                            <td class="num">{ interval(format!("ci:pooled-table3:{}", r.name), r.plcc_ci) }</td>
                        </tr>
                    }) }
                    </tbody>
                </table>
            }
            { statistics::stable(s.correlations_stable.as_ref(), false) }
            { statistics::comparisons(&s.comparisons) }
            { verdicts(s) }
            { statistics::claims(&s.claims) }
        </>
    }
}

/// Each claim's verdict per seed and pooled (`data-verdict` on every cell).
fn verdicts(s: &SeedSummary) -> Html {
    if s.claims_per_seed.is_empty() {
        return html! {};
    }
    let per_seed = |c: &str, seed: usize| {
        s.claims_per_seed
            .get(seed)
            .and_then(|cs| cs.iter().find(|x| x.id == c))
            .map(|x| x.verdict.as_str())
    };
    html! {
        <>
            <h3>{ "The paper's claims per seed and pooled" }</h3>
            <table id="seeds-verdicts">
                <thead><tr><th>{ "claim" }</th>
                    { for s.seeds.iter().map(|x| html! { <th>{ format!("seed {x}") }</th> }) }
                    <th>{ "pooled" }</th>
                </tr></thead>
                <tbody>
                { for s.claims.iter().map(|c| html! {
                    <tr>
                        <td><code>{ &c.id }</code></td>
                        { for (0..s.seeds.len()).map(|k| {
                            let v = per_seed(&c.id, k);
                            html! { <td class={classes!("verdict-cell", v)} data-key={format!("verdict:{}:{}", c.id, s.seeds[k])} data-verdict={v}>{ v.unwrap_or("–") }</td> }
                        }) }
                        <td class={classes!("verdict-cell", c.verdict.as_str())} data-key={format!("verdict:{}:pooled", c.id)} data-verdict={c.verdict.as_str()}><strong>{ c.verdict.as_str() }</strong></td>
                    </tr>
                }) }
                </tbody>
            </table>
        </>
    }
}
