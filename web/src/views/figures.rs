//! The paper's figures: weight histograms (Figure 1), per-layer diagnostics and trajectories,
//! separation against prediction agreement, the FC eigenvalue spectrum (Figure 2 (a)–(g)), and REPS
//! against accuracy drop with its regression line.

use super::charts::{chart, Chart, Series};
use reps::analysis::{Comparisons, Report};
use reps::formats::snapshot::ModelKind;
use reps::histogram::WeightHistogram;
use reps::metrics::RepsWeights;
use yew::prelude::*;

/// The paper's Figure 2 models when present (C50, C10, P50, P90, Q4, Q2 and the original), else the
/// reference and the first five others.
pub fn selected_models(r: &Report) -> Vec<String> {
    let paper = [
        "coreset-0.5",
        "coreset-0.1",
        "prune-0.5",
        "prune-0.9",
        "quant-4",
        "quant-2",
    ];
    let mut out = vec![r.reference.clone()];
    let present: Vec<&str> = paper
        .iter()
        .copied()
        .filter(|p| r.models.iter().any(|m| m.name == *p))
        .collect();
    if present.len() >= 3 {
        out.extend(present.iter().map(|s| s.to_string()));
    } else {
        out.extend(
            r.models
                .iter()
                .filter(|m| m.name != r.reference)
                .take(5)
                .map(|m| m.name.clone()),
        );
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
        })
        .collect();
    chart(&Chart {
        id: id.into(),
        title: title.into(),
        x_label: "layer".into(),
        y_label: y.into(),
        series,
        log: false,
        regression: false,
        x_names: per_layer.layers.clone(),
    })
}

/// One scatter series per kind of model, from `(kind, point)` pairs.
fn by_kind(points: impl IntoIterator<Item = (ModelKind, (f64, f64))>) -> Vec<Series> {
    let points: Vec<(ModelKind, (f64, f64))> = points.into_iter().collect();
    [
        ModelKind::Coreset,
        ModelKind::Prune,
        ModelKind::Quant,
        ModelKind::External,
        ModelKind::Original,
    ]
    .iter()
    .map(|k| Series {
        name: k.as_str().into(),
        points: points
            .iter()
            .filter(|(kind, _)| kind == k)
            .map(|(_, p)| *p)
            .collect(),
        line: false,
    })
    .filter(|s| !s.points.is_empty())
    .collect()
}

/// Every figure. `layers` holds every model on every compared layer; `spectra` the FC eigenvalues by model;
/// `histograms` the snapshot's weight histograms; `models` the models that Figure 2 (a)–(c), (e)–(g)
/// draw (default [`selected_models`]).
pub fn all(
    r: &Report,
    layers: &Comparisons,
    spectra: &[(String, Vec<f64>)],
    histograms: &[(String, WeightHistogram)],
    w: &RepsWeights,
    models: &[String],
) -> Html {
    let reps_drop = chart(&Chart {
        id: "reps-vs-drop".into(),
        title: "REPS (your weights) against accuracy drop".into(),
        x_label: "accuracy drop".into(),
        y_label: "REPS".into(),
        series: by_kind(
            r.models
                .iter()
                .filter(|m| m.name != r.reference)
                .filter_map(|m| {
                    let reps = w.combine([
                        Some(m.effective_rank),
                        Some(m.alive),
                        m.separation,
                        Some(m.decay),
                    ])?;
                    Some((m.kind, (m.accuracy_drop?, reps)))
                }),
        ),
        log: false,
        regression: true,
        x_names: vec![],
    });
    let hist_models: Vec<&(String, WeightHistogram)> = {
        let wanted = [r.reference.as_str(), "coreset-0.5", "prune-0.5", "quant-4"];
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
    let fig1 = (!hist_models.is_empty()).then(|| {
        chart(&Chart {
            id: "fig1-weights".into(),
            title: "Figure 1: weight distributions".into(),
            x_label: "weight".into(),
            y_label: "fraction of weights".into(),
            series: hist_models
                .iter()
                .map(|(name, h)| {
                    let total = h.counts.iter().sum::<u64>().max(1) as f64;
                    let width = (h.high - h.low) as f64 / h.counts.len() as f64;
                    Series {
                        name: name.clone(),
                        points: h
                            .counts
                            .iter()
                            .enumerate()
                            .map(|(i, c)| {
                                (h.low as f64 + (i as f64 + 0.5) * width, *c as f64 / total)
                            })
                            .collect(),
                        line: true,
                    }
                })
                .collect(),
            log: false,
            regression: false,
            x_names: vec![],
        })
    });
    let spectrum = chart(&Chart {
        id: "fig2e-spectrum".into(),
        title: "(e) eigenvalue spectrum of fc (log-log)".into(),
        x_label: "index i".into(),
        y_label: "eigenvalue λ_i".into(),
        series: spectra
            .iter()
            .filter(|(name, _)| models.contains(name))
            .map(|(name, ev)| Series {
                name: name.clone(),
                points: ev
                    .iter()
                    .enumerate()
                    .map(|(i, l)| ((i + 1) as f64, *l))
                    .collect(),
                line: true,
            })
            .collect(),
        log: true,
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
                    series: by_kind(layers.models.iter().filter_map(|m| {
                        Some((m.kind, (m.baselines.prediction_agreement?, m.layers.0.last()?.1.raw.separation?)))
                    })),
                    log: false,
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
