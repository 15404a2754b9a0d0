//! `--format codequality`: GitLab's Code Quality report, a JSON array of
//! issues with `description`, `check_name`, `fingerprint`, `severity` and
//! `location.path` / `location.lines.begin` (GitLab documents these fields as
//! required; `path` is relative to the repository root).

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::Report;
use crate::manifest::Severity;

pub fn render(report: &Report) -> String {
    let issues: Vec<Value> = report
        .diagnostics
        .iter()
        .map(|d| {
            let path = d.path.to_string_lossy();
            let path = path.strip_prefix("./").unwrap_or(&path);
            // Stable across runs and across unrelated edits above the problem:
            // the line number is left out on purpose.
            let fingerprint = Sha256::digest(format!("{path}\0{}\0{}\0{}", d.code, d.key.as_deref().unwrap_or(""), d.message));
            let fingerprint: String = fingerprint.iter().take(16).map(|b| format!("{b:02x}")).collect();
            let mut description = format!("{} {}: {}", d.code, d.code.name(), d.message);
            if let Some(help) = &d.help {
                description.push_str(&format!(" (help: {help})"));
            }
            json!({
                "type": "issue",
                "description": description,
                "check_name": format!("oent/{}", d.code.name()),
                "categories": ["Bug Risk"],
                "fingerprint": fingerprint,
                "severity": match d.severity { Severity::Error => "major", Severity::Warning => "minor" },
                "location": { "path": path, "lines": { "begin": d.line() } },
            })
        })
        .collect();
    let mut text =
        serde_json::to_string_pretty(&Value::Array(issues)).expect("JSON values always serialise");
    text.push('\n');
    text
}
