//! rustc-style diagnostics: the rule, the location, the source line with a
//! caret under the finding, the call chain, and the fix's rule link.

use super::{Finding, Level, RuleSet};

pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

pub fn render(rules: &RuleSet, findings: &[Finding], style: &Style) -> String {
    let mut out = String::new();
    let mut counts = [0usize; 3];
    let mut suppressed = 0;
    let mut unchanged = 0;
    for f in findings {
        if f.suppressed.is_some() {
            suppressed += 1;
            continue;
        }
        if f.baseline.as_deref() == Some("unchanged") {
            unchanged += 1;
            continue;
        }
        counts[f.level as usize] += 1;
        let (word, code) = match f.level {
            Level::Error => ("error", "1;31"),
            Level::Warning => ("warning", "1;33"),
            Level::Note => ("note", "1;36"),
        };
        out.push_str(&format!(
            "{}{} {}\n",
            style.paint(code, &format!("{word}[{}]", f.rule_id)),
            style.paint("1", ":"),
            style.paint("1", &f.message)
        ));
        let gutter = f.line.to_string().len();
        let pad = " ".repeat(gutter);
        out.push_str(&format!(
            "{pad}{} {}:{}:{}\n",
            style.paint("1;34", "-->"),
            f.file,
            f.line,
            f.column
        ));
        out.push_str(&format!("{pad} {}\n", style.paint("1;34", "|")));
        out.push_str(&format!(
            "{} {} {}\n",
            style.paint("1;34", &f.line.to_string()),
            style.paint("1;34", "|"),
            f.snippet.trim_end()
        ));
        // Columns relative to the snippet, which may be a window of a long
        // line; the carets stay within it.
        let shown = f.snippet.trim_end().chars().count();
        let from = f.snippet_from as usize;
        let start = (f.column.saturating_sub(1) as usize)
            .saturating_sub(from)
            .min(shown);
        let end = if f.end_line == f.line {
            (f.end_column.saturating_sub(1) as usize)
                .saturating_sub(from)
                .min(shown.max(start + 1))
                .max(start + 1)
        } else {
            shown.max(start + 1)
        };
        out.push_str(&format!(
            "{pad} {} {}{}\n",
            style.paint("1;34", "|"),
            " ".repeat(start),
            style.paint(code, &"^".repeat(end - start))
        ));
        for r in &f.related {
            out.push_str(&format!(
                "{pad} {} {}:{}: {}\n",
                style.paint("1;34", "="),
                r.file,
                r.line,
                r.message
            ));
        }
        if let Some(rule) = rules.get(&f.rule_id) {
            out.push_str(&format!(
                "{pad} {} help: {} (threatscan rules {})\n",
                style.paint("1;34", "="),
                rule.short,
                rule.id
            ));
        }
        out.push('\n');
    }
    let [notes, warnings, errors] = counts;
    out.push_str(&format!(
        "threatscan: {errors} error(s), {warnings} warning(s), {notes} note(s)"
    ));
    if suppressed > 0 {
        out.push_str(&format!(", {suppressed} suppressed"));
    }
    if unchanged > 0 {
        out.push_str(&format!(", {unchanged} unchanged from the baseline"));
    }
    out.push('\n');
    out
}
