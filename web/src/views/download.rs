//! Saving what the page made (charts as SVG and PNG, tables as CSV, Markdown and LaTeX, the
//! report as JSON) as a file, through a Blob or data URL.

use wasm_bindgen::JsCast;

/// Offers `text` for download as `name` with MIME type `mime`.
pub fn download(name: &str, mime: &str, text: &str) {
    let Some(url) = object_url(mime, text) else {
        return;
    };
    download_url(name, &url);
    let _ = web_sys::Url::revoke_object_url(&url);
}

/// A `blob:` URL holding `text` as `mime` (revoke it when done).
pub fn object_url(mime: &str, text: &str) -> Option<String> {
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts).ok()?;
    web_sys::Url::create_object_url_with_blob(&blob).ok()
}

/// Offers what `url` (a `blob:` or `data:` URL) holds for download as `name`.
pub fn download_url(name: &str, url: &str) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    if let Ok(a) = doc
        .create_element("a")
        .map(|a| a.unchecked_into::<web_sys::HtmlAnchorElement>())
    {
        a.set_href(url);
        a.set_download(name);
        a.click();
    }
}

/// One CSV field: made safe for spreadsheets (`reps::formats::spreadsheet_text`: no formulas,
/// no control characters), then quoted when needed.
pub fn csv_field(s: &str) -> String {
    let s = reps::formats::spreadsheet_text(s);
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// CSV text from a header and rows.
pub fn csv(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = header
        .iter()
        .map(|h| csv_field(h))
        .collect::<Vec<_>>()
        .join(",")
        + "\n";
    for r in rows {
        out += &(r.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(",") + "\n");
    }
    out
}

/// A GitHub-flavoured Markdown table from a header and rows (`|` in a cell escaped as `\|`).
pub fn markdown(header: &[&str], rows: &[Vec<String>]) -> String {
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    let line = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
    let mut out = line(header.iter().map(|h| cell(h)).collect());
    out += &line(header.iter().map(|_| "---".to_string()).collect());
    for r in rows {
        out += &line(r.iter().map(|f| cell(f)).collect());
    }
    out
}

/// A LaTeX `tabular` in the booktabs style (`\toprule`, `\midrule`, `\bottomrule`; the
/// document needs `\usepackage{booktabs}`) from a header and rows: the first column left-aligned,
/// the others right-aligned, LaTeX's special characters escaped.
pub fn latex(header: &[&str], rows: &[Vec<String>]) -> String {
    let escape = |s: &str| -> String {
        s.chars()
            .map(|c| match c {
                '\\' => "\\textbackslash{}".to_string(),
                '&' | '%' | '$' | '#' | '_' | '{' | '}' => format!("\\{c}"),
                '~' => "\\textasciitilde{}".to_string(),
                '^' => "\\textasciicircum{}".to_string(),
                '\n' => " ".to_string(),
                c => c.to_string(),
            })
            .collect()
    };
    let line = |cells: Vec<String>| format!("{} \\\\\n", cells.join(" & "));
    let columns = format!("l{}", "r".repeat(header.len().saturating_sub(1)));
    let mut out = format!("\\begin{{tabular}}{{{columns}}}\n\\toprule\n");
    out += &line(header.iter().map(|h| escape(h)).collect());
    out += "\\midrule\n";
    for r in rows {
        out += &line(r.iter().map(|f| escape(f)).collect());
    }
    out + "\\bottomrule\n\\end{tabular}\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_only_what_needs_it() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(
            csv(&["x", "y"], &[vec!["1".into(), "a,b".into()]]),
            "x,y\n1,\"a,b\"\n"
        );
        assert_eq!(csv_field("=1+2"), "'=1+2");
        assert_eq!(csv_field("-0.5"), "-0.5");
    }

    #[test]
    fn markdown_and_latex_tables_by_hand() {
        let rows = [
            vec!["reps_equal".to_string(), "0.5".into()],
            vec!["a|b & 50%".to_string(), "".into()],
        ];
        assert_eq!(
            markdown(&["metric", "plcc"], &rows),
            "| metric | plcc |\n| --- | --- |\n| reps_equal | 0.5 |\n| a\\|b & 50% |  |\n"
        );
        assert_eq!(
            latex(&["metric", "plcc"], &rows),
            "\\begin{tabular}{lr}\n\\toprule\nmetric & plcc \\\\\n\\midrule\nreps\\_equal & 0.5 \\\\\na|b \\& 50\\% &  \\\\\n\\bottomrule\n\\end{tabular}\n"
        );
    }
}
