//! `--format json`: a stable, documented shape (docs/lint.md), version 1.

use serde_json::{Value, json};

use super::Report;
use crate::manifest::Severity;

pub const FORMAT_VERSION: u32 = 1;

pub fn render(report: &Report) -> String {
    let diagnostics: Vec<Value> = report
        .diagnostics
        .iter()
        .map(|d| {
            let end = d
                .position
                .as_ref()
                .and_then(|p| report.sources.get(&d.path).map(|s| s.line_col(p.span.end)));
            json!({
                "code": d.code.as_str(),
                "name": d.code.name(),
                "severity": d.severity.as_str(),
                "file": d.path.to_string_lossy(),
                "line": d.line(),
                "column": d.column(),
                "end_line": end.map_or(d.line(), |e| e.0),
                "end_column": end.map_or(d.column(), |e| e.1),
                "key": d.key,
                "message": d.message,
                "help": d.help,
            })
        })
        .collect();
    let value = json!({
        "version": FORMAT_VERSION,
        "files": report.files.iter().map(|p| p.to_string_lossy()).collect::<Vec<_>>(),
        "summary": {
            "files": report.files.len(),
            "errors": report.count(Severity::Error),
            "warnings": report.count(Severity::Warning),
        },
        "diagnostics": diagnostics,
    });
    let mut text = serde_json::to_string_pretty(&value).expect("JSON values always serialise");
    text.push('\n');
    text
}
