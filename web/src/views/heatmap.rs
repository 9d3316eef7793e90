//! The overview: a models × layers heatmap of one per-layer score (REPS by default, any
//! component or CKA), every layer the models share in their order, with a diverging colour scale
//! around a threshold and, per model, the first layer below it ("first damaged layer",
//! [`reps::analysis::ModelComparisons::first_below`]). Cells carry `data-key="heat:<model>:<layer>"`
//! and `data-value`; the first damaged layer `data-key="first-damaged:<model>"` and `data-layer`.

use crate::protocol::Analysis;
use crate::views::props::{Handler, Shared};
use reps::analysis::{score, Comparisons, Score, SCORES};
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

/// The damage threshold the page starts with.
pub const DEFAULT_THRESHOLD: f64 = 0.9;

/// The Okabe–Ito blue (above the threshold) and vermilion (below), as RGB.
const ABOVE: (f64, f64, f64) = (0.0, 114.0, 178.0);
const BELOW: (f64, f64, f64) = (213.0, 94.0, 0.0);

/// The cell colour of `v`: white at `threshold`, towards vermilion as `v` falls to 0, towards
/// blue as it rises to 1 (values beyond are clamped).
fn colour(v: f64, threshold: f64) -> String {
    let (target, t) = if v < threshold {
        (BELOW, (threshold - v) / threshold.max(1e-12))
    } else {
        (ABOVE, (v - threshold) / (1.0 - threshold).max(1e-12))
    };
    let t = t.clamp(0.0, 1.0) * 0.85;
    let mix = |c: f64| (255.0 + (c - 255.0) * t).round() as u8;
    format!(
        "rgb({}, {}, {})",
        mix(target.0),
        mix(target.1),
        mix(target.2)
    )
}

#[derive(Properties, PartialEq)]
pub struct HeatmapProps {
    pub analysis: Shared<Analysis>,
    /// Prefixes the ids and `data-key`s of a second heatmap on the page (`"b:"` for side B of a
    /// comparison); empty for the main one.
    #[prop_or_default]
    pub prefix: &'static str,
    /// The key of the score drawn (a per-layer score of `reps::analysis::SCORES`).
    pub score: String,
    pub threshold: f64,
    pub on_score: Handler<String>,
    pub on_threshold: Handler<f64>,
}

/// The heatmap with its score and threshold choices.
#[function_component(Heatmap)]
pub fn heatmap(p: &HeatmapProps) -> Html {
    let c = &p.analysis.comparisons;
    let Some(s) = score(&p.score) else {
        return html! {};
    };
    let on_score = p
        .on_score
        .reform(|e: Event| e.target_unchecked_into::<HtmlSelectElement>().value());
    let on_threshold = {
        let on_threshold = p.on_threshold.clone();
        Callback::from(move |e: Event| {
            let v = e
                .target_unchecked_into::<HtmlInputElement>()
                .value_as_number();
            if v.is_finite() {
                on_threshold.emit(v);
            }
        })
    };
    let t = p.threshold;
    let table = table(c, s, t, p.prefix);
    if !p.prefix.is_empty() {
        return table;
    }
    html! {
        <section id="overview">
            <h2>{ "Overview: where the damage starts" }</h2>
            <p class="note">{ format!("Each model against {} on every layer, in order; orange cells are below the threshold, the first of them outlined and named on the right.", c.reference) }</p>
            <div class="choices">
                <label>{ "Score: " }
                    <select id="heat-score" onchange={on_score}>
                        { for SCORES.iter().filter(|x| x.of_layer.is_some() && !x.needs_user_weights).map(|x| html! {
                            <option value={x.key} selected={x.key == s.key}>{ x.label }</option>
                        }) }
                    </select>
                </label>
                <label>{ " damaged below " }
                    <input id="heat-threshold" type="number" min="0" max="1" step="0.01" value={t.to_string()} onchange={on_threshold} />
                </label>
            </div>
            { table }
        </section>
    }
}

/// The heatmap's table of score `s` at threshold `t`; `prefix` as in [`HeatmapProps`].
fn table(c: &Comparisons, s: &Score, t: f64, prefix: &str) -> Html {
    let models: Vec<_> = c.models.iter().filter(|m| m.name != c.reference).collect();
    html! {
        <table id={format!("{}heatmap", prefix.replace(':', "-"))} class="heatmap">
            <caption>{ format!("{} per layer (rows: models, columns: layers)", s.label) }</caption>
            <thead><tr><th>{ "model" }</th>
                { for c.layers.iter().map(|l| html! { <th class="layer">{ l }</th> }) }
                <th>{ "first damaged layer" }</th>
            </tr></thead>
            <tbody>
                { for models.iter().map(|m| {
                    let first = m.first_below(&c.layers, s, t);
                    html! {
                        <tr data-model={m.name.clone()} tabindex="0">
                            <th>{ &m.name }</th>
                            { for c.layers.iter().map(|l| {
                                let key = format!("{prefix}heat:{}:{l}", m.name);
                                match m.on_layer(s, l) {
                                    Some(v) => html! {
                                        <td class={classes!("num", "heat", (first == Some(l.as_str())).then_some("first-damaged"))} data-key={key} data-value={v.to_string()} style={format!("background: {}", colour(v, t))} title={format!("{} · {l}: {} {v:.4}", m.name, s.label)}>{ format!("{v:.2}") }</td>
                                    },
                                    None => html! { <td class="num na heat" data-key={key} title={format!("{} · {l}: no value", m.name)}>{ "n/a" }</td> },
                                }
                            }) }
                            <td data-key={format!("{prefix}first-damaged:{}", m.name)} data-layer={first.unwrap_or("").to_string()}>{ first.unwrap_or("none") }</td>
                        </tr>
                    }
                }) }
            </tbody>
        </table>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_is_white_at_the_threshold_and_saturates_at_its_ends() {
        assert_eq!(colour(0.9, 0.9), "rgb(255, 255, 255)");
        // 85 % of the way to vermilion at 0, to blue at 1.
        let at = |c: (f64, f64, f64)| {
            let m = |x: f64| (255.0 + (x - 255.0) * 0.85).round() as u8;
            format!("rgb({}, {}, {})", m(c.0), m(c.1), m(c.2))
        };
        assert_eq!(colour(0.0, 0.9), at(BELOW));
        assert_eq!(colour(-3.0, 0.9), at(BELOW));
        assert_eq!(colour(1.0, 0.9), at(ABOVE));
    }
}
