//! `--format junit`: one test case per manifest checked, failed with one
//! `<failure>` listing its problems, so that GitLab's test report shows one
//! line per file. Warnings fail only under `--deny warnings`; otherwise they
//! go to the case's `<system-out>`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use super::Report;
use crate::manifest::{Diagnostic, Severity};

pub fn render(report: &Report, deny_warnings: bool) -> String {
    let mut by_file: BTreeMap<&Path, Vec<&Diagnostic>> = report
        .files
        .iter()
        .map(|f| (f.as_path(), Vec::new()))
        .collect();
    for d in &report.diagnostics {
        by_file.entry(d.path.as_path()).or_default().push(d);
    }
    let fails = |d: &Diagnostic| d.severity == Severity::Error || deny_warnings;
    let failures = by_file
        .values()
        .filter(|ds| ds.iter().any(|d| fails(d)))
        .count();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        xml,
        "<testsuites name=\"oent lint\" tests=\"{}\" failures=\"{failures}\" errors=\"0\">",
        by_file.len()
    );
    let _ = writeln!(
        xml,
        "  <testsuite name=\"oent lint\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">",
        by_file.len()
    );
    for (path, diagnostics) in &by_file {
        let name = escape(&path.to_string_lossy());
        let _ = write!(
            xml,
            "    <testcase classname=\"oent.lint\" name=\"{name}\" file=\"{name}\""
        );
        if diagnostics.is_empty() {
            xml.push_str("/>\n");
            continue;
        }
        xml.push_str(">\n");
        let failing: Vec<_> = diagnostics.iter().filter(|d| fails(d)).collect();
        if let Some(first) = failing.first() {
            let message = format!(
                "{} problem{}; first: {} {}",
                failing.len(),
                if failing.len() == 1 { "" } else { "s" },
                first.code,
                first.message
            );
            let _ = write!(
                xml,
                "      <failure message=\"{}\" type=\"{}\">",
                escape(&message),
                first.code
            );
            for d in &failing {
                xml.push_str(&escape(&format!("{d}\n")));
            }
            xml.push_str("</failure>\n");
        }
        let passing: Vec<_> = diagnostics.iter().filter(|d| !fails(d)).collect();
        if !passing.is_empty() {
            xml.push_str("      <system-out>");
            for d in passing {
                xml.push_str(&escape(&format!("{d}\n")));
            }
            xml.push_str("</system-out>\n");
        }
        xml.push_str("    </testcase>\n");
    }
    xml.push_str("  </testsuite>\n</testsuites>\n");
    xml
}

/// XML text and attribute escaping; control characters other than tab and
/// newlines are not allowed in XML 1.0 and are replaced.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup_and_control_characters() {
        assert_eq!(
            super::escape("<a href=\"x\">&\u{1}"),
            "&lt;a href=&quot;x&quot;&gt;&amp;\u{fffd}"
        );
    }
}
