//! The paper's figures: weight histograms (Figure 1), per-layer diagnostics and trajectories,
//! separation against prediction agreement, the FC eigenvalue spectrum (Figure 2 (a)–(g)), and REPS
//! against accuracy drop with its regression line.

use super::charts::{chart, Chart, Series};
use reps::analysis::{
    method_groups, Comparisons, MethodGroup, ModelComparisons, ModelIdentity, Report,
};
use reps::histogram::WeightHistogram;
use reps::metrics::WEIGHTED;
use yew::prelude::*;

/// The paper's Figure 2 picks as (method, parameter): C50, C10, P50, P90, Q4, Q2.
const PAPER_PICKS: [(&str, f64); 6] = [
    ("coreset", 0.5),
    ("coreset", 0.1),
    ("prune", 0.5),
    ("prune", 0.9),
    ("quant", 4.0),
    ("quant", 2.0),
];

/// Up to two models of a method: its paper picks when the method has them, else the model in the
/// middle of its list and its last (most compressed in a sweep's order).
fn picks<'a, M: ModelIdentity>(g: &MethodGroup<'a, M>) -> Vec<&'a str> {
    let paper: Vec<&str> = g
        .models
        .iter()
        .filter(|m| {
            PAPER_PICKS
                .iter()
                .any(|(method, p)| *method == g.method && m.parameter() == Some(*p))
        })
        .map(|m| m.name())
        .collect();
    if !paper.is_empty() {
        return paper;
    }
    let mut out = vec![g.models[g.models.len() / 2].name()];
    let last = g.models[g.models.len() - 1].name();
    if !out.contains(&last) {
        out.push(last);
    }
    out
}

/// Figure 2's default models, chosen from the methods and parameters in the report: the
/// reference, then per method (in the order found) up to two models ([`picks`]).
pub fn selected_models(r: &Report) -> Vec<String> {
    let mut out = vec![r.reference.clone()];
    for g in r.methods() {
        out.extend(picks(&g).into_iter().map(str::to_string));
    }
    out
}

fn per_layer(
    per_layer: &Comparisons,
    models: &[String],
    id: &str,
    title: &str,
    y: &str,
    f: impl Fn(&reps::metrics::LayerComparison) -> Option<f64>,
) -> Html {
    let series = models
        .iter()
        .filter_map(|name| per_layer.models.iter().find(|m| &m.name == name))
        .map(|m| Series {
            name: m.name.clone(),
            points: m
                .layers
                .iter()
                .enumerate()
                .filter_map(|(i, (_, c))| f(c).map(|v| (i as f64, v)))
                .collect(),
            line: true,
            model: Some(m.name.clone()),
            ..Series::default()
        })
        .collect();
    chart(&Chart {
        id: id.into(),
        title: title.into(),
        x_label: "layer".into(),
        y_label: y.into(),
        series,
        log: false,
        log_switch: false,
        regression: false,
        x_names: per_layer.layers.clone(),
    })
}

/// One point of a scatter by method: its model, its method, the point and its whisker.
pub(super) type MethodPoint<'a> = (&'a str, &'a str, (f64, f64), Option<(f64, f64)>);

/// One scatter series per method, in the order the methods first appear: every method gets its
/// own series (and colour), known or not, and every point names its model.
pub(super) fn by_method<'a>(points: impl IntoIterator<Item = MethodPoint<'a>>) -> Vec<Series> {
    let mut out: Vec<Series> = Vec::new();
    for (model, method, p, w) in points {
        let at = match out.iter().position(|s| s.name == method) {
            Some(at) => at,
            None => {
                out.push(Series {
                    name: method.to_string(),
                    ..Series::default()
                });
                out.len() - 1
            }
        };
        let s = &mut out[at];
        s.points.push(p);
        s.whiskers.push(w);
        s.point_models.push(model.to_string());
    }
    out
}

/// A weight histogram as a line of the fraction of weights per bin centre, named and owned by
/// `model`.
pub(super) fn histogram_series(model: &str, h: &WeightHistogram) -> Series {
    let total = h.counts.iter().sum::<u64>().max(1) as f64;
    let width = (h.high - h.low) as f64 / h.counts.len().max(1) as f64;
    Series {
        name: model.to_string(),
        model: Some(model.to_string()),
        points: h
            .counts
            .iter()
            .enumerate()
            .map(|(i, c)| (h.low as f64 + (i as f64 + 0.5) * width, *c as f64 / total))
            .collect(),
        line: true,
        ..Series::default()
    }
}

/// The layer whose spectrum stands for a model (its logits layer, else the last compared layer
/// of `layers`) and that spectrum, if it was computed.
pub(super) fn spectrum_of<'a>(
    m: &'a ModelComparisons,
    layers: &'a [String],
) -> Option<(&'a str, &'a Vec<f64>)> {
    let layer = m
        .logits
        .as_deref()
        .filter(|l| m.spectra.get(l).is_some())
        .or_else(|| layers.last().map(String::as_str))?;
    Some((layer, m.spectra.get(layer)?))
}

/// A spectrum as a line of λ_i against i = 1, 2, …, owned by `model`.
pub(super) fn spectrum_series(name: String, model: &str, eigenvalues: &[f64]) -> Series {
    Series {
        name,
        model: Some(model.to_string()),
        points: eigenvalues
            .iter()
            .enumerate()
            .map(|(i, l)| ((i + 1) as f64, *l))
            .collect(),
        line: true,
        ..Series::default()
    }
}

/// Figure 1, the weight histograms (`None` without any): of the reference and the first pick of
/// each method of `models` ([`picks`]), or of the first four models when fewer than two of
/// those have one. Drawn from the report, and from the decoded files before the analysis ends.
pub fn weights_figure<M: ModelIdentity>(
    models: &[M],
    reference: &str,
    histograms: &[(String, WeightHistogram)],
) -> Option<Html> {
    let wanted: Vec<&str> = std::iter::once(reference)
        .chain(
            method_groups(models, reference)
                .iter()
                .filter_map(|g| picks(g).first().copied()),
        )
        .collect();
    let shown: Vec<&(String, WeightHistogram)> = {
        let v: Vec<_> = histograms
            .iter()
            .filter(|(n, _)| wanted.contains(&n.as_str()))
            .collect();
        if v.len() >= 2 {
            v
        } else {
            histograms.iter().take(4).collect()
        }
    };
    (!shown.is_empty()).then(|| {
        chart(&Chart {
            id: "fig1-weights".into(),
            title: "Figure 1: weight distributions".into(),
            x_label: "weight".into(),
            y_label: "fraction of weights".into(),
            series: shown
                .iter()
                .map(|(name, h)| histogram_series(name, h))
                .collect(),
            log: false,
            log_switch: false,
            regression: false,
            x_names: vec![],
        })
    })
}

/// Every figure of `r` (a report with the sliders' weights as the user's weights). `layers` holds
/// every model on every compared layer, with their spectra; `histograms` the snapshot's weight
/// histograms; `models` the models that Figure 2 (a)–(c), (e)–(g) draw (default
/// [`selected_models`]).
pub fn all(
    r: &Report,
    layers: &Comparisons,
    histograms: &[(String, WeightHistogram)],
    models: &[String],
) -> Html {
    // The per-model intervals are of REPS (weighted): drawn while the sliders hold those weights.
    let whiskers = r
        .user_weights
        .is_some_and(|w| w.iter().zip(WEIGHTED.0).all(|(a, b)| (a - b).abs() < 1e-12));
    let reps_drop = chart(&Chart {
        id: "reps-vs-drop".into(),
        title: "REPS (your weights) against accuracy drop".into(),
        x_label: "accuracy drop".into(),
        y_label: "REPS".into(),
        series: by_method(
            r.models
                .iter()
                .filter(|m| m.name != r.reference)
                .filter_map(|m| {
                    let w = m.reps_ci.filter(|_| whiskers).map(|[lo, hi]| (lo, hi));
                    Some((
                        m.name.as_str(),
                        m.method.as_str(),
                        (m.accuracy_drop?, m.reps_user?),
                        w,
                    ))
                }),
        ),
        log: false,
        log_switch: false,
        regression: true,
        x_names: vec![],
    });
    let fig1 = weights_figure(&r.models, &r.reference, histograms);
    let spectra: Vec<Series> = layers
        .models
        .iter()
        .filter(|m| models.contains(&m.name))
        .filter_map(|m| {
            let (_, ev) = spectrum_of(m, &layers.layers)?;
            Some(spectrum_series(m.name.clone(), &m.name, ev))
        })
        .collect();
    let spectrum_layer = layers
        .models
        .first()
        .and_then(|m| spectrum_of(m, &layers.layers))
        .map_or("", |(l, _)| l);
    let spectrum = chart(&Chart {
        id: "fig2e-spectrum".into(),
        title: format!("(e) eigenvalue spectrum of {spectrum_layer}"),
        x_label: "index i".into(),
        y_label: "eigenvalue λ_i".into(),
        series: spectra,
        log: true,
        log_switch: true,
        regression: false,
        x_names: vec![],
    });
    html! {
        <section id="figures">
            <h2>{ "Figures" }</h2>
            <div class="charts">
                { reps_drop }
                if let Some(f) = fig1 { { f } }
                { per_layer(layers, models, "fig2a-rank", "(a) effective rank per layer", "effective rank r_e", |c| Some(c.raw.effective_rank)) }
                { per_layer(layers, models, "fig2b-death", "(b) neuron death per layer", "dead neurons (%)", |c| Some(100.0 * c.raw.dead_fraction)) }
                { per_layer(layers, models, "fig2c-separation", "(c) class separation per layer", "separation ratio r_s", |c| c.raw.separation) }
                { chart(&Chart {
                    id: "fig2d-sep-agree".into(),
                    title: "(d) separation (last layer) against prediction agreement".into(),
                    x_label: "prediction agreement".into(),
                    y_label: "separation ratio r_s".into(),
                    series: by_method(layers.models.iter().filter_map(|m| {
                        Some((m.name.as_str(), m.method.as_str(), (m.baselines.prediction_agreement?, m.layers.0.last()?.1.raw.separation?), None))
                    })),
                    log: false,
                    log_switch: false,
                    regression: true,
                    x_names: vec![],
                }) }
                { per_layer(layers, models, "fig2f-reps", "(f) REPS (weighted) per layer", "REPS", |c| c.reps_weighted) }
                { per_layer(layers, models, "fig2g-cka", "(g) linear CKA per layer", "CKA", |c| Some(c.cka)) }
                { spectrum }
            </div>
        </section>
    }
}
