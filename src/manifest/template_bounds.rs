//! What lint can see of a template that would render without end: `for`
//! loops over `range(…)` with literal bounds, nested. Tera caps one range
//! at 100,000 elements, but two nested ones run 10^10 times; `oent build`
//! stops such a template at its output limits (render/limits.rs), and lint
//! says so before anyone builds. Loops over data (établissements, lists of
//! values) are not counted: their size is the distribution's, not the
//! template's.

use crate::manifest::source::SourceFile;
use crate::manifest::yaml::Span;
use crate::manifest::{Code, Diagnostic};

/// More iterations than this, counted through the nesting, is refused: ten
/// million lines is already far beyond any configuration file.
pub const MAX_ITERATIONS: u128 = 10_000_000;

/// A `{% … %}` tag: its text (without delimiters nor `-`) and where it is.
struct Tag<'a> {
    body: &'a str,
    start: usize,
    end: usize,
}

/// Each `{% %}` tag of `text`, skipping comments and `raw` blocks.
fn tags(text: &str) -> Vec<Tag<'_>> {
    let mut found = Vec::new();
    let mut at = 0;
    let mut raw = false;
    while let Some(open) = text[at..].find(['{']).map(|i| at + i) {
        let rest = &text[open..];
        if rest.starts_with("{#") {
            at = rest.find("#}").map_or(text.len(), |i| open + i + 2);
            continue;
        }
        if !rest.starts_with("{%") {
            at = open + 1;
            continue;
        }
        let Some(close) = rest.find("%}").map(|i| open + i + 2) else {
            break;
        };
        let body = text[open + 2..close - 2].trim_matches(|c: char| c == '-' || c.is_whitespace());
        at = close;
        let keyword = body.split_whitespace().next().unwrap_or("");
        if raw {
            raw = keyword != "endraw";
            continue;
        }
        if keyword == "raw" {
            raw = true;
            continue;
        }
        found.push(Tag {
            body,
            start: open,
            end: close,
        });
    }
    found
}

/// The number of elements of `range(…)` in a `for` tag, when its
/// arguments are integer literals.
fn range_len(for_tag: &str) -> Option<u128> {
    let args = for_tag.split_once(" in ")?.1.trim();
    let args = args.strip_prefix("range")?.trim_start().strip_prefix('(')?;
    let args = &args[..args.find(')')?];
    let (mut start, mut end, mut step) = (0i128, None, 1i128);
    for arg in args.split(',') {
        let (name, value) = arg.split_once('=')?;
        let value: i128 = value.trim().parse().ok()?;
        match name.trim() {
            "start" => start = value,
            "end" => end = Some(value),
            "step_by" => step = value,
            _ => return None,
        }
    }
    let span = end? - start;
    if step <= 0 || span <= 0 {
        return Some(0);
    }
    Some(((span + step - 1) / step) as u128)
}

/// A diagnostic for each loop whose nesting runs more than [`MAX_ITERATIONS`] times.
pub fn check(source: &SourceFile) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    // For each open `for`: the iterations counted through the nesting.
    let mut open: Vec<u128> = Vec::new();
    for tag in tags(&source.text) {
        let keyword = tag.body.split_whitespace().next().unwrap_or("");
        match keyword {
            "for" => {
                let outer = open.last().copied().unwrap_or(1);
                let total = outer.saturating_mul(range_len(tag.body).unwrap_or(1));
                if total > MAX_ITERATIONS && outer <= MAX_ITERATIONS {
                    diagnostics.push(
                        Diagnostic::new(
                            Code::TemplateUnbounded,
                            &source.path,
                            format!("nested loops over `range` run {total} times: the template would render without end"),
                        )
                        .at(source, Span::new(tag.start, tag.end))
                        .help(format!("loop over data (etablissements, config lists) rather than large ranges; `oent build` stops a file at its size limit (16 MiB by default), and lint refuses more than {MAX_ITERATIONS} iterations")),
                    );
                }
                open.push(total);
            }
            "endfor" => {
                open.pop();
            }
            _ => {}
        }
    }
    diagnostics
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(text: &str) -> Vec<(Code, usize)> {
        let source = SourceFile::new("t.tera", text.to_owned());
        check(&source)
            .iter()
            .map(|d| (d.code, d.position.as_ref().map_or(0, |p| p.line)))
            .collect()
    }

    #[test]
    fn nested_large_ranges_are_flagged_once_at_the_inner_loop() {
        let bomb = "a\n{% for a in range(end=100000) %}\n{%- for b in range(end=100000) -%}\n{% for c in range(end=3) %}x{% endfor %}{% endfor %}{% endfor %}";
        assert_eq!(codes(bomb), [(Code::TemplateUnbounded, 3)]);
    }

    #[test]
    fn loops_over_data_and_small_ranges_are_not() {
        assert!(codes("{% for e in etablissements %}{% for i in range(end=1000) %}x{% endfor %}{% endfor %}").is_empty());
        assert!(codes("{% for i in range(start=5, end=3005, step_by=2) %}{% for j in range(end=1000) %}{% endfor %}{% endfor %}").is_empty());
        // Inside a comment or a raw block, it is text.
        assert!(
            codes("{# {% for a in range(end=100000) %}{% for b in range(end=100000) %} #}")
                .is_empty()
        );
        assert!(codes("{% raw %}{% for a in range(end=100000) %}{% for b in range(end=100000) %}{% endraw %}").is_empty());
    }

    #[test]
    fn range_lengths() {
        assert_eq!(range_len("for i in range(end=10)"), Some(10));
        assert_eq!(
            range_len("for i in range(start=2, end=10, step_by=3)"),
            Some(3)
        );
        assert_eq!(range_len("for i in range(end=n)"), None);
        assert_eq!(range_len("for e in etablissements"), None);
    }
}
