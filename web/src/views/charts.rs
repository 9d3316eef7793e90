//! SVG charts drawn by hand: scatter and line charts (linear or log-log axes) with hover titles,
//! an optional least-squares line, a legend, and a button that downloads the chart as SVG.
//! Colours: the Okabe–Ito palette, which colour-blind readers can tell apart.

use yew::prelude::*;

/// Okabe–Ito colours.
pub const PALETTE: [&str; 8] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442",
];

/// One named set of points.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    /// Draw a polyline through the points (else markers only).
    pub line: bool,
    /// A vertical interval `(low, high)` per point, drawn as a whisker (an interval of the y
    /// value); empty, or `None` for a point, draws none. Linear axes only.
    pub whiskers: Vec<Option<(f64, f64)>>,
    /// What the whiskers are, for their hover titles; empty: a 95% interval.
    pub whisker_label: &'static str,
}

impl Series {
    /// The whisker of point `i`, if any (finite ends only).
    fn whisker(&self, i: usize) -> Option<(f64, f64)> {
        self.whiskers
            .get(i)
            .copied()
            .flatten()
            .filter(|(lo, hi)| lo.is_finite() && hi.is_finite())
    }
}

/// How a chart is drawn.
#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    pub id: String,
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    pub log: bool,
    /// Least-squares line over all points of all series.
    pub regression: bool,
    /// Names for integer x ticks (layer names), when the x axis is categorical.
    pub x_names: Vec<String>,
}

const W: f64 = 560.0;
const H: f64 = 320.0;
const L: f64 = 62.0;
const R: f64 = 150.0;
const T: f64 = 30.0;
const B: f64 = 62.0;

fn nice_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let span = (hi - lo).max(1e-12);
    let step0 = span / 5.0;
    let mag = 10f64.powf(step0.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| span / s <= 6.0)
        .unwrap_or(10.0 * mag);
    let mut t = (lo / step).ceil() * step;
    let mut out = Vec::new();
    while t <= hi + 1e-9 * step {
        out.push(t);
        t += step;
    }
    out
}

/// Ticks of an axis: on log axes (`lo`, `hi` in log10 units) the whole decades inside, unless
/// fewer than two fit, then evenly spaced ones as on linear axes.
fn axis_ticks(lo: f64, hi: f64, log: bool) -> Vec<f64> {
    if log {
        let decades: Vec<f64> = (lo.ceil() as i32..=hi.floor() as i32)
            .map(f64::from)
            .collect();
        if decades.len() >= 2 {
            return decades;
        }
    }
    nice_ticks(lo, hi)
}

/// A tick's label; on log axes `v` is log10 of the value: `1e3` on whole decades, else the value
/// with two significant digits (`3.2e2`).
fn fmt_tick(v: f64, log: bool) -> String {
    // Ticks computed as k·step can land a rounding error away from 0: show "0", not "-0".
    let v = if v.abs() < 1e-9 { 0.0 } else { v };
    if log {
        if (v - v.round()).abs() < 1e-9 {
            return format!("1e{}", v.round() as i32);
        }
        return format!("{:.1e}", 10f64.powf(v));
    }
    if v.abs() >= 100.0 || v == v.round() {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// Triggers a download of the SVG element `id` as `id.svg`.
fn download_svg(id: &str) {
    let Some(el) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id))
    else {
        return;
    };
    let text = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}",
        el.outer_html()
    );
    super::download::download(&format!("{id}.svg"), "image/svg+xml", &text);
}

/// Draws `c`. Points with a non-positive coordinate are left out on log axes.
pub fn chart(c: &Chart) -> Html {
    let tf = |v: f64| if c.log { v.log10() } else { v };
    let pts: Vec<(f64, f64)> = c
        .series
        .iter()
        .flat_map(|s| s.points.iter())
        .filter(|(x, y)| x.is_finite() && y.is_finite() && (!c.log || (*x > 0.0 && *y > 0.0)))
        .map(|&(x, y)| (tf(x), tf(y)))
        .collect();
    if pts.is_empty() {
        return html! { <figure class="chart"><figcaption>{ &c.title }</figcaption><p class="note">{ "nothing to draw" }</p></figure> };
    }
    // The whiskers' ends count towards the y range.
    let ends: Vec<(f64, f64)> = if c.log {
        Vec::new()
    } else {
        c.series
            .iter()
            .flat_map(|s| {
                s.points.iter().enumerate().filter_map(|(i, &(x, _))| {
                    s.whisker(i).filter(|_| x.is_finite()).map(|w| (x, w))
                })
            })
            .flat_map(|(x, (lo, hi))| [(x, lo), (x, hi)])
            .collect()
    };
    let (mut x0, mut x1, mut y0, mut y1) = pts.iter().chain(&ends).fold(
        (f64::MAX, f64::MIN, f64::MAX, f64::MIN),
        |(a, b, cc, d), &(x, y)| (a.min(x), b.max(x), cc.min(y), d.max(y)),
    );
    for (lo, hi) in [(&mut x0, &mut x1), (&mut y0, &mut y1)] {
        let pad = ((*hi - *lo) * 0.06).max(1e-9);
        *lo -= pad;
        *hi += pad;
    }
    let sx = move |x: f64| L + (x - x0) / (x1 - x0) * (W - L - R);
    let sy = move |y: f64| H - B - (y - y0) / (y1 - y0) * (H - T - B);
    let id = c.id.clone();
    let onclick = Callback::from(move |_| download_svg(&id));
    let regression = (c.regression && pts.len() >= 2).then(|| {
        let n = pts.len() as f64;
        let mx = pts.iter().map(|p| p.0).sum::<f64>() / n;
        let my = pts.iter().map(|p| p.1).sum::<f64>() / n;
        let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
        let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
        let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
        let (a, b) = (x0, x1);
        (
            sx(a),
            sy(my + slope * (a - mx)),
            sx(b),
            sy(my + slope * (b - mx)),
            slope,
        )
    });
    let x_ticks: Vec<(f64, String)> = if c.x_names.is_empty() {
        axis_ticks(x0, x1, c.log)
            .into_iter()
            .map(|t| (t, fmt_tick(t, c.log)))
            .collect()
    } else {
        c.x_names
            .iter()
            .enumerate()
            .map(|(i, n)| (i as f64, n.clone()))
            .collect()
    };
    html! {
        <figure class="chart">
            <svg id={c.id.clone()} xmlns="http://www.w3.org/2000/svg" viewBox={format!("0 0 {W} {H}")} width={W.to_string()} height={H.to_string()} font-family="sans-serif" font-size="11">
                <rect x="0" y="0" width={W.to_string()} height={H.to_string()} fill="white" />
                <text x={(W / 2.0 - R / 2.0).to_string()} y="18" text-anchor="middle" font-size="13" font-weight="bold">{ &c.title }</text>
                <line x1={L.to_string()} y1={(H - B).to_string()} x2={(W - R).to_string()} y2={(H - B).to_string()} stroke="#444" />
                <line x1={L.to_string()} y1={T.to_string()} x2={L.to_string()} y2={(H - B).to_string()} stroke="#444" />
                { for x_ticks.iter().map(|(t, label)| html! {
                    <g><line x1={sx(*t).to_string()} y1={(H - B).to_string()} x2={sx(*t).to_string()} y2={(H - B + 4.0).to_string()} stroke="#444" />
                    if c.x_names.is_empty() {
                        <text x={sx(*t).to_string()} y={(H - B + 16.0).to_string()} text-anchor="middle">{ label }</text>
                    } else {
                        // Layer names: slanted, so that long ones do not overlap.
                        <text transform={format!("translate({:.1} {:.1}) rotate(-25)", sx(*t), H - B + 12.0)} text-anchor="end" font-size="10">{ label }</text>
                    }</g>
                }) }
                { for axis_ticks(y0, y1, c.log).into_iter().map(|t| html! {
                    <g><line x1={(L - 4.0).to_string()} y1={sy(t).to_string()} x2={(W - R).to_string()} y2={sy(t).to_string()} stroke="#eee" />
                    <text x={(L - 6.0).to_string()} y={(sy(t) + 4.0).to_string()} text-anchor="end">{ fmt_tick(t, c.log) }</text></g>
                }) }
                <text x={((L + W - R) / 2.0).to_string()} y={(H - 10.0).to_string()} text-anchor="middle">{ &c.x_label }</text>
                <text transform={format!("translate(14 {}) rotate(-90)", (T + H - B) / 2.0)} text-anchor="middle">{ &c.y_label }</text>
                if let Some((ax, ay, bx, by, slope)) = regression {
                    <line x1={ax.to_string()} y1={ay.to_string()} x2={bx.to_string()} y2={by.to_string()} stroke="#888" stroke-dasharray="5 4"><title>{ format!("least squares, slope {slope:.3}") }</title></line>
                }
                { for c.series.iter().enumerate().map(|(k, s)| {
                    let color = PALETTE[k % PALETTE.len()];
                    let pts: Vec<(f64, f64, f64, f64)> = s.points.iter().filter(|(x, y)| x.is_finite() && y.is_finite() && (!c.log || (*x > 0.0 && *y > 0.0))).map(|&(x, y)| (sx(tf(x)), sy(tf(y)), x, y)).collect();
                    let path: String = pts.iter().map(|p| format!("{:.1},{:.1}", p.0, p.1)).collect::<Vec<_>>().join(" ");
                    let whiskers: Vec<(f64, f64, f64, f64, f64)> = if c.log { Vec::new() } else {
                        s.points.iter().enumerate().filter_map(|(i, &(x, _))| s.whisker(i).filter(|_| x.is_finite()).map(|(lo, hi)| (sx(x), sy(lo), sy(hi), lo, hi))).collect()
                    };
                    html! {
                        <g>
                            if s.line { <polyline points={path} fill="none" stroke={color} stroke-width="1.8" /> }
                            { for whiskers.iter().map(|&(x, lo, hi, a, b)| html! {
                                <path class="whisker" d={format!("M{:.1},{lo:.1}V{hi:.1}M{:.1},{lo:.1}h6M{:.1},{hi:.1}h6", x, x - 3.0, x - 3.0)} stroke={color} stroke-width="1.2" fill="none"><title>{ format!("{}: {} [{a:.4}, {b:.4}]", s.name, if s.whisker_label.is_empty() { "95% interval" } else { s.whisker_label }) }</title></path>
                            }) }
                            { for pts.iter().map(|p| html! { <circle cx={format!("{:.1}", p.0)} cy={format!("{:.1}", p.1)} r="3.5" fill={color}><title>{ format!("{}: ({:.4}, {:.4})", s.name, p.2, p.3) }</title></circle> }) }
                            <rect x={(W - R + 12.0).to_string()} y={(T + 4.0 + 16.0 * k as f64).to_string()} width="10" height="10" fill={color} />
                            <text x={(W - R + 26.0).to_string()} y={(T + 13.0 + 16.0 * k as f64).to_string()}>{ &s.name }</text>
                        </g>
                    }
                }) }
            </svg>
            <button class="download" {onclick}>{ "download SVG" }</button>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_axes_label_whole_decades_once() {
        // log10 range 0.2 … 3.7: the decades 1e1, 1e2, 1e3.
        let t = axis_ticks(0.2, 3.7, true);
        assert_eq!(t, [1.0, 2.0, 3.0]);
        let labels: Vec<String> = t.iter().map(|&v| fmt_tick(v, true)).collect();
        assert_eq!(labels, ["1e1", "1e2", "1e3"]);
        // Less than two decades inside: evenly spaced ticks, every label distinct and equal to
        // the value it marks to two significant digits.
        let t = axis_ticks(2.1, 2.9, true);
        assert!(t.len() >= 3);
        let labels: Vec<String> = t.iter().map(|&v| fmt_tick(v, true)).collect();
        for (v, l) in t.iter().zip(&labels) {
            let shown: f64 = l.parse().unwrap();
            assert!(
                (shown / 10f64.powf(*v) - 1.0).abs() < 0.06,
                "{l} for 10^{v}"
            );
        }
        let mut unique = labels.clone();
        unique.dedup();
        assert_eq!(unique, labels);
        // Linear axes are unchanged: 0, 0.2, … 1.
        assert_eq!(axis_ticks(0.0, 1.0, false).len(), 6);
        assert_eq!(fmt_tick(-1e-12, false), "0");
    }
}
