//! Human output: each diagnostic drawn as every command draws it (its
//! source line and a caret, the key concerned, `help:`; see
//! `manifest::diagnostic::render`), then a summary.

use super::Report as LintReport;
use crate::manifest::Severity;
use crate::manifest::diagnostic::render::{Sources, render as draw};

pub fn render(report: &LintReport, color: bool) -> String {
    let mut sources = Sources::default();
    for (path, source) in &report.sources {
        sources.insert(path, source.text.clone());
    }
    let mut text = draw(&report.diagnostics, &sources, color);
    text.push_str(&summary(report));
    text
}

pub fn summary(report: &LintReport) -> String {
    let errors = report.count(Severity::Error);
    let warnings = report.count(Severity::Warning);
    let files = report.files.len();
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    if errors == 0 && warnings == 0 {
        format!(
            "oent lint: {} checked, no problems\n",
            plural(files, "file")
        )
    } else {
        format!(
            "oent lint: {}, {} in {} checked\n",
            plural(errors, "error"),
            plural(warnings, "warning"),
            plural(files, "file")
        )
    }
}
