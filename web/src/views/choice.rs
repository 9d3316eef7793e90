//! A row of checkboxes that chooses a subset of a list (the layers the tables average over, the
//! models Figure 2 draws).

use web_sys::HtmlInputElement;
use yew::prelude::*;

/// A row of checkboxes choosing a subset of `items`.
pub struct Choice<'a> {
    /// The fieldset's id.
    pub id: &'static str,
    pub legend: &'static str,
    pub items: &'a [String],
    pub chosen: &'a [String],
    /// Whether unchecking the last checked item is refused.
    pub at_least_one: bool,
    /// Gets the new choice, in the order of `items`.
    pub on_change: Callback<Vec<String>>,
}

/// `chosen` with `name` toggled, in the order of `items`.
fn toggled(items: &[String], chosen: &[String], name: &str) -> Vec<String> {
    items
        .iter()
        .filter(|i| (*i == name) != chosen.contains(i))
        .cloned()
        .collect()
}

/// One checkbox per item (`data-item` holds its name).
pub fn checkboxes(c: &Choice) -> Html {
    html! {
        <fieldset class="choice" id={c.id}>
            <legend>{ c.legend }</legend>
            { for c.items.iter().map(|item| {
                let next = toggled(c.items, c.chosen, item);
                let (refuse, on_change) = (c.at_least_one && next.is_empty(), c.on_change.clone());
                let onchange = Callback::from(move |e: Event| {
                    if refuse {
                        // The last chosen item stays: undo the browser's toggle.
                        e.target_unchecked_into::<HtmlInputElement>().set_checked(true);
                    } else {
                        on_change.emit(next.clone());
                    }
                });
                html! {
                    <label class="item">
                        <input type="checkbox" data-item={item.clone()} checked={c.chosen.contains(item)} {onchange} />
                        { item }
                    </label>
                }
            }) }
        </fieldset>
    }
}
