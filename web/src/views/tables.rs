//! Tables 1–3 and the per-model scores of a report computed with the slider weights as the user's
//! weights (`reps_user`). Every number cell carries its full value in `data-value` (for tests and
//! copying) and shows 4 decimals. The score columns and rows follow the score registry.

use reps::analysis::{method_groups, scores_present, ModelIdentity, NamedMap, Report};
use reps::metrics::COMPONENTS;
use reps::stats::{p_label, Correlations, Statistic};
use yew::prelude::*;

/// A number cell: 4 decimals shown, the full value in `data-value`, keyed `key` (n/a when absent).
pub(super) fn num(key: String, v: Option<f64>) -> Html {
    match v {
        Some(x) => {
            html! { <td class="num" data-key={key} data-value={x.to_string()}>{ format!("{x:.4}") }</td> }
        }
        None => html! { <td class="num na" data-key={key}>{ "n/a" }</td> },
    }
}

/// Table 1: the reference's accuracy, then each method's models with their parameter and
/// accuracy. Drawn from the report, and from the decoded files before the analysis ends.
pub fn table1<M: ModelIdentity>(models: &[M], reference: &str) -> Html {
    let groups = method_groups(models, reference);
    let rows = groups.iter().map(|g| g.models.len()).max().unwrap_or(0);
    let reference = models.iter().find(|m| m.name() == reference);
    html! {
        <section id="table1">
            <h2>{ "Table 1: accuracy" }</h2>
            if let Some(m) = reference {
                <p>{ format!("Reference {}: ", m.name()) }<span class="num" data-key={format!("acc:{}", m.name())} data-value={m.accuracy().map(|a| a.to_string())}>{ m.accuracy().map(|a| format!("{a:.4}")).unwrap_or_else(|| "n/a".into()) }</span></p>
            }
            if rows > 0 {
                <table>
                    <thead><tr>{ for groups.iter().map(|g| html! { <><th data-method={g.method.to_string()}>{ match g.parameter_name { Some(p) => format!("{} ({p})", g.method), None => g.method.to_string() } }</th><th>{ "Acc." }</th></> }) }</tr></thead>
                    <tbody>
                    { for (0..rows).map(|i| html! {
                        <tr>{ for groups.iter().map(|g| match g.models.get(i) {
                            Some(m) => html! { <><td class={classes!(m.parameter().is_some().then_some("num"))} title={m.name().to_string()}>{ m.parameter().map(|p| p.to_string()).unwrap_or_else(|| m.name().to_string()) }</td>{ num(format!("acc:{}", m.name()), m.accuracy()) }</> },
                            None => html! { <><td/><td/></> },
                        }) }</tr>
                    }) }
                    </tbody>
                </table>
            }
        </section>
    }
}

/// An interval as `[lo, hi]` (3 decimals), its ends in `data-lo` / `data-hi`, keyed `key`.
pub fn interval(key: String, i: Option<[f64; 2]>) -> Html {
    match i {
        Some([lo, hi]) => html! {
            <span class="ci" data-key={key} data-lo={lo.to_string()} data-hi={hi.to_string()}>{ format!("[{lo:.3}, {hi:.3}]") }</span>
        },
        None => html! {},
    }
}

/// A correlation with, below it, its interval (`ci:<key>`) and p-value (`p:<key>`) once inferred.
fn statistic(key: String, c: &Correlations, s: Statistic) -> Html {
    let v = c.value(s);
    html! {
        <td class={classes!("num", v.is_none().then_some("na"))} data-key={key.clone()} data-value={v.map(|x| x.to_string())}>
            { v.map(|x| format!("{x:.4}")).unwrap_or_else(|| "n/a".into()) }
            if c.interval(s).is_some() { <br/>{ interval(format!("ci:{key}"), c.interval(s)) } }
            if let Some(p) = c.p_value(s) {
                <br/><span class="p" data-key={format!("p:{key}")} data-value={p.to_string()}>{ p_label(p) }</span>
            }
        </td>
    }
}

/// Table 2's layout for `correlations` (the report's, the stable regime's, or pooled over seeds),
/// marking the strongest |PLCC|; cells keyed `<prefix>plcc:<score>` and so on. The row of the
/// user's weights is shown when `user_weights`.
pub fn correlations_table(
    user_weights: bool,
    correlations: &NamedMap<Correlations>,
    prefix: &str,
) -> Html {
    let best = correlations
        .iter()
        .filter_map(|(k, c)| c.plcc.map(|p| (k.to_string(), p.abs())))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(k, _)| k);
    html! {
        <table>
            <thead><tr><th>{ "Metric" }</th>{ for Statistic::ALL.iter().map(|s| html! { <th>{ s.label() }</th> }) }</tr></thead>
            <tbody>
            { for scores_present(user_weights).filter_map(|s| correlations.get(s.key).map(|c| (s, c))).map(|(s, c)| { let k = s.key; html! {
                <tr class={classes!((best.as_deref() == Some(k)).then_some("best"), s.needs_user_weights.then_some("live"))} title={c.reason.clone().unwrap_or_default()}>
                    <td>{ s.label }</td>{ for Statistic::ALL.iter().map(|&st| statistic(format!("{prefix}{}:{k}", st.key()), c, st)) }
                </tr>
            } }) }
            </tbody>
        </table>
    }
}

fn table2(r: &Report) -> Html {
    let inference = match &r.inference {
        Some(i) => format!(" Under each value: its 95% percentile bootstrap interval over models ({} resamples) and its two-sided permutation p-value ({} permutations), seed {}.", i.bootstrap, i.permutations, i.seed),
        None => " Intervals and p-values are being computed…".into(),
    };
    html! {
        <section id="table2">
            <h2>{ "Table 2: correlation with accuracy drop" }</h2>
            <p class="note">{ "Signed, over the compressed models: a similarity that falls as the drop grows correlates negatively (the paper prints the opposite sign). The strongest |PLCC| is marked." }{ inference }</p>
            { correlations_table(r.user_weights.is_some(), &r.correlations, "") }
        </section>
    }
}

/// Table 3 with a slider per component; `raw` are the sliders' values (the report holds them
/// rescaled to sum 1 in its "User weights" row).
fn table3(r: &Report, raw: &[f64], on_weight: Callback<(usize, f64)>) -> Html {
    let names: Vec<String> = COMPONENTS
        .iter()
        .map(|c| format!("{} ({})", c.weight, c.symbol))
        .collect();
    html! {
        <section id="table3">
            <h2>{ "Table 3: sensitivity of REPS to its weights" }</h2>
            <div class="sliders">
            { for names.iter().enumerate().map(|(k, n)| {
                let cb = on_weight.clone();
                let oninput = Callback::from(move |e: InputEvent| {
                    let el: web_sys::HtmlInputElement = e.target_unchecked_into();
                    cb.emit((k, el.value().parse().unwrap_or(0.0)));
                });
                html! { <label>{ n }<input type="range" id={format!("w{k}")} min="0" max="1" step="0.05" value={raw[k].to_string()} {oninput} /><span>{ format!("{:.2}", raw[k]) }</span></label> }
            }) }
            </div>
            <table>
                <thead><tr><th>{ "Configuration" }</th>{ for names.iter().map(|n| html! { <th>{ n }</th> }) }<th>{ "PLCC" }</th><th>{ "95% interval" }</th></tr></thead>
                <tbody>
                { for r.sensitivity.iter().map(|s| html! {
                    <tr><td>{ &s.name }</td>{ for s.weights.iter().map(|x| html! { <td class="num">{ format!("{x:.2}") }</td> }) }{ num(format!("sens:{}", s.name), s.plcc) }<td class="num">{ interval(format!("ci:sens:{}", s.name), s.plcc_ci) }</td></tr>
                }) }
                if let Some(b) = &r.best_weights {
                    <tr><td>{ "Best on the simplex (leave-one-model-out PLCC)" }</td>{ for b.weights.iter().map(|x| html! { <td class="num">{ format!("{x:.2}") }</td> }) }{ num("sens:best".into(), b.loo_plcc) }<td/></tr>
                }
                </tbody>
            </table>
        </section>
    }
}

/// Where each model's damage starts, as the overview marks it: per model name, the first layer
/// whose `score` (a label) is below `threshold`.
pub struct FirstDamaged {
    pub score: &'static str,
    pub threshold: f64,
    pub layers: Vec<(String, Option<String>)>,
}

/// Every model with every score of the registry (cells keyed `score:<key>:<model>`) and its first
/// damaged layer (`models-first-damaged:<model>`, the layer in `data-layer`). Each row stands for
/// its model (`data-model`) and takes the keyboard focus.
fn models(r: &Report, first: &FirstDamaged) -> Html {
    let scores: Vec<_> = scores_present(r.user_weights.is_some()).collect();
    let sampled = r.models.iter().any(|m| m.reps_ci.is_some());
    html! {
        <section id="models">
            <h2>{ "Per-model scores (means over the analysed layers)" }</h2>
            <table>
                <thead><tr>
                    { for ["Model", "Method", "Parameter", "Acc.", "Drop"].iter().map(|h| html! { <th>{ *h }</th> }) }
                    { for scores.iter().map(|s| html! { <th title={s.label}>{ s.short }</th> }) }
                    if sampled { <th title="95% percentile bootstrap interval of REPS (weighted) over resamples of the analysed samples">{ "REPS w interval" }</th> }
                    <th title={format!("The first layer, in order, whose {} is below {} (the overview's choice)", first.score, first.threshold)}>{ format!("first damaged ({} < {})", first.score, first.threshold) }</th>
                </tr></thead>
                <tbody>
                { for r.models.iter().map(|m| {
                    let layer = first.layers.iter().find(|(n, _)| n == &m.name).and_then(|(_, l)| l.clone());
                    html! {
                    <tr data-model={m.name.clone()} tabindex="0">
                        <td>{ &m.name }</td><td>{ &m.method }</td>
                        <td class="num">{ m.parameter.map(|p| p.to_string()).unwrap_or_default() }</td>
                        { num(format!("acc2:{}", m.name), m.accuracy) }{ num(format!("drop2:{}", m.name), m.accuracy_drop) }
                        { for scores.iter().map(|s| num(format!("score:{}:{}", s.key, m.name), (s.of_model)(m))) }
                        if sampled { <td class="num">{ interval(format!("reps_ci:{}", m.name), m.reps_ci) }</td> }
                        if m.name == r.reference {
                            <td class="na">{ "reference" }</td>
                        } else {
                            <td data-key={format!("models-first-damaged:{}", m.name)} data-layer={layer.clone().unwrap_or_default()}>{ layer.unwrap_or_else(|| "none".into()) }</td>
                        }
                    </tr>
                } }) }
                </tbody>
            </table>
        </section>
    }
}

fn opt(v: Option<f64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// Buttons that download the per-model scores, Table 2 and Table 3 of `r` as CSV (for
/// spreadsheets), Markdown and LaTeX (a booktabs `tabular`, for papers).
fn csv_buttons(r: &Report) -> Html {
    let scores: Vec<_> = scores_present(r.user_weights.is_some()).collect();
    let ends = |i: Option<[f64; 2]>| [opt(i.map(|i| i[0])), opt(i.map(|i| i[1]))];
    let models = {
        let rows: Vec<Vec<String>> = r
            .models
            .iter()
            .map(|m| {
                let mut row = vec![
                    m.name.clone(),
                    m.method.clone(),
                    opt(m.parameter),
                    m.parameter_name.clone().unwrap_or_default(),
                    opt(m.accuracy),
                    opt(m.accuracy_drop),
                ];
                row.extend(scores.iter().map(|s| opt((s.of_model)(m))));
                row.extend(ends(m.reps_ci));
                row
            })
            .collect();
        let mut header = vec![
            "model",
            "method",
            "parameter",
            "parameter_name",
            "accuracy",
            "accuracy_drop",
        ];
        header.extend(scores.iter().map(|s| s.key));
        header.extend(["reps_ci_low", "reps_ci_high"]);
        (header, rows)
    };
    let mut header2 = vec!["metric", "plcc", "srcc", "krcc"];
    header2.extend([
        "plcc_ci_low",
        "plcc_ci_high",
        "plcc_p",
        "srcc_ci_low",
        "srcc_ci_high",
        "srcc_p",
        "krcc_ci_low",
        "krcc_ci_high",
        "krcc_p",
        "reason",
    ]);
    let table2 = (
        header2,
        r.correlations
            .iter()
            .map(|(k, c)| {
                let mut row = vec![k.to_string()];
                row.extend(Statistic::ALL.map(|s| opt(c.value(s))));
                for s in Statistic::ALL {
                    row.extend(ends(c.interval(s)));
                    row.push(opt(c.p_value(s)));
                }
                row.push(c.reason.clone().unwrap_or_default());
                row
            })
            .collect::<Vec<_>>(),
    );
    let mut header3 = vec!["configuration"];
    header3.extend(COMPONENTS.iter().map(|c| c.key));
    header3.extend(["plcc", "plcc_ci_low", "plcc_ci_high"]);
    let table3 = (
        header3,
        r.sensitivity
            .iter()
            .map(|s| {
                let mut row = vec![s.name.clone()];
                row.extend(s.weights.iter().map(f64::to_string));
                row.push(opt(s.plcc));
                row.extend(ends(s.plcc_ci));
                row
            })
            .collect::<Vec<_>>(),
    );
    type Format = (
        &'static str,
        &'static str,
        fn(&[&str], &[Vec<String>]) -> String,
    );
    const FORMATS: [Format; 3] = [
        ("csv", "text/csv", super::download::csv),
        ("md", "text/markdown", super::download::markdown),
        ("tex", "application/x-tex", super::download::latex),
    ];
    let buttons = |stem: &'static str, (header, rows): (Vec<&'static str>, Vec<Vec<String>>)| {
        FORMATS
            .iter()
            .map(|&(ext, mime, render)| {
                let name = format!("{stem}.{ext}");
                let text = render(&header, &rows);
                let label = format!("download {name}");
                let onclick =
                    Callback::from(move |_| super::download::download(&name, mime, &text));
                html! { <button class="download" {onclick}>{ label }</button> }
            })
            .collect::<Html>()
    };
    html! { <p class="csv">{ buttons("models", models) }{ buttons("table2", table2) }{ buttons("table3", table3) }</p> }
}

/// Every table of `r` (a report with the sliders' weights as the user's weights); `raw` are the
/// sliders' values; `on_report` downloads the report as JSON (enabled once `report_ready`).
pub fn all(
    r: &Report,
    raw: &[f64],
    on_weight: Callback<(usize, f64)>,
    first: &FirstDamaged,
    on_report: Callback<MouseEvent>,
    report_ready: bool,
) -> Html {
    html! {
        <>
            { table1(&r.models, &r.reference) }
            { table2(r) }
            { super::statistics::all(r) }
            { table3(r, raw, on_weight) }
            { models(r, first) }
            { csv_buttons(r) }
            <p class="report-json">
                <button id="download-report" class="download" onclick={on_report} disabled={!report_ready}
                    title="The whole report, with its statistics, as native analyze --format json writes it for these layers and weights">{ "download report.json" }</button>
            </p>
        </>
    }
}
