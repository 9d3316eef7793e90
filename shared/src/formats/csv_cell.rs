//! Text for spreadsheet cells (the CSV of `native analyze` and the viewer's table downloads).

/// `s` made safe for a spreadsheet cell, as spreadsheet tools expect: control characters (an ANSI
/// escape, a tab, a newline) written as `\u{1b}`-style escapes, and a cell that would start a
/// formula (`=`, `+`, `-`, `@` first, and not a number) prefixed with `'`, which spreadsheets show
/// as text. Numbers, negative ones included, are unchanged. Quoting for CSV itself (commas,
/// quotes) is the CSV writer's job.
pub fn spreadsheet_text(s: &str) -> String {
    let escaped: String = s
        .chars()
        .map(|c| {
            if c.is_control() {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect();
    if escaped.starts_with(['=', '+', '-', '@']) && escaped.parse::<f64>().is_err() {
        format!("'{escaped}")
    } else {
        escaped
    }
}

#[cfg(test)]
mod tests {
    use super::spreadsheet_text;

    #[test]
    fn formulas_and_control_characters_are_defused_and_numbers_kept() {
        assert_eq!(spreadsheet_text("layer4.1.conv2"), "layer4.1.conv2");
        assert_eq!(spreadsheet_text("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(spreadsheet_text("+cmd"), "'+cmd");
        assert_eq!(spreadsheet_text("-x"), "'-x");
        assert_eq!(spreadsheet_text("@sum"), "'@sum");
        assert_eq!(spreadsheet_text("a\u{1b}[31mred"), "a\\u{1b}[31mred");
        assert_eq!(spreadsheet_text("two\nlines"), "two\\u{a}lines");
        assert_eq!(spreadsheet_text("-0.968"), "-0.968");
        assert_eq!(spreadsheet_text("+1e-5"), "+1e-5");
    }
}
