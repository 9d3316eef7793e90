//! Tables 1–3 and the per-model scores, with live REPS weights. Every number cell carries its full
//! value in `data-value` (for tests and copying) and shows 4 decimals.

use reps::analysis::{ModelReport, Report, SCORE_LABELS};
use reps::formats::snapshot::ModelKind;
use reps::metrics::RepsWeights;
use reps::stats::{correlate, pearson};
use yew::prelude::*;

fn num(key: String, v: Option<f64>) -> Html {
    match v {
        Some(x) => {
            html! { <td class="num" data-key={key} data-value={x.to_string()}>{ format!("{x:.4}") }</td> }
        }
        None => html! { <td class="num na" data-key={key}>{ "n/a" }</td> },
    }
}

/// Model-level REPS with `w` (REPS is linear in the components, averaged over layers).
fn live_reps(m: &ModelReport, w: &RepsWeights) -> Option<f64> {
    w.combine([
        Some(m.effective_rank),
        Some(m.alive),
        m.separation,
        Some(m.decay),
    ])
}

fn table1(r: &Report) -> Html {
    let groups = [
        ("Coreset", "Fraction", ModelKind::Coreset),
        ("Pruning", "Ratio", ModelKind::Prune),
        ("Quantization", "Bits", ModelKind::Quant),
    ];
    let cols: Vec<Vec<&ModelReport>> = groups
        .iter()
        .map(|g| r.models.iter().filter(|m| m.kind == g.2).collect())
        .collect();
    let rows = cols.iter().map(Vec::len).max().unwrap_or(0);
    let others: Vec<&ModelReport> = r
        .models
        .iter()
        .filter(|m| matches!(m.kind, ModelKind::External | ModelKind::Original))
        .collect();
    html! {
        <section id="table1">
            <h2>{ "Table 1: accuracy" }</h2>
            if rows > 0 {
                <table>
                    <thead><tr>{ for groups.iter().map(|g| html! { <><th>{ g.0 }</th><th>{ "Acc." }</th></> }) }</tr></thead>
                    <tbody>
                    { for (0..rows).map(|i| html! {
                        <tr>{ for cols.iter().map(|c| match c.get(i) {
                            Some(m) => html! { <><td class="num">{ m.parameter.map(|p| p.to_string()).unwrap_or_default() }</td>{ num(format!("acc:{}", m.name), m.accuracy) }</> },
                            None => html! { <><td/><td/></> },
                        }) }</tr>
                    }) }
                    </tbody>
                </table>
            }
            <table>
                <thead><tr><th>{ "Model" }</th><th>{ "Acc." }</th><th>{ "Drop" }</th></tr></thead>
                <tbody>{ for others.iter().map(|m| html! {
                    <tr><td>{ &m.name }</td>{ num(format!("acc:{}", m.name), m.accuracy) }{ num(format!("drop:{}", m.name), m.accuracy_drop) }</tr>
                }) }</tbody>
            </table>
        </section>
    }
}

fn table2(r: &Report, live: &reps::stats::Correlations) -> Html {
    let best = r
        .correlations
        .iter()
        .filter_map(|(k, c)| c.plcc.map(|p| (k.to_string(), p.abs())))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(k, _)| k);
    html! {
        <section id="table2">
            <h2>{ "Table 2: correlation with accuracy drop" }</h2>
            <p class="note">{ "Signed, over the compressed models: a similarity that falls as the drop grows correlates negatively (the paper prints the opposite sign). The strongest |PLCC| is marked." }</p>
            <table>
                <thead><tr><th>{ "Metric" }</th><th>{ "PLCC" }</th><th>{ "SRCC" }</th><th>{ "KRCC" }</th></tr></thead>
                <tbody>
                { for SCORE_LABELS.iter().filter_map(|(k, label)| r.correlations.get(k).map(|c| (k, label, c))).map(|(k, label, c)| html! {
                    <tr class={classes!((best.as_deref() == Some(*k)).then_some("best"))} title={c.reason.clone().unwrap_or_default()}>
                        <td>{ *label }</td>{ num(format!("plcc:{k}"), c.plcc) }{ num(format!("srcc:{k}"), c.srcc) }{ num(format!("krcc:{k}"), c.krcc) }
                    </tr>
                }) }
                <tr class="live"><td>{ "REPS (your weights)" }</td>{ num("plcc:live".into(), live.plcc) }{ num("srcc:live".into(), live.srcc) }{ num("krcc:live".into(), live.krcc) }</tr>
                </tbody>
            </table>
        </section>
    }
}

fn table3(
    r: &Report,
    w: &RepsWeights,
    live_plcc: Option<f64>,
    on_weight: Callback<(usize, f64)>,
) -> Html {
    let names = ["α (s_e)", "β (s_alive)", "γ (s_s)", "δ (s_d)"];
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
                html! { <label>{ *n }<input type="range" id={format!("w{k}")} min="0" max="1" step="0.05" value={w.0[k].to_string()} {oninput} /><span>{ format!("{:.2}", w.0[k]) }</span></label> }
            }) }
            </div>
            <table>
                <thead><tr><th>{ "Configuration" }</th>{ for names.iter().map(|n| html! { <th>{ *n }</th> }) }<th>{ "PLCC" }</th></tr></thead>
                <tbody>
                { for r.sensitivity.iter().map(|s| html! {
                    <tr><td>{ &s.name }</td>{ for s.weights.iter().map(|x| html! { <td class="num">{ format!("{x:.2}") }</td> }) }{ num(format!("sens:{}", s.name), s.plcc) }</tr>
                }) }
                <tr class="live"><td>{ "Your weights (normalised)" }</td>{ for w.0.iter().map(|x| html! { <td class="num">{ format!("{x:.2}") }</td> }) }{ num("sens:live".into(), live_plcc) }</tr>
                if let Some(b) = &r.best_weights {
                    <tr><td>{ "Best on the simplex (leave-one-model-out PLCC)" }</td>{ for b.weights.iter().map(|x| html! { <td class="num">{ format!("{x:.2}") }</td> }) }{ num("sens:best".into(), b.loo_plcc) }</tr>
                }
                </tbody>
            </table>
        </section>
    }
}

fn models(r: &Report, w: &RepsWeights) -> Html {
    html! {
        <section id="models">
            <h2>{ "Per-model scores (means over the analysed layers)" }</h2>
            <table>
                <thead><tr>{ for ["Model", "Kind", "Acc.", "Drop", "REPS (yours)", "REPS w", "REPS eq", "s_e", "s_alive", "s_s", "s_d", "CKA", "Agreement"].iter().map(|h| html! { <th>{ *h }</th> }) }</tr></thead>
                <tbody>
                { for r.models.iter().map(|m| html! {
                    <tr>
                        <td>{ &m.name }</td><td>{ m.kind.as_str() }</td>
                        { num(format!("acc2:{}", m.name), m.accuracy) }{ num(format!("drop2:{}", m.name), m.accuracy_drop) }
                        { num(format!("live:{}", m.name), live_reps(m, w)) }
                        { num(format!("repsw:{}", m.name), m.reps_weighted) }{ num(format!("repse:{}", m.name), m.reps_equal) }
                        { num(format!("se:{}", m.name), Some(m.effective_rank)) }{ num(format!("alive:{}", m.name), Some(m.alive)) }
                        { num(format!("ss:{}", m.name), m.separation) }{ num(format!("sd:{}", m.name), Some(m.decay)) }
                        { num(format!("cka:{}", m.name), Some(m.cka)) }{ num(format!("agree:{}", m.name), m.baselines.prediction_agreement) }
                    </tr>
                }) }
                </tbody>
            </table>
        </section>
    }
}

fn opt(v: Option<f64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// A "download CSV" button for the per-model scores, Table 2 and Table 3 of `r`.
fn csv_buttons(r: &Report) -> Html {
    let models = {
        let rows: Vec<Vec<String>> = r
            .models
            .iter()
            .map(|m| {
                vec![
                    m.name.clone(),
                    m.kind.as_str().into(),
                    opt(m.parameter),
                    opt(m.accuracy),
                    opt(m.accuracy_drop),
                    opt(m.reps_weighted),
                    opt(m.reps_equal),
                    m.effective_rank.to_string(),
                    m.alive.to_string(),
                    opt(m.separation),
                    m.decay.to_string(),
                    m.cka.to_string(),
                    opt(m.baselines.prediction_agreement),
                    opt(m.baselines.kl_divergence),
                    opt(m.baselines.weight_similarity),
                ]
            })
            .collect();
        super::download::csv(
            &[
                "model",
                "kind",
                "parameter",
                "accuracy",
                "accuracy_drop",
                "reps_weighted",
                "reps_equal",
                "effective_rank",
                "alive",
                "separation",
                "decay",
                "cka",
                "prediction_agreement",
                "kl_divergence",
                "weight_similarity",
            ],
            &rows,
        )
    };
    let table2 = super::download::csv(
        &["metric", "plcc", "srcc", "krcc", "reason"],
        &r.correlations
            .iter()
            .map(|(k, c)| {
                vec![
                    k.to_string(),
                    opt(c.plcc),
                    opt(c.srcc),
                    opt(c.krcc),
                    c.reason.clone().unwrap_or_default(),
                ]
            })
            .collect::<Vec<_>>(),
    );
    let table3 = super::download::csv(
        &["configuration", "alpha", "beta", "gamma", "delta", "plcc"],
        &r.sensitivity
            .iter()
            .map(|s| {
                vec![
                    s.name.clone(),
                    s.weights[0].to_string(),
                    s.weights[1].to_string(),
                    s.weights[2].to_string(),
                    s.weights[3].to_string(),
                    opt(s.plcc),
                ]
            })
            .collect::<Vec<_>>(),
    );
    let button = |name: &'static str, text: String| {
        let onclick = Callback::from(move |_| super::download::download(name, "text/csv", &text));
        html! { <button class="download" {onclick}>{ format!("download {name}") }</button> }
    };
    html! { <p class="csv">{ button("models.csv", models) }{ button("table2.csv", table2) }{ button("table3.csv", table3) }</p> }
}

/// Every table, with REPS recomputed live for the slider weights `raw` (rescaled to sum 1).
pub fn all(r: &Report, raw: [f64; 4], on_weight: Callback<(usize, f64)>) -> Html {
    let w = RepsWeights::new(raw).unwrap_or(RepsWeights(reps::metrics::EQUAL.0));
    let compressed: Vec<&ModelReport> = r.models.iter().filter(|m| m.name != r.reference).collect();
    let drops: Option<Vec<f64>> = compressed.iter().map(|m| m.accuracy_drop).collect();
    let scores: Option<Vec<f64>> = compressed.iter().map(|m| live_reps(m, &w)).collect();
    let live = match (&scores, &drops) {
        (Some(s), Some(d)) => correlate(s, d),
        _ => reps::stats::Correlations::undefined("accuracy or a component is missing"),
    };
    let live_plcc = match (&scores, &drops) {
        (Some(s), Some(d)) => pearson(s, d).ok(),
        _ => None,
    };
    html! {
        <>
            { table1(r) }
            { table2(r, &live) }
            { table3(r, &w, live_plcc, on_weight) }
            { models(r, &w) }
            { csv_buttons(r) }
        </>
    }
}
