//! `oent licences [DIST] --format md|spdx|cyclonedx [-o FILE]`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::exit;
use oent::licence::report::Format;
use oent::ops::licences::{LicencesError, LicencesOptions};
use oent::workspace::WorkspaceOptions;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Md,
    Spdx,
    Cyclonedx,
    /// oent's own shape (docs/json.md), problems included.
    Json,
}

#[derive(Debug, Args)]
pub struct LicencesArgs {
    /// The distribution (a distribution.yaml or its directory).
    #[arg(default_value = ".")]
    distribution: PathBuf,
    /// md: for people; spdx: SPDX 2.3 JSON; cyclonedx: CycloneDX 1.5 JSON; json: oent's shape.
    #[arg(long, value_enum, default_value = "md")]
    format: FormatArg,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    out: Option<PathBuf>,
    /// Fail (exit 1) when a fork's difference was never contributed.
    #[arg(long)]
    deny_unreversed: bool,
    #[arg(long)]
    locked: bool,
    #[arg(long)]
    offline: bool,
}

pub fn run(args: LicencesArgs) -> anyhow::Result<u8> {
    let options = LicencesOptions {
        workspace: WorkspaceOptions::new(args.distribution, args.locked, args.offline)?,
        deny_unreversed: args.deny_unreversed,
    };
    let found = match oent::ops::licences(&options) {
        Ok(found) => found,
        Err(LicencesError::Workspace(e)) => {
            return super::report::workspace_failure(e, Default::default());
        }
        Err(e) => return Err(e.into()),
    };
    let text = match args.format {
        FormatArg::Md => found.report.render(Format::Markdown),
        FormatArg::Spdx => found.report.render(Format::Spdx),
        FormatArg::Cyclonedx => found.report.render(Format::CycloneDx),
        FormatArg::Json => format!("{}\n", serde_json::to_string_pretty(&json(&found))?),
    };
    match &args.out {
        Some(path) => oent::fsutil::write_atomic(path, text.as_bytes())
            .map_err(|e| anyhow::anyhow!("cannot write `{}`: {e}", path.display()))?,
        None => print!("{text}"),
    }
    super::report::print_diagnostics(&found.problems, Default::default());
    let errors = found.errors();
    Ok(if errors > 0 {
        eprintln!("error: {errors} licence or reversal problem(s)");
        exit::PROBLEMS
    } else {
        exit::OK
    })
}

/// `--format json`: every module's row, then the problems found.
fn json(found: &oent::ops::licences::Licences) -> serde_json::Value {
    let report = &found.report;
    let modules: Vec<serde_json::Value> = report
        .rows
        .iter()
        .map(|row| {
            let (allowed, verdict) = match &row.verdict {
                Ok(v) => (true, v),
                Err(v) => (false, v),
            };
            serde_json::json!({
                "name": row.name.as_str(),
                "version": row.version,
                "licence": row.licence,
                "allowed": allowed,
                "verdict": verdict,
                "sha256": row.sha256,
                "registry": row.registry,
                "origin_url": row.origin_url,
                "repository": row.repository,
                "requires": row.requires.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
                "fork_of": row.fork_of,
                "reversal": row.reversal,
            })
        })
        .collect();
    serde_json::json!({
        "version": super::output::JSON_VERSION,
        "distribution": report.distribution,
        "distribution_version": report.version,
        "policy": report.policy,
        "modules": modules,
        "problems": found.problems.iter().map(super::output::diagnostic_json).collect::<Vec<_>>(),
    })
}
