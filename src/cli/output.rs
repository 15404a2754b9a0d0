//! `--format human|json`, shared by every command that reports something:
//! human text by default, or one JSON document on standard output whose
//! shape docs/json.md documents and manifests/output/ holds as a JSON Schema.

use clap::ValueEnum;
use serde::Serialize;

/// The shape version every JSON document carries as `version`.
pub const JSON_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Format {
    #[default]
    Human,
    Json,
}

impl Format {
    pub fn is_json(self) -> bool {
        self == Format::Json
    }
}

/// Prints one JSON document (pretty, one trailing newline) on standard output.
pub fn print_json(value: &impl Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// A diagnostic as every command's JSON gives it (the fields of `oent lint
/// --format json`'s diagnostics that need no source text).
pub fn diagnostic_json(d: &oent::manifest::Diagnostic) -> serde_json::Value {
    serde_json::json!({
        "code": d.code.as_str(),
        "name": d.code.name(),
        "severity": d.severity.as_str(),
        "file": d.path.to_string_lossy(),
        "line": d.line(),
        "key": d.key,
        "message": d.message,
        "help": d.help,
    })
}
