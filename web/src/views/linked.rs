//! Linked selection: every element that stands for a model carries `data-model` (a table row, a
//! heatmap row, a point, a line); hovering or focusing one highlights that model in every view,
//! clicking one (or Enter / Space on a focused row) pins it. The highlight is a stylesheet made
//! from the hovered and pinned names ([`css`]), so that hovering redraws no table or chart.

use wasm_bindgen::JsCast;

/// `s` as the inside of a double-quoted CSS string (CSS Syntax §4.3.5: `"` and `\` escaped,
/// control characters as hexadecimal escapes).
fn css_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\{:x} ", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// The rules that mark the model `name` in every view, `how` being `hovered` or `pinned`.
fn rules(name: &str, how: &str) -> String {
    let m = format!("[data-model=\"{}\"]", css_string(name));
    format!(
        "tr{m} > * {{ background: var(--{how}-bg) !important; }}\n\
         tr{m} > :first-child {{ box-shadow: inset 4px 0 0 var(--{how}-mark); }}\n\
         svg.chart-svg circle{m} {{ stroke: var(--chart-ink); stroke-width: 2px; r: 6px; }}\n\
         svg.chart-svg g{m} polyline {{ stroke-width: 4px; }}\n\
         svg.chart-svg g{m} circle {{ r: 5px; }}\n"
    )
}

/// The stylesheet that highlights `hovered` and the `pinned` models (pinned ones first, so that
/// hovering a pinned model shows it as hovered).
pub fn css(hovered: Option<&str>, pinned: &[String]) -> String {
    let mut out: String = pinned.iter().map(|p| rules(p, "pinned")).collect();
    if let Some(h) = hovered {
        out += &rules(h, "hovered");
    }
    out
}

/// The model of the element an event happened on or inside, if any.
pub fn model_at(target: Option<web_sys::EventTarget>) -> Option<String> {
    let el = target?.dyn_into::<web_sys::Element>().ok()?;
    el.closest("[data-model]")
        .ok()??
        .get_attribute("data-model")
}

/// Whether the event happened on a control (a button, a field, a link), whose clicks are its own.
pub fn on_control(target: Option<web_sys::EventTarget>) -> bool {
    target
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .and_then(|el| el.closest("button, input, select, textarea, a, label").ok())
        .flatten()
        .is_some()
}

/// `pinned` with `name` added at the end, or removed if it was there.
pub fn toggle(pinned: &[String], name: &str) -> Vec<String> {
    if pinned.iter().any(|p| p == name) {
        pinned.iter().filter(|p| *p != name).cloned().collect()
    } else {
        let mut out = pinned.to_vec();
        out.push(name.to_string());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_break_out_of_their_selector() {
        assert_eq!(css_string(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(css_string("a\nb"), "a\\a b");
        let sheet = css(Some("x\"] { } body { display: none"), &[]);
        // Every rule's selector holds one string, whose quotes are the two that delimit it.
        assert_eq!(sheet.lines().count(), 5);
        for line in sheet.lines() {
            assert_eq!(line.replace("\\\"", "").matches('"').count(), 2, "{line}");
        }
        assert!(sheet.contains(r#"[data-model="x\"] { } body { display: none"]"#));
    }

    #[test]
    fn pinning_toggles_and_keeps_the_order() {
        let p = toggle(&[], "a");
        let p = toggle(&p, "b");
        assert_eq!(p, ["a", "b"]);
        assert_eq!(toggle(&p, "a"), ["b"]);
        // Hovered rules come after pinned ones, so that they win.
        let sheet = css(Some("b"), &p);
        assert!(sheet.rfind("--hovered-bg").unwrap() > sheet.rfind("--pinned-bg").unwrap());
    }
}
