//! SVG charts drawn by hand: scatter and line charts (linear or log-log axes, optionally
//! switchable) with hover titles naming each point's model, an optional least-squares line and a
//! legend. Every chart zooms (drag a box, or `+` / `-` and the arrow keys when focused) and resets
//! (double-click, `0`), and downloads as SVG and as PNG with its title, axes and legend.
//! Colours: the Okabe–Ito palette, which colour-blind readers can tell apart; the chart's ink,
//! background and the palette's black follow the page's theme through [`chart_css`].

use wasm_bindgen::JsCast;
use yew::prelude::*;

/// Okabe–Ito colours.
pub const PALETTE: [&str; 8] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442",
];

/// One named set of points.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    pub name: String,
    /// The model the whole series draws (a line per model): its `<g>` carries `data-model`, for
    /// the page's linked highlighting, and its points' titles name it.
    pub model: Option<String>,
    /// The model of each point (a scatter of several models): each `<circle>` carries its
    /// `data-model`, and its title names it. Empty: none.
    pub point_models: Vec<String>,
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
    /// Whose point `i` is: its model, else the series' model, else the series' name.
    fn point_name(&self, i: usize) -> String {
        match (self.point_models.get(i), &self.model) {
            (Some(m), _) if m != &self.name => format!("{m} ({})", self.name),
            (Some(m), _) | (None, Some(m)) => m.clone(),
            (None, None) => self.name.clone(),
        }
    }

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
    /// Log-log axes (at first, when `log_switch`).
    pub log: bool,
    /// Offer a button that switches between log-log and linear axes.
    pub log_switch: bool,
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

/// The CSS that gives charts their theme's colours: each rule's value is `value(variable)`, so
/// that the page uses `var(--chart-…)` (set per theme in `style.css`) and an exported SVG the
/// values resolved at the moment of export.
pub fn chart_css(value: impl Fn(&str) -> String) -> String {
    const RULES: [(&str, &str, &str); 6] = [
        ("svg.chart-svg .bg", "fill", "--chart-bg"),
        ("svg.chart-svg text", "fill", "--chart-ink"),
        ("svg.chart-svg .axis", "stroke", "--chart-axis"),
        ("svg.chart-svg .grid", "stroke", "--chart-grid"),
        // The palette's black (series 7, 15, …) turns light on a dark background.
        (
            "svg.chart-svg g.c6 polyline, svg.chart-svg g.c6 path",
            "stroke",
            "--chart-ink",
        ),
        (
            "svg.chart-svg g.c6 circle, svg.chart-svg g.c6 rect",
            "fill",
            "--chart-ink",
        ),
    ];
    RULES
        .iter()
        .map(|(selector, property, var)| format!("{selector} {{ {property}: {}; }}\n", value(var)))
        .collect()
}

/// The SVG element `id` as a standalone file: its markup with the current theme's colours
/// ([`chart_css`], resolved) in a `<style>` of its own.
fn standalone_svg(id: &str) -> Option<String> {
    let window = web_sys::window()?;
    let doc = window.document()?;
    let el = doc.get_element_by_id(id)?;
    let root = window
        .get_computed_style(&doc.document_element()?)
        .ok()
        .flatten()?;
    let style = chart_css(|var| {
        root.get_property_value(var)
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    });
    let markup = el.outer_html();
    let open = markup.find('>')? + 1;
    Some(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}<style>\n{style}</style>{}",
        &markup[..open],
        &markup[open..]
    ))
}

/// Offers the chart `id` for download as `id.svg`.
fn download_svg(id: &str) {
    if let Some(text) = standalone_svg(id) {
        super::download::download(&format!("{id}.svg"), "image/svg+xml", &text);
    }
}

/// Pixels per SVG unit in the PNG export (twice the on-screen size, for print).
const PNG_SCALE: f64 = 2.0;

/// Offers the chart `id` for download as `id.png`: the standalone SVG drawn on a canvas at
/// [`PNG_SCALE`] × its size, once the browser has decoded it.
fn download_png(id: &str) {
    let Some(text) = standalone_svg(id) else {
        return;
    };
    let Some(url) = super::download::object_url("image/svg+xml", &text) else {
        return;
    };
    let Ok(img) = web_sys::HtmlImageElement::new() else {
        return;
    };
    let (name, image) = (format!("{id}.png"), img.clone());
    let done = url.clone();
    let onload = wasm_bindgen::closure::Closure::once_into_js(move || {
        let canvas = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.create_element("canvas").ok())
            .and_then(|c| c.dyn_into::<web_sys::HtmlCanvasElement>().ok());
        if let Some(canvas) = canvas {
            canvas.set_width((W * PNG_SCALE) as u32);
            canvas.set_height((H * PNG_SCALE) as u32);
            let ctx = canvas
                .get_context("2d")
                .ok()
                .flatten()
                .and_then(|c| c.dyn_into::<web_sys::CanvasRenderingContext2d>().ok());
            if let Some(ctx) = ctx {
                let _ = ctx.draw_image_with_html_image_element_and_dw_and_dh(
                    &image,
                    0.0,
                    0.0,
                    W * PNG_SCALE,
                    H * PNG_SCALE,
                );
                if let Ok(data) = canvas.to_data_url_with_type("image/png") {
                    super::download::download_url(&name, &data);
                }
            }
        }
        let _ = web_sys::Url::revoke_object_url(&done);
    });
    img.set_onload(Some(onload.unchecked_ref()));
    img.set_src(&url);
}

/// A window on the data, in axis units (log10 of the values on log axes).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Window {
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
}

impl Window {
    /// SVG x of the axis value `x`.
    fn sx(&self, x: f64) -> f64 {
        L + (x - self.x0) / (self.x1 - self.x0) * (W - L - R)
    }

    /// SVG y of the axis value `y`.
    fn sy(&self, y: f64) -> f64 {
        H - B - (y - self.y0) / (self.y1 - self.y0) * (H - T - B)
    }

    /// The axis values at SVG point `(px, py)`.
    fn at(&self, px: f64, py: f64) -> (f64, f64) {
        (
            self.x0 + (px - L) / (W - L - R) * (self.x1 - self.x0),
            self.y0 + (H - B - py) / (H - T - B) * (self.y1 - self.y0),
        )
    }

    /// The window spanned by two SVG points (a dragged box).
    fn boxed(&self, a: (f64, f64), b: (f64, f64)) -> Window {
        let (p, q) = (self.at(a.0, a.1), self.at(b.0, b.1));
        Window {
            x0: p.0.min(q.0),
            x1: p.0.max(q.0),
            y0: p.1.min(q.1),
            y1: p.1.max(q.1),
        }
    }

    /// The window scaled by `factor` about its centre (< 1 zooms in) and moved by `(dx, dy)`
    /// of its own width and height.
    fn moved(&self, factor: f64, dx: f64, dy: f64) -> Window {
        let (cx, cy) = ((self.x0 + self.x1) / 2.0, (self.y0 + self.y1) / 2.0);
        let (hw, hh) = ((self.x1 - self.x0) / 2.0, (self.y1 - self.y0) / 2.0);
        let (cx, cy) = (cx + dx * 2.0 * hw, cy + dy * 2.0 * hh);
        let (hw, hh) = (hw * factor, hh * factor);
        Window {
            x0: cx - hw,
            x1: cx + hw,
            y0: cy - hh,
            y1: cy + hh,
        }
    }
}

/// The smallest dragged box, in SVG units, that zooms (smaller drags are clicks).
const MIN_BOX: f64 = 6.0;

/// Draws `c` as a [`ChartView`].
pub fn chart(c: &Chart) -> Html {
    html! { <ChartView chart={c.clone()} /> }
}

#[derive(Properties, PartialEq)]
pub struct ChartProps {
    pub chart: Chart,
}

/// One chart with its zoom, axis switch and download buttons. Points with a non-positive
/// coordinate are left out on log axes. The SVG carries the shown window in `data-x0`, `data-x1`,
/// `data-y0`, `data-y1` (axis units) and whether its axes are logarithmic in `data-log`.
#[function_component(ChartView)]
pub fn chart_view(p: &ChartProps) -> Html {
    let c = &p.chart;
    let log_state = use_state(|| c.log);
    let zoom = use_state(|| None::<Window>);
    // A box being dragged: where it started and where the pointer is, in SVG units.
    let drag = use_state(|| None::<((f64, f64), (f64, f64))>);
    let svg_ref = use_node_ref();
    let log = if c.log_switch { *log_state } else { c.log };
    let tf = |v: f64| if log { v.log10() } else { v };
    let shown = |x: f64, y: f64| x.is_finite() && y.is_finite() && (!log || (x > 0.0 && y > 0.0));
    let pts: Vec<(f64, f64)> = c
        .series
        .iter()
        .flat_map(|s| s.points.iter())
        .filter(|(x, y)| shown(*x, *y))
        .map(|&(x, y)| (tf(x), tf(y)))
        .collect();
    if pts.is_empty() {
        return html! { <figure class="chart"><figcaption>{ &c.title }</figcaption><p class="note">{ "nothing to draw" }</p></figure> };
    }
    // The whiskers' ends count towards the y range.
    let ends: Vec<(f64, f64)> = if log {
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
    let full = Window { x0, x1, y0, y1 };
    let win = zoom.unwrap_or(full);
    let (sx, sy) = (move |x: f64| win.sx(x), move |y: f64| win.sy(y));
    let id = c.id.clone();
    let clip = format!("{id}-plot");
    let on_svg = {
        let id = id.clone();
        Callback::from(move |_| download_svg(&id))
    };
    let on_png = {
        let id = id.clone();
        Callback::from(move |_| download_png(&id))
    };
    let on_log = {
        let (log_state, zoom) = (log_state.clone(), zoom.clone());
        Callback::from(move |_| {
            log_state.set(!*log_state);
            zoom.set(None);
        })
    };
    // The pointer in SVG units (the SVG may be drawn smaller than its viewBox).
    let pointer = {
        let svg_ref = svg_ref.clone();
        move |e: &MouseEvent| -> Option<(f64, f64)> {
            let r = svg_ref
                .cast::<web_sys::Element>()?
                .get_bounding_client_rect();
            (r.width() > 0.0 && r.height() > 0.0).then(|| {
                (
                    (f64::from(e.client_x()) - r.left()) * W / r.width(),
                    (f64::from(e.client_y()) - r.top()) * H / r.height(),
                )
            })
        }
    };
    let onmousedown = {
        let (drag, pointer) = (drag.clone(), pointer.clone());
        Callback::from(move |e: MouseEvent| {
            if e.button() != 0 {
                return;
            }
            if let Some(at) = pointer(&e) {
                e.prevent_default();
                drag.set(Some((at, at)));
            }
        })
    };
    let onmousemove = {
        let (drag, pointer) = (drag.clone(), pointer.clone());
        Callback::from(move |e: MouseEvent| {
            if let (Some((start, _)), Some(at)) = (*drag, pointer(&e)) {
                drag.set(Some((start, at)));
            }
        })
    };
    let onmouseup = {
        let (drag, zoom) = (drag.clone(), zoom.clone());
        Callback::from(move |_: MouseEvent| {
            if let Some((a, b)) = *drag {
                if (a.0 - b.0).abs() >= MIN_BOX && (a.1 - b.1).abs() >= MIN_BOX {
                    zoom.set(Some(win.boxed(a, b)));
                }
                drag.set(None);
            }
        })
    };
    let onmouseleave = {
        let drag = drag.clone();
        Callback::from(move |_: MouseEvent| drag.set(None))
    };
    let reset = {
        let zoom = zoom.clone();
        Callback::from(move |_: MouseEvent| zoom.set(None))
    };
    let onkeydown = {
        let zoom = zoom.clone();
        Callback::from(move |e: KeyboardEvent| {
            let next = match e.key().as_str() {
                "+" | "=" => Some(win.moved(0.5, 0.0, 0.0)),
                "-" => Some(win.moved(2.0, 0.0, 0.0)),
                "ArrowLeft" => Some(win.moved(1.0, -0.1, 0.0)),
                "ArrowRight" => Some(win.moved(1.0, 0.1, 0.0)),
                "ArrowUp" => Some(win.moved(1.0, 0.0, 0.1)),
                "ArrowDown" => Some(win.moved(1.0, 0.0, -0.1)),
                "0" | "Escape" => None,
                _ => return,
            };
            e.prevent_default();
            zoom.set(next);
        })
    };
    let regression = (c.regression && pts.len() >= 2).then(|| {
        let n = pts.len() as f64;
        let mx = pts.iter().map(|p| p.0).sum::<f64>() / n;
        let my = pts.iter().map(|p| p.1).sum::<f64>() / n;
        let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
        let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
        let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
        let (a, b) = (win.x0, win.x1);
        (
            sx(a),
            sy(my + slope * (a - mx)),
            sx(b),
            sy(my + slope * (b - mx)),
            slope,
        )
    });
    let x_ticks: Vec<(f64, String)> = if c.x_names.is_empty() {
        axis_ticks(win.x0, win.x1, log)
            .into_iter()
            .map(|t| (t, fmt_tick(t, log)))
            .collect()
    } else {
        c.x_names
            .iter()
            .enumerate()
            .map(|(i, n)| (i as f64, n.clone()))
            .filter(|(i, _)| *i >= win.x0 && *i <= win.x1)
            .collect()
    };
    let description = format!(
        "{}: {} against {}, {} series ({}){}. Drag a box or press + to zoom, arrow keys to pan, double-click or 0 to reset.",
        c.title,
        c.y_label,
        c.x_label,
        c.series.len(),
        c.series.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", "),
        if log { ", log-log axes" } else { "" }
    );
    let title_id = format!("{id}-title");
    let desc_id = format!("{id}-desc");
    html! {
        <figure class="chart">
            <svg id={id.clone()} class="chart-svg" ref={svg_ref} xmlns="http://www.w3.org/2000/svg" viewBox={format!("0 0 {W} {H}")} width={W.to_string()} height={H.to_string()} font-family="sans-serif" font-size="11"
                role="img" tabindex="0" aria-labelledby={title_id.clone()} aria-describedby={desc_id.clone()}
                data-x0={win.x0.to_string()} data-x1={win.x1.to_string()} data-y0={win.y0.to_string()} data-y1={win.y1.to_string()} data-log={log.to_string()}
                {onmousedown} {onmousemove} {onmouseup} {onmouseleave} ondblclick={reset.clone()} {onkeydown}>
                <title id={title_id}>{ &c.title }</title>
                <desc id={desc_id}>{ description }</desc>
                <defs><clipPath id={clip.clone()}><rect x={L.to_string()} y={T.to_string()} width={(W - L - R).to_string()} height={(H - T - B).to_string()} /></clipPath></defs>
                <rect class="bg" x="0" y="0" width={W.to_string()} height={H.to_string()} fill="white" />
                <text x={(W / 2.0 - R / 2.0).to_string()} y="18" text-anchor="middle" font-size="13" font-weight="bold">{ &c.title }</text>
                <line class="axis" x1={L.to_string()} y1={(H - B).to_string()} x2={(W - R).to_string()} y2={(H - B).to_string()} stroke="#444" />
                <line class="axis" x1={L.to_string()} y1={T.to_string()} x2={L.to_string()} y2={(H - B).to_string()} stroke="#444" />
                { for x_ticks.iter().map(|(t, label)| html! {
                    <g class="x-tick" data-value={t.to_string()}><line class="axis" x1={sx(*t).to_string()} y1={(H - B).to_string()} x2={sx(*t).to_string()} y2={(H - B + 4.0).to_string()} stroke="#444" />
                    if c.x_names.is_empty() {
                        <text x={sx(*t).to_string()} y={(H - B + 16.0).to_string()} text-anchor="middle">{ label }</text>
                    } else {
                        // Layer names: slanted, so that long ones do not overlap.
                        <text transform={format!("translate({:.1} {:.1}) rotate(-25)", sx(*t), H - B + 12.0)} text-anchor="end" font-size="10">{ label }</text>
                    }</g>
                }) }
                { for axis_ticks(win.y0, win.y1, log).into_iter().map(|t| html! {
                    <g class="y-tick" data-value={t.to_string()}><line class="grid" x1={(L - 4.0).to_string()} y1={sy(t).to_string()} x2={(W - R).to_string()} y2={sy(t).to_string()} stroke="#eee" />
                    <text x={(L - 6.0).to_string()} y={(sy(t) + 4.0).to_string()} text-anchor="end">{ fmt_tick(t, log) }</text></g>
                }) }
                <text class="x-label" x={((L + W - R) / 2.0).to_string()} y={(H - 10.0).to_string()} text-anchor="middle">{ &c.x_label }</text>
                <text class="y-label" transform={format!("translate(14 {}) rotate(-90)", (T + H - B) / 2.0)} text-anchor="middle">{ &c.y_label }</text>
                if let Some((ax, ay, bx, by, slope)) = regression {
                    <line clip-path={format!("url(#{clip})")} x1={ax.to_string()} y1={ay.to_string()} x2={bx.to_string()} y2={by.to_string()} stroke="#888" stroke-dasharray="5 4"><title>{ format!("least squares, slope {slope:.3}") }</title></line>
                }
                { for c.series.iter().enumerate().map(|(k, s)| {
                    let color = PALETTE[k % PALETTE.len()];
                    // (index, SVG x, SVG y, x, y) of the points drawn.
                    let pts: Vec<(usize, f64, f64, f64, f64)> = s.points.iter().enumerate().filter(|(_, (x, y))| shown(*x, *y)).map(|(i, &(x, y))| (i, sx(tf(x)), sy(tf(y)), x, y)).collect();
                    let path: String = pts.iter().map(|p| format!("{:.1},{:.1}", p.1, p.2)).collect::<Vec<_>>().join(" ");
                    let whiskers: Vec<(f64, f64, f64, f64, f64)> = if log { Vec::new() } else {
                        s.points.iter().enumerate().filter_map(|(i, &(x, _))| s.whisker(i).filter(|_| x.is_finite()).map(|(lo, hi)| (sx(x), sy(lo), sy(hi), lo, hi))).collect()
                    };
                    html! {
                        <g class={format!("series c{}", k % PALETTE.len())} data-model={s.model.clone()}>
                            <g clip-path={format!("url(#{clip})")}>
                                if s.line { <polyline points={path} fill="none" stroke={color} stroke-width="1.8" /> }
                                { for whiskers.iter().map(|&(x, lo, hi, a, b)| html! {
                                    <path class="whisker" d={format!("M{:.1},{lo:.1}V{hi:.1}M{:.1},{lo:.1}h6M{:.1},{hi:.1}h6", x, x - 3.0, x - 3.0)} stroke={color} stroke-width="1.2" fill="none"><title>{ format!("{}: {} [{a:.4}, {b:.4}]", s.name, if s.whisker_label.is_empty() { "95% interval" } else { s.whisker_label }) }</title></path>
                                }) }
                                { for pts.iter().map(|&(i, px, py, x, y)| html! { <circle cx={format!("{px:.1}")} cy={format!("{py:.1}")} r="3.5" fill={color} data-model={s.point_models.get(i).cloned()}><title>{ format!("{}: ({x:.4}, {y:.4})", s.point_name(i)) }</title></circle> }) }
                            </g>
                            <rect class="legend" x={(W - R + 12.0).to_string()} y={(T + 4.0 + 16.0 * k as f64).to_string()} width="10" height="10" fill={color} />
                            <text class="legend" x={(W - R + 26.0).to_string()} y={(T + 13.0 + 16.0 * k as f64).to_string()}>{ &s.name }</text>
                        </g>
                    }
                }) }
                if let Some((a, b)) = *drag {
                    <rect class="zoom-box" x={a.0.min(b.0).to_string()} y={a.1.min(b.1).to_string()} width={(a.0 - b.0).abs().to_string()} height={(a.1 - b.1).abs().to_string()} fill="rgba(0, 114, 178, 0.15)" stroke="#0072B2" />
                }
            </svg>
            <div class="chart-tools">
                <button class="download" onclick={on_svg}>{ "download SVG" }</button>
                <button class="download" onclick={on_png}>{ "download PNG" }</button>
                if c.log_switch {
                    <button class="axes" onclick={on_log} aria-pressed={log.to_string()}>{ if log { "linear axes" } else { "log-log axes" } }</button>
                }
                if zoom.is_some() {
                    <button class="reset" onclick={reset}>{ "reset zoom" }</button>
                }
            </div>
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
