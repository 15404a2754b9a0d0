//! Human output: each diagnostic with its source line and a caret, the key
//! concerned and a `help:` line (codespan-reporting), then a summary.

use codespan_reporting::diagnostic::{Diagnostic as Report, Label};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, Config, Styles, StylesWriter, termcolor::Ansi};

use super::Report as LintReport;
use crate::manifest::{Diagnostic, Severity};

pub fn render(report: &LintReport, color: bool) -> String {
    let mut files = SimpleFiles::new();
    let mut ids = std::collections::BTreeMap::new();
    for (path, source) in &report.sources {
        ids.insert(
            path.clone(),
            files.add(path.display().to_string(), source.text.clone()),
        );
    }
    let config = Config::default();
    let styles = Styles::default();
    let mut out = Vec::new();
    for diagnostic in &report.diagnostics {
        let rendered = to_codespan(diagnostic, ids.get(&diagnostic.path).copied());
        let result = if color {
            let mut writer = StylesWriter::new(Ansi::new(&mut out), &styles);
            term::emit_to_write_style(&mut writer, &config, &files, &rendered)
        } else {
            term::emit_to_io_write(&mut out, &config, &files, &rendered)
        };
        if result.is_err() {
            // The snippet could not be drawn (file changed meanwhile): one line instead.
            out.extend(format!("{diagnostic}\n").bytes());
        }
    }
    let mut text = String::from_utf8_lossy(&out).into_owned();
    text.push_str(&summary(report));
    text
}

fn to_codespan(d: &Diagnostic, file: Option<usize>) -> Report<usize> {
    let report = match d.severity {
        Severity::Error => Report::error(),
        Severity::Warning => Report::warning(),
    };
    let mut notes = Vec::new();
    let mut message = d.message.clone();
    match (file, &d.position) {
        (Some(id), Some(position)) => {
            let end = position.span.end.max(position.span.start);
            let label = Label::primary(id, position.span.start..end);
            let label = match &d.key {
                Some(key) => label.with_message(format!("in `{key}`")),
                None => label,
            };
            return report
                .with_code(format!("{}/{}", d.code, d.code.name()))
                .with_message(message)
                .with_labels(vec![label])
                .with_notes(d.help.iter().map(|h| format!("help: {h}")).collect());
        }
        _ => {
            message = format!("{}: {message}", d.path.display());
            if let Some(key) = &d.key {
                notes.push(format!("key: `{key}`"));
            }
        }
    }
    notes.extend(d.help.iter().map(|h| format!("help: {h}")));
    report
        .with_code(format!("{}/{}", d.code, d.code.name()))
        .with_message(message)
        .with_notes(notes)
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
