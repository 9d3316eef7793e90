//! The view's state as it travels in the URL's hash, so that a copied link opens the same view:
//! `#snapshot=URL&ref=NAME&layer=A&layer=B&w=0.4,0.3,0.2,0.1&pin=M&t=0.9&theme=dark`
//! (`application/x-www-form-urlencoded`, as `URLSearchParams` writes it; a list repeats its key).
//! The data itself never goes into the URL: a snapshot is named by the URL it was opened from,
//! and files opened from the disk leave `snapshot` out. Reading and writing the hash are pure
//! ([`parse_hash`], [`to_hash`]); [`current_hash`], [`write_hash`] and [`preferred_theme`] are
//! the browser's side.

use form_urlencoded::{parse, Serializer};
use reps::metrics::RepsWeights;

/// The page's colour theme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Theme {
    Light,
    Dark,
}

impl Theme {
    /// Its name in the hash and in `<html data-theme>`.
    pub fn name(self) -> &'static str {
        match self {
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    /// The other one.
    pub fn toggled(self) -> Theme {
        match self {
            Theme::Light => Theme::Dark,
            Theme::Dark => Theme::Light,
        }
    }
}

/// Everything a link restores. `None` (or empty) leaves the page's default.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ViewState {
    /// The snapshot's URL (absolute), when it was opened from one.
    pub snapshot: Option<String>,
    /// The reference model.
    pub reference: Option<String>,
    /// The layers the tables average over.
    pub layers: Option<Vec<String>>,
    /// The weight sliders' values (α, β, γ, δ), as set (not rescaled).
    pub weights: Option<[f64; 4]>,
    /// The pinned models, in the order they were pinned.
    pub pinned: Vec<String>,
    /// The damage threshold of the overview.
    pub threshold: Option<f64>,
    pub theme: Option<Theme>,
}

/// A weight is a finite number in [0, 1], as the sliders allow.
fn weight(s: &str) -> Option<f64> {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|w| w.is_finite() && (0.0..=1.0).contains(w))
}

/// Reads a hash (with or without its leading `#`). Unknown keys are ignored (a later version may
/// add some); a known key with a value that cannot be used is left at the default and described
/// in the returned problems, which the page shows.
pub fn parse_hash(hash: &str) -> (ViewState, Vec<String>) {
    let mut s = ViewState::default();
    let mut problems = Vec::new();
    let mut layers = Vec::new();
    for (key, value) in parse(hash.trim_start_matches('#').as_bytes()) {
        let value = value.into_owned();
        match key.as_ref() {
            "snapshot" if !value.is_empty() => s.snapshot = Some(value),
            "ref" if !value.is_empty() => s.reference = Some(value),
            "layer" if !value.is_empty() => layers.push(value),
            "pin" if !value.is_empty() && !s.pinned.contains(&value) => s.pinned.push(value),
            "w" => {
                let w: Option<Vec<f64>> = value.split(',').map(weight).collect();
                match w.as_deref() {
                    Some(&[a, b, c, d]) if RepsWeights::new([a, b, c, d]).is_ok() => {
                        s.weights = Some([a, b, c, d])
                    }
                    _ => problems.push(format!(
                        "the link's weights w={value} are not four numbers in [0, 1] with a positive sum; the default weights are used"
                    )),
                }
            }
            "t" => match value.trim().parse::<f64>() {
                Ok(t) if t.is_finite() => s.threshold = Some(t),
                _ => problems.push(format!(
                    "the link's threshold t={value} is not a number; the default is used"
                )),
            },
            "theme" => match value.as_str() {
                "light" => s.theme = Some(Theme::Light),
                "dark" => s.theme = Some(Theme::Dark),
                _ => problems.push(format!(
                    "the link's theme={value} is neither light nor dark; the browser's preference is used"
                )),
            },
            _ => {}
        }
    }
    if !layers.is_empty() {
        s.layers = Some(layers);
    }
    (s, problems)
}

/// Writes `s` as a hash (without the `#`), in the order of [`ViewState`]'s fields.
pub fn to_hash(s: &ViewState) -> String {
    let mut out = Serializer::new(String::new());
    if let Some(url) = &s.snapshot {
        out.append_pair("snapshot", url);
    }
    if let Some(r) = &s.reference {
        out.append_pair("ref", r);
    }
    for l in s.layers.iter().flatten() {
        out.append_pair("layer", l);
    }
    if let Some(w) = s.weights {
        let w: Vec<String> = w.iter().map(f64::to_string).collect();
        out.append_pair("w", &w.join(","));
    }
    for m in &s.pinned {
        out.append_pair("pin", m);
    }
    if let Some(t) = s.threshold {
        out.append_pair("t", &t.to_string());
    }
    if let Some(theme) = s.theme {
        out.append_pair("theme", theme.name());
    }
    out.finish()
}

/// The URL's hash (empty where there is none).
pub fn current_hash() -> String {
    web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default()
}

/// Replaces the URL's hash without a new history entry (the view changes often).
pub fn write_hash(hash: &str) {
    let Some(w) = web_sys::window() else { return };
    let url = format!(
        "{}{}#{hash}",
        w.location().pathname().unwrap_or_default(),
        w.location().search().unwrap_or_default()
    );
    if let Ok(h) = w.history() {
        let _ = h.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
    }
}

/// The browser's preferred theme (`prefers-color-scheme`).
pub fn preferred_theme() -> Theme {
    let dark = web_sys::window()
        .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
        .is_some_and(|m| m.matches());
    if dark {
        Theme::Dark
    } else {
        Theme::Light
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_written_reads_back_whatever_the_names_hold() {
        let s = ViewState {
            snapshot: Some("http://127.0.0.1:8000/data/a b.reps?x=1&y=2#frag".into()),
            reference: Some("ref & co".into()),
            layers: Some(vec![
                "layer1.0".into(),
                "blocks.3/mlp,fc".into(),
                "ünï".into(),
            ]),
            weights: Some([0.4, 0.0, 0.35, 0.25]),
            pinned: vec!["prune=0.5".into(), "#quant 4".into()],
            threshold: Some(0.85),
            theme: Some(Theme::Dark),
        };
        let hash = to_hash(&s);
        // Nothing in it ends the hash early or starts a new parameter.
        assert!(!hash.contains('#') && !hash.contains(' '), "{hash}");
        assert_eq!(hash.matches('&').count(), 9, "{hash}");
        assert_eq!(parse_hash(&format!("#{hash}")), (s, vec![]));
        assert_eq!(to_hash(&ViewState::default()), "");
    }

    #[test]
    fn known_keys_with_unusable_values_are_named_and_the_rest_is_kept() {
        let (s, problems) =
            parse_hash("#ref=a&w=1,2,x&t=nan&theme=blue&pin=m&pin=m&future=1&w=0,0,0,0");
        assert_eq!(s.reference.as_deref(), Some("a"));
        assert_eq!(s.pinned, ["m"], "a model is pinned once");
        assert_eq!((s.weights, s.threshold, s.theme), (None, None, None));
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems[0].contains("w=1,2,x"));
        assert!(problems[1].contains("t=nan"));
        assert!(problems[2].contains("theme=blue"));
        assert!(
            problems[3].contains("w=0,0,0,0"),
            "all-zero weights have no sum"
        );
    }
}
